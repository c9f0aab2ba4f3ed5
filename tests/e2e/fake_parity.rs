//! Fakes say what the mock says: each `ApiErrorBuilder` shortcut is checked against the
//! document a running mock serves (its code list, and a response declared with that status
//! and code) and against the mock's real answer to the same failure.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock, RateLimitPolicy};
use paperlink_sdk::testing::ApiErrorBuilder;
use paperlink_sdk::{
    ApiKey, Client, CreateProduct, Decimal, Error, ListProducts, ProductId, RetryConfig,
    WriteOptions,
};
use secrecy::SecretString;
use serde_json::Value;

use crate::helpers::{Door, Http, builder, install_tls};

/// A client that reports the first answer as it is: no retry.
fn plain(mock: &PaperlinkMock, token: SecretString) -> Client {
    Client::builder()
        .api_key(ApiKey::from_secret(token).expect("valid key"))
        .base_url(mock.base_url())
        .retry(RetryConfig::disabled())
        .build()
        .expect("client builds")
}

/// The document, fetched over HTTP from a running mock.
async fn served_document(mock: &PaperlinkMock) -> Value {
    served_document_at(&mock.uri()).await
}

/// The document, fetched over HTTP from the mock at `root`.
async fn served_document_at(root: &str) -> Value {
    install_tls();
    let reply = reqwest::get(format!("{root}/api/v1/openapi.json"))
        .await
        .expect("the mock answers");
    assert_eq!(reply.status(), 200);
    let text = reply.text().await.expect("the body");
    serde_json::from_str(&text).expect("the document is JSON")
}

/// A node with its `$ref` (if any) followed.
fn resolve<'a>(doc: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let target = reference
                .trim_start_matches("#/")
                .split('/')
                .fold(doc, |at, part| &at[part]);
            resolve(doc, target)
        }
        None => node,
    }
}

/// The error codes the document lists: the `code` of the error body's `error`, read from
/// the body a `401` is declared with.
fn document_codes(doc: &Value) -> BTreeSet<String> {
    let unauthorized = resolve(doc, &doc["components"]["responses"]["Unauthorized"]);
    let error = resolve(doc, &unauthorized["content"]["application/json"]["schema"]);
    let body = resolve(doc, &error["properties"]["error"]);
    let code = resolve(doc, &body["properties"]["code"]);
    code["enum"]
        .as_array()
        .expect("the error code is an enum")
        .iter()
        .map(|c| c.as_str().expect("a code is a string").to_owned())
        .collect()
}

/// For each operation, the codes its declared responses carry in their examples, by status
/// key (`"404"`, or a range such as `"5XX"`).
fn declared_codes(doc: &Value) -> Vec<BTreeMap<String, BTreeSet<String>>> {
    let mut operations = Vec::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for (method, operation) in item.as_object().expect("a path item") {
            let Some(responses) = operation["responses"].as_object() else {
                assert_eq!(method, "parameters", "{method} has no responses");
                continue;
            };
            let mut by_status = BTreeMap::new();
            for (status, response) in responses {
                let response = resolve(doc, response);
                let codes: BTreeSet<String> = response["content"]["application/json"]["examples"]
                    .as_object()
                    .into_iter()
                    .flat_map(|e| e.values())
                    .filter_map(|e| resolve(doc, e)["value"]["error"]["code"].as_str())
                    .map(str::to_owned)
                    .collect();
                by_status.insert(status.clone(), codes);
            }
            operations.push(by_status);
        }
    }
    operations
}

/// Whether some operation answers `status` with `code`: its response for exactly that status,
/// or else for the status's range (`5XX`), as OpenAPI reads them.
fn declares(operations: &[BTreeMap<String, BTreeSet<String>>], status: u16, code: &str) -> bool {
    operations.iter().any(|responses| {
        let exact = responses.get(&status.to_string());
        let range = responses.get(&format!("{}XX", status / 100));
        exact.or(range).is_some_and(|codes| codes.contains(code))
    })
}

