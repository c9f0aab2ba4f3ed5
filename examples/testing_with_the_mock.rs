//! How an integrator tests their own code against paperlink-mock: a fresh mock per test, keys
//! by mode and scope, one clock (the SDK waits with the mock's sleep), injected 503s and 429s,
//! and assertions on `received_requests()`.
//!
//! ```text
//! cargo test -p paperlink-examples --example testing_with_the_mock   # the tests
//! cargo run  -p paperlink-examples --example testing_with_the_mock   # the code, once
//! ```
//!
//! The code under test is `import_price_list`, a function of "your" service. Its tests are in
//! the `tests` module below.

use paperlink_examples::BoxError;
use paperlink_sdk::{Client, CreateProduct, Currency, Decimal, Error, WriteOptions};

/// One line of a supplier's price list.
pub struct PriceLine {
    /// Stock-keeping unit.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Price.
    pub price: Decimal,
    /// Currency.
    pub currency: Currency,
}

/// Your code: creates a product per line, once, even when retried. Returns how many were
/// created; lines whose SKU already exists are skipped.
pub async fn import_price_list(
    client: &Client,
    batch: &str,
    lines: &[PriceLine],
) -> Result<usize, Error> {
    let mut created = 0;
    for line in lines {
        let product = CreateProduct::new(&line.name, line.price, line.currency).sku(&line.sku);
        let key = WriteOptions::new().idempotency_key_from(format!("{batch}:{}", line.sku));
        match client.products().create_with(product, key).await {
            Ok(_) => created += 1,
            Err(Error::Conflict(api)) if api.code() == Some("sku_conflict") => {}
            Err(other) => return Err(other),
        }
    }
    Ok(created)
}

fn lines() -> Result<Vec<PriceLine>, BoxError> {
    Ok(vec![
        PriceLine {
            sku: "A-1".into(),
            name: "Widget".into(),
            price: Decimal::new(1999, 2),
            currency: "EUR".parse()?,
        },
        PriceLine {
            sku: "A-2".into(),
            name: "Gadget".into(),
            price: Decimal::new(4550, 2),
            currency: "EUR".parse()?,
        },
    ])
}

