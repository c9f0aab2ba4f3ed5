//! The engine against inputs that must not crash or stall it: times at the edge of the
//! calendar, periods out of range, the control plane's odd requests, a journal of huge lines.

use std::time::Duration;

use http::Method;
use secrecy::ExposeSecret;

use crate::PaperlinkMock;
use crate::engine::clock::CLOCK_END;
use crate::engine::journal::{JOURNAL_CUT_MARKER, JOURNAL_FIELD_MAX, JOURNAL_MAX_BYTES};
use crate::engine::rate_limit::RateLimitPolicy;
use crate::engine::{MockCore, MockRequest, MockResponse};
use crate::error::MockError;
use crate::model::MAX_BODY;
use crate::model::{KeyMode, KeyScope};

/// The seeded key of this mode and scope.
fn seeded_key(keys: &[crate::NewKey], mode: KeyMode, scope: KeyScope) -> Option<&crate::NewKey> {
    keys.iter()
        .find(|k| k.info.mode == mode && k.info.scope == scope)
}

fn core() -> (MockCore, String) {
    let (core, seeded) = MockCore::from_builder(&PaperlinkMock::builder().seed(1)).expect("core");
    let token = seeded_key(&seeded, KeyMode::Test, KeyScope::ReadWrite)
        .expect("key")
        .token
        .expose_secret()
        .to_owned();
    (core, token)
}

fn request(method: Method, path: &str, token: Option<&str>, body: &str) -> MockRequest {
    let mut r = MockRequest::new(method, path);
    if let Some(token) = token {
        r.headers.insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
    }
    r.headers
        .insert("content-type", "application/json".parse().expect("header"));
    r.body = body.as_bytes().to_vec();
    r
}

fn json(response: &MockResponse) -> serde_json::Value {
    serde_json::from_slice(&response.body).expect("json")
}

/// Every kind of request a client can make still gets an answer.
fn still_serves(core: &MockCore, token: &str) {
    let create = core.handle(&request(
        Method::POST,
        "/api/v1/products",
        Some(token),
        r#"{"name":"late","unitPrice":1,"currency":"USD"}"#,
    ));
    assert_eq!(
        create.status,
        201,
        "{}",
        String::from_utf8_lossy(&create.body)
    );
    let list = core.handle(&request(Method::GET, "/api/v1/products", Some(token), ""));
    assert_eq!(list.status, 200);
    let clock = core.handle(&request(Method::GET, "/__admin/clock", None, ""));
    assert_eq!(clock.status, 200);
}

