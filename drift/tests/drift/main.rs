//! The real `paperlink-drift` binary against loopback servers each test starts: the
//! standalone mock, a proxy in front of it that differs in known ways or cuts connections,
//! servers that answer garbage, close connections or redirect.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod servers;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use helpers::{Target, drift};
use servers::Action;

fn strings(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `--base-url URL --key RO --write-key RW --json`.
fn full_run(base_url: &str, target: &Target) -> Vec<String> {
    vec![
        "--base-url".into(),
        base_url.into(),
        "--key".into(),
        target.read_only.clone(),
        "--write-key".into(),
        target.read_write.clone(),
        "--json".into(),
    ]
}

#[tokio::test]
async fn a_run_against_the_standalone_mock_finds_no_difference_and_archives_every_product_it_created()
 {
    // Arrange: a catalog to page through, nullable fields set and not, one archived.
    let target = Target::start().await;
    target
        .seed(json!({"name": "Hosting", "unitPrice": 9.99, "currency": "EUR", "sku": "HOST-1"}))
        .await;
    let full = json!({"name": "Design", "unitPrice": 120, "currency": "USD", "description": "d", "taxRate": 20});
    target.seed(full).await;
    let archived = json!({"name": "Old", "unitPrice": 1, "currency": "EUR", "status": "archived"});
    target.seed(archived).await;

    // Act
    let run = drift(
        &strings(&full_run(&target.base_url(), &target)),
        &target.tokens(),
    )
    .await;

    // Assert
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["differences"], json!([]));
    assert_eq!(json["notRun"], json!([]), "every check ran");
    assert!(json["same"].as_u64().unwrap_or(0) >= 50, "{json}");
    assert_eq!(json["notArchived"], json!([]));
    let created = target.created().await;
    assert!(!created.is_empty(), "the write checks created a product");
    assert!(
        created.iter().all(|(_, status)| status == "archived"),
        "{created:?}"
    );
    let sent = target.api_requests().await.len() as u64;
    assert_eq!(
        json["requests"].as_u64(),
        Some(sent),
        "the count is what the target received"
    );
}

#[tokio::test]
async fn the_table_names_each_check_by_its_decision_and_ends_with_a_summary() {
    let target = Target::start().await;
    let args = ["--base-url", &target.base_url(), "--key", &target.read_only];

    let run = drift(&args, &target.tokens()).await;

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with("get.non-uuid-id"))
        .expect("a row for get.non-uuid-id");
    assert!(
        row.contains("Non-UUID id") && row.trim_end().ends_with("same"),
        "{row}"
    );
    assert!(
        run.stdout.contains("--key pk_test_"),
        "the key's hint is shown"
    );
    let summary = run.stdout.lines().last().unwrap_or_default();
    assert!(summary.starts_with("0 different, "), "{summary}");
    assert!(summary.contains("requests to the target"), "{summary}");
}

#[tokio::test]
async fn a_read_only_key_without_a_write_key_changes_nothing() {
    let target = Target::start().await;
    target
        .seed(json!({"name": "Hosting", "unitPrice": 9.99, "currency": "EUR"}))
        .await;
    let before = target.products().await;
    let args = [
        "--base-url",
        &target.base_url(),
        "--key",
        &target.read_only,
        "--json",
    ];

    let run = drift(&args, &target.tokens()).await;

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(target.products().await, before);
    let writes: Vec<_> = target
        .api_requests()
        .await
        .into_iter()
        .filter(|(method, _, _)| !matches!(method.as_str(), "GET" | "HEAD"))
        .collect();
    assert!(!writes.is_empty(), "the refused writes were tried");
    // Every write was refused (403), but PUT, which no route accepts (405).
    assert!(
        writes
            .iter()
            .all(|(m, _, s)| *s == 403 || (m == "PUT" && *s == 405)),
        "{writes:?}"
    );
    let not_run = run.json()["notRun"].to_string();
    assert!(not_run.contains("create.status") && not_run.contains("delete.first"));
}

