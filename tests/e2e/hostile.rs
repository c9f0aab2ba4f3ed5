//! The SDK against hostile or broken servers: endless and oversized bodies, endless empty
//! pages, redirects to another origin. Each server runs on loopback, inside the test.

use std::time::Duration;

use futures_util::StreamExt;
use paperlink_sdk::{
    ApiKey, Client, CreateProduct, Decimal, Error, ListProducts, MAX_EMPTY_PAGES, RetryConfig,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "pk_live_AbCdEfGhIjKlMnOpQrStUvWxYz012345";

fn client(base: &str, limit: Option<u64>) -> Client {
    let mut builder = Client::builder()
        .api_key(ApiKey::new(TOKEN).unwrap())
        .base_url(base)
        .timeout(Duration::from_secs(20))
        .retry(
            RetryConfig::default()
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(2)),
        );
    if let Some(limit) = limit {
        builder = builder.max_response_bytes(limit);
    }
    builder.build().unwrap()
}

/// A server that answers every request with `head`, then `chunk` forever (until the client
/// goes away), and counts the requests.
async fn endless(
    head: &'static str,
    chunk: &'static [u8],
) -> (String, tokio::sync::watch::Receiver<u32>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (count, counted) = tokio::sync::watch::channel(0u32);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            count.send_modify(|n| *n += 1);
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                // Bounded: 4 GiB at most, far past any limit under test.
                for _ in 0..(4u64 << 30) / chunk.len() as u64 {
                    if stream.write_all(chunk).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}/api/v1"), counted)
}

const CHUNK: &[u8] = &[b' '; 64 * 1024];

#[tokio::test]
async fn an_endless_body_stops_at_the_limit_with_a_typed_error_and_no_retry() {
    let (base, requests) = endless(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: identity\r\nconnection: close\r\n\r\n",
        CHUNK,
    )
    .await;
    let error = client(&base, Some(1024 * 1024))
        .products()
        .list(ListProducts::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::ResponseTooLarge {
                limit: 1_048_576,
                status: 200,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(*requests.borrow(), 1, "a body too large is not retried");
}

#[tokio::test]
async fn an_announced_oversized_error_body_is_refused_before_it_is_read() {
    let (base, requests) = endless(
        "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: 500000000\r\n\r\n",
        CHUNK,
    )
    .await;
    let error = client(&base, None)
        .products()
        .list(ListProducts::new())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::ResponseTooLarge { status: 500, .. }),
        "{error:?}"
    );
    assert_eq!(*requests.borrow(), 1);
}

#[tokio::test]
async fn the_response_limit_is_range_checked() {
    for limit in [0, 1023, (1 << 30) + 1] {
        let built = Client::builder()
            .api_key(ApiKey::new(TOKEN).unwrap())
            .max_response_bytes(limit)
            .build();
        assert!(matches!(built, Err(Error::Config(_))), "{limit}");
    }
}

#[tokio::test]
async fn endless_empty_pages_end_the_stream_with_a_typed_error() {
    let server = MockServer::start().await;
    let page = |cursor: u64| json!({"data": {"data": [], "hasMore": true, "nextCursor": format!("c{cursor}")}});
    // Each answer carries a new cursor: the stream would never end on its own.
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let respond = {
        let counter = counter.clone();
        move |_: &wiremock::Request| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            ResponseTemplate::new(200).set_body_json(page(n))
        }
    };
    Mock::given(method("GET"))
        .and(path("/api/v1/products"))
        .respond_with(respond)
        .mount(&server)
        .await;
    let client = client(&format!("{}/api/v1", server.uri()), None);
    let results: Vec<_> = tokio::time::timeout(
        Duration::from_secs(20),
        client.products().stream(ListProducts::new()).collect(),
    )
    .await
    .expect("the stream ends");
    assert!(
        matches!(results.as_slice(), [Err(Error::EmptyPages { pages, .. })] if *pages == MAX_EMPTY_PAGES),
        "{results:?}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        MAX_EMPTY_PAGES as usize
    );
}

/// An API that redirects every write to another origin, which would answer 201.
async fn redirecting() -> (MockServer, MockServer) {
    let (api, elsewhere) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}/api/v1/products", elsewhere.uri())),
        )
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {}})))
        .mount(&elsewhere)
        .await;
    (api, elsewhere)
}

fn new_product() -> CreateProduct {
    CreateProduct::new("Web Design", Decimal::new(12010, 2), "USD".parse().unwrap())
}

#[tokio::test]
async fn a_redirect_on_a_write_is_refused_and_nothing_reaches_the_other_origin() {
    let (api, elsewhere) = redirecting().await;
    let error = client(&format!("{}/api/v1", api.uri()), None)
        .products()
        .create(new_product())
        .await
        .unwrap_err();
    match &error {
        Error::Redirected { status, location } => {
            assert_eq!(*status, 307);
            assert!(
                location
                    .as_deref()
                    .is_some_and(|l| l.starts_with(&elsewhere.uri()))
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!error.is_retryable());
    assert_eq!(
        api.received_requests().await.unwrap().len(),
        1,
        "not retried"
    );
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the body and Idempotency-Key never left for the other origin"
    );
}

#[tokio::test]
async fn with_a_custom_client_that_follows_redirects_another_origins_answer_is_not_taken() {
    let (api, elsewhere) = redirecting().await;
    paperlink_sdk::install_crypto_provider();
    let client = Client::builder()
        .api_key(ApiKey::new(TOKEN).unwrap())
        .base_url(format!("{}/api/v1", api.uri()))
        .http_client(reqwest::Client::new())
        .retry(RetryConfig::default().max_attempts(1))
        .build()
        .unwrap();
    let error = client.products().create(new_product()).await.unwrap_err();
    assert!(
        matches!(error, Error::Redirected { status: 201, .. }),
        "{error:?}"
    );
    assert_eq!(
        elsewhere.received_requests().await.unwrap().len(),
        1,
        "the custom client followed the redirect; its answer was not taken as created"
    );
}
