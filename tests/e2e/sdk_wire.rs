//! The SDK against wiremock stubs: servers that misbehave in ways the mock never does
//! (foreign error bodies, HTTP-date Retry-After, 204s, undecodable bodies, looping cursors,
//! slow or absent servers).

use std::time::Duration;

use futures_util::StreamExt;
use paperlink_sdk::{ApiKey, Client, Error, ListProducts, ProductId, RetryConfig, StatusFilter};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "pk_live_AbCdEfGhIjKlMnOpQrStUvWxYz012345";
const ID: &str = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";

fn product(id: &str) -> serde_json::Value {
    json!({"id": id, "name": "Web Design", "unitPrice": 120.00, "currency": "USD", "description": null,
           "sku": null, "taxRate": null, "type": "SERVICES", "unitOfMeasure": "hr", "status": "active",
           "createdAt": "2025-01-15T10:00:00.000Z", "updatedAt": "2023-11-07T05:31:56Z"})
}

fn client(server: &MockServer, retry: RetryConfig) -> Client {
    Client::builder()
        .api_key(ApiKey::new(TOKEN).unwrap())
        .base_url(format!("{}/api/v1", server.uri()))
        .retry(
            retry
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(2)),
        )
        .app_name("e2e-suite/1.0")
        .build()
        .unwrap()
}

fn id() -> ProductId {
    ID.parse().unwrap()
}

#[tokio::test]
async fn every_error_status_maps_to_its_variant_with_the_request_id() {
    type Check = fn(&Error) -> bool;
    let cases: Vec<(u16, serde_json::Value, Check)> = vec![
        (
            401,
            json!({"error": {"code": "unauthorized", "message": "no"}}),
            |e| matches!(e, Error::Unauthorized(_)),
        ),
        (
            403,
            json!({"error": {"code": "scope_insufficient", "message": "no"}}),
            |e| matches!(e, Error::ScopeInsufficient(_)),
        ),
        (
            403,
            json!({"error": {"code": "team_suspended", "message": "no"}}),
            |e| matches!(e, Error::Forbidden(_)),
        ),
        (
            404,
            json!({"error": {"code": "product_not_found", "message": "no"}}),
            |e| matches!(e, Error::NotFound(_)),
        ),
        (
            400,
            json!({"error": {"code": "validation_error", "message": "no", "details": [{"field": "name", "message": "is required"}]}}),
            |e| matches!(e, Error::Validation(a) if a.details()[0].field == "name"),
        ),
        (
            422,
            json!({"code": "unprocessable", "message": "no"}),
            |e| matches!(e, Error::Validation(a) if a.code() == Some("unprocessable")),
        ),
        (
            409,
            json!({"error": {"code": "sku_conflict", "message": "no"}}),
            |e| matches!(e, Error::Conflict(_)),
        ),
        (
            429,
            json!({"error": "slow down"}),
            |e| matches!(e, Error::RateLimited(a) if a.message() == "slow down"),
        ),
        (
            500,
            json!("boom"),
            |e| matches!(e, Error::Server(a) if a.message() == "boom"),
        ),
        (
            503,
            json!({}),
            |e| matches!(e, Error::Server(a) if a.message() == "service unavailable"),
        ),
        (
            418,
            json!({"error": {"code": "teapot", "message": "short and stout"}}),
            |e| matches!(e, Error::Api(_)),
        ),
    ];
    for (status, body, check) in cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(body.clone())
                    .insert_header("x-request-id", "req-42"),
            )
            .mount(&server)
            .await;
        let err = client(&server, RetryConfig::disabled())
            .products()
            .get(id())
            .await
            .unwrap_err();
        assert!(check(&err), "{status} {body}: {err:?}");
        assert_eq!(
            (err.status(), err.request_id()),
            (Some(status), Some("req-42")),
            "{status}"
        );
        let text = format!("{err} {err:?}");
        assert!(!text.contains(&TOKEN[8..]), "{text}");
        drop(server);
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_http_date_is_waited_out() {
    let server = MockServer::start().await;
    let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(5));
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", later.as_str()))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": product(ID)})))
        .mount(&server)
        .await;
    let client = crate::helpers::paused_client_for(
        &format!("{}/api/v1", server.uri()),
        TOKEN.into(),
        RetryConfig::default(),
    );
    let started = tokio::time::Instant::now();
    let product = client.products().get(id()).await.unwrap();
    assert_eq!(product.id, id());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(3) && waited <= Duration::from_secs(6),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_retry_after_longer_than_the_maximum_fails_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .mount(&server)
        .await;
    let err = client(&server, RetryConfig::default())
        .products()
        .get(id())
        .await
        .unwrap_err();
    assert_eq!(
        err.api_error().and_then(|a| a.retry_after()),
        Some(Duration::from_secs(3600))
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_500_is_retried_for_reads_but_not_for_writes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let client = client(&server, RetryConfig::default());
    assert!(matches!(
        client.products().get(id()).await,
        Err(Error::Server(_))
    ));
    assert!(matches!(
        client.products().delete(id()).await,
        Err(Error::Server(_))
    ));
    let methods: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(methods, ["GET", "GET", "GET", "DELETE"]);
}

