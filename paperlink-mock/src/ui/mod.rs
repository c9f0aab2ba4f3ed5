//! The sandbox's API Keys page at `/__admin/ui`: Paperlink's dashboard page (Settings ›
//! Integrations › Public API › API Keys) for a team that shares a standalone mock. Rendered
//! on the server from the same core as the API and the control plane, with no script.
//!
//! * **Who you are**: a team and a member; a Manager or a Member is told they have no access,
//!   as in Paperlink.
//! * **Keys**: name, prefix, mode, scope, creator, last use; revoked keys with when and by whom
//!   (listed for 90 days of mock time).
//! * **Create**: the token is shown once, on the answer to the form, with a cURL example; the
//!   form's one-time token makes a reload or a back-and-forward refuse instead of creating
//!   again, and every page is `Cache-Control: no-store`.
//! * **Revoke**, after a confirmation page. **Requests**: the journal of the team's keys.
//! * **Safety**: maud escapes every value; each form carries a one-time token and a cross-site
//!   `Origin` is refused; with `--admin-token`, the page asks for the token once (in a form,
//!   never in a URL) and keeps an `HttpOnly`, `SameSite=Strict` session cookie.

mod pages;
mod tokens;

use std::collections::BTreeSet;
use std::collections::HashMap;

use http::Method;
use http::header::{CONTENT_TYPE, COOKIE, HOST};

use crate::engine::admin;
use crate::engine::keys::DEFAULT_TEAM;
use crate::engine::state::State;
use crate::engine::{MockCore, MockRequest, MockResponse, Page};
use crate::error::MockError;
use crate::model::{API_PREFIX, KeyInfo, KeyMode, KeyScope};
use crate::ui::pages::Identity;
use crate::ui::tokens::Tokens;

/// Where the page lives.
const UI_PATH: &str = "/__admin/ui";
/// The most journal lines the requests view shows (the newest).
const MAX_REQUESTS_SHOWN: usize = 500;
/// The session cookie's name.
const SESSION_COOKIE: &str = "paperlink_ui";

/// The page's own state: sessions (with an admin token) and one-time form tokens.
#[derive(Debug, Default)]
pub(crate) struct Ui {
    sessions: Tokens,
    forms: Tokens,
}

/// The parameters of a request: its query, and a form body's fields.
struct Params(HashMap<String, String>);

