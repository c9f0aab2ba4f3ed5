//! The SDK against the real mock: the two crates proven against each other.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use paperlink_mock::{Fault, FaultKind, KeyMode, KeyScope, RateLimitPolicy, SeedProduct};
use paperlink_sdk::{
    Client, CreateProduct, Decimal, Error, ListProducts, Mode, ProductStatus, RetryConfig,
    StatusFilter, UpdateProduct, WriteOptions,
};
use secrecy::ExposeSecret;

use crate::helpers::{
    builder, client, client_for, configured, install_tls, mock, paused_client, t0,
};

fn web() -> CreateProduct {
    CreateProduct::new("Web Design", Decimal::new(12010, 2), "USD".parse().unwrap())
        .sku("WD-001")
        .tax_rate(Decimal::new(200, 1))
}

fn seed(i: usize) -> SeedProduct {
    SeedProduct::new(format!("p{i}"), Decimal::new(i as i64, 2), "EUR")
        .sku(format!("SKU-{i:05}"))
        .created_at(t0() + Duration::from_secs(i as u64))
}

/// A mock with `n` Test products, one second apart (the newest last).
async fn seeded_mock(n: usize) -> paperlink_mock::PaperlinkMock {
    let mut builder = builder();
    for i in 0..n {
        builder = builder.product(KeyMode::Test, seed(i));
    }
    builder.start().await.unwrap()
}

