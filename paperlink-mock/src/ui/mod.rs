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
//! * **Safety**: maud escapes every value; the engine's edge guard refuses other `Host` names
//!   and requests from another site before the page sees them; each form carries a one-time
//!   token signed for its session (see `session`); with `--admin-token`, the page asks for the
//!   token once, in a form body (never from a URL), keeps an `HttpOnly`, `SameSite=Strict`
//!   session cookie named for the server's port, and signs out on request; wrong tokens are
//!   slowed down as on the control plane.

mod pages;
mod session;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;

use http::Method;
use http::header::{COOKIE, HOST};
use secrecy::ExposeSecret;
use uuid::Uuid;

use crate::engine::admin;
use crate::engine::authenticate::Admission;
use crate::engine::edge::{host_name, is_loopback_name};
use crate::engine::keys::DEFAULT_TEAM;
use crate::engine::state::State;
use crate::engine::{MockCore, MockRequest, MockResponse, Page};
use crate::error::MockError;
use crate::model::{API_PREFIX, KeyInfo, KeyMode, KeyScope};
use crate::ui::pages::Identity;
use crate::ui::session::{SESSION_TTL, Sessions};

/// Where the page lives.
const UI_PATH: &str = "/__admin/ui";
/// The most journal lines the requests view shows (the newest).
const MAX_REQUESTS_SHOWN: usize = 500;

/// The page's own state: the address it is served on, its sessions and form tokens.
#[derive(Debug)]
pub(crate) struct Ui {
    bound: SocketAddr,
    /// The session cookie's name: it carries the port, since a browser sends a host's cookies
    /// to every port of it.
    cookie: String,
    sessions: Sessions,
}

impl Ui {
    pub(crate) fn new(bound: SocketAddr) -> Self {
        Self {
            bound,
            cookie: format!("paperlink_ui_{}", bound.port()),
            sessions: Sessions::default(),
        }
    }
}

/// The fields a request brings: a `GET`'s query, or a `POST`'s form body (never its query,
/// so a token or a form token is never taken from a URL).
struct Params(HashMap<String, String>);

impl Params {
    fn of(request: &MockRequest) -> Self {
        let fields = if request.method == Method::POST {
            let form = request.content_type() == Some("application/x-www-form-urlencoded");
            if form && !request.oversized {
                url::form_urlencoded::parse(&request.body)
                    .into_owned()
                    .collect()
            } else {
                HashMap::new()
            }
        } else {
            url::form_urlencoded::parse(request.query.as_deref().unwrap_or_default().as_bytes())
                .into_owned()
                .collect()
        };
        Self(fields)
    }

    /// A field, unless empty.
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

/// One request to the page: its fields and the session its cookie names (empty without an
/// admin token, or before signing in).
struct Visit<'a> {
    core: &'a MockCore,
    request: &'a MockRequest,
    params: Params,
    session: String,
}

impl Page for Ui {
    fn refused(&self, status: u16, message: &str) -> MockResponse {
        page(status, pages::problem("Refused", message))
    }