impl Params {
    fn of(request: &MockRequest) -> Self {
        let mut params: HashMap<String, String> =
            url::form_urlencoded::parse(request.query.as_deref().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        let form = request
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if form && !request.oversized {
            params.extend(url::form_urlencoded::parse(&request.body).into_owned());
        }
        Self(params)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A field as sent, empty or not.
    fn sent(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The team the page is about (the default team unless one is chosen).
    fn team(&self) -> &str {
        self.get("team").unwrap_or(DEFAULT_TEAM)
    }
}

impl Page for Ui {
    fn refused(&self, status: u16, message: &str) -> MockResponse {
        page(status, pages::problem("Refused", message))
    }

    /// Answers a request to the page.
    fn answer(&self, core: &MockCore, request: &MockRequest) -> MockResponse {
        let params = Params::of(request);
        let rest = request.path[UI_PATH.len()..].trim_matches('/');
        let segments: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        if core.admin_token().required()
            && segments.as_slice() != ["login"]
            && !self.signed_in(request)
        {
            return redirect("/__admin/ui/login");
        }
        match (&request.method, segments.as_slice()) {
            (&Method::GET, ["login"]) => page(200, pages::login(&self.forms.issue(), false)),
            (&Method::POST, ["login"]) => self.login(core, &params),
            (&Method::GET, []) => self.with_identity(core, &params, |_, state, identity, now| {
                // Newest first, as the dashboard lists them.
                let mut keys = state.keys.list(Some(identity.team));
                keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.name.cmp(&b.name)));
                page(200, pages::keys(identity, &keys, now))
            }),
            (&Method::GET, ["keys", "new"]) => {
                self.with_identity(core, &params, |ui, _, identity, _| {
                    page(200, pages::new_key(identity, &ui.forms.issue()))
                })
            }
            (&Method::POST, ["keys"]) => self.create(core, &params, request),
            (&Method::GET, ["keys", id, "revoke"]) => {
                self.with_identity(core, &params, |ui, state, identity, _| {
                    match find_key(state, identity.team, id) {
                        Some(key) => page(
                            200,
                            pages::confirm_revoke(identity, &key, &ui.forms.issue()),
                        ),
                        None => page(
                            404,
                            pages::problem("Not found", "No such key in this team."),
                        ),
                    }
                })
            }
            (&Method::POST, ["keys", id, "revoke"]) => self.revoke(core, &params, id),
            (&Method::GET, ["requests"]) => {
                self.with_identity(core, &params, |_, state, identity, now| {
                    let keys = state.keys.list(Some(identity.team));
                    let prefixes: Vec<(String, String)> = keys
                        .iter()
                        .map(|k| (k.prefix.clone(), k.name.clone()))
                        .collect();
                    let ours: BTreeSet<&str> = prefixes.iter().map(|(p, _)| p.as_str()).collect();
                    let filter = params.get("key");
                    let entries: Vec<_> = state
                        .journal
                        .iter()
                        .rev()
                        .filter(|e| {
                            e.key_prefix
                                .as_deref()
                                .is_some_and(|p| ours.contains(p) && filter.is_none_or(|f| f == p))
                        })
                        .take(MAX_REQUESTS_SHOWN)
                        .collect();
                    page(
                        200,
                        pages::requests(identity, &entries, &prefixes, filter, now),
                    )
                })
            }
            _ => page(404, pages::problem("Not found", "No such page.")),
        }
    }
}

impl Ui {
    /// Renders a page as the member the request names (`team`, `as`; the team's Owner when it
    /// names none), who must be able to manage keys: a Manager or a Member gets the "no
    /// access" page instead.
    fn with_identity(
        &self,
        core: &MockCore,
        params: &Params,
        render: impl FnOnce(&Ui, &State, &Identity<'_>, time::OffsetDateTime) -> MockResponse,
    ) -> MockResponse {
        self.as_member(core, params.team(), params.get("as"), render)
    }

    fn as_member(
        &self,
        core: &MockCore,
        team: &str,
        name: Option<&str>,
        render: impl FnOnce(&Ui, &State, &Identity<'_>, time::OffsetDateTime) -> MockResponse,
    ) -> MockResponse {
        core.view(|state, now| {
            let members = state.members.list(team);
            // A member of another team (the switcher keeps the member when the team changes)
            // acts as this team's Owner, and the page says so.
            let (member, notice) = match name {
                Some(name) => match members.iter().find(|m| m.name == name) {
                    Some(member) => (member.clone(), None),
                    None => (
                        state.members.owner(team),
                        Some(format!(
                            "Team {team} has no member named {name}: acting as its Owner."
                        )),
                    ),
                },
                None => (state.members.owner(team), None),
            };
            let teams = teams(state, team);
            let identity = Identity {
                team,
                member: &member,
                teams: &teams,
                members: &members,
                notice: notice.as_deref(),
            };
            // Who may open the page is who may manage keys.
            if state.members.key_manager(team, Some(&member.name)).is_err() {
                return page(403, pages::denied(&identity));
            }
            render(self, state, &identity, now)
        })
    }

    fn create(&self, core: &MockCore, params: &Params, request: &MockRequest) -> MockResponse {
        if !self.forms.redeem(params.get("csrf")) {
            return used_form();
        }
        let team = params.team().to_owned();
        // The one parser of modes and scopes: an unknown value is refused, never guessed; a
        // field left out takes the form's own default (Test, Read & Write).
        let mode = KeyMode::parse_field("mode", params.sent("mode").unwrap_or("test"));
        let scope = KeyScope::parse_field("scope", params.sent("scope").unwrap_or("READ_WRITE"));
        let (mode, scope) = match (mode, scope) {
            (Ok(mode), Ok(scope)) => (mode, scope),
            (Err(refused), _) | (_, Err(refused)) => {
                return not_created(&MockError::InvalidName(refused));
            }
        };
        let name = params.get("name").unwrap_or_default();
        let by = params.get("as");
        let created = core.change(|state| admin::create_key(state, &team, name, mode, scope, by));
        let (key, token) = match created.and_then(|created| created) {
            Ok(created) => created,
            Err(error) => return not_created(&error),
        };
        let base_url = format!("{}{API_PREFIX}", origin(request));
        let created_by = key.created_by.clone();
        self.as_member(core, &team, Some(&created_by), |_, _, identity, _| {
            use secrecy::ExposeSecret;
            page(
                201,
                pages::created(identity, &key, token.expose_secret(), &base_url),
            )
        })
    }

    fn revoke(&self, core: &MockCore, params: &Params, id: &str) -> MockResponse {
        if !self.forms.redeem(params.get("csrf")) {
            return used_form();
        }
        let team = params.team().to_owned();
        let Some(id) = core
            .view(|state, _| find_key(state, &team, id))
            .map(|k| k.id)
        else {
            return page(
                404,
                pages::problem("Not found", "No such key in this team."),
            );
        };
        let by = params.get("as");
        let revoked = core.change(|state| admin::revoke_key(state, &id, by));
        match revoked.and_then(|revoked| revoked) {
            Ok(_) => {
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("team", &team)
                    .append_pair("as", by.unwrap_or_default())
                    .finish();
                redirect(&format!("/__admin/ui?{query}"))
            }
            Err(error) => page(
                error.status_and_code().0,
                pages::problem("Not revoked", &error.to_string()),
            ),
        }
    }

    fn login(&self, core: &MockCore, params: &Params) -> MockResponse {
        if !self.forms.redeem(params.get("csrf")) {
            return used_form();
        }
        if !params
            .get("token")
            .is_some_and(|t| core.admin_token().accepts(t))
        {
            return page(401, pages::login(&self.forms.issue(), true));
        }
        let session = self.sessions.issue();
        redirect("/__admin/ui").header(
            "set-cookie",
            format!(
                "{SESSION_COOKIE}={session}; Path=/__admin/ui; HttpOnly; SameSite=Strict; Max-Age={}",
                tokens::SESSION_TTL.as_secs()
            ),
        )
    }

    fn signed_in(&self, request: &MockRequest) -> bool {
        request
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name == SESSION_COOKIE && self.sessions.holds(value))
    }
}

/// The key of this team with this id.
fn find_key(state: &State, team: &str, id: &str) -> Option<KeyInfo> {
    let id = uuid::Uuid::parse_str(id).ok()?;
    state.keys.get(&id).filter(|k| k.team == team).cloned()
}

/// Every team the mock knows of (by its keys and members), the current one included.
fn teams(state: &State, current: &str) -> Vec<String> {
    let mut teams: BTreeSet<String> = state.keys.teams().map(str::to_owned).collect();
    teams.extend(state.members.teams().map(str::to_owned));
    teams.insert(DEFAULT_TEAM.to_owned());
    teams.insert(current.to_owned());
    teams.into_iter().collect()
}

/// `http://HOST` of the request (the server serves plain HTTP).
fn origin(request: &MockRequest) -> String {
    let host = request
        .headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn page(status: u16, html: String) -> MockResponse {
    MockResponse::html(status, html)
}

fn redirect(to: &str) -> MockResponse {
    MockResponse::html(303, String::new()).header("location", to.to_owned())
}

/// The page that says why a key was not created, with the refusal's status.
fn not_created(error: &MockError) -> MockResponse {
    page(
        error.status_and_code().0,
        pages::problem("Not created", &error.to_string()),
    )
}

fn used_form() -> MockResponse {
    page(
        403,
        pages::problem(
            "This form was already used",
            "Each form can be sent once, so a reload never creates a second key or shows a \
             token again. Start again from the API Keys page.",
        ),
    )
}
