//! What only the in-process front door offers: isolation between parallel mocks, a test's own
//! wiremock mocks on top, and response delays.

use std::time::Duration;

use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};
use paperlink_sdk::{CreateProduct, Decimal, Error, ListProducts, RetryConfig};
use secrecy::ExposeSecret;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::{client, configured, configured_for, mock};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_mocks_do_not_see_each_other() {
    // Unseeded: every mock draws its own tokens.
    let mocks: Vec<PaperlinkMock> =
        futures_util::future::join_all((0..8).map(|_| PaperlinkMock::start())).await;
    let ports: std::collections::HashSet<String> = mocks.iter().map(PaperlinkMock::uri).collect();
    assert_eq!(ports.len(), 8);
    let writes = mocks.iter().enumerate().map(|(i, m)| async move {
        let c = client(m, KeyMode::Test, KeyScope::ReadWrite);
        for j in 0..=i {
            c.products()
                .create(CreateProduct::new(
                    format!("m{i}-{j}"),
                    Decimal::ONE,
                    "EUR".parse().unwrap(),
                ))
                .await
                .unwrap();
        }
    });
    futures_util::future::join_all(writes).await;
    for (i, m) in mocks.iter().enumerate() {
        assert_eq!(m.products(KeyMode::Test).len(), i + 1);
        // Another mock's key is unknown here.
        let other = mocks[(i + 1) % 8].token(KeyMode::Test, KeyScope::ReadWrite);
        let foreign = configured_for(&m.base_url(), other, |b| b);
        assert!(matches!(
            foreign.products().list(ListProducts::new()).await,
            Err(Error::Unauthorized(_))
        ));
    }
}

#[tokio::test]
async fn a_tests_own_mock_overrides_a_route_and_the_rest_stays_real() {
    let mock = mock().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/products"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(serde_json::json!({"error": {"code": "boom", "message": "custom"}})),
        )
        .mount(mock.server())
        .await;
    let client = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
    let err = client
        .products()
        .create(CreateProduct::new(
            "x",
            Decimal::ONE,
            "EUR".parse().unwrap(),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Server(a) if a.code() == Some("boom")),
        "{err:?}"
    );
    assert!(client.products().list(ListProducts::new()).await.is_ok());
    assert!(
        mock.journal().iter().all(|r| r.method == "GET"),
        "the override answered before the core"
    );
}

#[tokio::test]
async fn a_delayed_route_trips_the_clients_timeout() {
    let mock = mock().await;
    mock.delay("GET", "/products", Duration::from_millis(300))
        .unwrap();
    let slow = configured(&mock, KeyMode::Test, KeyScope::ReadOnly, |b| {
        b.timeout(Duration::from_millis(30))
            .retry(RetryConfig::disabled())
    });
    assert!(matches!(
        slow.products().list(ListProducts::new()).await,
        Err(Error::Timeout(_))
    ));
    mock.clear_faults();
    assert!(slow.products().list(ListProducts::new()).await.is_ok());
}

#[tokio::test]
async fn many_mocks_start_and_drop_in_one_task() {
    for _ in 0..50 {
        let mock = mock().await;
        assert_eq!(mock.keys().len(), 4);
        drop(mock);
        // wiremock can spin on drop when a task never yields between servers.
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_requests_build_one_state_that_every_method_then_sees() {
    // `start` builds the state on first use; here the first uses are eight requests at once.
    let mock = PaperlinkMock::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/products", mock.base_url());
    let answers = futures_util::future::join_all(
        (0..8).map(|_| http.get(&url).bearer_auth("pk_test_unknown").send()),
    )
    .await;
    for answer in answers {
        assert_eq!(answer.unwrap().status(), 401);
    }
    assert_eq!(mock.journal().len(), 8);
    assert_eq!(mock.keys().len(), 4);
    let token = mock.token(KeyMode::Test, KeyScope::ReadOnly);
    let listed = http
        .get(&url)
        .bearer_auth(token.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(mock.journal().len(), 9);
}
