//! The control plane under `/__admin` (WireMock's convention): key management as the
//! dashboard does it, the mock clock, seeding, reset, the request journal, fault injection.

use std::time::Duration;

use http::Method;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::engine::journal::JournalEntry;
use crate::engine::keys::DEFAULT_TEAM;
use crate::engine::keys::{KeyInfo, KeyMode, KeyScope, KeySpec};
use crate::engine::limits::Fault;
use crate::engine::members::{MemberProblem, TeamRole};
use crate::engine::state::State;
use crate::engine::{MockRequest, MockResponse};
use crate::error::MockError;
use crate::model::SeedProduct;
use crate::model::{FieldError, data_body, millis};

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

fn mock_error(error: MockError) -> MockResponse {
    match error {
        MockError::UnknownKey(_) => MockResponse::error(404, "key_not_found", &error.to_string()),
        MockError::InvalidProduct(details) => MockResponse::invalid(details),
        MockError::SkuConflict => MockResponse::error(
            409,
            "sku_conflict",
            "sku already used in this team and mode",
        ),
        MockError::UnknownMember { .. } => {
            MockResponse::error(404, "member_not_found", &error.to_string())
        }
        MockError::RoleInsufficient { .. } => {
            MockResponse::error(403, "role_insufficient", &error.to_string())
        }
        MockError::MemberRule(_) => MockResponse::error(409, "one_owner", &error.to_string()),
        other => MockResponse::error(400, "validation_error", &other.to_string()),
    }
}

fn member_problem(problem: MemberProblem) -> MockResponse {
    let (status, code) = problem.status_and_code();
    if status == 400 {
        return MockResponse::invalid(vec![FieldError::new("name", problem.to_string())]);
    }
    MockResponse::error(status, code, &problem.to_string())
}

/// `/__admin/teams/{team}/members[/{name}]`.
fn members(
    state: &mut State,
    request: &MockRequest,
    team: &str,
    name: Option<&str>,
) -> Result<MockResponse, MockResponse> {
    let team = decoded(team);
    let name = name.map(decoded);
    match (&request.method, name) {
        (&Method::GET, None) => Ok(MockResponse::json(
            200,
            data_body(&state.members.list(&team)),
        )),
        (&Method::POST, None) => {
            let new: NewMember = body(request)?;
            state
                .add_member(&team, &new.name, new.role)
                .map(|m| MockResponse::json(201, data_body(&m)))
                .map_err(member_problem)
        }
        (&Method::GET, Some(name)) => state
            .members
            .get(&team, &name)
            .map(|m| MockResponse::json(200, data_body(&m)))
            .ok_or_else(|| {
                member_problem(MemberProblem::Unknown {
                    team: team.clone(),
                    name,
                })
            }),
        (&Method::PATCH, Some(name)) => {
            let RoleChange { role } = body(request)?;
            state
                .set_member_role(&team, &name, role)
                .map(|m| MockResponse::json(200, data_body(&m)))
                .map_err(member_problem)
        }
        (&Method::DELETE, Some(name)) => state
            .remove_member(&team, &name)
            .map(|m| MockResponse::json(200, data_body(&m)))
            .map_err(member_problem),
        _ => Err(MockResponse::error(
            405,
            "method_not_allowed",
            "members take GET and POST; a member takes GET, PATCH and DELETE",
        )),
    }
}

/// A path segment, percent-decoded (team and member names may hold spaces).
fn decoded(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

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
            Ok(MockResponse::json(
                200,
                data_body(&state.keys.list(team.as_deref())),
            ))
        }
        (&Method::POST, ["keys", id, "revoke"]) => revoke(state, request, id),
        (_, ["teams", team, "members"]) => members(state, request, team, None),
        (_, ["teams", team, "members", name]) => members(state, request, team, Some(name)),
        (&Method::GET, ["clock"]) => Ok(MockResponse::json(200, data_body(&Now { now }))),
        (&Method::POST, ["clock", "advance"]) => body::<Advance>(request).and_then(|a| {
            let room = state.clock.room();
            let by = Duration::try_from_secs_f64(a.seconds)
                .ok()
                .filter(|by| *by <= room)
                .ok_or_else(|| {
                    MockResponse::invalid(vec![FieldError::new(
                        "seconds",
                        format!(
                            "must be a number from 0 to {} (the clock stops at {})",
                            room.as_secs(),
                            crate::model::millis::format(crate::engine::clock::CLOCK_END)
                        ),
                    )])
                })?;
            state.advance_clock(by);
            Ok(MockResponse::json(
                200,
                data_body(&Now {
                    now: state.clock.now(),
                }),
            ))
        }),
        (&Method::POST, ["reset"]) => {
            state.reset();
            Ok(MockResponse::json(
                200,
                data_body(&serde_json::json!({"reset": true})),
            ))
        }
        (&Method::GET, ["requests"]) => {
            let journal: Vec<_> = state.journal.iter().map(JournalEntry::record).collect();
            Ok(MockResponse::json(200, data_body(&journal)))
        }
        (&Method::GET, ["faults"]) => Ok(MockResponse::json(200, data_body(&state.faults))),
        (&Method::POST, ["faults"]) => body::<Fault>(request).and_then(|fault| {
            let fault = fault.in_full();
            if let Some((field, message)) = crate::engine::routes::fault_problem(&fault) {
                return Err(MockResponse::invalid(vec![FieldError::new(field, message)]));
            }
            // Clamp the chance to 0..=1.
            let probability = fault.probability;
            let fault = fault.with_probability(probability);
            state.faults.push(fault.clone());
            Ok(MockResponse::json(201, data_body(&fault)))
        }),
        (&Method::DELETE, ["faults"]) => {
            state.faults.clear();
            Ok(MockResponse::json(200, data_body(&state.faults)))
        }
        (&Method::POST, ["products"]) => body::<SeedProduct>(request).and_then(|seed| {
            let team = seed.team.clone().unwrap_or_else(|| DEFAULT_TEAM.to_owned());
            let mode = seed.mode.unwrap_or(KeyMode::Test);
            state
                .insert_product(&team, mode, &seed)
                .map(|p| MockResponse::json(201, data_body(&p)))
                .map_err(mock_error)
        }),
        (&Method::GET, ["products"]) => {
            let team = query(request, "team").unwrap_or_else(|| DEFAULT_TEAM.to_owned());
            let mode = match query(request, "mode") {
                Some(mode) if mode.eq_ignore_ascii_case("live") => KeyMode::Live,
                _ => KeyMode::Test,
            };
            Ok(MockResponse::json(
                200,
                data_body(&state.catalog(&team, mode).snapshot()),
            ))
        }
        _ => Err(MockResponse::error(
            404,
            "not_found",
            "no such control-plane route",
        )),
    };
    result.unwrap_or_else(|response| response)
}

fn create_key(state: &mut State, request: &MockRequest) -> Result<MockResponse, MockResponse> {
    let spec: CreateKey = body(request)?;
    if spec.name.trim().is_empty() {
        return Err(MockResponse::invalid(vec![FieldError::new(
            "name",
            "must not be blank",
        )]));
    }
    let team = spec.team.as_deref().unwrap_or(DEFAULT_TEAM);
    let (info, token) = state
        .create_key_as(
            KeySpec::new(team, &spec.name, spec.mode, spec.scope),
            spec.created_by.as_deref(),
        )
        .map_err(member_problem)?;
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
    state
        .revoke_key(&id, revoked_by.as_deref())
        .map(|info| MockResponse::json(200, data_body(&info)))
        .map_err(mock_error)
}
