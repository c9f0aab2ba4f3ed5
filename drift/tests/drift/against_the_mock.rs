//! Against the standalone mock, directly or behind a proxy that differs in known ways.

use std::sync::Arc;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Target, drift};
use crate::servers;
use crate::servers::Action;
use crate::{full_run, strings};

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
