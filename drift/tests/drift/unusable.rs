//! Targets that cannot be used, or that send what must not reach the terminal.

use std::sync::Arc;

use reqwest::Method;

use crate::helpers::{Target, drift};
use crate::servers;
use crate::servers::Action;

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
