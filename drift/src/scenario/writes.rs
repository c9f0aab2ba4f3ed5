//! The writes with `--write-key`, on one product the run creates (named with its marker):
//! create and its idempotency, conflicts and validation, an empty PATCH, DELETE twice and
//! what follows it, PATCH with `null` on the archived product. Every answer is noted, so the
//! clean-up knows what to archive.

use http::Method;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::{Run, list_items, random_id, short, text};
use crate::checks::Check;
use crate::error::Fatal;
use crate::http::{Answer, Auth, Call, Role};
use crate::observe::{self, data_object, location_kind, shape, status_text};

/// The price the run creates with: written with a trailing zero, to see it echoed as sent.
const PRICE: &str = "120.10";
/// Archived products searched for the run's one.
const ARCHIVED_PAGE: &str = "10";

/// The checks that need the created product.
const ON_THE_PRODUCT: &[Check] = &[
    Check::UpdateEmpty,
    Check::DeleteFirst,
    Check::DeleteSecond,
    Check::DeleteGetAfter,
    Check::DeleteListedArchived,
    Check::DeleteSkuKept,
    Check::UpdateNull,
    Check::UpdateArchived,
    Check::UpdateStatusIgnored,
];

impl Run<'_> {
    /// Sends a write and notes the run's products it shows. A `POST` may create one, so a
    /// request to archive it is set aside first (given back only when the answer shows it
    /// created nothing).
    async fn write(
        &mut self,
        check: Check,
        call: Call,
        deleted: Option<&str>,
    ) -> Result<Answer, Fatal> {
        let creates = call_is_post(&call);
        if creates {
            self.side.reserve_archive()?;
            self.tracked.wrote();
        }
        let answer = self.send(check, call).await;
        // Without an answer the product may exist all the same: its request stays set aside.
        let answered_without_creating = answer
            .as_ref()
            .is_ok_and(|a| !self.tracked.note(a, deleted));
        if creates && answered_without_creating {
            self.side.release_archive();
        }
        answer
    }
}

fn call_is_post(call: &Call) -> bool {
    *call.method() == Method::POST
}

fn product_body(name: &str, sku: &str) -> String {
    let text = |s: &str| Value::from(s).to_string();
    format!(
        r#"{{"name":{},"unitPrice":{PRICE},"currency":"EUR","description":{},"sku":{},"taxRate":20}}"#,
        text(name),
        text(
            "Created by paperlink-drift to compare the service with its mock; archived at the end of the run."
        ),
        text(sku),
    )
}

fn post(body: String) -> Call {
    Call::new(Method::POST, ["products"])
        .auth(Auth::Write)
        .json(body)
}

fn on(method: Method, id: &str) -> Call {
    Call::new(method, ["products", id]).auth(Auth::Write)
}