/// Status, code, variant, field names and whether `Retry-After` is there: what code branches
/// on. (Messages are for people, and request ids differ on every answer.)
fn shape(error: &Error) -> (u16, Option<String>, String, Vec<String>, bool) {
    let api = error
        .api_error()
        .unwrap_or_else(|| panic!("not an API error: {error:?}"));
    let variant = format!("{error:?}");
    let variant = variant.split('(').next().unwrap_or_default().to_owned();
    (
        api.status(),
        api.code().map(str::to_owned),
        variant,
        api.details().iter().map(|d| d.field.clone()).collect(),
        api.retry_after().is_some(),
    )
}

fn failed<T>(result: paperlink_sdk::Result<T>) -> Error {
    match result {
        Ok(_) => panic!("the mock should have refused it"),
        Err(error) => error,
    }
}

fn product(name: &str) -> CreateProduct {
    CreateProduct::new(name, Decimal::ONE, "EUR".parse().expect("a currency"))
}

/// Each shortcut, beside the mock's real answer to the failure it stands for.
async fn shortcuts_and_real_answers() -> Vec<(&'static str, Error, Error)> {
    let mock = builder().start().await.expect("mock starts");
    let rw = plain(&mock, mock.token(KeyMode::Test, KeyScope::ReadWrite));
    let ro = plain(&mock, mock.token(KeyMode::Test, KeyScope::ReadOnly));
    let stranger = plain(
        &mock,
        SecretString::from(format!("pk_test_{}", "x".repeat(32))),
    );
    let missing: ProductId = "a1b2c3d4-e5f6-4890-abcd-ef1234567890"
        .parse()
        .expect("an id");

    let mut cases = vec![
        (
            "unauthorized",
            ApiErrorBuilder::unauthorized().into_error(),
            failed(stranger.products().list(ListProducts::new()).await),
        ),
        (
            "scope_insufficient",
            ApiErrorBuilder::scope_insufficient().into_error(),
            failed(ro.products().create(product("x")).await),
        ),
        (
            "not_found",
            ApiErrorBuilder::not_found().into_error(),
            failed(rw.products().get(missing).await),
        ),
        (
            "validation",
            ApiErrorBuilder::validation("after", "is not a cursor from this list").into_error(),
            failed(
                rw.products()
                    .list(ListProducts::new().after("not-a-cursor"))
                    .await,
            ),
        ),
    ];
    rw.products()
        .create(product("taken").sku("TAKEN"))
        .await
        .expect("created");
    cases.push((
        "sku_conflict",
        ApiErrorBuilder::sku_conflict().into_error(),
        failed(rw.products().create(product("again").sku("TAKEN")).await),
    ));
    let key = WriteOptions::new().idempotency_key("parity-1");
    rw.products()
        .create_with(product("first"), key.clone())
        .await
        .expect("created");
    cases.push((
        "idempotency_key_reused",
        ApiErrorBuilder::idempotency_key_reused().into_error(),
        failed(rw.products().create_with(product("second"), key).await),
    ));
    for status in [500, 502, 503, 504] {
        mock.fail_next("GET", "/products", 1, status, None)
            .expect("a valid fault");
        cases.push((
            "server_error",
            ApiErrorBuilder::server_error(status).into_error(),
            failed(rw.products().list(ListProducts::new()).await),
        ));
    }

    let limited = builder()
        .rate_limit(RateLimitPolicy::new(1, Duration::from_secs(60)))
        .start()
        .await
        .expect("mock starts");
    let reader = plain(&limited, limited.token(KeyMode::Test, KeyScope::ReadOnly));
    reader
        .products()
        .list(ListProducts::new())
        .await
        .expect("the first call is within the limit");
    cases.push((
        "rate_limited",
        ApiErrorBuilder::rate_limited(Duration::from_secs(60)).into_error(),
        failed(reader.products().list(ListProducts::new()).await),
    ));
    cases
}

