//! The pieces that the end-to-end tests and the benchmarks share: an embedded standalone mock's
//! control plane and SDK client, and the load-with-faults run (the tests run it at reduced
//! size, the bench in full). The README's Rust examples are also compiled here, so the README
//! cannot drift from the API.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use paperlink_mock::engine::MockRequest;
use paperlink_mock::standalone::Running;
use paperlink_mock::{Fault, FaultKind, KeyMode, KeyScope, PaperlinkMock};
use paperlink_sdk::{
    ApiKey, Client, ClientBuilder, CreateProduct, Decimal, Error, ListProducts, RetryConfig,
    StatusFilter, WriteOptions,
};
use secrecy::SecretString;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The error type of the shared pieces.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// reqwest is built without a default crypto provider in this workspace (see the README).
pub fn install_tls() {
    paperlink_sdk::install_crypto_provider();
}

/// Sends a control-plane request straight to the embedded mock's core: its status.
pub fn admin(mock: &Running, method: reqwest::Method, path: &str, body: &str) -> u16 {
    let mut request = MockRequest::new(method, format!("/__admin{path}"));
    request.headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    request.body = body.as_bytes().to_vec();
    mock.core().handle(&request).status
}

/// A running mock, whichever front door: where its API is, and its seeded keys' tokens.
pub trait RunningMock {
    /// `http://127.0.0.1:PORT/api/v1`.
    fn api_url(&self) -> String;
    /// The token of the seeded key of this mode and scope.
    fn seeded_token(&self, mode: KeyMode, scope: KeyScope) -> Option<SecretString>;
}

impl RunningMock for PaperlinkMock {
    fn api_url(&self) -> String {
        self.base_url()
    }

    fn seeded_token(&self, mode: KeyMode, scope: KeyScope) -> Option<SecretString> {
        Some(self.token(mode, scope))
    }
}

impl RunningMock for Running {
    fn api_url(&self) -> String {
        self.base_url().to_owned()
    }

    fn seeded_token(&self, mode: KeyMode, scope: KeyScope) -> Option<SecretString> {
        self.token(mode, scope)
    }
}

/// The one way the tests and the bench build an SDK client for a running mock: the seeded key
/// of this mode and scope, and `configure` for anything else (retries, timeouts, the mock's
/// sleeper).
pub fn sdk_client(
    mock: &impl RunningMock,
    mode: KeyMode,
    scope: KeyScope,
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Result<Client, BoxError> {
    let token = mock.seeded_token(mode, scope).ok_or("no seeded key")?;
    sdk_client_for(&mock.api_url(), token, configure)
}

/// The same, for any key at any base URL (a key made by a test, a stub server).
pub fn sdk_client_for(
    base_url: &str,
    token: SecretString,
    configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Result<Client, BoxError> {
    let builder = Client::builder()
        .api_key(ApiKey::from_secret(token)?)
        .base_url(base_url);
    Ok(configure(builder).build()?)
}

/// An SDK client for the embedded mock's Test Read & Write key.
pub fn client(mock: &Running, retry: RetryConfig) -> Result<Client, BoxError> {
    sdk_client(mock, KeyMode::Test, KeyScope::ReadWrite, |b| b.retry(retry))
}

/// Injects 503s, 429s (`Retry-After: 0`) and dropped connections, each on about a third of
/// `rate` of the creates.
pub fn inject_create_faults(mock: &Running, rate: f64) -> Result<(), BoxError> {
    let each = rate / 3.0;
    let path = "/api/v1/products";
    let status = |status, retry_after| FaultKind::Status {
        status,
        retry_after,
    };
    for kind in [
        status(503, None),
        status(429, Some(0)),
        FaultKind::DropConnection,
    ] {
        let fault = Fault::new("POST", path, kind).with_probability(each);
        let status = admin(
            mock,
            reqwest::Method::POST,
            "/faults",
            &serde_json::to_string(&fault)?,
        );
        if status != 201 {
            return Err(format!("fault injection answered {status}").into());
        }
    }
    Ok(())
}

/// What a load-with-faults run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    /// Products on the server afterwards.
    pub stored: usize,
    /// Distinct SKUs among them.
    pub distinct: usize,
    /// Creates the callers had to re-issue after the SDK's own retries gave up.
    pub caller_retries: usize,
    /// Wall time.
    pub elapsed: Duration,
}

/// `clients` SDK clients create `total` products between them, each create with its own
/// idempotency key; a create whose retries run out is re-issued with the same key.
pub async fn create_under_faults(
    mock: &Running,
    clients: usize,
    total: usize,
) -> Result<LoadReport, BoxError> {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let caller_retries = Arc::new(AtomicUsize::new(0));
    let euro: paperlink_sdk::Currency = "EUR".parse()?;
    let retry = RetryConfig::default()
        .max_attempts(6)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(20));
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let client = client(mock, retry.clone())?;
        let (next, caller_retries) = (next.clone(), caller_retries.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<(), Error>(());
                }
                let sku = format!("LOAD-{i:06}");
                let product = CreateProduct::new(&sku, Decimal::new(i as i64, 2), euro).sku(&sku);
                let options = WriteOptions::new().idempotency_key(format!("load-{i}"));
                loop {
                    match client
                        .products()
                        .create_with(product.clone(), options.clone())
                        .await
                    {
                        Ok(_) => break,
                        Err(e) if e.is_retryable() => {
                            caller_retries.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    admin(mock, reqwest::Method::DELETE, "/faults", "");
    let reader = client(mock, RetryConfig::default())?;
    let mut skus = HashSet::new();
    let mut stored = 0;
    let mut page = reader
        .products()
        .list(ListProducts::new().status(StatusFilter::All).limit(100))
        .await?;
    loop {
        for p in &page.items {
            stored += 1;
            skus.insert(p.sku.clone());
        }
        match page.next() {
            Some(cursor) => {
                page = reader
                    .products()
                    .list(
                        ListProducts::new()
                            .status(StatusFilter::All)
                            .limit(100)
                            .after(cursor),
                    )
                    .await?;
            }
            None => break,
        }
    }
    Ok(LoadReport {
        stored,
        distinct: skus.len(),
        caller_retries: caller_retries.load(Ordering::Relaxed),
        elapsed,
    })
}
