//! One clock for tests: the SDK waits with the mock's sleep, so `Retry-After`, revocation
//! delays and idempotency expiry all run on the mock's clock, at once; and the retry
//! deadline bounds an attempt in flight. Written as an integrator writes them (public API).

use std::time::Duration;

use paperlink_mock::bounds::IDEMPOTENCY_RETENTION;
use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock, RateLimitPolicy};
use paperlink_sdk::{
    Client, CreateProduct, Decimal, Error, ListProducts, RetryConfig, WriteOptions,
};
use secrecy::SecretString;

use crate::helpers::{builder, configured, configured_for, create_named};

/// A client with every default but the sleep, which is the mock's.
fn on_the_mocks_clock(mock: &PaperlinkMock, token: SecretString) -> Client {
    configured_for(&mock.base_url(), token, |b| b.sleep_with(mock.sleeper()))
}

#[tokio::test]
async fn a_429_is_retried_after_60_s_of_mock_time_with_the_default_retry_settings() {
    let mock = builder()
        .rate_limit(RateLimitPolicy::new(2, Duration::from_secs(60)))
        .start()
        .await
        .unwrap();
    let client = on_the_mocks_clock(&mock, mock.token(KeyMode::Test, KeyScope::ReadWrite));
    let started = mock.now();
    let real = std::time::Instant::now();
    create_named(&client, &["a", "b", "c", "d"]).await;
    assert_eq!(mock.products(KeyMode::Test).len(), 4);
    // Two windows were waited out, on the mock's clock only.
    assert_eq!(mock.now() - started, time::Duration::seconds(60));
    let statuses: Vec<u16> = mock.journal().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [201, 201, 429, 201, 201]);
    // Not a timing assertion on the code under test: a guard that nothing slept 60 s.
    assert!(real.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn the_retry_deadline_counts_the_mocks_waits() {
    let mock = builder()
        .rate_limit(RateLimitPolicy::new(1, Duration::from_secs(60)))
        .start()
        .await
        .unwrap();
    let client = configured(&mock, KeyMode::Test, KeyScope::ReadOnly, |b| {
        b.sleep_with(mock.sleeper())
            .retry(RetryConfig::default().total_deadline(Some(Duration::from_secs(50))))
    });
    client.products().list(ListProducts::new()).await.unwrap();
    // The 60 s wait would end past the 50 s deadline: the 429 is returned, not waited out.
    let err = client
        .products()
        .list(ListProducts::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited(_)), "{err:?}");
    assert_eq!(mock.journal().len(), 2);
}

#[tokio::test]
async fn a_revocation_delay_passes_on_the_same_clock() {
    let mock = builder()
        .revocation_delay(Duration::from_secs(30))
        .start()
        .await
        .unwrap();
    let key = mock
        .create_key("ci", KeyMode::Test, KeyScope::ReadOnly)
        .unwrap();
    let client = on_the_mocks_clock(&mock, key.token.clone());
    mock.revoke_key(key.info.id).unwrap();
    client.products().list(ListProducts::new()).await.unwrap();
    let sleep = mock.sleeper();
    sleep(Duration::from_secs(30)).await;
    let err = client
        .products()
        .list(ListProducts::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
}

#[tokio::test]
async fn an_idempotency_key_expires_on_the_same_clock() {
    let mock = builder().start().await.unwrap();
    let client = on_the_mocks_clock(&mock, mock.token(KeyMode::Test, KeyScope::ReadWrite));
    let create = |name: &str| CreateProduct::new(name, Decimal::ONE, "EUR".parse().unwrap());
    let key = || WriteOptions::new().idempotency_key("nightly-1");
    client
        .products()
        .create_with(create("a"), key())
        .await
        .unwrap();
    let reused = client.products().create_with(create("b"), key()).await;
    assert!(matches!(reused, Err(Error::Conflict(_))), "{reused:?}");
    mock.sleeper()(IDEMPOTENCY_RETENTION + Duration::from_secs(1)).await;
    let fresh = client
        .products()
        .create_detailed(create("b"), key())
        .await
        .unwrap();
    assert!(!fresh.meta.replayed);
    assert_eq!(mock.products(KeyMode::Test).len(), 2);
}

/// Under paused time, with no per-attempt timeout, the deadline still cuts off an attempt in
/// flight (the mock holds the answer for 3 s of real time).
#[tokio::test(start_paused = true)]
async fn the_total_deadline_bounds_an_attempt_in_flight() {
    let mock = builder().start().await.unwrap();
    mock.delay("GET", "/products", Duration::from_secs(3))
        .unwrap();
    let client = configured(&mock, KeyMode::Test, KeyScope::ReadOnly, |b| {
        b.no_timeout()
            .retry(RetryConfig::disabled().total_deadline(Some(Duration::from_millis(800))))
    });
    let started = tokio::time::Instant::now();
    let err = client
        .products()
        .list(ListProducts::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert_eq!(started.elapsed(), Duration::from_millis(800));
}