    /// Answers a request to the page.
    fn answer(&self, core: &MockCore, request: &MockRequest) -> MockResponse {
        let rest = request.path[UI_PATH.len()..].trim_matches('/');
        let segments: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        let session = self.session_of(request).unwrap_or_default();
        let needs_session = core.admin_token().required();
        if needs_session && segments.as_slice() != ["login"] && !self.sessions.holds(&session) {
            return redirect("/__admin/ui/login");
        }
        let visit = Visit {
            core,
            request,
            params: Params::of(request),
            session,
        };
        match (&request.method, segments.as_slice()) {
            (&Method::GET, ["login"]) => page(200, pages::login(&self.form_token(&visit), false)),
            (&Method::POST, ["login"]) => self.login(&visit),
            (&Method::POST, ["logout"]) => self.logout(&visit),
            (&Method::GET, []) => self.with_identity(&visit, |_, state, identity, now| {
                // Newest first, as the dashboard lists them.
                let mut keys = state.keys.list(Some(identity.team), now);
                keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.name.cmp(&b.name)));
                page(200, pages::keys(identity, &keys, now))
            }),
            (&Method::GET, ["keys", "new"]) => self.with_identity(&visit, |ui, _, identity, _| {
                page(200, pages::new_key(identity, &ui.form_token(&visit)))
            }),
            (&Method::POST, ["keys"]) => self.create(&visit),
            (&Method::GET, ["keys", id, "revoke"]) => {
                self.with_identity(&visit, |ui, state, identity, _| {
                    match find_key(state, identity.team, id) {
                        Some(key) => page(
                            200,
                            pages::confirm_revoke(identity, &key, &ui.form_token(&visit)),
                        ),
                        None => page(
                            404,
                            pages::problem("Not found", "No such key in this team."),
                        ),
                    }
                })
            }
            (&Method::POST, ["keys", id, "revoke"]) => self.revoke(&visit, id),
            (&Method::GET, ["requests"]) => {
                self.with_identity(&visit, |_, state, identity, now| {
                    let keys = state.keys.list(Some(identity.team), now);
                    let filter = visit
                        .params
                        .get("key")
                        .and_then(|id| Uuid::parse_str(id).ok());
                    // The team's calls, by the key id and team each journal line names (a prefix
                    // alone is three random characters, and could be another team's key).
                    let entries: Vec<_> = state
                        .journal
                        .iter()
                        .rev()
                        .filter(|e| {
                            e.key.as_ref().is_some_and(|key| {
                                key.team == identity.team && filter.is_none_or(|f| f == key.id)
                            })
                        })
                        .take(MAX_REQUESTS_SHOWN)
                        .collect();
                    page(200, pages::requests(identity, &entries, &keys, filter, now))
                })
            }
            _ => page(404, pages::problem("Not found", "No such page.")),
        }
    }
}

