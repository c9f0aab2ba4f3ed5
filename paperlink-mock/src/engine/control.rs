//! The control plane's operation, under `/__admin` (WireMock's convention): key management as
//! the dashboard does it, team members, the mock clock, seeding, reset, the request journal,
//! fault injection. It reads the JSON and the path of a call, and leaves every rule to the
//! steps and to `admin`; a refusal is answered with its one mapping
//! ([`MockResponse::refusal`]).

use std::time::Duration;

use http::Method;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::engine::admin;
use crate::engine::faults::Fault;
use crate::engine::journal::JournalEntry;
use crate::engine::keys::DEFAULT_TEAM;
use crate::engine::request::{MockRequest, MockResponse};
use crate::engine::state::State;
use crate::error::MockError;
use crate::model::{
    FieldError, KeyInfo, KeyMode, KeyScope, SeedProduct, TeamRole, data_body, millis,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateKey {
    name: String,
    mode: KeyMode,
    scope: KeyScope,
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    team: Option<String>,
}

#[derive(Serialize)]
struct CreatedKey<'a> {
    #[serde(flatten)]
    info: &'a KeyInfo,
    token: &'a str,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Revoke {
    #[serde(default)]
    revoked_by: Option<String>,
}

#[derive(Deserialize)]
struct NewMember {
    name: String,
    role: TeamRole,
}

#[derive(Deserialize)]
struct RoleChange {
    role: TeamRole,
}

#[derive(Deserialize)]
struct Advance {
    seconds: f64,
}

#[derive(Serialize)]
struct Now {
    #[serde(with = "millis")]
    now: OffsetDateTime,
}

/// A call's JSON body (an empty one reads as `{}`).
fn body<T: DeserializeOwned>(request: &MockRequest) -> Result<T, MockResponse> {
    if request.oversized || request.body.len() > crate::model::MAX_BODY {
        return Err(MockResponse::error(
            413,
            "payload_too_large",
            "the request body is larger than 1 MiB",
        ));
    }
    let text = if request.body.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        &request.body[..]
    };
    serde_json::from_slice(text)
        .map_err(|e| MockResponse::invalid(vec![FieldError::new("body", e.to_string())]))
}