#[tokio::test]
async fn a_stand_in_that_answers_create_with_200_and_renames_the_404_code_is_reported_check_by_check()
 {
    // Arrange: a proxy that changes exactly two things.
    let target = Target::start().await;
    let decide = Arc::new(|_: &Method, _: &str, _: &[u8]| Action::Forward);
    let rewrite = Arc::new(
        |method: &Method, path: &str, status: &mut u16, body: &mut Vec<u8>| {
            if method == Method::POST && path == "/api/v1/products" && *status == 201 {
                *status = 200;
            }
            let text = String::from_utf8_lossy(body).into_owned();
            if text.contains("\"product_not_found\"") {
                *body = text
                    .replace("\"product_not_found\"", "\"product_missing\"")
                    .into_bytes();
            }
        },
    );
    let proxy = servers::proxy(target.root(), decide, rewrite).await;

    // Act
    let run = drift(
        &strings(&full_run(&proxy.base_url(), &target)),
        &target.tokens(),
    )
    .await;

    // Assert: exactly the checks that observe those two answers, with their decisions.
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let expected = [
        ("create.status", Some("Create")),
        ("get.non-canonical-id", Some("Non-UUID id")),
        ("get.non-uuid-id", Some("Non-UUID id")),
        ("get.unknown-id", None),
        ("scope.write-key-probe", Some("Order of checks")),
    ];
    let expected: Vec<(String, Option<String>)> = expected
        .iter()
        .map(|(c, d)| ((*c).to_owned(), d.map(str::to_owned)))
        .collect();
    assert_eq!(run.differences(), expected);
    let json = run.json();
    let create = json["differences"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["check"] == "create.status"))
        .expect("create.status");
    assert_eq!(create["expected"], "201, Location: the product's path");
    assert_eq!(create["observed"], "200, Location: the product's path");
    let created = target.created().await;
    assert!(
        !created.is_empty() && created.iter().all(|(_, s)| s == "archived"),
        "{created:?}"
    );
}

#[tokio::test]
async fn a_server_that_is_not_http_gets_a_clear_report_and_exit_2() {
    let garbage = servers::raw(&b"\x00\x01garbage, not HTTP at all\r\n\r\n"[..]).await;
    let target = Target::start().await;
    let args = [
        "--base-url",
        &garbage.base_url(),
        "--key",
        &target.read_only,
    ];

    let run = drift(&args, &target.tokens()).await;

    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("the target is not reachable"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("GET /products"), "{}", run.stderr);
}

#[tokio::test]
async fn a_server_that_answers_an_html_page_gets_a_clear_report_and_exit_2() {
    let page = "<html><body>Welcome</body></html>";
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    let html = servers::raw(reply).await;
    let target = Target::start().await;
    let args = [
        "--base-url",
        &html.base_url(),
        "--key",
        &target.read_only,
        "--json",
    ];

    let run = drift(&args, &target.tokens()).await;

    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let error = run.json()["error"].as_str().unwrap_or_default().to_owned();
    assert!(
        error.contains("does not answer as a Paperlink API") && error.contains("not JSON"),
        "{error}"
    );
}