fn header(request: &wiremock::Request, name: &str) -> Option<String> {
    request
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn money_and_timestamps_round_trip_exactly() {
    let mock = mock().await;
    let client = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
    assert_eq!(client.mode(), Mode::Test);
    let created = client.products().create(web()).await.unwrap();
    assert_eq!(created.unit_price.to_string(), "120.10");
    assert_eq!(
        created.tax_rate.map(|t| t.to_string()).as_deref(),
        Some("20.0")
    );
    assert_eq!((created.created_at, created.updated_at), (t0(), t0()));
    let stored = &mock.products(KeyMode::Test)[0];
    assert_eq!(stored.unit_price.as_str(), "120.10");
    let fetched = client.products().get(created.id).await.unwrap();
    assert_eq!(fetched, created);
    mock.advance_clock(Duration::from_millis(1_234));
    let updated = client
        .products()
        .update(
            created.id,
            UpdateProduct::new().unit_price(Decimal::new(99_999, 3)),
        )
        .await
        .unwrap();
    assert_eq!(updated.unit_price.to_string(), "99.999");
    assert_eq!(updated.updated_at, t0() + Duration::from_millis(1_234));
}

#[tokio::test]
async fn every_request_carries_the_bearer_token_even_on_retries() {
    let mock = mock().await;
    mock.fail_next("POST", "/products", 1, 503, None).unwrap();
    let client = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
    let p = client.products().create(web()).await.unwrap();
    client.products().get(p.id).await.unwrap();
    client.products().list(ListProducts::new()).await.unwrap();
    let expected = format!(
        "Bearer {}",
        mock.token(KeyMode::Test, KeyScope::ReadWrite)
            .expose_secret()
    );
    let requests = mock.received_requests().await;
    assert_eq!(requests.len(), 4);
    assert!(
        requests
            .iter()
            .all(|r| header(r, "authorization").as_deref() == Some(expected.as_str()))
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_is_retried_after_its_retry_after() {
    let mock = mock().await;
    mock.fail_next("GET", "/products", 1, 429, Some(7)).unwrap();
    let client = paused_client(
        &mock,
        KeyMode::Test,
        KeyScope::ReadOnly,
        RetryConfig::default(),
    );
    let started = tokio::time::Instant::now();
    let page = client.products().list(ListProducts::new()).await.unwrap();
    assert!(page.items.is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        mock.journal().iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 200]
    );
}

#[tokio::test(start_paused = true)]
async fn a_create_retried_after_503s_creates_exactly_one_product_with_one_key() {
    let mock = mock().await;
    mock.fail_next("POST", "/products", 2, 503, Some(1))
        .unwrap();
    let client = paused_client(
        &mock,
        KeyMode::Test,
        KeyScope::ReadWrite,
        RetryConfig::default(),
    );
    let created = client.products().create(web()).await.unwrap();
    assert_eq!(mock.products(KeyMode::Test).len(), 1);
    assert_eq!(mock.products(KeyMode::Test)[0].id, *created.id.as_uuid());
    let keys: Vec<Option<String>> = mock
        .received_requests()
        .await
        .iter()
        .map(|r| header(r, "idempotency-key"))
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(
        keys[0].is_some() && keys.iter().all(|k| *k == keys[0]),
        "{keys:?}"
    );
    assert!(
        uuid::Uuid::parse_str(keys[0].as_deref().unwrap()).is_ok_and(|u| u.get_version_num() == 4)
    );
}

#[tokio::test]
async fn a_callers_idempotency_key_is_sent_and_replays_the_first_result() {
    let mock = mock().await;
    let client = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
    let options = WriteOptions::new().idempotency_key("order-7-line-1");
    let first = client
        .products()
        .create_with(web(), options.clone())
        .await
        .unwrap();
    let again = client
        .products()
        .create_with(web(), options.clone())
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(mock.products(KeyMode::Test).len(), 1);
    let reused = client
        .products()
        .create_with(web().sku("WD-002"), options)
        .await
        .unwrap_err();
    assert!(
        matches!(&reused, Error::Conflict(a) if a.code() == Some("idempotency_key_reused")),
        "{reused:?}"
    );
}

#[tokio::test]
async fn without_retries_a_post_is_sent_once_and_never_past_the_limit() {
    let mock = mock().await;
    mock.fail_next("POST", "/products", 5, 503, None).unwrap();
    let once = client_for(
        &mock.base_url(),
        mock.token(KeyMode::Test, KeyScope::ReadWrite),
    );
    let disabled = configured(&mock, KeyMode::Test, KeyScope::ReadWrite, |b| {
        b.retry(RetryConfig::disabled())
    });
    let err = disabled.products().create(web()).await.unwrap_err();
    assert!(matches!(&err, Error::Server(a) if a.status() == 503));
    assert_eq!(mock.received_requests().await.len(), 1);
    let err = once.products().create(web()).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(
        mock.received_requests().await.len(),
        4,
        "three attempts in all by default"
    );
    assert!(mock.products(KeyMode::Test).is_empty());
}

#[tokio::test]
async fn pagination_follows_the_exact_cursor_sequence() {
    let mock = seeded_mock(5).await;
    let client = client(&mock, KeyMode::Test, KeyScope::ReadOnly);
    let names: Vec<String> = client
        .products()
        .stream(ListProducts::new().limit(2))
        .map_ok(|p| p.name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names, ["p4", "p3", "p2", "p1", "p0"]);
    let ids: Vec<String> = mock
        .products(KeyMode::Test)
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    let queries: Vec<String> = mock
        .received_requests()
        .await
        .iter()
        .map(|r| r.url.query().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        queries,
        [
            "limit=2".to_owned(),
            format!("limit=2&after={}", ids[1]),
            format!("limit=2&after={}", ids[3])
        ]
    );
}

#[tokio::test]
async fn a_thousand_products_stream_across_pages_each_seen_once() {
    let mock = seeded_mock(1_000).await;
    let client = client(&mock, KeyMode::Test, KeyScope::ReadOnly);
    let all: Vec<_> = client
        .products()
        .stream(ListProducts::new())
        .try_collect()
        .await
        .unwrap();
    let unique: HashSet<_> = all.iter().map(|p| p.id).collect();
    assert_eq!((all.len(), unique.len()), (1_000, 1_000));
    assert_eq!(
        mock.received_requests().await.len(),
        50,
        "default pages of 20"
    );
    assert_eq!(client.rate_limit().map(|r| r.remaining), Some(10));
}

#[tokio::test]
async fn patch_bodies_distinguish_absent_null_and_value() {
    let mock = mock().await;
    let client = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
    let p = client
        .products()
        .create(web().description("old"))
        .await
        .unwrap();
    let change = UpdateProduct::new().clear_sku().description("new");
    let updated = client.products().update(p.id, change).await.unwrap();
    let requests = mock.received_requests().await;
    let body: serde_json::Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(body, serde_json::json!({"sku": null, "description": "new"}));
    assert_eq!(
        (updated.sku, updated.description.as_deref()),
        (None, Some("new"))
    );
    assert_eq!(updated.tax_rate, p.tax_rate, "absent fields are kept");
    let cleared = client
        .products()
        .update(
            p.id,
            UpdateProduct::new().clear_tax_rate().clear_description(),
        )
        .await
        .unwrap();
    assert_eq!((cleared.tax_rate, cleared.description), (None, None));
}

#[tokio::test]
async fn base_urls_with_and_without_a_trailing_slash_reach_the_same_paths() {
    let mock = mock().await;
    for base in [mock.base_url(), format!("{}/", mock.base_url())] {
        let client = client_for(&base, mock.token(KeyMode::Live, KeyScope::ReadOnly));
        client.products().list(ListProducts::new()).await.unwrap();
        let id: paperlink_sdk::ProductId = "00000000-0000-4000-8000-000000000000".parse().unwrap();
        assert!(matches!(
            client.products().get(id).await,
            Err(Error::NotFound(_))
        ));
    }
    let paths: Vec<String> = mock
        .received_requests()
        .await
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    let one = "/api/v1/products/00000000-0000-4000-8000-000000000000";
    assert_eq!(paths, ["/api/v1/products", one, "/api/v1/products", one]);
}

#[tokio::test]
async fn the_mocks_real_errors_map_to_typed_errors() {
    let mock = builder()
        .rate_limit(RateLimitPolicy::new(5, Duration::from_secs(60)))
        .start()
        .await
        .unwrap();
    let rw = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
    let live = client(&mock, KeyMode::Live, KeyScope::ReadWrite);
    let p = rw.products().create(web()).await.unwrap();

    let err = live.products().get(p.id).await.unwrap_err();
    assert!(
        matches!(&err, Error::NotFound(a) if a.code() == Some("product_not_found") && a.request_id().is_some())
    );
    let err = rw.products().create(web()).await.unwrap_err();
    assert!(matches!(&err, Error::Conflict(a) if a.code() == Some("sku_conflict")));
    let err = rw
        .products()
        .create(web().sku("X").tax_rate(Decimal::new(101, 0)))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation(a) if a.details().len() == 1 && a.details()[0].field == "taxRate"),
        "{err:?}"
    );
    let err = rw
        .products()
        .create(web().sku("Y").description("x".repeat(1024 * 1024 + 1)))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(413));
    let ro = client(&mock, KeyMode::Test, KeyScope::ReadOnly);
    let err = ro.products().delete(p.id).await.unwrap_err();
    assert!(matches!(&err, Error::ScopeInsufficient(a) if a.status() == 403));

    // The fifth call fills the window; the sixth is rate limited (retries cannot help: the mock
    // clock is frozen, and Retry-After exceeds the retry budget).
    let limited = configured(&mock, KeyMode::Test, KeyScope::ReadWrite, |b| {
        b.retry(RetryConfig::default().max_retry_after(Duration::from_secs(1)))
    });
    limited.products().list(ListProducts::new()).await.unwrap();
    let err = limited
        .products()
        .list(ListProducts::new())
        .await
        .unwrap_err();
    match &err {
        Error::RateLimited(a) => {
            assert_eq!(a.retry_after(), Some(Duration::from_secs(60)));
            assert_eq!(a.rate_limit().map(|r| (r.limit, r.remaining)), Some((5, 0)));
        }
        other => panic!("expected a rate-limit error, got {other:?}"),
    }
    mock.advance_clock(Duration::from_secs(60));
    assert!(limited.products().list(ListProducts::new()).await.is_ok());

    let ci = mock
        .create_key("CI", KeyMode::Test, KeyScope::ReadWrite)
        .unwrap();
    let ci_client = client_for(&mock.base_url(), ci.token.clone());
    mock.revoke_key(ci.info.id).unwrap();
    let err = ci_client
        .products()
        .list(ListProducts::new())
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Unauthorized(a) if a.code() == Some("unauthorized")));
    let unknown = client_for(
        &mock.base_url(),
        format!("pk_test_{}", "z".repeat(32)).into(),
    );
    assert!(matches!(
        unknown.products().list(ListProducts::new()).await,
        Err(Error::Unauthorized(_))
    ));
    let text = format!("{err} {err:?}");
    assert!(!text.contains(&ci.token.expose_secret()[8..]));
}

