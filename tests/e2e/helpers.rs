//! Ready contexts for the end-to-end tests: a fresh mock per test, clients, raw HTTP.

use std::time::Duration;

use paperlink_mock::standalone::{Running, Server};
use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock, PaperlinkMockBuilder};
use paperlink_sdk::{Client, ClientBuilder, RetryConfig};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use time::OffsetDateTime;

pub use paperlink_tests::install_tls;
use paperlink_tests::{RunningMock, sdk_client, sdk_client_for};

/// A fixed start for the mock clock, so timestamps are predictable.
pub fn t0() -> OffsetDateTime {
    time::macros::datetime!(2025-01-15 10:00:00 UTC)
}

/// A mock with a fixed seed and start time.
pub fn builder() -> PaperlinkMockBuilder {
    PaperlinkMock::builder().seed(7).start_time(t0())
}

pub async fn mock() -> PaperlinkMock {
    builder().start().await.expect("mock starts")
}

/// Retries as the client's defaults, with waits of a few milliseconds.
fn fast_retries(builder: ClientBuilder) -> ClientBuilder {
    builder.retry(
        RetryConfig::default()
            .initial_backoff(Duration::from_millis(1))
            .max_backoff(Duration::from_millis(5)),
    )
}

/// An SDK client for one of a running mock's seeded keys (either front door), with fast
/// retries.
pub fn client(mock: &impl RunningMock, mode: KeyMode, scope: KeyScope) -> Client {
    sdk_client(mock, mode, scope, fast_retries).expect("client builds")
}

/// The same, for any key at any base URL.
pub fn client_for(base_url: &str, token: SecretString) -> Client {
    sdk_client_for(base_url, token, fast_retries).expect("client builds")
}