#[tokio::test]
async fn each_error_shortcut_matches_the_mocks_real_answer_to_the_same_failure() {
    let mut differ = Vec::new();
    for (name, fake, real) in shortcuts_and_real_answers().await {
        if shape(&fake) != shape(&real) {
            differ.push(format!(
                "{name}: the fake says {:?}, the mock {:?}",
                shape(&fake),
                shape(&real)
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[tokio::test]
async fn each_error_shortcut_is_declared_with_its_status_and_code_in_the_served_document() {
    let mock = PaperlinkMock::start().await;
    let doc = served_document(&mock).await;
    let codes = document_codes(&doc);
    let operations = declared_codes(&doc);
    let mut wrong = Vec::new();
    for (name, fake, _) in shortcuts_and_real_answers().await {
        let api = fake.api_error().expect("an API error");
        let code = api.code().unwrap_or("(none)").to_owned();
        if !codes.contains(&code) {
            wrong.push(format!("{name}: code {code} is not in the document's list"));
        }
        if !declares(&operations, api.status(), &code) {
            wrong.push(format!(
                "{name}: no operation declares {} with code {code}",
                api.status()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn the_sdk_names_each_code_the_served_document_lists_and_no_other() {
    let mock = PaperlinkMock::start().await;
    let documented = document_codes(&served_document(&mock).await);
    let named: BTreeSet<String> = paperlink_sdk::codes::ALL
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    assert_eq!(
        named.difference(&documented).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "named in the SDK, not in the document"
    );
    assert_eq!(
        documented.difference(&named).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in the document, not named in the SDK"
    );
}

#[tokio::test]
async fn every_code_the_mock_answers_with_is_listed_in_the_document_and_named_in_the_sdk() {
    let http = Http::start(Door::InProcess, builder()).await;
    let (rw, ro) = (http.rw(), http.ro());
    let body = r#"{"name":"x","unitPrice":1,"currency":"EUR","sku":"ONE"}"#;
    let mut replies = vec![
        http.api("GET", "/products", None, None).await,
        http.api("POST", "/products", Some(&ro), Some(body)).await,
        http.api("POST", "/products", Some(&rw), Some("{")).await,
        http.get("/products/a1b2c3d4-e5f6-4890-abcd-ef1234567890", &rw)
            .await,
        http.get("/nothing-here", &rw).await,
        http.api("PUT", "/products", Some(&rw), Some(body)).await,
    ];
    http.post("/products", &rw, body).await;
    replies.push(http.post("/products", &rw, body).await);
    let keyed = vec![
        ("authorization".to_owned(), format!("Bearer {rw}")),
        ("content-type".to_owned(), "application/json".to_owned()),
        ("idempotency-key".to_owned(), "codes-1".to_owned()),
    ];
    let first = r#"{"name":"a","unitPrice":1,"currency":"EUR"}"#;
    let second = r#"{"name":"b","unitPrice":1,"currency":"EUR"}"#;
    let created = http
        .raw("POST", "/api/v1/products", &keyed, Some(first.into()))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    replies.push(
        http.raw("POST", "/api/v1/products", &keyed, Some(second.into()))
            .await,
    );
    let plain_text = vec![
        ("authorization".to_owned(), format!("Bearer {rw}")),
        ("content-type".to_owned(), "text/plain".to_owned()),
    ];
    replies.push(
        http.raw(
            "POST",
            "/api/v1/products",
            &plain_text,
            Some(b"{}".to_vec()),
        )
        .await,
    );
    let huge = format!(r#"{{"name":"{}"}}"#, "x".repeat(2 << 20));
    replies.push(http.post("/products", &rw, &huge).await);
    for status in [429, 500, 502, 503, 504, 507] {
        let fault = format!(
            r#"{{"method":"GET","path":"/products","kind":{{"kind":"status","status":{status}}},"times":1}}"#
        );
        let injected = http.admin("POST", "/faults", Some(&fault)).await;
        assert_eq!(injected.status, 201, "{}", injected.text);
        replies.push(http.get("/products", &rw).await);
    }

    let doc = served_document_at(&http.root).await;
    let documented = document_codes(&doc);
    let operations = declared_codes(&doc);
    let mut seen = BTreeSet::new();
    for reply in &replies {
        let code = reply
            .code()
            .unwrap_or_else(|| panic!("no code in {} {}", reply.status, reply.text));
        assert!(documented.contains(&code), "{code} is not in the document");
        assert!(
            paperlink_sdk::codes::ALL.contains(&code.as_str()),
            "{code} has no constant in the SDK"
        );
        // A route the API does not have belongs to no operation.
        if code != paperlink_sdk::codes::NOT_FOUND {
            assert!(
                declares(&operations, reply.status, &code),
                "no operation declares {} with {code}",
                reply.status
            );
        }
        seen.insert(code);
    }
    assert_eq!(seen.len(), 16, "{seen:?}");
}
