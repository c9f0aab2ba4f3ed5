//! Everything the run creates is archived, whatever stops it.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers;
use crate::helpers::{Target, drift};
use crate::servers;
use crate::servers::Action;
use crate::{full_run, strings};

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