impl Ui {
    /// The session the request's cookie names, if any.
    fn session_of(&self, request: &MockRequest) -> Option<String> {
        request
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.cookie)
            .map(|(_, value)| value.to_owned())
    }

    /// A form token for this visit's session.
    fn form_token(&self, visit: &Visit<'_>) -> String {
        self.sessions.form_token(&visit.session)
    }

    /// Uses up the form token a `POST` carries.
    fn redeem(&self, visit: &Visit<'_>) -> bool {
        self.sessions
            .redeem(visit.params.get("csrf"), &visit.session)
    }

    /// Renders a page as the member the request names (`team`, `as`; the team's Owner when it
    /// names none), who must be able to manage keys: a Manager or a Member gets the "no
    /// access" page instead.
    fn with_identity(
        &self,
        visit: &Visit<'_>,
        render: impl FnOnce(&Ui, &State, &Identity<'_>, time::OffsetDateTime) -> MockResponse,
    ) -> MockResponse {
        let team = visit.params.team();
        self.as_member(visit, team, visit.params.get("as"), render)
    }

    fn as_member(
        &self,
        visit: &Visit<'_>,
        team: &str,
        name: Option<&str>,
        render: impl FnOnce(&Ui, &State, &Identity<'_>, time::OffsetDateTime) -> MockResponse,
    ) -> MockResponse {
        let signed_in = !visit.session.is_empty() && self.sessions.holds(&visit.session);
        let logout = signed_in.then(|| self.form_token(visit));
        visit.core.view(|state, now| {
            let members = state.members.list(team);
            // A member of another team (the switcher keeps the member when the team changes)
            // acts as this team's Owner, and the page says so.
            let (member, notice) = match name.map(|name| (name, state.members.get(team, name))) {
                Some((_, Some(member))) => (member, None),
                Some((name, None)) => (
                    state.members.owner(team),
                    Some(format!(
                        "Team {team} has no member named {name}: acting as its Owner."
                    )),
                ),
                None => (state.members.owner(team), None),
            };
            let teams = teams(state, team);
            let identity = Identity {
                team,
                member: &member,
                teams: &teams,
                members: &members,
                notice: notice.as_deref(),
                logout: logout.as_deref(),
            };
            // Who may open the page is who may manage keys.
            if state.members.key_manager(team, Some(&member.name)).is_err() {
                return page(403, pages::denied(&identity));
            }
            render(self, state, &identity, now)
        })
    }

    fn create(&self, visit: &Visit<'_>) -> MockResponse {
        if !self.redeem(visit) {
            return used_form();
        }
        let params = &visit.params;
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
        let name = params.sent("name").unwrap_or_default();
        let by = params.get("as");
        let created = visit
            .core
            .change(|state| admin::create_key(state, &team, name, mode, scope, by));
        let (key, token) = match created.and_then(|created| created) {
            Ok(created) => created,
            Err(error) => return not_created(&error),
        };
        let curl = curl(&self.base_url(visit.request), token.expose_secret());
        let created_by = key.created_by.clone();
        self.as_member(visit, &team, Some(&created_by), |_, _, identity, _| {
            page(
                201,
                pages::created(identity, &key, token.expose_secret(), &curl),
            )
        })
    }

    fn revoke(&self, visit: &Visit<'_>, id: &str) -> MockResponse {
        if !self.redeem(visit) {
            return used_form();
        }
        let team = visit.params.team().to_owned();
        let Some(id) = visit
            .core
            .view(|state, _| find_key(state, &team, id))
            .map(|k| k.id)
        else {
            return page(
                404,
                pages::problem("Not found", "No such key in this team."),
            );
        };
        let by = visit.params.get("as");
        let revoked = visit.core.change(|state| admin::revoke_key(state, &id, by));
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

    fn login(&self, visit: &Visit<'_>) -> MockResponse {
        if !self.redeem(visit) {
            return used_form();
        }
        match visit.core.admin_token().check(visit.params.get("token")) {
            Admission::Admitted => {}
            Admission::Refused { delay } => {
                let mut refused = page(401, pages::login(&self.form_token(visit), true));
                refused.delay = Some(delay);
                return refused;
            }
            Admission::Throttled { retry_after } => {
                return page(
                    429,
                    pages::problem(
                        "Too many attempts",
                        "Too many wrong admin tokens lately. Try again in a minute.",
                    ),
                )
                .header("retry-after", retry_after.to_string());
            }
        }
        let session = self.sessions.open();
        redirect("/__admin/ui").header(
            "set-cookie",
            format!(
                "{}={session}; Path=/__admin/ui; HttpOnly; SameSite=Strict; Max-Age={}",
                self.cookie,
                SESSION_TTL.as_secs()
            ),
        )
    }

    fn logout(&self, visit: &Visit<'_>) -> MockResponse {
        if !self.redeem(visit) {
            return used_form();
        }
        self.sessions.close(&visit.session);
        redirect("/__admin/ui/login").header(
            "set-cookie",
            format!(
                "{}=; Path=/__admin/ui; HttpOnly; SameSite=Strict; Max-Age=0",
                self.cookie
            ),
        )
    }

    /// The API's base URL for a cURL line: this server's own address when the request came by
    /// a loopback name, or the allowed name it came by (the edge guard let only those in).
    fn base_url(&self, request: &MockRequest) -> String {
        let host = request.headers.get(HOST).and_then(|v| v.to_str().ok());
        let loopback = || {
            let ip = match self.bound.ip() {
                ip if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
                ip => ip,
            };
            SocketAddr::new(ip, self.bound.port()).to_string()
        };
        let authority = match host {
            Some(host) if !is_loopback_name(host_name(host)) => host.to_owned(),
            _ => loopback(),
        };
        format!("http://{authority}{API_PREFIX}")
    }
}

/// A word quoted for a POSIX shell: between single quotes, each single quote written `'\''`.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// The ready cURL line of a new key, every argument quoted for a POSIX shell.
fn curl(base_url: &str, token: &str) -> String {
    format!(
        "curl {} \\\n  -H {}",
        shell_quote(&format!("{base_url}/products")),
        shell_quote(&format!("Authorization: Bearer {token}"))
    )
}

/// The key of this team with this id.
fn find_key(state: &State, team: &str, id: &str) -> Option<KeyInfo> {
    let id = Uuid::parse_str(id).ok()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_curl_line_is_quoted_for_a_shell_whatever_it_holds() {
        assert_eq!(shell_quote("plain"), "'plain'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(
            shell_quote("x;{touch,pwned};$(id)"),
            "'x;{touch,pwned};$(id)'"
        );
        let line = curl("http://127.0.0.1:1/api/v1", "pk_test_abc");
        assert_eq!(
            line,
            "curl 'http://127.0.0.1:1/api/v1/products' \\\n  -H 'Authorization: Bearer pk_test_abc'"
        );
    }
}