pub(super) async fn run(run: &mut Run<'_>) -> Result<(), Fatal> {
    // One request set aside for the final search for the marker.
    run.side.reserve_archive()?;
    let probe =
        on(Method::PATCH, &random_id()).json(r#"{"description":"paperlink-drift scope probe"}"#);
    let probe = run.send(Check::WriteKeyProbe, probe).await?;
    if run.side.role == Role::Target {
        let hint = run
            .side
            .write_key()
            .map(|k| k.hint().to_owned())
            .unwrap_or_default();
        match probe.status {
            401 => {
                return Err(Fatal::KeyRefused {
                    flag: "--write-key",
                    hint,
                });
            }
            403 => return Err(Fatal::WriteKeyReadOnly { hint }),
            _ => {}
        }
    }
    run.record(Check::WriteKeyProbe, status_text(&probe));

    let marker = run.tracked.marker().clone();
    let (name, sku) = (format!("{} product", marker.name()), marker.sku());
    let body = product_body(&name, &sku);
    let idempotency = marker.idempotency_key("create");
    let create = || post(body.clone()).idempotency_key(idempotency.clone());
    let created = run.write(Check::CreateStatus, create(), None).await?;
    let id = data_object(&created)
        .filter(|_| created.status < 300)
        .and_then(|d| text(d, "id"))
        .map(str::to_owned);
    record_create(run, &created, id.as_deref());

    let replay = run.write(Check::CreateReplay, create(), None).await?;
    run.record(Check::CreateReplay, replayed(&created, &replay));
    let other = product_body(&format!("{} another body", marker.name()), &sku);
    let reused = post(other).idempotency_key(idempotency.clone());
    let reused = run.write(Check::CreateKeyReused, reused, None).await?;
    run.record(Check::CreateKeyReused, status_text(&reused));
    let twin = post(product_body(&format!("{} same sku", marker.name()), &sku));
    let twin = run.write(Check::CreateSkuConflict, twin, None).await?;
    run.record(Check::CreateSkuConflict, status_text(&twin));
    let invalid = serde_json::json!({"name": format!("{} invalid", marker.name()), "unitPrice": -1, "currency": "usd"});
    let invalid = run
        .write(Check::CreateInvalid, post(invalid.to_string()), None)
        .await?;
    run.record(Check::CreateInvalid, status_text(&invalid));
    let plain = Call::new(Method::POST, ["products"])
        .auth(Auth::Write)
        .typed_body("text/plain", format!("name={} text", marker.name()));
    let plain = run.write(Check::CreateContentType, plain, None).await?;
    run.record(Check::CreateContentType, status_text(&plain));

    let Some(id) = id else {
        for check in ON_THE_PRODUCT {
            run.record(*check, "not run: the create returned no product");
        }
        return Ok(());
    };
    on_the_product(run, &created, &id, &sku).await
}

fn record_create(run: &mut Run<'_>, created: &Answer, id: Option<&str>) {
    let location = location_kind(&created.headers, run.side.base_path(), id);
    run.record(
        Check::CreateStatus,
        format!("{}, {location}", status_text(created)),
    );
    let Some(product) = data_object(created).filter(|_| created.status < 300) else {
        for check in [
            Check::CreateBody,
            Check::CreateDefaults,
            Check::CreateMoney,
            Check::CreateTimestamps,
        ] {
            run.record(check, status_text(created));
        }
        return;
    };
    run.record(Check::CreateBody, shape(&Value::Object(product.clone())));
    let value = |field: &str| {
        product
            .get(field)
            .map_or_else(|| "absent".to_owned(), |v| short(&v.to_string(), 30))
    };
    run.record(
        Check::CreateDefaults,
        format!(
            "type {}, unitOfMeasure {}",
            value("type"),
            value("unitOfMeasure")
        ),
    );
    run.record(Check::CreateMoney, money(created));
    let same = product.get("createdAt") == product.get("updatedAt");
    run.record(
        Check::CreateTimestamps,
        format!(
            "{}; createdAt {} updatedAt",
            observe::timestamps(product),
            if same { "=" } else { "≠" }
        ),
    );
}

/// How `unitPrice` comes back: its text, as received.
fn money(created: &Answer) -> String {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        data: Data<'a>,
    }
    #[derive(Deserialize)]
    struct Data<'a> {
        #[serde(rename = "unitPrice", borrow)]
        unit_price: Option<&'a RawValue>,
    }
    let raw = match &created.body {
        crate::http::Body::Json { raw, .. } => raw,
        _ => return status_text(created),
    };
    match serde_json::from_slice::<Envelope<'_>>(raw).map(|e| e.data.unit_price) {
        Ok(Some(price)) if price.get() == PRICE => format!("unitPrice {PRICE}, as sent"),
        Ok(Some(price)) => format!(
            "unitPrice {}, not as sent ({PRICE})",
            short(price.get(), 30)
        ),
        Ok(None) => "no unitPrice".to_owned(),
        Err(_) => "not a product envelope".to_owned(),
    }
}

/// A replay compared with the first answer.
fn replayed(first: &Answer, replay: &Answer) -> String {
    let status = if replay.status == first.status {
        "the first answer's status".to_owned()
    } else {
        format!("another status: {}", status_text(replay))
    };
    let id = |a: &Answer| {
        data_object(a)
            .and_then(|d| text(d, "id"))
            .map(str::to_owned)
    };
    let product = match (id(first), id(replay)) {
        (Some(a), Some(b)) if a == b => "the same product",
        (Some(_), Some(_)) => "another product",
        _ => "no product to compare",
    };
    let header = observe::header(&replay.headers, "idempotent-replayed").map_or_else(
        || "no Idempotent-Replayed".to_owned(),
        |v| format!("Idempotent-Replayed: {}", short(v, 10)),
    );
    format!("{status}, {product}, {header}")
}

/// The fields that differ between two product objects.
fn changed(
    before: &serde_json::Map<String, Value>,
    after: &serde_json::Map<String, Value>,
) -> Vec<String> {
    let mut fields: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| short(k, 30))
        .collect();
    fields.sort_unstable();
    fields.dedup();
    fields
}

