//! The sandbox's HTTP edge, over a real socket as a browser or an attacker's page would reach
//! it: the Host it is called by, a foreign Origin, a body type it did not ask for, the cURL
//! line it prints, page sessions, and a journal that names the key behind each call.

use std::time::Duration;

use paperlink_mock::engine::MockRequest;
use paperlink_mock::{KeyMode, KeyScope};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::helpers::builder;
use crate::keys_page::Page;

/// A raw call to the standalone mock with these headers: its status and JSON body.
async fn call(
    page: &Page,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    page.call(method, path, headers, body).await
}

fn code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or_default()
}

async fn key_count(page: &Page) -> usize {
    let (_, keys) = call(page, Method::GET, "/__admin/keys", &[], "").await;
    keys["data"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_web_page_cannot_drive_the_control_plane() {
    let page = Page::start(builder()).await;
    let live_key = r#"{"name":"pwned","mode":"live","scope":"READ_WRITE"}"#;
    let evil = ("origin", "http://evil.example");
    let another_port = ("origin", "http://127.0.0.1:1");
    for (path, headers, body, status, refused) in [
        // A "simple" cross-site request: text/plain, no preflight.
        (
            "/__admin/reset",
            vec![evil, ("content-type", "text/plain")],
            "",
            403,
            "origin_not_allowed",
        ),
        (
            "/__admin/keys",
            vec![evil, ("content-type", "text/plain")],
            live_key,
            403,
            "origin_not_allowed",
        ),
        (
            "/__admin/keys",
            vec![another_port, ("content-type", "application/json")],
            live_key,
            403,
            "origin_not_allowed",
        ),
        (
            "/__admin/keys",
            vec![
                ("sec-fetch-site", "cross-site"),
                ("content-type", "application/json"),
            ],
            live_key,
            403,
            "origin_not_allowed",
        ),
        (
            "/__admin/keys",
            vec![
                ("sec-fetch-site", "same-site"),
                ("content-type", "application/json"),
            ],
            live_key,
            403,
            "origin_not_allowed",
        ),
        // No Origin (a tool): the body must still be JSON.
        (
            "/__admin/keys",
            vec![("content-type", "text/plain")],
            live_key,
            415,
            "unsupported_media_type",
        ),
        (
            "/__admin/keys",
            vec![],
            live_key,
            415,
            "unsupported_media_type",
        ),
        (
            "/__admin/reset",
            vec![("content-type", "application/x-www-form-urlencoded")],
            "",
            415,
            "unsupported_media_type",
        ),
        (
            "/__admin/clock/advance",
            vec![("content-type", "text/plain")],
            r#"{"seconds":60}"#,
            415,
            "unsupported_media_type",
        ),
    ] {
        let (got, answer) = call(&page, Method::POST, path, &headers, body).await;
        assert_eq!(
            (got, code(&answer)),
            (status, refused),
            "{path} {headers:?}"
        );
    }
    assert_eq!(key_count(&page).await, 4, "no key was made");
    // The server's own origin, and a tool with JSON, are served.
    let own = page.root.clone();
    let json = ("content-type", "application/json");
    let (got, _) = call(
        &page,
        Method::POST,
        "/__admin/keys",
        &[("origin", &own), json],
        live_key,
    )
    .await;
    assert_eq!(got, 201);
    let (got, _) = call(
        &page,
        Method::POST,
        "/__admin/reset",
        &[("sec-fetch-site", "same-origin")],
        "",
    )
    .await;
    assert_eq!(got, 200);
}

#[tokio::test]
async fn a_name_rebound_to_the_sandbox_is_not_served() {
    let page = Page::start(builder().allowed_host("mock.internal")).await;
    let port = page.server.local_addr().port();
    let rebound = format!("evil.example:{port}");
    let evil_origin = format!("http://{rebound}");
    let token = page
        .server
        .token(KeyMode::Test, KeyScope::ReadWrite)
        .expect("a seeded key");
    let bearer = format!("Bearer {}", token.expose_secret());
    for (method, path, body) in [
        (Method::GET, "/__admin/keys", ""),
        (
            Method::POST,
            "/__admin/keys",
            r#"{"name":"x","mode":"test","scope":"READ_ONLY"}"#,
        ),
        (Method::GET, "/__admin/ui", ""),
        (Method::GET, "/api/v1/products", ""),
    ] {
        let headers = [
            ("host", rebound.as_str()),
            ("origin", evil_origin.as_str()),
            ("content-type", "application/json"),
            ("authorization", bearer.as_str()),
        ];
        let (status, answer) = call(&page, method.clone(), path, &headers, body).await;
        assert_eq!(status, 421, "{method} {path}: {answer}");
        if !path.starts_with("/__admin/ui") {
            assert_eq!(code(&answer), "host_not_allowed");
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("--allowed-host"), "{message}");
        }
    }
    assert_eq!(key_count(&page).await, 4);
    for host in [
        format!("localhost:{port}"),
        format!("api.localhost:{port}"),
        format!("[::1]:{port}"),
        format!("MOCK.internal:{port}"),
    ] {
        let (status, _) = call(&page, Method::GET, "/__admin/keys", &[("host", &host)], "").await;
        assert_eq!(status, 200, "{host}");
    }
}

#[tokio::test]
async fn the_curl_line_is_quoted_for_a_shell_and_runs_nothing_when_pasted() {
    let marker_dir = std::env::temp_dir().join(format!("paperlink-curl-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&marker_dir);
    let marker = marker_dir.join("pwned");
    let _ = std::fs::remove_file(&marker);
    let host = format!("x;{{touch,{}}};.evil.example", marker.display());
    let page = Page::start(builder().allowed_host(&host)).await;
    let port = page.server.local_addr().port();
    let form = page.get("/__admin/ui/keys/new").await;
    let csrf = form.input("csrf");
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf", csrf.as_str()),
            ("name", "CI"),
            ("mode", "test"),
            ("scope", "READ_WRITE"),
        ])
        .finish();
    let with_host = format!("{host}:{port}");
    let request = page
        .http
        .post(format!("{}/__admin/ui/keys", page.root))
        .header("host", with_host.as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    let created = page.send(request).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let line = created.text_of("#curl").expect("a cURL line");
    let token = created.text_of("#token").expect("the token");
    // Pasted into bash with `curl` swapped for printf: each argument arrives whole, and
    // nothing else runs.
    let printed = std::process::Command::new("bash")
        .arg("-c")
        .arg(line.replacen("curl", "printf '%s\\n'", 1))
        .output()
        .expect("bash runs");
    assert!(!marker.exists(), "the pasted line ran a command");
    let args: Vec<String> = String::from_utf8_lossy(&printed.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        args,
        [
            format!("http://{with_host}/api/v1/products"),
            "-H".to_owned(),
            format!("Authorization: Bearer {token}"),
        ]
    );
    // By a loopback name, the line names the address the server is bound to.
    let local = page.create("owner", "local", "test", "READ_WRITE").await;
    let line = local.text_of("#curl").expect("a cURL line");
    assert!(
        line.starts_with(&format!("curl 'http://127.0.0.1:{port}/api/v1/products'")),
        "{line}"
    );
    let _ = std::fs::remove_dir_all(marker_dir);
}

/// A page request straight to the running server's core (fast enough for thousands).
fn page_get(page: &Page, path: &str) -> u16 {
    let mut request = MockRequest::new(Method::GET, path);
    request
        .headers
        .insert("host", "127.0.0.1".parse().expect("a header"));
    page.server.core().handle(&request).status
}

#[tokio::test]
async fn strangers_cannot_spend_or_evict_a_signed_in_users_form() {
    let mut page = Page::start(builder().admin_token("a-long-enough-admin-token")).await;
    let login = page.get("/__admin/ui/login").await;
    let signed = page
        .post(
            "/__admin/ui/login",
            &[
                ("csrf", &login.input("csrf")),
                ("token", "a-long-enough-admin-token"),
            ],
        )
        .await;
    assert_eq!(signed.status, 303);
    let cookie = signed.headers["set-cookie"]
        .to_str()
        .expect("a cookie")
        .to_owned();
    let port = page.server.local_addr().port();
    assert!(
        cookie.starts_with(&format!("paperlink_ui_{port}=")),
        "the cookie names its port: {cookie}"
    );
    page.cookie = cookie.split(';').next().map(str::to_owned);
    let open_form = page.get("/__admin/ui/keys/new").await;
    assert_eq!(open_form.status, 200);
    // Ten thousand and one strangers open the sign-in page meanwhile.
    for _ in 0..10_001 {
        assert_eq!(page_get(&page, "/__admin/ui/login"), 200);
    }
    let created = page
        .post(
            "/__admin/ui/keys",
            &[
                ("csrf", &open_form.input("csrf")),
                ("name", "kept"),
                ("mode", "test"),
                ("scope", "READ_WRITE"),
            ],
        )
        .await;
    assert_eq!(
        created.status,
        201,
        "{}",
        created.text_of("#problem").unwrap_or_default()
    );
    // A form token made for one session does not work in another.
    let stranger = page.get("/__admin/ui/keys/new").await.input("csrf");
    let mut other = Page::start(builder().admin_token("a-long-enough-admin-token")).await;
    other.cookie = page.cookie.clone();
    let moved = other
        .post(
            "/__admin/ui/keys",
            &[("csrf", &stranger), ("name", "moved")],
        )
        .await;
    assert_ne!(moved.status, 201);
}

#[tokio::test]
async fn the_admin_token_and_form_tokens_are_never_taken_from_a_url() {
    let page = Page::start(builder().admin_token("a-long-enough-admin-token")).await;
    let csrf = page.get("/__admin/ui/login").await.input("csrf");
    let path = format!("/__admin/ui/login?csrf={csrf}&token=a-long-enough-admin-token");
    let request = page
        .http
        .post(format!("{}{path}", page.root))
        .header("content-type", "application/x-www-form-urlencoded");
    let answer = page.send(request).await;
    assert_ne!(answer.status, 303, "signed in from a URL");
    assert!(answer.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let mut page = Page::start(builder().admin_token("a-long-enough-admin-token")).await;
    let login = page.get("/__admin/ui/login").await;
    let signed = page
        .post(
            "/__admin/ui/login",
            &[
                ("csrf", &login.input("csrf")),
                ("token", "a-long-enough-admin-token"),
            ],
        )
        .await;
    let cookie = signed.headers["set-cookie"]
        .to_str()
        .expect("a cookie")
        .to_owned();
    page.cookie = cookie.split(';').next().map(str::to_owned);
    let list = page.get("/__admin/ui").await;
    assert_eq!(list.status, 200);
    let out = list
        .all("form#logout input[name=csrf]")
        .first()
        .and_then(|e| e.value().attr("value"))
        .expect("a sign-out button")
        .to_owned();
    let signed_out = page.post("/__admin/ui/logout", &[("csrf", &out)]).await;
    assert_eq!(signed_out.status, 303);
    let cleared = signed_out.headers["set-cookie"].to_str().expect("a cookie");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = page.get("/__admin/ui").await;
    assert_eq!(after.status, 303, "the old cookie no longer signs in");
}

#[tokio::test]
async fn wrong_admin_tokens_are_slowed_down_then_refused_unchecked() {
    let page = Page::start(builder().admin_token("a-long-enough-admin-token")).await;
    let core = page.server.core();
    let attempt = |token: &str| {
        let mut request = MockRequest::new(Method::GET, "/__admin/keys");
        request
            .headers
            .insert("host", "127.0.0.1".parse().expect("a header"));
        request.headers.insert(
            "authorization",
            format!("Bearer {token}").parse().expect("a header"),
        );
        core.handle(&request)
    };
    assert_eq!(attempt("a-long-enough-admin-token").status, 200);
    for guess in 0..10 {
        let refused = attempt(&format!("guess-{guess}"));
        assert_eq!(refused.status, 401);
        assert_eq!(
            refused.delay,
            Some(Duration::from_secs(1)),
            "each wrong token waits"
        );
    }
    let throttled = attempt("a-long-enough-admin-token");
    assert_eq!(throttled.status, 429, "unchecked, even the right token");
    assert!(throttled.header_value("retry-after").is_some());
}

#[tokio::test]
async fn a_network_wide_bind_refuses_a_short_admin_token() {
    use paperlink_mock::standalone::{Server, ServerError};
    // A documentation address: the check comes before any bind is tried.
    let refused = Server::bind(
        builder().admin_token("short-token"),
        "192.0.2.1:0".parse().expect("an address"),
    )
    .await;
    match refused {
        Err(ServerError::Config(error)) => {
            assert!(error.to_string().contains("16"), "{error}");
        }
        other => panic!("expected a refusal of the token, got {other:?}"),
    }
}

/// A journal line as the test reads it: status, key id, team, Idempotency-Key, replayed.
type JournalLine<'a> = (u64, Option<&'a str>, Option<&'a str>, Option<&'a str>, bool);

#[tokio::test]
async fn the_journal_names_the_key_behind_a_refusal_a_fault_and_a_replay() {
    let page = Page::start(builder()).await;
    let core = page.server.core();
    let api = |method: Method, path: &str, token: &str, idempotency: Option<&str>| {
        let mut request = MockRequest::new(method, format!("/api/v1{path}"));
        request
            .headers
            .insert("host", "127.0.0.1".parse().expect("a header"));
        request.headers.insert(
            "authorization",
            format!("Bearer {token}").parse().expect("a header"),
        );
        request.headers.insert(
            "content-type",
            "application/json".parse().expect("a header"),
        );
        if let Some(key) = idempotency {
            request
                .headers
                .insert("idempotency-key", key.parse().expect("a header"));
        }
        request.body = br#"{"name":"Widget","unitPrice":1,"currency":"EUR"}"#.to_vec();
        core.handle(&request).status
    };
    let (_, created) = call(
        &page,
        Method::POST,
        "/__admin/keys",
        &[("content-type", "application/json")],
        r#"{"name":"soon revoked","mode":"test","scope":"READ_WRITE","team":"alpha"}"#,
    )
    .await;
    let token = created["data"]["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let id = created["data"]["id"].as_str().expect("an id").to_owned();
    assert_eq!(api(Method::POST, "/products", &token, Some("once")), 201);
    assert_eq!(api(Method::POST, "/products", &token, Some("once")), 201);
    let (_, faults) = call(
        &page,
        Method::POST,
        "/__admin/faults",
        &[("content-type", "application/json")],
        r#"{"method":"GET","path":"/products","kind":{"kind":"status","status":503},"times":1}"#,
    )
    .await;
    assert!(faults["data"].is_object(), "{faults}");
    assert_eq!(api(Method::GET, "/products", &token, None), 503);
    let (revoked, _) = call(
        &page,
        Method::POST,
        &format!("/__admin/keys/{id}/revoke"),
        &[("content-type", "application/json")],
        "",
    )
    .await;
    assert_eq!(revoked, 200);
    assert_eq!(api(Method::GET, "/products", &token, None), 401);
    assert_eq!(
        api(
            Method::GET,
            "/products",
            &format!("pk_test_{}", "Z".repeat(32)),
            None
        ),
        401
    );

    let (_, journal) = call(&page, Method::GET, "/__admin/requests", &[], "").await;
    let lines = journal["data"].as_array().expect("lines");
    let api_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["path"].as_str().is_some_and(|p| p.starts_with("/api/v1")))
        .collect();
    let seen: Vec<JournalLine<'_>> = api_lines
        .iter()
        .map(|l| {
            (
                l["status"].as_u64().unwrap_or_default(),
                l["keyId"].as_str(),
                l["team"].as_str(),
                l["idempotencyKey"].as_str(),
                l["replayed"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    let me = Some(id.as_str());
    assert_eq!(
        seen,
        [
            (201, me, Some("alpha"), Some("once"), false),
            (201, me, Some("alpha"), Some("once"), true),
            (503, me, Some("alpha"), None, false),
            (401, me, Some("alpha"), None, false),
            (401, None, None, None, false),
        ]
    );
    assert!(
        api_lines[3]["keyPrefix"]
            .as_str()
            .is_some_and(|p| token.starts_with(p))
    );

    // The page shows the same, with both new columns.
    let view = page.get("/__admin/ui/requests?team=alpha").await;
    let rows = view.all("tr.request");
    assert_eq!(rows.len(), 4, "the unknown token's call is no team's");
    let columns = |css: &str| -> Vec<String> {
        view.all(css)
            .iter()
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .collect()
    };
    assert_eq!(columns("td.status"), ["401", "503", "201", "201"]);
    assert_eq!(columns("td.idempotency-key"), ["-", "-", "once", "once"]);
    assert_eq!(columns("td.replayed"), ["-", "-", "Replayed", "-"]);
}

#[tokio::test]
async fn a_teams_requests_view_never_shows_another_teams_call_under_a_shared_prefix() {
    let page = Page::start(builder().seed(42)).await;
    let core = page.server.core();
    let admin_key = |team: &str, n: usize| {
        let mut request = MockRequest::new(Method::POST, "/__admin/keys");
        request
            .headers
            .insert("host", "127.0.0.1".parse().expect("a header"));
        request.headers.insert(
            "content-type",
            "application/json".parse().expect("a header"),
        );
        request.body =
            format!(r#"{{"name":"k{n}","mode":"test","scope":"READ_ONLY","team":"{team}"}}"#)
                .into_bytes();
        let answer: Value = serde_json::from_slice(&core.handle(&request).body).expect("JSON");
        (
            answer["data"]["prefix"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            answer["data"]["token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };
    // Keys in two teams until a key of beta shares its prefix with one of alpha.
    let mut alpha = std::collections::HashMap::new();
    let mut shared = None;
    for n in 0..20_000 {
        let (prefix, _) = admin_key("alpha", n);
        alpha.insert(prefix, n);
        let (prefix, token) = admin_key("beta", n);
        if alpha.contains_key(&prefix) {
            shared = Some(token);
            break;
        }
    }
    let beta_token = shared.expect("a shared prefix within 20,000 keys");
    let secret = page
        .http
        .get(format!(
            "{}/api/v1/products?after=SECRET-CURSOR-OF-BETA",
            page.root
        ))
        .bearer_auth(&beta_token)
        .send()
        .await
        .expect("answered");
    assert_eq!(secret.status(), 400);
    let alphas_view = page.get("/__admin/ui/requests?team=alpha").await;
    assert!(
        !alphas_view.text.contains("SECRET-CURSOR-OF-BETA"),
        "beta's call shows on alpha's page"
    );
    let betas_view = page.get("/__admin/ui/requests?team=beta").await;
    assert!(betas_view.text.contains("SECRET-CURSOR-OF-BETA"));
}