fn query(request: &MockRequest, name: &str) -> Option<String> {
    url::form_urlencoded::parse(request.query.as_deref().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `{"data": value}` with `status`, or the refusal of a change.
fn answer<T: Serialize>(
    status: u16,
    result: Result<T, MockError>,
) -> Result<MockResponse, MockResponse> {
    result
        .map(|value| MockResponse::json(status, data_body(&value)))
        .map_err(|error| MockResponse::refusal(&error))
}

/// A path segment, percent-decoded (team and member names may hold spaces).
fn decoded(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// Answers a control-plane call.
pub(crate) fn handle(
    state: &mut State,
    request: &MockRequest,
    now: OffsetDateTime,
) -> MockResponse {
    let path = request
        .path
        .trim_start_matches("/__admin")
        .trim_matches('/');
    let segments: Vec<&str> = path.split('/').collect();
    let result = match (&request.method, segments.as_slice()) {
        (&Method::POST, ["keys"]) => create_key(state, request),
        (&Method::GET, ["keys"]) => {
            let team = query(request, "team");
            paged(request, state.keys.list(team.as_deref(), now), |k| {
                k.id.to_string()
            })
        }
        (&Method::POST, ["keys", id, "revoke"]) => revoke(state, request, id),
        (_, ["teams", team, "members"]) => members(state, request, &decoded(team), None),
        (_, ["teams", team, "members", name]) => {
            members(state, request, &decoded(team), Some(&decoded(name)))
        }
        (&Method::GET, ["clock"]) => Ok(MockResponse::json(200, data_body(&Now { now }))),
        (&Method::POST, ["clock", "advance"]) => advance(state, request),
        (&Method::POST, ["reset"]) => {
            admin::reset(state);
            Ok(MockResponse::json(
                200,
                data_body(&serde_json::json!({"reset": true})),
            ))
        }
        (&Method::GET, ["requests"]) => {
            let journal: Vec<_> = state.journal.iter().map(JournalEntry::record).collect();
            paged(request, journal, |r| r.request_id.clone())
        }
        (&Method::GET, ["faults"]) => Ok(MockResponse::json(200, data_body(&state.faults.list()))),
        (&Method::POST, ["faults"]) => {
            body::<Fault>(request).and_then(|fault| answer(201, state.faults.inject(fault)))
        }
        (&Method::DELETE, ["faults"]) => {
            state.faults.clear();
            Ok(MockResponse::json(200, data_body(&state.faults.list())))
        }
        (&Method::POST, ["products"]) => body::<SeedProduct>(request).and_then(|seed| {
            let team = seed.team.clone().unwrap_or_else(|| DEFAULT_TEAM.to_owned());
            let mode = seed.mode.unwrap_or(KeyMode::Test);
            let replace = query(request, "replace").is_some_and(|v| v == "true");
            let status = if replace { 200 } else { 201 };
            answer(
                status,
                admin::insert_product(state, &team, mode, &seed, replace),
            )
        }),
        (&Method::GET, ["products"]) => {
            let team = query(request, "team").unwrap_or_else(|| DEFAULT_TEAM.to_owned());
            match query(request, "mode").map(|mode| KeyMode::parse_field("mode", &mode)) {
                Some(Err(refused)) => Err(MockResponse::invalid(vec![refused])),
                Some(Ok(mode)) => Ok(mode),
                None => Ok(KeyMode::Test),
            }
            .and_then(|mode| {
                let products =
                    crate::engine::catalog::catalog_of(&mut state.catalogs, &team, mode).snapshot();
                paged(request, products, |p| p.id.to_string())
            })
        }
        _ => Err(MockResponse::error(
            404,
            "not_found",
            "no such control-plane route",
        )),
    };
    result.unwrap_or_else(|response| response)
}

/// The most items a control-plane list answers with at once (and its default page).
pub(crate) const MAX_PAGE: usize = 1_000;

/// A page of a control-plane list, in the list's order: `limit` items (1 to [`MAX_PAGE`],
/// [`MAX_PAGE`] by default) after the one whose id is `after`, as
/// `{"data": [...], "nextCursor": id | null}`; the cursor names the last item when more follow.
/// No answer holds more than a page, so a client that stops reading holds little.
fn paged<T: Serialize>(
    request: &MockRequest,
    items: Vec<T>,
    id: impl Fn(&T) -> String,
) -> Result<MockResponse, MockResponse> {
    let limit = match query(request, "limit").map(|n| n.parse::<usize>()) {
        None => MAX_PAGE,
        Some(Ok(n)) if (1..=MAX_PAGE).contains(&n) => n,
        Some(_) => {
            return Err(MockResponse::invalid(vec![FieldError::new(
                "limit",
                format!("must be an integer from 1 to {MAX_PAGE}"),
            )]));
        }
    };
    let start = match query(request, "after") {
        None => 0,
        Some(after) => match items.iter().position(|item| id(item) == after) {
            Some(at) => at + 1,
            None => {
                return Err(MockResponse::invalid(vec![FieldError::new(
                    "after",
                    "is not a cursor from this list",
                )]));
            }
        },
    };
    let end = start.saturating_add(limit).min(items.len());
    let page = items.get(start..end).unwrap_or_default();
    let next_cursor = (end < items.len()).then(|| page.last().map(&id)).flatten();
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Page<'a, T> {
        data: &'a [T],
        next_cursor: Option<String>,
    }
    let body = serde_json::to_vec(&Page {
        data: page,
        next_cursor,
    })
    .unwrap_or_default();
    Ok(MockResponse::json(200, body))
}

fn create_key(state: &mut State, request: &MockRequest) -> Result<MockResponse, MockResponse> {
    let spec: CreateKey = body(request)?;
    let team = spec.team.as_deref().unwrap_or(DEFAULT_TEAM);
    let created = admin::create_key(
        state,
        team,
        &spec.name,
        spec.mode,
        spec.scope,
        spec.created_by.as_deref(),
    );
    let (info, token) = created.map_err(|error| MockResponse::refusal(&error))?;
    Ok(MockResponse::json(
        201,
        data_body(&CreatedKey {
            info: &info,
            // The confirmation screen: the only time the token is shown.
            token: token.expose_secret(),
        }),
    ))
}

fn revoke(
    state: &mut State,
    request: &MockRequest,
    id: &str,
) -> Result<MockResponse, MockResponse> {
    let Revoke { revoked_by } = body(request)?;
    let Ok(id) = uuid::Uuid::parse_str(id) else {
        return Err(MockResponse::error(
            404,
            "key_not_found",
            "no key with this id",
        ));
    };
    answer(200, admin::revoke_key(state, &id, revoked_by.as_deref()))
}

/// `/__admin/teams/{team}/members[/{name}]`.
fn members(
    state: &mut State,
    request: &MockRequest,
    team: &str,
    name: Option<&str>,
) -> Result<MockResponse, MockResponse> {
    match (&request.method, name) {
        (&Method::GET, None) => Ok(MockResponse::json(
            200,
            data_body(&state.members.list(team)),
        )),
        (&Method::POST, None) => {
            let new: NewMember = body(request)?;
            answer(201, admin::add_member(state, team, &new.name, new.role))
        }
        (&Method::GET, Some(name)) => answer(
            200,
            state
                .members
                .get(team, name)
                .ok_or_else(|| MockError::UnknownMember {
                    team: team.to_owned(),
                    name: name.to_owned(),
                }),
        ),
        (&Method::PATCH, Some(name)) => {
            let RoleChange { role } = body(request)?;
            answer(200, admin::set_member_role(state, team, name, role))
        }
        (&Method::DELETE, Some(name)) => answer(200, admin::remove_member(state, team, name)),
        _ => Err(MockResponse::error(
            405,
            "method_not_allowed",
            "members take GET and POST; a member takes GET, PATCH and DELETE",
        )),
    }
}

fn advance(state: &mut State, request: &MockRequest) -> Result<MockResponse, MockResponse> {
    let Advance { seconds } = body(request)?;
    let room = state.clock.room();
    let by = Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|by| *by <= room)
        .ok_or_else(|| {
            MockResponse::invalid(vec![FieldError::new(
                "seconds",
                format!(
                    "must be a number from 0 to {} (the clock moves by hand up to {}, the \
                     longest period the mock knows before the end of its calendar, {})",
                    room.as_secs(),
                    millis::format(crate::engine::clock::Clock::latest()),
                    millis::format(crate::engine::clock::CLOCK_END)
                ),
            )])
        })?;
    admin::advance_clock(state, by);
    Ok(MockResponse::json(
        200,
        data_body(&Now {
            now: state.clock.now(),
        }),
    ))
}