/// A DELETE's answer: its status and what its body is.
fn deleted(answer: &Answer, id: &str) -> String {
    if answer.status >= 300 {
        return status_text(answer);
    }
    match data_object(answer) {
        Some(d) if text(d, "id") == Some(id) => match text(d, "status") {
            Some("archived") => format!("{}, the product, archived", answer.status),
            Some(other) => format!(
                "{}, the product, status {}",
                answer.status,
                short(other, 20)
            ),
            None => format!("{}, the product, no status", answer.status),
        },
        Some(_) => format!("{}, another product", answer.status),
        None => format!("{}, {}", answer.status, answer.body.describe()),
    }
}

/// The product's status after a write.
fn status_after(answer: &Answer, expected: &str, ok: &str) -> String {
    match data_object(answer)
        .filter(|_| answer.status < 300)
        .map(|d| text(d, "status"))
    {
        Some(Some(status)) if status == expected => format!("{}, {ok}", answer.status),
        Some(Some(status)) => format!("{}, status {}", answer.status, short(status, 20)),
        Some(None) => format!("{}, no status", answer.status),
        None => status_text(answer),
    }
}

async fn on_the_product(
    run: &mut Run<'_>,
    created: &Answer,
    id: &str,
    sku: &str,
) -> Result<(), Fatal> {
    let empty = run
        .write(Check::UpdateEmpty, on(Method::PATCH, id).json("{}"), None)
        .await?;
    let observed = match (data_object(created), data_object(&empty)) {
        (Some(before), Some(after)) if empty.status < 300 => match changed(before, after) {
            fields if fields.is_empty() => format!("{}, nothing changed", empty.status),
            fields => format!("{}, changed: {}", empty.status, fields.join(", ")),
        },
        _ => status_text(&empty),
    };
    run.record(Check::UpdateEmpty, observed);

    let first = run
        .write(Check::DeleteFirst, on(Method::DELETE, id), Some(id))
        .await?;
    run.record(Check::DeleteFirst, deleted(&first, id));
    let second = run
        .write(Check::DeleteSecond, on(Method::DELETE, id), Some(id))
        .await?;
    let observed = match (data_object(&first), data_object(&second)) {
        (Some(a), Some(b)) if first.status < 300 && second.status < 300 => match changed(a, b) {
            fields if fields.is_empty() => {
                format!("{}, the same product, unchanged", second.status)
            }
            fields => format!(
                "{}, the product, changed: {}",
                second.status,
                fields.join(", ")
            ),
        },
        _ => deleted(&second, id),
    };
    run.record(Check::DeleteSecond, observed);
    let got = run
        .write(Check::DeleteGetAfter, on(Method::GET, id), None)
        .await?;
    run.record(
        Check::DeleteGetAfter,
        status_after(&got, "archived", "archived"),
    );
    let archived = Call::new(Method::GET, ["products"])
        .query("status", "archived")
        .query("limit", ARCHIVED_PAGE)
        .auth(Auth::Write);
    let archived = run.send(Check::DeleteListedArchived, archived).await?;
    let observed = if archived.status < 300 && archived.json().is_some() {
        if list_items(&archived)
            .iter()
            .any(|p| text(p, "id") == Some(id))
        {
            format!("{}, listed", archived.status)
        } else {
            format!(
                "{}, not among the newest {ARCHIVED_PAGE} archived",
                archived.status
            )
        }
    } else {
        status_text(&archived)
    };
    run.record(Check::DeleteListedArchived, observed);
    let marker = run.tracked.marker().name();
    let again = post(product_body(&format!("{marker} sku after archive"), sku));
    let again = run.write(Check::DeleteSkuKept, again, None).await?;
    run.record(Check::DeleteSkuKept, status_text(&again));

    let nulls = r#"{"description":null,"sku":null,"taxRate":null}"#;
    let cleared = run
        .write(Check::UpdateNull, on(Method::PATCH, id).json(nulls), None)
        .await?;
    let observed = match data_object(&cleared).filter(|_| cleared.status < 300) {
        Some(product) => {
            let kept: Vec<&str> = ["description", "sku", "taxRate"]
                .into_iter()
                .filter(|f| product.get(*f).is_none_or(|v| !v.is_null()))
                .collect();
            if kept.is_empty() {
                format!("{}, description, sku and taxRate null", cleared.status)
            } else {
                format!("{}, not cleared: {}", cleared.status, kept.join(", "))
            }
        }
        None => status_text(&cleared),
    };
    run.record(Check::UpdateNull, observed);
    run.record(
        Check::UpdateArchived,
        status_after(&cleared, "archived", "stays archived"),
    );
    let restore = on(Method::PATCH, id).json(r#"{"status":"active"}"#);
    let restore = run.write(Check::UpdateStatusIgnored, restore, None).await?;
    run.record(
        Check::UpdateStatusIgnored,
        status_after(&restore, "archived", "ignored: stays archived"),
    );
    Ok(())
}
