//! The mock's shapes as documented: every answer of the control plane matches
//! `paperlink-mock/CONTROL_PLANE.md`, and the `wire` helpers render what the SDK reads as the
//! API's own answers.

use std::collections::BTreeMap;
use std::time::Duration;

use paperlink_mock::{KeyMode, KeyScope, SeedProduct, wire};
use paperlink_sdk::{Error, ListProducts, RetryConfig};
use secrecy::ExposeSecret;
use serde_json::Value;
use wiremock::Mock;
use wiremock::matchers::{method, path};

use crate::helpers::{client, configured, install_tls, mock};

const CONTROL_PLANE: &str = include_str!("../../paperlink-mock/CONTROL_PLANE.md");

/// `<!-- answer: LABEL STATUS -->` followed by a JSON block, by label.
fn documented_answers() -> BTreeMap<String, (u16, Value)> {
    let mut answers = BTreeMap::new();
    let mut rest = CONTROL_PLANE;
    while let Some(at) = rest.find("<!-- answer: ") {
        rest = &rest[at + "<!-- answer: ".len()..];
        let end = rest.find(" -->").expect("a closed marker");
        let (label, status) = rest[..end].rsplit_once(' ').expect("a status");
        let block = rest.find("```json\n").expect("a JSON block") + "```json\n".len();
        let block_end = block + rest[block..].find("\n```").expect("a closed block");
        let json: Value = serde_json::from_str(&rest[block..block_end])
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        answers.insert(label.to_owned(), (status.parse().expect("a status"), json));
    }
    answers
}

/// Same keys in every object, same JSON types, arrays compared by their first item.
fn same_shape(doc: &Value, actual: &Value, at: &str) -> Result<(), String> {
    match (doc, actual) {
        (Value::Object(d), Value::Object(a)) => {
            let (dk, ak): (Vec<_>, Vec<_>) = (d.keys().collect(), a.keys().collect());
            if dk != ak {
                return Err(format!("{at}: documented {dk:?}, served {ak:?}"));
            }
            d.iter()
                .try_for_each(|(k, v)| same_shape(v, &a[k.as_str()], &format!("{at}.{k}")))
        }
        (Value::Array(d), Value::Array(a)) => match (d.first(), a.first()) {
            (Some(d), Some(a)) => same_shape(d, a, &format!("{at}[0]")),
            (None, None) => Ok(()),
            _ => Err(format!("{at}: one array is empty, the other is not")),
        },
        (Value::Null, Value::Null)
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_)) => Ok(()),
        _ => Err(format!("{at}: documented {doc}, served {actual}")),
    }
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    verb: reqwest::Method,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let mut request = http.request(verb, format!("{base}{path}"));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.expect("answered");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("a body");
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