#[tokio::test]
async fn live_and_test_clients_see_only_their_own_products() {
    let mock = mock().await;
    let test = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
    let live = client(&mock, KeyMode::Live, KeyScope::ReadWrite);
    test.products().create(web()).await.unwrap();
    live.products()
        .create(CreateProduct::new(
            "Live only",
            Decimal::ONE,
            "EUR".parse().unwrap(),
        ))
        .await
        .unwrap();
    let names = |c: Client| async move {
        c.products()
            .stream(ListProducts::new().status(StatusFilter::All))
            .map_ok(|p| p.name)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
    };
    assert_eq!(names(test).await, ["Web Design"]);
    assert_eq!(names(live).await, ["Live only"]);
}

#[tokio::test]
async fn a_key_revoked_mid_stream_ends_the_stream_with_unauthorized() {
    let mock = seeded_mock(50).await;
    let key = mock
        .create_key("reporting", KeyMode::Test, KeyScope::ReadOnly)
        .unwrap();
    let client = client_for(&mock.base_url(), key.token.clone());
    let mut stream = Box::pin(
        client
            .read_only()
            .products()
            .stream(ListProducts::new().limit(10)),
    );
    let mut seen = 0;
    while let Some(item) = stream.next().await {
        match item {
            Ok(_) => {
                seen += 1;
                if seen == 20 {
                    mock.revoke_key(key.info.id).unwrap();
                }
            }
            Err(err) => {
                assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
                break;
            }
        }
    }
    assert_eq!(seen, 20);
    assert!(
        stream.next().await.is_none(),
        "the stream ends after the error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_writers_lose_and_duplicate_nothing() {
    let mock = builder().no_rate_limit().start().await.unwrap();
    mock.inject(
        Fault::fail_next("POST", "/api/v1/products", 1_000, 503, None).with_probability(0.2),
    )
    .unwrap();
    let client = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
    let tasks: Vec<_> = (0..32)
        .map(|t| {
            let client = client.clone();
            tokio::spawn(async move {
                for i in 0..5 {
                    let sku = format!("T{t:02}-{i}");
                    let new = CreateProduct::new(sku.clone(), Decimal::ONE, "EUR".parse().unwrap())
                        .sku(sku);
                    // A create that exhausts its attempts is retried by the caller with the same key.
                    let options = WriteOptions::new().idempotency_key(format!("create-{t}-{i}"));
                    let mut outcome = client
                        .products()
                        .create_with(new.clone(), options.clone())
                        .await;
                    while matches!(outcome, Err(Error::Server(_))) {
                        outcome = client
                            .products()
                            .create_with(new.clone(), options.clone())
                            .await;
                    }
                    outcome.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let products = mock.products(KeyMode::Test);
    let skus: HashSet<_> = products.iter().filter_map(|p| p.sku.clone()).collect();
    assert_eq!((products.len(), skus.len()), (160, 160));
    assert!(
        mock.journal().iter().any(|r| r.status == 503),
        "faults were injected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_dropped_after_the_write_is_retried_into_a_replay() {
    install_tls();
    let running =
        paperlink_mock::standalone::Server::bind(builder(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
            .spawn();
    let base = running.base_url().to_owned();
    let token = running.token(KeyMode::Test, KeyScope::ReadWrite).unwrap();
    let core = running.core().clone();
    let drop_once = Fault::new("POST", "/api/v1/products", FaultKind::DropConnection).times(1);
    let admin = reqwest::Client::new();
    let fault = admin
        .post(base.replace("/api/v1", "/__admin/faults"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&drop_once).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(fault.status(), 201);

    let client = client_for(&base, token);
    let created = client.products().create(web()).await.unwrap();
    assert_eq!(created.name, "Web Design");
    let all: Vec<_> = client
        .products()
        .stream(ListProducts::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        all.len(),
        1,
        "the dropped attempt and its retry created one product"
    );
    let journal = core.handle(&paperlink_mock::engine::MockRequest::new(
        reqwest::Method::GET,
        "/__admin/requests",
    ));
    let text = String::from_utf8_lossy(&journal.body).into_owned();
    assert_eq!(
        text.matches(r#""method":"POST","path":"/api/v1/products""#)
            .count(),
        2,
        "{text}"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn archived_products_come_back_from_delete_and_list_filters() {
    let mock = mock().await;
    let client = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
    let p = client.products().create(web()).await.unwrap();
    let archived = client.products().delete(p.id).await.unwrap().unwrap();
    assert_eq!(archived.status, ProductStatus::Archived);
    assert!(
        client
            .products()
            .list(ListProducts::new())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let page = client
        .products()
        .list(ListProducts::new().status(StatusFilter::Archived))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(!page.has_more && page.next_cursor.is_none());
    assert!(page.request_id.is_some() && page.rate_limit.is_some());
}