/// SKUs that are not valid idempotency keys as they are (a letter outside ASCII, 100
/// characters): the key is derived from them.
fn awkward_lines() -> Result<Vec<PriceLine>, BoxError> {
    Ok(vec![
        PriceLine {
            sku: "Café-1".into(),
            name: "Coffee".into(),
            price: Decimal::new(350, 2),
            currency: "EUR".parse()?,
        },
        PriceLine {
            sku: format!("LONG-{}", "X".repeat(95)),
            name: "A long SKU".into(),
            price: Decimal::new(100, 2),
            currency: "EUR".parse()?,
        },
    ])
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let paperlink_examples::Backend {
        client,
        mock: _mock,
    } = paperlink_examples::Backend::connect(paperlink_mock::KeyScope::ReadWrite).await?;
    let mut all = lines()?;
    all.extend(awkward_lines()?);
    let created = import_price_list(&client, "demo", &all).await?;
    println!(
        "imported {created} product(s); run `cargo test -p paperlink-examples --example testing_with_the_mock` for the tests"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock, RateLimitPolicy};
    use paperlink_sdk::{ApiKey, RetryConfig};

    use super::*;

    /// A client for one of the mock's seeded keys, with the default retry settings: it waits
    /// with the mock's sleep, so a backoff or a `Retry-After` moves the mock's clock at once
    /// instead of sleeping. One clock for the mock and the code under test.
    fn client(mock: &PaperlinkMock, mode: KeyMode, scope: KeyScope) -> Client {
        Client::builder()
            .api_key(ApiKey::from_secret(mock.token(mode, scope)).unwrap())
            .base_url(mock.base_url())
            .sleep_with(mock.sleeper())
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn imports_each_line_once_into_the_keys_mode() {
        let mock = PaperlinkMock::start().await;
        let client = client(&mock, KeyMode::Test, KeyScope::ReadWrite);

        assert_eq!(
            import_price_list(&client, "b1", &lines().unwrap())
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            import_price_list(&client, "b1", &lines().unwrap())
                .await
                .unwrap(),
            2,
            "replayed, not duplicated"
        );
        assert_eq!(
            import_price_list(&client, "b2", &lines().unwrap())
                .await
                .unwrap(),
            0,
            "existing SKUs are skipped"
        );

        let stored = mock.products(KeyMode::Test);
        assert_eq!(stored.len(), 2);
        assert_eq!(
            stored
                .iter()
                .find(|p| p.sku.as_deref() == Some("A-1"))
                .unwrap()
                .unit_price
                .as_str(),
            "19.99"
        );
        assert!(
            mock.products(KeyMode::Live).is_empty(),
            "a Test key never touches Live data"
        );
    }

    #[tokio::test]
    async fn a_read_only_key_is_refused_with_a_typed_error() {
        let mock = PaperlinkMock::start().await;
        let client = client(&mock, KeyMode::Live, KeyScope::ReadOnly);
        let err = import_price_list(&client, "b1", &lines().unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::ScopeInsufficient(_)), "{err:?}");
        assert!(mock.products(KeyMode::Live).is_empty());
    }

    #[tokio::test]
    async fn an_injected_503_is_retried_with_the_same_idempotency_key() {
        let mock = PaperlinkMock::start().await;
        mock.fail_next("POST", "/products", 1, 503, None)
            .expect("a fault on a real route");
        let client = client(&mock, KeyMode::Test, KeyScope::ReadWrite);

        assert_eq!(
            import_price_list(&client, "b1", &lines().unwrap()[..1])
                .await
                .unwrap(),
            1
        );

        let posts = mock.received_requests().await;
        assert_eq!(posts.len(), 2);
        let keys: Vec<_> = posts
            .iter()
            .map(|r| r.headers.get("idempotency-key").cloned())
            .collect();
        assert_eq!(keys[0], keys[1]);
        assert_eq!(
            keys[0].as_ref().and_then(|k| k.to_str().ok()),
            Some(paperlink_sdk::idempotency_key_from("b1:A-1").as_str())
        );
        assert_eq!(mock.products(KeyMode::Test).len(), 1);
    }

    #[tokio::test]
    async fn skus_that_are_not_valid_keys_as_they_are_import_once() {
        let mock = PaperlinkMock::start().await;
        let client = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
        let awkward = awkward_lines().unwrap();
        assert!(awkward.iter().any(|l| !l.sku.is_ascii()));
        assert!(awkward.iter().any(|l| l.sku.chars().count() == 100));
        for _ in 0..2 {
            assert_eq!(
                import_price_list(&client, "b1", &awkward).await.unwrap(),
                2,
                "created, then replayed"
            );
        }
        assert_eq!(mock.products(KeyMode::Test).len(), 2);
    }

    #[tokio::test]
    async fn a_429_is_waited_out_on_the_mocks_clock() {
        let mock = PaperlinkMock::builder()
            .rate_limit(RateLimitPolicy::new(1, Duration::from_secs(60)))
            .start()
            .await
            .unwrap();
        let client = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
        let started = mock.now();

        assert_eq!(
            import_price_list(&client, "b1", &lines().unwrap())
                .await
                .unwrap(),
            2
        );
        // The second line met a 429 with `Retry-After: 60`: the SDK waited 60 s of mock
        // time, at once, and the retry went through.
        assert_eq!((mock.now() - started).whole_seconds(), 60);
        let statuses: Vec<u16> = mock.journal().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [201, 429, 201]);
    }

    #[tokio::test]
    async fn a_429_surfaces_when_the_wait_is_longer_than_the_code_accepts() {
        let mock = PaperlinkMock::builder()
            .rate_limit(RateLimitPolicy::new(1, Duration::from_secs(60)))
            .start()
            .await
            .unwrap();
        let client = Client::builder()
            .api_key(ApiKey::from_secret(mock.token(KeyMode::Test, KeyScope::ReadWrite)).unwrap())
            .base_url(mock.base_url())
            .sleep_with(mock.sleeper())
            .retry(RetryConfig::default().max_retry_after(Duration::from_secs(5)))
            .build()
            .unwrap();

        let err = import_price_list(&client, "b1", &lines().unwrap())
            .await
            .unwrap_err();
        let api = match err {
            Error::RateLimited(api) => api,
            other => panic!("expected a 429, got {other:?}"),
        };
        assert_eq!(api.retry_after(), Some(Duration::from_secs(60)));
        assert_eq!(
            mock.products(KeyMode::Test).len(),
            1,
            "the first line got in"
        );

        mock.advance_clock(Duration::from_secs(60));
        assert_eq!(
            import_price_list(&client, "b1", &lines().unwrap()[1..])
                .await
                .unwrap(),
            1
        );
    }
}
