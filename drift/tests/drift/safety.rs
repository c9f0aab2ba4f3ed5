//! What keeps a real account safe: Live keys refused, keys never echoed, the request budget,
//! and waits the target asks for.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Target, drift};

#[tokio::test]
async fn a_live_key_is_refused_before_any_request_reaches_the_target() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let base_url = format!(
        "http://{}/api/v1",
        listener.local_addr().expect("an address")
    );
    let live = "pk_live_AbCdEfGhIjKlMnOpQrStUvWxYz012345".to_owned();
    let test = "pk_test_AbCdEfGhIjKlMnOpQrStUvWxYz012345".to_owned();
    let secrets = [live.clone(), test.clone()];

    let as_key = drift(&["--base-url", &base_url, "--key", &live], &secrets).await;
    let as_write_key = drift(
        &[
            "--base-url",
            &base_url,
            "--key",
            &test,
            "--write-key",
            &live,
        ],
        &secrets,
    )
    .await;

    for run in [&as_key, &as_write_key] {
        assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("is a Live key (pk_live_AbC…)"),
            "{}",
            run.stderr
        );
    }
    listener.set_nonblocking(true).expect("non-blocking");
    let connection = listener.accept();
    assert!(
        matches!(&connection, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a connection reached the target: {connection:?}"
    );
}

#[tokio::test]
async fn usage_errors_exit_2_and_never_echo_a_key() {
    let key = "pk_test_AbCdEfGhIjKlMnOpQrStUvWxYz012345".to_owned();
    let secrets = [key.clone()];
    let cases: [Vec<&str>; 5] = [
        vec!["--base-url", "http://127.0.0.1:9/api/v1", &key],
        vec!["--base-url", "http://api.example/api/v1", "--key", &key],
        vec![
            "--base-url",
            "http://127.0.0.1:9/api/v1",
            "--key",
            &key,
            "--max-requests",
            "0",
        ],
        vec![
            "--base-url",
            "http://127.0.0.1:9/api/v1",
            "--key",
            &key,
            "--timeout",
            "301",
        ],
        vec![
            "--base-url",
            "http://127.0.0.1:9/api/v1",
            "--key",
            "sk_AbCdEfGhIjKlMnOp",
        ],
    ];
    let mut messages = BTreeSet::new();
    for args in cases {
        let run = drift(&args, &secrets).await;
        assert_eq!(run.code, 2, "{args:?}: {}\n{}", run.stdout, run.stderr);
        assert!(!run.stderr.contains("EfGhIjKlMnOp"), "{}", run.stderr);
        messages.insert(run.stderr);
    }
    assert_eq!(
        messages.len(),
        5,
        "each error says what is wrong: {messages:?}"
    );
}

#[tokio::test]
async fn the_request_budget_is_never_exceeded() {
    let target = Target::start().await;
    let args = [
        "--base-url",
        &target.base_url(),
        "--key",
        &target.read_only,
        "--max-requests",
        "10",
        "--json",
    ];

    let run = drift(&args, &target.tokens()).await;

    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["requests"], 10);
    assert_eq!(target.api_requests().await.len(), 10);
}

#[tokio::test]
async fn a_429_is_waited_for_as_its_retry_after_says_and_the_request_sent_again() {
    // Arrange: the first list answers 429 with Retry-After: 1.
    let target = Target::start().await;
    let fault = json!({"method": "GET", "path": "/products", "kind": {"kind": "status", "status": 429, "retryAfter": 1}, "times": 1});
    target.admin(Method::POST, "/faults", Some(fault)).await;
    let args = [
        "--base-url",
        &target.base_url(),
        "--key",
        &target.read_only,
        "--json",
    ];

    // Act
    let run = drift(&args, &target.tokens()).await;

    // Assert
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.took >= Duration::from_secs(1),
        "it did not wait: {:?}",
        run.took
    );
    let requests = target.api_requests().await;
    let first: Vec<u64> = requests.iter().take(2).map(|r| r.2).collect();
    assert_eq!(first, [429, 200], "{requests:?}");
}

#[tokio::test]
async fn a_wait_longer_than_max_wait_stops_the_run_with_exit_2() {
    let target = Target::start().await;
    let fault = json!({"method": "GET", "path": "/products", "kind": {"kind": "status", "status": 429, "retryAfter": 3600}, "times": 1});
    target.admin(Method::POST, "/faults", Some(fault)).await;
    let args = [
        "--base-url",
        &target.base_url(),
        "--key",
        &target.read_only,
        "--max-wait",
        "5",
    ];

    let run = drift(&args, &target.tokens()).await;

    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("asks to wait 3600 s (Retry-After), longer than --max-wait 5 s"),
        "{}",
        run.stderr
    );
    assert!(run.took < Duration::from_secs(30), "{:?}", run.took);
}