#[tokio::test]
async fn delete_accepts_204_and_200_with_a_body() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": product(ID)})))
        .mount(&server)
        .await;
    let client = client(&server, RetryConfig::disabled());
    assert_eq!(client.products().delete(id()).await.unwrap(), None);
    assert_eq!(
        client.products().delete(id()).await.unwrap().map(|p| p.id),
        Some(id())
    );
}

#[tokio::test]
async fn an_undecodable_success_keeps_a_redacted_snippet() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(format!("<html>oops {TOKEN}</html>"))
                .insert_header("x-request-id", "r1"),
        )
        .mount(&server)
        .await;
    let err = client(&server, RetryConfig::disabled())
        .products()
        .get(id())
        .await
        .unwrap_err();
    match &err {
        Error::Decode {
            status,
            snippet,
            request_id,
            ..
        } => {
            assert_eq!((*status, request_id.as_deref()), (200, Some("r1")));
            assert!(snippet.starts_with("<html>oops pk_live_"), "{snippet}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(!format!("{err} {err:?}").contains(&TOKEN[8..]));
}

#[tokio::test]
async fn a_looping_cursor_stops_the_stream() {
    let server = MockServer::start().await;
    let page = |cursor: &str| json!({"data": {"data": [product(ID)], "hasMore": true, "nextCursor": cursor}});
    Mock::given(query_param("after", "c1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page("c1")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page("c1")))
        .mount(&server)
        .await;
    let items: Vec<_> = client(&server, RetryConfig::disabled())
        .products()
        .stream(ListProducts::new().status(StatusFilter::All))
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert!(matches!(&items[1], Err(Error::CursorLoop { cursor }) if cursor == "c1"));
}

#[tokio::test]
async fn slow_servers_time_out_and_absent_ones_are_transport_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(500)))
        .mount(&server)
        .await;
    let slow = Client::builder()
        .api_key(ApiKey::new(TOKEN).unwrap())
        .base_url(format!("{}/api/v1", server.uri()))
        .timeout(Duration::from_millis(20))
        .retry(
            RetryConfig::default()
                .max_attempts(2)
                .initial_backoff(Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    let err = slow.products().get(id()).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout(_)) && err.is_retryable(),
        "{err:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let absent = Client::builder()
        .api_key(ApiKey::new(TOKEN).unwrap())
        .base_url(format!("http://{closed}/api/v1"))
        .retry(RetryConfig::default().initial_backoff(Duration::from_millis(1)))
        .build()
        .unwrap();
    let err = absent.products().get(id()).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(&TOKEN[8..]));
}

#[tokio::test]
async fn every_request_carries_the_bearer_key_user_agent_and_json_accept() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/products/{ID}")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header(
            "user-agent",
            format!("paperlink-sdk/{} e2e-suite/1.0", env!("CARGO_PKG_VERSION")).as_str(),
        ))
        .and(header("accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": product(ID)})))
        .expect(1)
        .mount(&server)
        .await;
    client(&server, RetryConfig::disabled())
        .products()
        .get(id())
        .await
        .unwrap();
}