#[test]
fn a_clock_advance_past_the_calendar_is_refused_and_every_request_is_still_answered() {
    let (core, token) = core();
    for seconds in ["999999999999", "1e300", "-1", "18446744073709551616"] {
        let refused = core.handle(&request(
            Method::POST,
            "/__admin/clock/advance",
            None,
            &format!(r#"{{"seconds":{seconds}}}"#),
        ));
        assert_eq!(refused.status, 400, "{seconds}");
        assert_eq!(json(&refused)["error"]["details"][0]["field"], "seconds");
        assert!(
            json(&refused)["error"]["details"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("9000-01-01")),
            "{}",
            String::from_utf8_lossy(&refused.body)
        );
        still_serves(&core, &token);
    }
    // Right up to the latest time (the longest period before the end of the calendar) is
    // fine; after that, not one second more.
    let room = core.lock().clock.room().as_secs();
    let to_the_end = core.handle(&request(
        Method::POST,
        "/__admin/clock/advance",
        None,
        &format!(r#"{{"seconds":{room}}}"#),
    ));
    assert_eq!(to_the_end.status, 200);
    let left = crate::engine::clock::Clock::latest() - core.lock().clock.now();
    assert!(left < time::Duration::SECOND, "{left}");
    let one_more = core.handle(&request(
        Method::POST,
        "/__admin/clock/advance",
        None,
        r#"{"seconds":1}"#,
    ));
    assert_eq!(one_more.status, 400);
    still_serves(&core, &token);
}

#[tokio::test]
async fn the_rust_api_stops_the_clock_at_its_end_and_refuses_periods_out_of_range() {
    let mock = PaperlinkMock::builder()
        .seed(2)
        .revocation_delay(Duration::from_secs(60))
        .start()
        .await
        .expect("mock");
    mock.advance_clock(Duration::MAX);
    mock.advance_clock(Duration::MAX);
    assert_eq!(mock.now(), crate::engine::clock::Clock::latest());
    still_serves(
        mock.core(),
        mock.token(KeyMode::Test, KeyScope::ReadWrite)
            .expose_secret(),
    );
    let key = mock
        .create_key("late", KeyMode::Test, KeyScope::ReadOnly)
        .expect("created");
    assert!(
        mock.revoke_key(key.info.id).is_ok(),
        "revocation at the end"
    );

    for builder in [
        PaperlinkMock::builder().revocation_delay(Duration::MAX),
        PaperlinkMock::builder().rate_limit(RateLimitPolicy::new(1, Duration::MAX)),
        PaperlinkMock::builder().rate_limit(RateLimitPolicy::new(1, Duration::ZERO)),
        PaperlinkMock::builder().start_time(CLOCK_END),
        PaperlinkMock::builder().admin_token(" "),
        #[cfg(feature = "durable")]
        PaperlinkMock::builder().import_jsonl("state.jsonl"),
    ] {
        let refused = builder.start().await;
        assert!(
            matches!(refused, Err(MockError::OutOfRange { .. })),
            "{refused:?}"
        );
    }
}

#[test]
fn the_control_plane_refuses_two_tokens_an_oversized_body_and_never_shows_its_token() {
    let builder = PaperlinkMock::builder().admin_token("s3cret-admin");
    assert!(
        !format!("{builder:?}").contains("s3cret-admin"),
        "{builder:?}"
    );
    let (core, _) = MockCore::from_builder(&builder).expect("core");
    let mut twice = request(Method::GET, "/__admin/keys", Some("s3cret-admin"), "");
    assert_eq!(core.handle(&twice).status, 200);
    twice
        .headers
        .append("authorization", "Bearer wrong".parse().expect("header"));
    assert_eq!(core.handle(&twice).status, 401, "two tokens are ambiguous");
    let mut reversed = request(Method::GET, "/__admin/keys", Some("wrong"), "");
    reversed.headers.append(
        "authorization",
        "Bearer s3cret-admin".parse().expect("header"),
    );
    assert_eq!(core.handle(&reversed).status, 401);

    let big = format!(
        r#"{{"name":"{}","mode":"test","scope":"READ_ONLY"}}"#,
        "x".repeat(MAX_BODY)
    );
    let too_big = core.handle(&request(
        Method::POST,
        "/__admin/keys",
        Some("s3cret-admin"),
        &big,
    ));
    assert_eq!(too_big.status, 413);
    let mut cut = request(Method::POST, "/__admin/keys", Some("s3cret-admin"), "{}");
    cut.oversized = true;
    assert_eq!(core.handle(&cut).status, 413, "a body the front door cut");
}

#[test]
fn the_journal_is_bounded_in_bytes_and_cuts_long_paths() {
    // No line limit to speak of: only the byte bound holds the journal.
    let (core, seeded) = MockCore::from_builder(
        &PaperlinkMock::builder()
            .seed(1)
            .no_rate_limit()
            .journal_capacity(usize::MAX),
    )
    .expect("core");
    let token = seeded_key(&seeded, KeyMode::Test, KeyScope::ReadOnly)
        .expect("key")
        .token
        .expose_secret()
        .to_owned();
    let long = request(
        Method::GET,
        &format!("/api/v1/products/{}", "é".repeat(1024)),
        Some(&token),
        "",
    );
    let sent = JOURNAL_MAX_BYTES / JOURNAL_FIELD_MAX + 1_000;
    for _ in 0..sent {
        assert_eq!(core.handle(&long).status, 404);
    }
    let state = core.lock();
    let entry = state.journal.iter().next_back().expect("a line");
    assert!(
        entry.path.len() <= JOURNAL_FIELD_MAX,
        "{}",
        entry.path.len()
    );
    assert!(entry.path.ends_with(JOURNAL_CUT_MARKER));
    assert!(entry.path.starts_with("/api/v1/products/é"));
    assert!(state.journal.iter().count() < sent, "the oldest lines went");
    let held: usize = state
        .journal
        .iter()
        .map(|e| e.path.len() + e.key.as_ref().map_or(0, |k| k.prefix.len()))
        .sum();
    assert!(held <= JOURNAL_MAX_BYTES, "{held}");
}

#[tokio::test]
async fn faults_out_of_range_are_refused_over_http_and_harmless_through_rust() {
    let (core, token) = core();
    for (body, field) in [
        (
            r#"{"path":"/api/v1/products","kind":{"kind":"status","status":1000}}"#,
            "kind.status",
        ),
        (
            r#"{"path":"/api/v1/products","kind":{"kind":"delay","millis":18446744073709551615}}"#,
            "kind.millis",
        ),
    ] {
        let refused = core.handle(&request(Method::POST, "/__admin/faults", None, body));
        assert_eq!(refused.status, 400, "{body}");
        assert_eq!(json(&refused)["error"]["details"][0]["field"], field);
    }
    still_serves(&core, &token);

    let capped = crate::Fault::delay("GET", "/api/v1/products", Duration::MAX);
    let mock = PaperlinkMock::start().await;
    assert!(
        mock.inject(capped).is_ok(),
        "the Rust API cuts the delay to the maximum"
    );
    let refused = mock.inject(crate::Fault::fail_next("GET", "/products", 1, 1000, None));
    assert!(
        matches!(
            refused,
            Err(crate::MockError::InvalidFault {
                field: "kind.status",
                ..
            })
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_fault_accepts_either_spelling_of_its_path_and_one_that_can_never_fire_is_refused() {
    paperlink_sdk::install_crypto_provider();
    let mock = PaperlinkMock::start().await;
    let token = mock.token(KeyMode::Test, KeyScope::ReadOnly);
    let http = reqwest::Client::new();
    let get = |path: &'static str| {
        http.get(format!("{}{path}", mock.base_url()))
            .bearer_auth(token.expose_secret())
            .send()
    };
    mock.fail_next("GET", "/products", 1, 503, None)
        .expect("relative to the base URL");
    mock.fail_next("get", "/api/v1/products/*", 1, 502, None)
        .expect("in full, any method case");
    assert_eq!(get("/products").await.expect("answer").status(), 503);
    assert_eq!(get("/products/x").await.expect("answer").status(), 502);
    assert_eq!(get("/products").await.expect("answer").status(), 200);

    for (method, path) in [
        ("GET", "/product"),
        ("PUT", "/products"),
        ("POST", "/products/*"),
    ] {
        let refused = mock.fail_next(method, path, 1, 503, None);
        assert!(
            matches!(
                refused,
                Err(crate::MockError::InvalidFault { field: "path", .. })
            ),
            "{method} {path}: {refused:?}"
        );
    }
    // The same over HTTP: a relative path fires, a path that matches nothing is a 400.
    let (core, token) = core();
    let relative = core.handle(&request(
        Method::POST,
        "/__admin/faults",
        None,
        r#"{"method":"GET","path":"/products","kind":{"kind":"status","status":503},"times":1}"#,
    ));
    assert_eq!(
        relative.status,
        201,
        "{}",
        String::from_utf8_lossy(&relative.body)
    );
    assert_eq!(json(&relative)["data"]["path"], "/api/v1/products");
    let list = request(Method::GET, "/api/v1/products", Some(&token), "");
    assert_eq!(core.handle(&list).status, 503);
    let nowhere = core.handle(&request(
        Method::POST,
        "/__admin/faults",
        None,
        r#"{"method":"DELETE","path":"/products","kind":{"kind":"status","status":503}}"#,
    ));
    assert_eq!(nowhere.status, 400);
    assert_eq!(json(&nowhere)["error"]["details"][0]["field"], "path");
}