/// An SDK client for one of a running mock's seeded keys, configured by the test.
pub fn configured(
    mock: &impl RunningMock,
    mode: KeyMode,
    scope: KeyScope,
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Client {
    sdk_client(mock, mode, scope, configure).expect("client builds")
}

/// The same, for any key at any base URL.
pub fn configured_for(
    base_url: &str,
    token: SecretString,
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Client {
    sdk_client_for(base_url, token, configure).expect("client builds")
}

/// Creates one product per name (1 EUR each) through the SDK.
pub async fn create_named(client: &Client, names: &[&str]) {
    for name in names {
        client
            .products()
            .create(paperlink_sdk::CreateProduct::new(
                *name,
                paperlink_sdk::Decimal::ONE,
                "EUR".parse().expect("a currency"),
            ))
            .await
            .expect("created");
    }
}

/// A client for tests under tokio's paused time: no per-attempt timeout (see
/// `ClientBuilder::no_timeout`).
pub fn paused_client(
    mock: &PaperlinkMock,
    mode: KeyMode,
    scope: KeyScope,
    retry: RetryConfig,
) -> Client {
    paused_client_for(&mock.base_url(), mock.token(mode, scope), retry)
}

/// Under paused time any pending timer fires while the runtime waits on network I/O, so the
/// client has no timers of its own: no per-attempt timeout, no retry deadline (it bounds the
/// attempt in flight) and no idle-pool timer. The only timers left are the SDK's retry waits,
/// and elapsed time measures exactly them.
pub fn paused_client_for(base_url: &str, token: SecretString, retry: RetryConfig) -> Client {
    install_tls();
    let http = reqwest::Client::builder()
        .pool_idle_timeout(None)
        .build()
        .expect("reqwest client");
    sdk_client_for(base_url, token, |builder| {
        builder
            .retry(retry.total_deadline(None))
            .no_timeout()
            .http_client(http)
    })
    .expect("client builds")
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn code(&self) -> Option<String> {
        self.json()["error"]["code"].as_str().map(str::to_owned)
    }

    pub fn data(&self) -> Value {
        self.json()["data"].clone()
    }
}

/// Which front door a behaviour test runs against.
#[derive(Debug, Clone, Copy)]
pub enum Door {
    InProcess,
    Standalone,
}

/// A mock behind either front door, driven over HTTP only (API and `/__admin`).
pub struct Http {
    pub root: String,
    pub http: reqwest::Client,
    tokens: Vec<(KeyMode, KeyScope, SecretString)>,
    _in_process: Option<PaperlinkMock>,
    _standalone: Option<Running>,
}

impl Http {
    pub async fn start(door: Door, builder: PaperlinkMockBuilder) -> Self {
        install_tls();
        let http = reqwest::Client::new();
        match door {
            Door::InProcess => {
                let mock = builder.start().await.expect("mock starts");
                let tokens = seeded_tokens(|m, s| mock.token(m, s));
                Self {
                    root: mock.uri(),
                    http,
                    tokens,
                    _in_process: Some(mock),
                    _standalone: None,
                }
            }
            Door::Standalone => {
                let running = Server::bind(builder, "127.0.0.1:0".parse().expect("addr"))
                    .await
                    .expect("binds")
                    .spawn();
                let root = format!("http://{}", running.local_addr());
                let tokens = seeded_tokens(|m, s| running.token(m, s).expect("seeded key"));
                Self {
                    root,
                    http,
                    tokens,
                    _in_process: None,
                    _standalone: Some(running),
                }
            }
        }
    }

    pub fn token(&self, mode: KeyMode, scope: KeyScope) -> String {
        self.tokens
            .iter()
            .find(|(m, s, _)| *m == mode && *s == scope)
            .map(|(_, _, t)| t.expose_secret().to_owned())
            .expect("seeded key")
    }

    pub fn rw(&self) -> String {
        self.token(KeyMode::Test, KeyScope::ReadWrite)
    }

    pub fn ro(&self) -> String {
        self.token(KeyMode::Test, KeyScope::ReadOnly)
    }

    pub fn live(&self) -> String {
        self.token(KeyMode::Live, KeyScope::ReadWrite)
    }

    /// Sends a request to `/api/v1{path}`; `token` becomes a Bearer header.
    pub async fn api(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        let mut headers = Vec::new();
        if let Some(token) = token {
            headers.push(("authorization".to_owned(), format!("Bearer {token}")));
        }
        if body.is_some() {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        self.raw(
            method,
            &format!("/api/v1{path}"),
            &headers,
            body.map(|b| b.as_bytes().to_vec()),
        )
        .await
    }

    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method, format!("{}{path}", self.root));
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("the mock answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Reply {
            status,
            headers,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.api("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &str) -> Reply {
        self.api("POST", path, Some(token), Some(body)).await
    }

    /// Creates a product and returns its JSON.
    pub async fn create(&self, token: &str, body: &str) -> Value {
        let reply = self.post("/products", token, body).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.data()
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        self.raw(
            method,
            &format!("/__admin{path}"),
            &headers,
            body.map(|b| b.as_bytes().to_vec()),
        )
        .await
    }

    pub async fn advance(&self, seconds: u64) {
        let reply = self
            .admin(
                "POST",
                "/clock/advance",
                Some(&format!(r#"{{"seconds":{seconds}}}"#)),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
}

fn seeded_tokens(
    token: impl Fn(KeyMode, KeyScope) -> SecretString,
) -> Vec<(KeyMode, KeyScope, SecretString)> {
    KeyMode::ALL
        .iter()
        .flat_map(|m| KeyScope::ALL.iter().map(move |s| (*m, *s)))
        .map(|(m, s)| (m, s, token(m, s)))
        .collect()
}

/// Runs a behaviour test against both front doors.
macro_rules! both_doors {
    ($(#[$meta:meta])* async fn $name:ident($ctx:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($ctx: $crate::helpers::Door) $body

            #[tokio::test]
            async fn in_process() {
                run($crate::helpers::Door::InProcess).await;
            }

            #[tokio::test]
            async fn standalone() {
                run($crate::helpers::Door::Standalone).await;
            }
        }
    };
}
pub(crate) use both_doors;
