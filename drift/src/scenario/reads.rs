//! The reads with `--key`: the list and its pagination, lookups, authentication, routes, the
//! served document; with a Read-only key, the refused writes (each built so that it cannot
//! change anything, whatever the target does with it).

use http::{HeaderValue, Method};
use serde_json::Value;

use super::{Run, list_items, random_id, short, text};
use crate::checks::Check;
use crate::error::Fatal;
use crate::http::{Answer, Auth, Body, Call, Role};
use crate::key::Scope;
use crate::mock::Mirrored;
use crate::observe::{self, error_text, shape, status_text, www_authenticate};

/// The most products the mock mirrors from the target's first page (three, plus one when
/// the page says more follow).
const MIRROR_MAX: usize = 4;

fn get(segments: &[&str]) -> Call {
    Call::new(Method::GET, segments.iter().copied()).auth(Auth::Read)
}

pub(super) async fn run(run: &mut Run<'_>) -> Result<(), Fatal> {
    let first = run
        .send(Check::ListEnvelope, get(&["products"]).query("limit", "3"))
        .await?;
    if run.side.role == Role::Target {
        usable(&first, run.side.read_key().hint())?;
        run.learned.mirror = mirror_of(&first);
    }
    first_page(run, &first);
    let listed_id = list_items(&first)
        .first()
        .and_then(|p| text(p, "id"))
        .map(str::to_owned);

    // The scope, learned without writing: a valid PATCH of an id that does not exist.
    let probe = Call::new(Method::PATCH, ["products".to_owned(), random_id()])
        .auth(Auth::Read)
        .json(r#"{"description":"paperlink-drift scope probe"}"#);
    let probe = run.send(Check::ReadKeyProbe, probe).await?;
    run.record(Check::ReadKeyProbe, status_text(&probe));
    let scope = match run.known_scope {
        Some(scope) => scope,
        None => match probe.status {
            401 => {
                return Err(Fatal::KeyRefused {
                    flag: "--key",
                    hint: run.side.read_key().hint().to_owned(),
                });
            }
            403 => Scope::ReadOnly,
            _ => Scope::ReadWrite,
        },
    };
    run.learned.read_scope = Some(scope);

    let page = run
        .send(
            Check::ListPagination,
            get(&["products"]).query("limit", "1"),
        )
        .await?;
    run.record(Check::ListPagination, pagination(&page));
    if scope == Scope::ReadOnly {
        let counted = refusal_counted(&first, &probe, &page);
        run.record(Check::RefusalNotCounted, counted);
    }
    follow_cursor(run, &page).await?;
    queries(run).await?;
    lookups(run, listed_id.as_deref()).await?;
    authentication(run).await?;
    routes(run).await?;
    if scope == Scope::ReadOnly {
        refused_writes(run).await?;
    }
    Ok(())
}

/// The first answer decides whether the target is usable at all.
fn usable(first: &Answer, hint: &str) -> Result<(), Fatal> {
    let request = "GET /products".to_owned();
    if first.status == 401 {
        return Err(Fatal::KeyRefused {
            flag: "--key",
            hint: hint.to_owned(),
        });
    }
    if (300..400).contains(&first.status) {
        return Err(Fatal::NotAnApi {
            request,
            what: format!("{}, a redirect (never followed)", first.status),
        });
    }
    if !matches!(first.body, Body::Json { .. }) {
        return Err(Fatal::NotAnApi {
            request,
            what: format!("{} with {}", first.status, first.body.describe()),
        });
    }
    Ok(())
}

fn mirror_of(first: &Answer) -> Vec<Mirrored> {
    let set = |p: &serde_json::Map<String, Value>, field: &str| {
        p.get(field).is_some_and(|v| !v.is_null())
    };
    let mut mirror: Vec<Mirrored> = list_items(first)
        .iter()
        .take(MIRROR_MAX)
        .map(|p| Mirrored {
            description: set(p, "description"),
            sku: set(p, "sku"),
            tax_rate: set(p, "taxRate"),
        })
        .collect();
    let has_more = first
        .json()
        .and_then(|v| v.pointer("/data/hasMore"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if has_more && mirror.len() < MIRROR_MAX {
        mirror.push(Mirrored {
            description: false,
            sku: false,
            tax_rate: false,
        });
    }
    mirror
}

fn first_page(run: &mut Run<'_>, first: &Answer) {
    let envelope = match first.json().and_then(|v| v.as_object()) {
        Some(_) if first.status < 400 => {
            // The items' own shapes are a check of their own.
            let mut value = first.json().cloned().unwrap_or(Value::Null);
            if let Some(items) = value
                .pointer_mut("/data/data")
                .and_then(Value::as_array_mut)
            {
                items.clear();
            }
            format!("{}, {}", first.status, shape(&value))
        }
        _ => status_text(first),
    };
    run.record(Check::ListEnvelope, envelope);
    let items = list_items(first);
    let none = || "no product listed".to_owned();
    let product = items.first();
    run.record(
        Check::ListProductShape,
        product.map_or_else(none, |p| shape(&Value::Object((*p).clone()))),
    );
    run.record(
        Check::ListTimestamps,
        product.map_or_else(none, |p| observe::timestamps(p)),
    );
    let created: Vec<Option<&str>> = items.iter().map(|p| text(p, "createdAt")).collect();
    let order = if items.len() < 2 {
        "fewer than 2 products listed".to_owned()
    } else if created.windows(2).all(|w| match (w[0], w[1]) {
        // RFC 3339 UTC texts of one format sort as their times do.
        (Some(a), Some(b)) => a >= b,
        _ => false,
    }) {
        "newest first".to_owned()
    } else {
        "not newest first".to_owned()
    };
    run.record(Check::ListOrder, order);
    run.record(Check::ListDefaultStatus, only_status(first, "active"));
}

/// Whether a list holds only products of `status` (vacuously true of an empty one).
fn only_status(answer: &Answer, status: &str) -> String {
    if answer.status >= 300 || answer.json().is_none() {
        return status_text(answer);
    }
    let others: Vec<String> = list_items(answer)
        .iter()
        .filter_map(|p| match text(p, "status") {
            Some(s) if s == status => None,
            Some(s) => Some(short(s, 20)),
            None => Some("none".to_owned()),
        })
        .collect();
    if others.is_empty() {
        format!("{}, only {status} products", answer.status)
    } else {
        format!("{}, also status {}", answer.status, others.join(", "))
    }
}

fn pagination(page: &Answer) -> String {
    let Some(data) = observe::data_object(page).filter(|_| page.status < 300) else {
        return status_text(page);
    };
    let last_id = list_items(page).last().and_then(|p| text(p, "id"));
    match (data.get("hasMore"), data.get("nextCursor")) {
        (Some(Value::Bool(true)), Some(Value::String(cursor)))
            if Some(cursor.as_str()) == last_id =>
        {
            "hasMore true, nextCursor the last id".to_owned()
        }
        (Some(Value::Bool(true)), Some(Value::String(_))) => {
            "hasMore true, nextCursor not the last id".to_owned()
        }
        (Some(Value::Bool(false)), Some(Value::Null)) => {
            "hasMore false, nextCursor null".to_owned()
        }
        (more, next) => format!(
            "hasMore {}, nextCursor {}",
            more.map_or_else(|| "absent".to_owned(), shape),
            next.map_or_else(|| "absent".to_owned(), shape)
        ),
    }
}

/// Whether the refused write counted against the rate limit: the remaining requests before
/// it, on it, and after it.
fn refusal_counted(before: &Answer, refused: &Answer, after: &Answer) -> String {
    let remaining = |a: &Answer| {
        observe::header(&a.headers, "x-ratelimit-remaining")
            .and_then(|r| r.trim().parse::<u32>().ok())
    };
    match (remaining(before), remaining(refused), remaining(after)) {
        (Some(r1), Some(_), Some(r3)) => match r1.checked_sub(r3) {
            Some(1) => "the refused write did not count".to_owned(),
            Some(2) => "the refused write counted".to_owned(),
            _ => "unclear (the window moved meanwhile)".to_owned(),
        },
        _ => "no X-RateLimit-Remaining to compare".to_owned(),
    }
}

async fn follow_cursor(run: &mut Run<'_>, page: &Answer) -> Result<(), Fatal> {
    let cursor = observe::data_object(page)
        .filter(|d| d.get("hasMore") == Some(&Value::Bool(true)))
        .and_then(|d| text(d, "nextCursor"))
        .map(str::to_owned);
    let Some(cursor) = cursor else {
        run.record(Check::ListFollowCursor, "no next page");
        return Ok(());
    };
    let call = get(&["products"])
        .query("limit", "1")
        .query("after", cursor);
    let next = run.send(Check::ListFollowCursor, call).await?;
    let first_id = list_items(page).first().and_then(|p| text(p, "id"));
    let next_id = list_items(&next).first().and_then(|p| text(p, "id"));
    let observed = match (next.status, next_id) {
        (200..=299, Some(id)) if Some(id) != first_id => {
            format!("{}, the next product", next.status)
        }
        (200..=299, Some(_)) => format!("{}, the same product again", next.status),
        (200..=299, None) => format!("{}, an empty page", next.status),
        _ => status_text(&next),
    };
    run.record(Check::ListFollowCursor, observed);
    Ok(())
}

async fn queries(run: &mut Run<'_>) -> Result<(), Fatal> {
    let simple: [(Check, &str, String); 7] = [
        (Check::ListLimitZero, "limit", "0".to_owned()),
        (Check::ListLimitMax, "limit", "100".to_owned()),
        (Check::ListLimitOver, "limit", "101".to_owned()),
        (Check::ListUnknownCursor, "after", random_id()),
        (Check::ListNonUuidCursor, "after", "not-a-cursor".to_owned()),
        (Check::ListStatusAll, "status", "all".to_owned()),
        (Check::ListStatusInvalid, "status", "bogus".to_owned()),
    ];
    for (check, name, value) in simple {
        let answer = run
            .send(check, get(&["products"]).query(name, value))
            .await?;
        run.record(check, status_text(&answer));
    }
    let archived = get(&["products"])
        .query("status", "archived")
        .query("limit", "3");
    let archived = run.send(Check::ListStatusArchived, archived).await?;
    run.record(
        Check::ListStatusArchived,
        only_status(&archived, "archived"),
    );
    let head = Call::new(Method::HEAD, ["products"]).auth(Auth::Read);
    let head = run.send(Check::Head, head).await?;
    run.record(
        Check::Head,
        format!("{}, {}", head.status, head.body.describe()),
    );
    Ok(())
}

async fn lookups(run: &mut Run<'_>, listed_id: Option<&str>) -> Result<(), Fatal> {
    let unknown = run
        .send(Check::GetUnknownId, get(&["products", &random_id()]))
        .await?;
    run.record(Check::GetUnknownId, status_text(&unknown));
    let non_uuid = run
        .send(Check::GetNonUuidId, get(&["products", "not-a-uuid"]))
        .await?;
    run.record(Check::GetNonUuidId, status_text(&non_uuid));
    let id = listed_id.map_or_else(random_id, str::to_owned);
    let simple = id.replace('-', "");
    let answer = run
        .send(Check::GetNonCanonicalId, get(&["products", &simple]))
        .await?;
    run.record(Check::GetNonCanonicalId, same_product(&answer, &id));
    match listed_id {
        Some(id) => {
            let upper = id.to_ascii_uppercase();
            let answer = run
                .send(Check::GetUppercaseId, get(&["products", &upper]))
                .await?;
            run.record(Check::GetUppercaseId, same_product(&answer, id));
        }
        None => run.record(Check::GetUppercaseId, "no product listed"),
    }
    Ok(())
}

/// `200, the same product` when the answer is the product with `id` (in any letter case).
fn same_product(answer: &Answer, id: &str) -> String {
    match observe::data_object(answer).and_then(|d| text(d, "id")) {
        Some(got) if answer.status < 300 && got.eq_ignore_ascii_case(id) => {
            format!("{}, the same product", answer.status)
        }
        Some(_) if answer.status < 300 => format!("{}, another product", answer.status),
        _ => status_text(answer),
    }
}

async fn authentication(run: &mut Run<'_>) -> Result<(), Fatal> {
    let missing = run
        .send(Check::AuthMissing, Call::new(Method::GET, ["products"]))
        .await?;
    run.record(Check::AuthMissing, unauthorized(&missing));
    // A well-formed key of the same mode that nobody issued (not a secret: made up here).
    let unknown = format!("Bearer pk_test_{}", uuid::Uuid::new_v4().simple());
    let malformed = "Bearer not-a-key!";
    let mut answers = Vec::with_capacity(2);
    for (check, value) in [
        (Check::AuthUnknownKey, unknown.as_str()),
        (Check::AuthMalformed, malformed),
    ] {
        let value = HeaderValue::try_from(value).map_err(|e| Fatal::Setup {
            what: "building an Authorization value".to_owned(),
            source: Box::new(e),
        })?;
        let call = Call::new(Method::GET, ["products"]).auth(Auth::Raw(value));
        let answer = run.send(check, call).await?;
        run.record(check, unauthorized(&answer));
        answers.push(answer);
    }
    let compared = match (
        answers.first().and_then(Answer::json),
        answers.get(1).and_then(Answer::json),
    ) {
        (Some(a), Some(b)) if a == b => "identical".to_owned(),
        (Some(a), Some(b))
            if observe::error_code(a) == observe::error_code(b) && shape(a) == shape(b) =>
        {
            "the same code and shape; the messages differ".to_owned()
        }
        (Some(_), Some(_)) => "different codes or shapes".to_owned(),
        _ => "not both JSON".to_owned(),
    };
    run.record(Check::AuthSameBody, compared);
    Ok(())
}

fn unauthorized(answer: &Answer) -> String {
    format!(
        "{}, {}",
        error_text(answer),
        www_authenticate(&answer.headers)
    )
}

async fn routes(run: &mut Run<'_>) -> Result<(), Fatal> {
    let unknown = run.send(Check::RouteUnknown, get(&["nowhere"])).await?;
    run.record(Check::RouteUnknown, status_text(&unknown));
    let put = Call::new(Method::PUT, ["products"]).auth(Auth::Read);
    let put = run.send(Check::RouteMethod, put).await?;
    let allow = observe::header(&put.headers, "allow").map_or_else(
        || "no Allow".to_owned(),
        |allow| {
            let mut methods: Vec<String> = allow
                .split(',')
                .map(|m| m.trim().to_ascii_uppercase())
                .filter(|m| !m.is_empty())
                .collect();
            methods.sort_unstable();
            format!("Allow: {}", short(&methods.join(", "), 60))
        },
    );
    run.record(
        Check::RouteMethod,
        format!("{}, {allow}", status_text(&put)),
    );
    let document = run
        .send(Check::OpenApi, Call::new(Method::GET, ["openapi.json"]))
        .await?;
    let observed = match document
        .json()
        .and_then(|d| d.get("openapi"))
        .and_then(Value::as_str)
    {
        Some(version) if document.status < 300 => {
            let minor: Vec<&str> = version.split('.').take(2).collect();
            format!(
                "{}, an OpenAPI {} document, without a key",
                document.status,
                short(&minor.join("."), 10)
            )
        }
        _ => status_text(&document),
    };
    run.record(Check::OpenApi, observed);
    Ok(())
}

/// Writes with a Read-only key, each unable to change anything: an invalid body, an id that
/// does not exist.
async fn refused_writes(run: &mut Run<'_>) -> Result<(), Fatal> {
    let name = format!("{} read-only", run.tracked.marker().name());
    let body = serde_json::json!({"name": name, "unitPrice": "not a number"}).to_string();
    let post = Call::new(Method::POST, ["products"])
        .auth(Auth::Read)
        .json(body);
    let post = run.send(Check::ReadOnlyPost, post).await?;
    run.tracked.note(&post, None);
    run.record(Check::ReadOnlyPost, status_text(&post));
    let delete = Call::new(Method::DELETE, ["products".to_owned(), random_id()]).auth(Auth::Read);
    let delete = run.send(Check::ReadOnlyDelete, delete).await?;
    run.record(Check::ReadOnlyDelete, status_text(&delete));
    Ok(())
}
