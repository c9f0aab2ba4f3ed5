//! Small traps an integrator met, each written as an integrator's test (public API only): the
//! journal shows queries, the control plane takes either case for modes and scopes, a team's
//! products can be read back, and a Read-only key never needs a full client.

use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};
use paperlink_sdk::{ApiKey, Client, CreateProduct, Decimal, ListProducts, ReadOnlyClient};
use secrecy::ExposeSecret;

use crate::helpers::{client, configured_for, create_named, install_tls, mock};

#[tokio::test]
async fn the_journal_keeps_each_requests_query_so_cursors_can_be_seen() {
    let mock = mock().await;
    let writer = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
    create_named(&writer, &["a", "b"]).await;
    let first = writer
        .products()
        .list(ListProducts::new().limit(1))
        .await
        .unwrap();
    let cursor = first.next().unwrap().to_owned();
    writer
        .products()
        .list(ListProducts::new().limit(1).after(cursor.clone()))
        .await
        .unwrap();
    let queries: Vec<Option<String>> = mock
        .journal()
        .into_iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.query)
        .collect();
    assert_eq!(queries.len(), 2, "{queries:?}");
    assert_eq!(queries[0].as_deref(), Some("limit=1"));
    assert!(
        queries[1]
            .as_deref()
            .is_some_and(|q| q.contains(&format!("after={cursor}"))),
        "{queries:?}"
    );
}

#[tokio::test]
async fn the_control_plane_takes_either_case_for_modes_and_scopes() {
    install_tls();
    let mock = PaperlinkMock::start().await;
    let http = reqwest::Client::new();
    for (mode, scope) in [
        ("LIVE", "read_write"),
        ("test", "READ_ONLY"),
        ("Live", "ReadOnly"),
    ] {
        let created = http
            .post(format!("{}/__admin/keys", mock.uri()))
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"name":"CI","mode":"{mode}","scope":"{scope}"}}"#
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201, "{mode} {scope}");
    }
    let listed = http
        .get(format!("{}/__admin/products?mode=LIVE", mock.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
}

#[tokio::test]
async fn a_teams_products_can_be_read_back() {
    let mock = mock().await;
    let key = mock
        .create_team_key("suite-42", "CI", KeyMode::Test, KeyScope::ReadWrite)
        .unwrap();
    let team = configured_for(&mock.base_url(), key.token, |b| b);
    team.products()
        .create(CreateProduct::new(
            "Team only",
            Decimal::ONE,
            "EUR".parse().unwrap(),
        ))
        .await
        .unwrap();
    let products = mock.team_products("suite-42", KeyMode::Test);
    assert_eq!(products.len(), 1);
    assert_eq!(products[0].name, "Team only");
    assert!(
        mock.products(KeyMode::Test).is_empty(),
        "the default team sees nothing"
    );
}

#[tokio::test]
async fn a_read_only_key_gets_a_read_only_client_directly() {
    let mock = mock().await;
    let token = mock.token(KeyMode::Live, KeyScope::ReadOnly);
    let hint = format!("{}…", &token.expose_secret()[..11]);
    let reader: ReadOnlyClient = Client::builder()
        .api_key(ApiKey::from_secret(token).unwrap())
        .base_url(mock.base_url())
        .build_read_only()
        .unwrap();
    assert_eq!(reader.key_hint(), hint);
    assert_eq!(reader.base_url().as_str(), mock.base_url());
    assert!(reader.products().list(ListProducts::new()).await.is_ok());
    let defaults =
        ReadOnlyClient::new(ApiKey::new("pk_live_AbCdEfGhIjKlMnOpQrStUvWxYz012345").unwrap())
            .unwrap();
    assert_eq!(
        defaults.base_url().as_str(),
        paperlink_sdk::DEFAULT_BASE_URL
    );
}

#[tokio::test]
async fn clearing_a_tests_own_mocks_keeps_the_mocks_behaviour() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};

    let mock = mock().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/products"))
        .respond_with(ResponseTemplate::new(418))
        .mount(mock.server())
        .await;
    let reader = client(&mock, KeyMode::Test, KeyScope::ReadOnly);
    assert!(reader.products().list(ListProducts::new()).await.is_err());
    mock.reset_mocks().await;
    assert!(
        reader.products().list(ListProducts::new()).await.is_ok(),
        "the mock answers again"
    );
    assert_eq!(
        mock.received_requests().await.len(),
        1,
        "the record starts over"
    );
}

#[tokio::test]
async fn an_idempotency_key_that_breaks_the_rules_is_refused_before_sending() {
    use paperlink_sdk::{Error, WriteOptions};

    let mock = mock().await;
    let writer = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
    let new = || CreateProduct::new("Coffee", Decimal::ONE, "EUR".parse().unwrap());
    for key in ["Café-1", " k ", "", &"x".repeat(256)] {
        let refused = writer
            .products()
            .create_with(new(), WriteOptions::new().idempotency_key(key))
            .await;
        assert!(
            matches!(refused, Err(Error::InvalidIdempotencyKey { .. })),
            "{key:?}: {refused:?}"
        );
    }
    assert!(mock.journal().is_empty(), "nothing was sent");
    // A key derived from any text is valid, and the same for the same text.
    let options = || WriteOptions::new().idempotency_key_from(format!("sync:{}", "Café-1"));
    let first = writer
        .products()
        .create_with(new(), options())
        .await
        .unwrap();
    let again = writer
        .products()
        .create_with(new(), options())
        .await
        .unwrap();
    assert_eq!(first.id, again.id, "the second call replays the first");
    assert_eq!(mock.products(KeyMode::Test).len(), 1);
}

#[tokio::test]
async fn a_write_can_tell_created_from_replayed() {
    use paperlink_sdk::WriteOptions;

    let mock = mock().await;
    let writer = client(&mock, KeyMode::Test, KeyScope::ReadWrite);
    let new = || CreateProduct::new("Sync", Decimal::ONE, "EUR".parse().unwrap()).sku("S-1");
    let options = || WriteOptions::new().idempotency_key("sync-s-1");
    let first = writer
        .products()
        .create_detailed(new(), options())
        .await
        .unwrap();
    let again = writer
        .products()
        .create_detailed(new(), options())
        .await
        .unwrap();
    assert!(!first.meta.replayed, "created");
    assert!(again.meta.replayed, "replayed");
    assert_eq!(first.value.id, again.value.id);
    assert_eq!((first.meta.status, again.meta.status), (201, 201));
    assert!(first.meta.request_id.is_some() && first.meta.request_id != again.meta.request_id);
    assert!(again.meta.rate_limit.is_some());
    let archived = writer
        .products()
        .delete_detailed(first.value.id, WriteOptions::new())
        .await
        .unwrap();
    assert!(!archived.meta.replayed && archived.value.is_some());
}
