//! Keys never leak: everything the SDK and the standalone server log at TRACE level is
//! captured and searched for the tokens.
//!
//! A test binary of its own: tracing caches per-callsite interest process-wide, so a scoped
//! subscriber in a binary whose other tests log concurrently may miss events.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use paperlink_mock::standalone::Server;
use paperlink_mock::{Fault, KeyMode, KeyScope};
use paperlink_sdk::{CreateProduct, Decimal, Error, ListProducts, ProductId};
use secrecy::ExposeSecret;
use tracing_subscriber::util::SubscriberInitExt;

use paperlink_sdk::Client;
use secrecy::SecretString;

fn install_tls() {
    paperlink_sdk::install_crypto_provider();
}

fn builder() -> paperlink_mock::PaperlinkMockBuilder {
    paperlink_mock::PaperlinkMock::builder().seed(7)
}

fn client_for(base_url: &str, token: SecretString) -> Client {
    paperlink_tests::sdk_client_for(base_url, token, |b| b).unwrap()
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_token_appears_in_trace_level_output_of_the_sdk_or_the_server() {
    install_tls();
    let capture = Capture::default();
    let writer = capture.clone();
    let _guard = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .set_default();

    let running = Server::bind(builder(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .spawn();
    let base = running.base_url().to_owned();
    let tokens: Vec<String> = [KeyMode::Live, KeyMode::Test]
        .into_iter()
        .flat_map(|m| [KeyScope::ReadWrite, KeyScope::ReadOnly].map(|s| (m, s)))
        .map(|(m, s)| running.token(m, s).unwrap().expose_secret().to_owned())
        .collect();
    let rw = running.token(KeyMode::Test, KeyScope::ReadWrite).unwrap();
    let ro = running.token(KeyMode::Test, KeyScope::ReadOnly).unwrap();
    let core = running.core().clone();
    {
        let mut probe =
            paperlink_mock::engine::MockRequest::new(reqwest::Method::POST, "/__admin/faults");
        probe.headers.insert(
            reqwest::header::CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static("application/json"),
        );
        probe.body = serde_json::to_vec(&Fault::fail_next(
            "POST",
            "/api/v1/products",
            1,
            503,
            Some(0),
        ))
        .unwrap();
        assert_eq!(core.handle(&probe).status, 201);
    }

    let client = client_for(&base, rw);
    let created = client
        .products()
        .create(CreateProduct::new(
            "x",
            Decimal::ONE,
            "EUR".parse().unwrap(),
        ))
        .await
        .unwrap();
    client.products().get(created.id).await.unwrap();
    let missing: ProductId = "00000000-0000-4000-8000-000000000000".parse().unwrap();
    assert!(matches!(
        client.products().get(missing).await,
        Err(Error::NotFound(_))
    ));
    let read_only = client_for(&base, ro);
    let err = read_only.products().delete(created.id).await.unwrap_err();
    assert!(matches!(err, Error::ScopeInsufficient(_)));
    let wrong = client_for(&base, format!("pk_live_{}", "Q".repeat(40)).into());
    let err = wrong
        .products()
        .list(ListProducts::new())
        .await
        .unwrap_err();
    running.shutdown().await.unwrap();

    let output = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        output.contains("paperlink.request"),
        "the SDK's span is there"
    );
    assert!(
        output.contains("attempt=2") && output.contains("status=503"),
        "retries are visible"
    );
    assert!(output.contains("request_id="), "request ids are recorded");
    assert!(
        output.contains(&format!("key={}", &tokens[2][..11])),
        "the server logs key prefixes"
    );
    for token in tokens
        .iter()
        .map(String::as_str)
        .chain([&*format!("pk_live_{}", "Q".repeat(40))])
    {
        assert!(
            !output.contains(&token[8..]),
            "a token leaked into the logs"
        );
    }
    for text in [
        format!("{err}"),
        format!("{err:?}"),
        format!("{client:?}"),
        format!("{read_only:?}"),
    ] {
        assert!(
            !text.contains("QQQQ") && tokens.iter().all(|t| !text.contains(&t[8..])),
            "{text}"
        );
    }
}