#[tokio::test]
async fn control_plane_answers_match_their_documentation() {
    use reqwest::Method as M;
    install_tls();
    let documented = documented_answers();
    let http = reqwest::Client::new();
    let mut served: Vec<(&str, (u16, Value))> = Vec::new();

    // The journal of a fresh mock: a create and its retry with the same Idempotency-Key.
    let fresh = mock().await;
    let token = fresh.token(KeyMode::Test, KeyScope::ReadWrite);
    for _ in 0..2 {
        let created = http
            .post(format!("{}/products", fresh.base_url()))
            .bearer_auth(token.expose_secret())
            .header("content-type", "application/json")
            .header("idempotency-key", "order-1")
            .body(r#"{"name":"Web Design","unitPrice":120.10,"currency":"USD"}"#)
            .send()
            .await
            .expect("answered");
        assert_eq!(created.status(), 201);
    }
    served.push((
        "GET /__admin/requests",
        call(&http, &fresh.uri(), M::GET, "/__admin/requests", None).await,
    ));

    let mock = mock().await;
    let base = mock.uri();
    let members = "/__admin/teams/default/members";
    served.push((
        "POST /__admin/teams/{team}/members",
        call(
            &http,
            &base,
            M::POST,
            members,
            Some(r#"{"name":"ana","role":"ADMIN"}"#),
        )
        .await,
    ));
    let member = call(
        &http,
        &base,
        M::POST,
        members,
        Some(r#"{"name":"mo","role":"MEMBER"}"#),
    )
    .await;
    assert_eq!(member.0, 201);
    let key = r#"{"name":"CI","mode":"test","scope":"READ_WRITE","createdBy":"mo"}"#;
    served.push((
        "POST /__admin/keys {as a member}",
        call(&http, &base, M::POST, "/__admin/keys", Some(key)).await,
    ));
    let key = r#"{"name":"CI","mode":"test","scope":"READ_WRITE","createdBy":"zed"}"#;
    served.push((
        "POST /__admin/keys {as a stranger}",
        call(&http, &base, M::POST, "/__admin/keys", Some(key)).await,
    ));
    served.push((
        "GET /__admin/teams/{team}/members",
        call(&http, &base, M::GET, members, None).await,
    ));
    let created = call(
        &http,
        &base,
        M::POST,
        "/__admin/keys",
        Some(r#"{"name":"CI","mode":"test","scope":"READ_WRITE","createdBy":"ana"}"#),
    )
    .await;
    let id = created.1["data"]["id"].as_str().expect("an id").to_owned();
    served.push(("POST /__admin/keys", created));
    served.push((
        "GET /__admin/keys",
        call(&http, &base, M::GET, "/__admin/keys?team=default", None).await,
    ));
    served.push((
        "POST /__admin/keys/{id}/revoke",
        call(
            &http,
            &base,
            M::POST,
            &format!("/__admin/keys/{id}/revoke"),
            Some(r#"{"revokedBy":"ana"}"#),
        )
        .await,
    ));
    served.push((
        "POST /__admin/keys/{unknown}/revoke",
        call(
            &http,
            &base,
            M::POST,
            "/__admin/keys/00000000-0000-0000-0000-000000000000/revoke",
            None,
        )
        .await,
    ));
    served.push((
        "GET /__admin/clock",
        call(&http, &base, M::GET, "/__admin/clock", None).await,
    ));
    served.push((
        "POST /__admin/clock/advance",
        call(
            &http,
            &base,
            M::POST,
            "/__admin/clock/advance",
            Some(r#"{"seconds":60}"#),
        )
        .await,
    ));
    served.push((
        "POST /__admin/faults {unmatchable}",
        call(
            &http,
            &base,
            M::POST,
            "/__admin/faults",
            Some(r#"{"method":"PUT","path":"/nowhere","kind":{"kind":"status","status":503}}"#),
        )
        .await,
    ));
    served.push((
        "POST /__admin/faults",
        call(
            &http,
            &base,
            M::POST,
            "/__admin/faults",
            Some(
                r#"{"method":"POST","path":"/products","kind":{"kind":"status","status":503,"retryAfter":1},"times":2}"#,
            ),
        )
        .await,
    ));
    served.push((
        "GET /__admin/faults",
        call(&http, &base, M::GET, "/__admin/faults", None).await,
    ));
    served.push((
        "DELETE /__admin/faults",
        call(&http, &base, M::DELETE, "/__admin/faults", None).await,
    ));
    served.push((
        "POST /__admin/products",
        call(
            &http,
            &base,
            M::POST,
            "/__admin/products",
            Some(r#"{"mode":"test","name":"Seeded","unitPrice":9.99,"currency":"EUR"}"#),
        )
        .await,
    ));
    served.push((
        "GET /__admin/products",
        call(&http, &base, M::GET, "/__admin/products?mode=test", None).await,
    ));
    let manager = call(
        &http,
        &base,
        M::PATCH,
        &format!("{members}/mo"),
        Some(r#"{"role":"MANAGER"}"#),
    )
    .await;
    assert_eq!(manager.0, 200);
    served.push((
        "PATCH /__admin/teams/{team}/members/{name}",
        call(
            &http,
            &base,
            M::PATCH,
            &format!("{members}/ana"),
            Some(r#"{"role":"OWNER"}"#),
        )
        .await,
    ));
    served.push((
        "DELETE /__admin/teams/{team}/members/{owner}",
        call(&http, &base, M::DELETE, &format!("{members}/ana"), None).await,
    ));
    served.push((
        "DELETE /__admin/teams/{team}/members/{name}",
        call(&http, &base, M::DELETE, &format!("{members}/mo"), None).await,
    ));
    served.push((
        "POST /__admin/reset",
        call(&http, &base, M::POST, "/__admin/reset", None).await,
    ));

    let labels: Vec<&str> = served.iter().map(|(label, _)| *label).collect();
    let documented_labels: Vec<&str> = documented.keys().map(String::as_str).collect();
    let mut sorted = labels.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted, documented_labels,
        "every documented answer is checked"
    );
    for (label, (status, body)) in &served {
        let (doc_status, doc_body) = &documented[*label];
        assert_eq!(status, doc_status, "{label}: {body}");
        same_shape(doc_body, body, label).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[tokio::test]
async fn the_wire_helpers_render_what_the_sdk_reads_as_the_apis_answers() {
    let mock = mock().await;
    let product = wire::product(
        &SeedProduct::new("Web Design", rust_decimal::Decimal::new(12010, 2), "USD").sku("WD-1"),
    )
    .unwrap();
    // One page that claims more, then a 429: both hand-mounted, ahead of the mock's core.
    Mock::given(method("GET"))
        .and(path("/api/v1/products"))
        .respond_with(wire::page_response(
            std::slice::from_ref(&product),
            Some("c-2"),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(mock.server())
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/products"))
        .respond_with(
            wire::error_response(429, "rate_limited", "too many requests")
                .insert_header("retry-after", "120"),
        )
        .with_priority(2)
        .mount(mock.server())
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/products/{}", product.id)))
        .respond_with(wire::product_response(200, &product))
        .mount(mock.server())
        .await;

    let reader = client(&mock, KeyMode::Test, KeyScope::ReadOnly);
    let page = reader.products().list(ListProducts::new()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].unit_price.to_string(), "120.10");
    assert_eq!(page.next(), Some("c-2"));
    assert!(page.request_id.is_some());
    let one = reader.products().get(page.items[0].id).await.unwrap();
    assert_eq!(one.sku.as_deref(), Some("WD-1"));
    assert_eq!(
        one.product_type,
        paperlink_mock::bounds::DEFAULT_PRODUCT_TYPE
    );

    let limited = configured(&mock, KeyMode::Test, KeyScope::ReadOnly, |b| {
        b.retry(RetryConfig::disabled())
    });
    let err = limited
        .products()
        .list(ListProducts::new().after("c-2"))
        .await
        .unwrap_err();
    match err {
        Error::RateLimited(api) => {
            assert_eq!(api.code(), Some("rate_limited"));
            assert_eq!(api.retry_after(), Some(Duration::from_secs(120)));
        }
        other => panic!("expected a 429, got {other:?}"),
    }
}