#[tokio::test]
async fn a_server_that_closes_every_connection_gets_a_clear_report_and_exit_2() {
    let closing = servers::closing().await;
    let target = Target::start().await;
    let args = [
        "--base-url",
        &closing.base_url(),
        "--key",
        &target.read_only,
    ];

    let run = drift(&args, &target.tokens()).await;

    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("the target is not reachable"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_connection_cut_during_the_writes_still_archives_what_was_created() {
    // Arrange: the connection breaks on the empty PATCH, while the product is still active.
    let target = Target::start().await;
    let decide = Arc::new(|method: &Method, _: &str, body: &[u8]| {
        if method == Method::PATCH && body == b"{}" {
            Action::Close
        } else {
            Action::Forward
        }
    });
    let rewrite = Arc::new(|_: &Method, _: &str, _: &mut u16, _: &mut Vec<u8>| {});
    let proxy = servers::proxy(target.root(), decide, rewrite).await;

    // Act
    let run = drift(
        &strings(&full_run(&proxy.base_url(), &target)),
        &target.tokens(),
    )
    .await;

    // Assert
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("PATCH /products/"), "{}", run.stderr);
    assert!(
        run.stderr.contains("1 archived by the clean-up"),
        "{}",
        run.stderr
    );
    let created = target.created().await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert!(created.iter().all(|(_, s)| s == "archived"), "{created:?}");
}

#[tokio::test]
async fn ctrl_c_during_the_writes_stops_the_run_and_still_archives_what_was_created() {
    // Arrange: the empty PATCH never gets an answer, while the product is still active.
    let target = Target::start().await;
    let held = Arc::new(tokio::sync::Notify::new());
    let holding = held.clone();
    let decide = Arc::new(move |method: &Method, _: &str, body: &[u8]| {
        if method == Method::PATCH && body == b"{}" {
            holding.notify_one();
            Action::Hold
        } else {
            Action::Forward
        }
    });
    let rewrite = Arc::new(|_: &Method, _: &str, _: &mut u16, _: &mut Vec<u8>| {});
    let proxy = servers::proxy(target.root(), decide, rewrite).await;
    let started = std::time::Instant::now();
    let child = helpers::spawn(&strings(&full_run(&proxy.base_url(), &target)));

    // Act: Ctrl-C once the run waits on the held request.
    tokio::time::timeout(Duration::from_secs(60), held.notified())
        .await
        .expect("the run reaches the empty PATCH");
    let pid = child.id().expect("the run is still going").to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status();
    assert!(signalled.is_ok_and(|s| s.success()), "SIGINT sent");
    let run = helpers::finish(child, started, &target.tokens()).await;

    // Assert
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["error"], "interrupted", "{json}");
    assert_eq!(json["notArchived"], json!([]), "{json}");
    let created = target.created().await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].1, "archived");
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_by_its_marker_and_archived() {
    // Arrange: the first create reaches the target, and its answer never comes back.
    let target = Target::start().await;
    let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let decide = Arc::new(move |method: &Method, path: &str, body: &[u8]| {
        let create = method == Method::POST && path == "/api/v1/products";
        let valid = String::from_utf8_lossy(body).contains("\"unitPrice\":120.10");
        if create && valid && !dropped.swap(true, std::sync::atomic::Ordering::SeqCst) {
            Action::ForwardThenClose
        } else {
            Action::Forward
        }
    });
    let rewrite = Arc::new(|_: &Method, _: &str, _: &mut u16, _: &mut Vec<u8>| {});
    let proxy = servers::proxy(target.root(), decide, rewrite).await;

    // Act
    let run = drift(
        &strings(&full_run(&proxy.base_url(), &target)),
        &target.tokens(),
    )
    .await;

    // Assert
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["created"], 1, "{json}");
    assert_eq!(json["notArchived"], json!([]), "{json}");
    let created = target.created().await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].1, "archived");
}

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
async fn a_redirect_is_never_followed_to_another_host() {
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let to = elsewhere.local_addr().expect("an address");
    let reply = format!(
        "HTTP/1.1 302 Found\r\nLocation: http://{to}/api/v1/products\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let redirecting = servers::raw(reply).await;
    let target = Target::start().await;
    let args = [
        "--base-url",
        &redirecting.base_url(),
        "--key",
        &target.read_only,
    ];

    let run = drift(&args, &target.tokens()).await;

    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("a redirect (never followed)"),
        "{}",
        run.stderr
    );
    elsewhere.set_nonblocking(true).expect("non-blocking");
    assert!(elsewhere.accept().is_err(), "the redirect was followed");
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
async fn a_budget_that_runs_out_during_the_writes_still_archives_what_was_created() {
    // Arrange: a budget that runs out in the middle of the writes.
    let target = Target::start().await;
    let mut args = full_run(&target.base_url(), &target);
    args.extend(["--max-requests".to_owned(), "30".to_owned()]);

    // Act
    let run = drift(&strings(&args), &target.tokens()).await;

    // Assert
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert!(
        json["error"]
            .as_str()
            .is_some_and(|e| e.contains("--max-requests 30")),
        "{json}"
    );
    assert_eq!(
        json["created"], 1,
        "the budget ran out after the create: {json}"
    );
    assert_eq!(json["notArchived"], json!([]));
    let received = target.api_requests().await.len();
    assert!(received <= 30, "{received} requests");
    assert_eq!(json["requests"].as_u64(), Some(received as u64));
    let created = target.created().await;
    assert!(created.iter().all(|(_, s)| s == "archived"), "{created:?}");
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
async fn control_characters_from_the_target_never_reach_the_terminal() {
    // Arrange: error codes that carry a terminal escape sequence (JSON-escaped on the wire).
    let target = Target::start().await;
    let decide = Arc::new(|_: &Method, _: &str, _: &[u8]| Action::Forward);
    let rewrite = Arc::new(|_: &Method, _: &str, _: &mut u16, body: &mut Vec<u8>| {
        let text = String::from_utf8_lossy(body).into_owned();
        *body = text
            .replace("\"product_not_found\"", "\"\\u001b[2Jgone\"")
            .into_bytes();
    });
    let proxy = servers::proxy(target.root(), decide, rewrite).await;
    let args = ["--base-url", &proxy.base_url(), "--key", &target.read_only];

    // Act
    let run = drift(&args, &target.tokens()).await;

    // Assert
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("404 \\u{1b}[2Jgone"), "{}", run.stdout);
    assert!(!run.stdout.contains('\u{1b}') && !run.stderr.contains('\u{1b}'));
}

#[tokio::test]
async fn the_list_of_checks_needs_no_target_and_names_each_decision() {
    let run = drift(&["--list-checks"], &[]).await;

    assert_eq!(run.code, 0, "{}", run.stderr);
    let create = run
        .stdout
        .lines()
        .find(|l| l.starts_with("create.replay "))
        .expect("create.replay is listed");
    assert!(
        create.contains("Idempotency-Key") && create.contains("[--write-key]"),
        "{create}"
    );
    assert!(run.stdout.lines().count() > 50, "{}", run.stdout);
}
