//! The API Keys page's HTML, from maud templates: every value is escaped when the page is
//! rendered, and the templates are checked when the crate compiles. No script anywhere.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use time::OffsetDateTime;

use crate::engine::journal::JournalEntry;
use uuid::Uuid;

use crate::model::{KeyInfo, KeyMode, Member, millis};

/// Who the page acts as, and where they can switch to.
pub(crate) struct Identity<'a> {
    pub(crate) team: &'a str,
    pub(crate) member: &'a Member,
    pub(crate) teams: &'a [String],
    pub(crate) members: &'a [Member],
    /// Something the page should say first (such as who it acts as instead).
    pub(crate) notice: Option<&'a str>,
    /// With an admin token: the form token of the sign-out button.
    pub(crate) logout: Option<&'a str>,
}

impl Identity<'_> {
    /// The query that keeps the identity on a link.
    pub(crate) fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("team", self.team)
            .append_pair("as", &self.member.name)
            .finish()
    }
}

const CSS: &str = "
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#fff;border-bottom:1px solid #e4e7eb;padding:12px 24px;display:flex;gap:24px;align-items:center;flex-wrap:wrap}
header .crumbs{color:#616e7c;font-size:14px}
main{padding:24px;max-width:1100px}
h1{font-size:22px;margin:0 0 16px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #e4e7eb}
th,td{text-align:left;padding:10px 12px;border-bottom:1px solid #e4e7eb;font-size:14px;vertical-align:top}
th{background:#f0f4f8;font-weight:600}
tr.revoked td{color:#9aa5b1}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600}
.badge.live{background:#31b237;color:#fff}
.badge.test{background:#9aa5b1;color:#fff}
.button,button{display:inline-block;background:#2f80ed;color:#fff;border:0;border-radius:6px;padding:8px 14px;font-size:14px;text-decoration:none;cursor:pointer}
.button.secondary{background:#e4e7eb;color:#1f2933}
button.danger{background:#e12d39}
.muted{color:#7b8794;font-size:13px}
.notice{background:#fff3c4;border:1px solid #f0b429;padding:12px;border-radius:6px;margin-bottom:16px}
.denied{background:#ffe3e3;border:1px solid #e12d39;padding:16px;border-radius:6px}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace}
pre{background:#1f2933;color:#f5f7fa;padding:12px;border-radius:6px;white-space:pre-wrap;word-break:break-all}
.token{font-size:16px;background:#fff;border:1px dashed #2f80ed;padding:8px;display:block;word-break:break-all}
form.inline{display:inline}
label{display:block;margin:12px 0 4px;font-weight:600}
fieldset{border:0;padding:0;margin:12px 0}
.actions{margin:16px 0;display:flex;gap:12px;align-items:center}
#identity{display:flex;gap:8px;align-items:center;margin-left:auto}
#identity label{display:inline;margin:0 0 0 8px;font-weight:400;color:#616e7c;font-size:14px}
#identity select{padding:4px}
";

fn layout(title: &str, identity: Option<&Identity<'_>>, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · paperlink-mock" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    strong { "paperlink-mock" }
                    span.crumbs { "Settings › Integrations › Public API › API Keys" }
                    @if let Some(identity) = identity {
                        (switcher(identity))
                    }
                }
                main {
                    @if let Some(notice) = identity.and_then(|i| i.notice) {
                        p.notice #notice { (notice) }
                    }
                    (body)
                }
            }
        }
    }
    .into_string()
}

/// Choose the team and the member the page acts as (a plain GET form).
fn switcher(identity: &Identity<'_>) -> Markup {
    html! {
        form #identity method="get" action="/__admin/ui" {
            label.inline-label for="team" { "Team" }
            select #team name="team" {
                @for team in identity.teams {
                    option value=(team) selected[team == identity.team] { (team) }
                }
            }
            label.inline-label for="as" { "Acting as" }
            select #as name="as" {
                @for member in identity.members {
                    option value=(member.name) selected[member.name == identity.member.name] {
                        (member.name) " (" (member.role.label()) ")"
                    }
                }
            }
            button.secondary type="submit" { "Switch" }
        }
        @if let Some(csrf) = identity.logout {
            form #logout method="post" action="/__admin/ui/logout" {
                input type="hidden" name="csrf" value=(csrf);
                button.secondary type="submit" { "Sign out" }
            }
        }
    }
}

/// "3 minutes ago", on the mock's clock.
pub(crate) fn relative(now: OffsetDateTime, then: OffsetDateTime) -> String {
    let seconds = (now - then).whole_seconds();
    let (amount, unit) = match seconds {
        s if s < 45 => return "just now".to_owned(),
        s if s < 90 * 60 => ((s + 30) / 60, "minute"),
        s if s < 36 * 3600 => ((s + 1800) / 3600, "hour"),
        s => ((s + 43_200) / 86_400, "day"),
    };
    let plural = if amount == 1 { "" } else { "s" };
    format!("{amount} {unit}{plural} ago")
}

fn when(now: OffsetDateTime, at: Option<OffsetDateTime>) -> Markup {
    match at {
        None => html! { span.muted { "Never" } },
        Some(at) => {
            let exact = millis::format(at);
            html! {
                time datetime=(exact) title=(exact) { (relative(now, at)) }
                br;
                span.muted.exact { (exact) }
            }
        }
    }
}

fn mode_badge(mode: KeyMode) -> Markup {
    match mode {
        KeyMode::Live => html! { span.badge.live { "Live" } },
        KeyMode::Test => html! { span.badge.test { "Test" } },
    }
}

/// The list of a team's keys.
pub(crate) fn keys(identity: &Identity<'_>, keys: &[KeyInfo], now: OffsetDateTime) -> String {
    let query = identity.query();
    let body = html! {
        h1 { "API Keys" }
        div.actions {
            a.button #create href={"/__admin/ui/keys/new?" (query)} { "Create API Key" }
            a.button.secondary href={"/__admin/ui/requests?" (query)} { "Requests" }
        }
        @if keys.is_empty() {
            p.muted #empty { "No API keys yet." }
        } @else {
            table #keys {
                thead {
                    tr {
                        th { "Name" } th { "Key" } th { "Mode" } th { "Scope" }
                        th { "Created by" } th { "Last used" } th { "Status" } th {}
                    }
                }
                tbody {
                    @for key in keys {
                        tr.key.revoked[key.revoked_at.is_some()] data-key-id=(key.id) {
                            td.name { (key.name) }
                            td.prefix { code { (key.prefix) "…" } }
                            td.mode { (mode_badge(key.mode)) }
                            td.scope { (key.scope.label()) }
                            td.created-by { (key.created_by) }
                            td.last-used { (when(now, key.last_used_at)) }
                            td.status {
                                @match (key.revoked_at, &key.revoked_by) {
                                    (Some(at), by) => {
                                        "Revoked " (relative(now, at))
                                        @if let Some(by) = by { " by " span.revoked-by { (by) } }
                                        br;
                                        span.muted.exact { (millis::format(at)) }
                                    }
                                    (None, _) => { "Active" }
                                }
                            }
                            td.action {
                                @if key.revoked_at.is_none() {
                                    a.revoke href={"/__admin/ui/keys/" (key.id) "/revoke?" (query)} { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
            p.muted { "Revoked keys stay listed for 90 days." }
        }
    };
    layout("API Keys", Some(identity), body)
}

/// The create form.
pub(crate) fn new_key(identity: &Identity<'_>, csrf: &str) -> String {
    let body = html! {
        h1 { "Create API Key" }
        form #new-key method="post" action="/__admin/ui/keys" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="team" value=(identity.team);
            input type="hidden" name="as" value=(identity.member.name);
            label for="name" { "Key name" }
            input #name type="text" name="name" required maxlength="255" placeholder="e.g. Invoice sync";
            fieldset {
                legend { "Mode" }
                label { input type="radio" name="mode" value="test" checked; " Test" }
                label { input type="radio" name="mode" value="live"; " Live" }
            }
            fieldset {
                legend { "Scope" }
                label { input type="radio" name="scope" value="READ_WRITE" checked; " Read & Write" }
                label { input type="radio" name="scope" value="READ_ONLY"; " Read-only" }
            }
            div.actions {
                button #submit type="submit" { "Create API Key" }
                a.button.secondary href={"/__admin/ui?" (identity.query())} { "Cancel" }
            }
        }
    };
    layout("Create API Key", Some(identity), body)
}

/// The one page that shows a token.
pub(crate) fn created(identity: &Identity<'_>, key: &KeyInfo, token: &str, curl: &str) -> String {
    let body = html! {
        h1 { "API key created" }
        p.notice { "Copy the key now. It is shown only once: not on reload, not in the list." }
        p { "Name: " strong #created-name { (key.name) } " · " (mode_badge(key.mode)) " · " (key.scope.label()) }
        code.token #token { (token) }
        h2 { "Try it" }
        pre #curl { (curl) }
        div.actions {
            a.button #done href={"/__admin/ui?" (identity.query())} { "Done" }
        }
    };
    layout("API key created", Some(identity), body)
}

/// The revocation's confirmation.
pub(crate) fn confirm_revoke(identity: &Identity<'_>, key: &KeyInfo, csrf: &str) -> String {
    let body = html! {
        h1 { "Revoke API key" }
        p { "Revoke " strong { (key.name) } " (" code { (key.prefix) "…" } ")? Calls made with it will be refused." }
        form #revoke method="post" action={"/__admin/ui/keys/" (key.id) "/revoke"} {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="team" value=(identity.team);
            input type="hidden" name="as" value=(identity.member.name);
            div.actions {
                button.danger #confirm type="submit" { "Revoke" }
                a.button.secondary href={"/__admin/ui?" (identity.query())} { "Cancel" }
            }
        }
    };
    layout("Revoke API key", Some(identity), body)
}

/// The request journal of the team's keys, newest first.
pub(crate) fn requests(
    identity: &Identity<'_>,
    entries: &[&JournalEntry],
    keys: &[KeyInfo],
    filter: Option<Uuid>,
    now: OffsetDateTime,
) -> String {
    let body = html! {
        h1 { "Requests" }
        p.muted { "The newest 500 calls made with this team's keys." }
        form #filter method="get" action="/__admin/ui/requests" {
            input type="hidden" name="team" value=(identity.team);
            input type="hidden" name="as" value=(identity.member.name);
            label for="key" { "Key" }
            select #key name="key" {
                option value="" selected[filter.is_none()] { "All keys" }
                @for key in keys {
                    option value=(key.id) selected[filter == Some(key.id)] { (key.prefix) "… (" (key.name) ")" }
                }
            }
            button.secondary type="submit" { "Filter" }
            " "
            a href={"/__admin/ui?" (identity.query())} { "Back to API Keys" }
        }
        @if entries.is_empty() {
            p.muted #no-requests { "No requests yet." }
        } @else {
            table #requests {
                thead {
                    tr {
                        th { "Time" } th { "Method" } th { "Path" } th { "Status" } th { "Key" }
                        th { "Idempotency-Key" } th { "Replayed" }
                    }
                }
                tbody {
                    @for entry in entries {
                        tr.request {
                            td.time { (when(now, Some(entry.time))) }
                            td.method { (entry.method.as_str()) }
                            td.path {
                                code {
                                    (entry.path)
                                    @if let Some(query) = &entry.query { "?" (query) }
                                }
                            }
                            td.status { (entry.status) }
                            td.key { code { (entry.key.as_ref().map_or("-", |k| k.prefix.as_str())) } }
                            td.idempotency-key {
                                @if let Some(key) = &entry.idempotency_key { code { (key) } } @else { "-" }
                            }
                            td.replayed { @if entry.replayed { "Replayed" } @else { "-" } }
                        }
                    }
                }
            }
        }
    };
    layout("Requests", Some(identity), body)
}

/// A Manager or a Member, as Paperlink tells them.
pub(crate) fn denied(identity: &Identity<'_>) -> String {
    let body = html! {
        div.denied #denied {
            h1 { "You don't have access to the API Keys page" }
            p {
                (identity.member.name) " is a " (identity.member.role.label()) " of " (identity.team)
                ". Only an Owner or an Admin can manage API keys."
            }
        }
    };
    layout("No access", Some(identity), body)
}

/// A page that only says what went wrong.
pub(crate) fn problem(title: &str, message: &str) -> String {
    let body = html! {
        h1 { (title) }
        p #problem { (message) }
        p { a href="/__admin/ui" { "Back to API Keys" } }
    };
    layout(title, None, body)
}

/// Asks for the admin token once; a session cookie keeps it.
pub(crate) fn login(csrf: &str, failed: bool) -> String {
    let body = html! {
        h1 { "Sign in to the sandbox" }
        @if failed { p.denied #login-failed { "That is not the admin token." } }
        form #login method="post" action="/__admin/ui/login" {
            input type="hidden" name="csrf" value=(csrf);
            label for="token" { "Admin token" }
            input #token type="password" name="token" required autocomplete="current-password";
            div.actions { button type="submit" { "Sign in" } }
        }
    };
    layout("Sign in", None, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_as_a_person_says_them() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(100);
        let ago = |seconds: i64| relative(now, now - time::Duration::seconds(seconds));
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(180), "3 minutes ago");
        assert_eq!(ago(2 * 3600), "2 hours ago");
        assert_eq!(ago(3 * 86_400), "3 days ago");
        assert_eq!(ago(-30), "just now");
    }
}
