//! Shared pieces of the benchmarks and load runs: a standalone mock on a socket, a bare axum
//! baseline, a small HTTP load generator, and the load-with-faults run (also used by the
//! end-to-end tests at reduced size).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use paperlink_mock::engine::{MockCore, MockRequest};
use paperlink_mock::standalone::Server;
use paperlink_mock::{Fault, FaultKind, KeyMode, KeyScope, PaperlinkMockBuilder};
use paperlink_sdk::{
    ApiKey, Client, CreateProduct, Decimal, Error, ListProducts, RetryConfig, StatusFilter,
    WriteOptions,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;

/// The error type of the harness.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// reqwest is built without a default crypto provider in this workspace (see the README).
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A standalone mock serving on loopback until dropped.
pub struct Standalone {
    /// `http://127.0.0.1:PORT/api/v1`.
    pub base_url: String,
    /// The Test Read & Write key.
    pub token: SecretString,
    /// The core, for control-plane calls without HTTP.
    pub core: Arc<MockCore>,
    stop: Option<oneshot::Sender<()>>,
}

impl Standalone {
    /// Binds 127.0.0.1 on a free port and serves.
    pub async fn start(builder: PaperlinkMockBuilder) -> Result<Self, BoxError> {
        let server = Server::bind(builder, SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let token = server
            .seeded_keys()
            .iter()
            .find(|k| k.info.mode == KeyMode::Test && k.info.scope == KeyScope::ReadWrite)
            .map(|k| k.token.clone())
            .ok_or("no seeded key")?;
        let (base_url, core) = (server.base_url(), server.core());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.serve(async {
            let _ = stopped.await;
        }));
        Ok(Self {
            base_url,
            token,
            core,
            stop: Some(stop),
        })
    }

    /// Sends a control-plane request straight to the core.
    pub fn admin(&self, method: reqwest::Method, path: &str, body: &str) -> u16 {
        let mut request = MockRequest::new(method, format!("/__admin{path}"));
        request.body = body.as_bytes().to_vec();
        self.core.handle(&request).status
    }

    /// An SDK client for the Test Read & Write key.
    pub fn client(&self, retry: RetryConfig) -> Result<Client, BoxError> {
        Ok(Client::builder()
            .api_key(ApiKey::from_secret(self.token.clone())?)
            .base_url(&self.base_url)
            .retry(retry)
            .build()?)
    }
}

impl Drop for Standalone {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Injects 503s, 429s (`Retry-After: 0`) and dropped connections, each on about a third of
/// `rate` of the creates.
pub fn inject_create_faults(mock: &Standalone, rate: f64) -> Result<(), BoxError> {
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
        let status = mock.admin(
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
    mock: &Standalone,
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
        let client = mock.client(retry.clone())?;
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
    mock.admin(reqwest::Method::DELETE, "/faults", "");
    let reader = mock.client(RetryConfig::default())?;
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

/// Throughput and latency of one load run.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Successful requests per second.
    pub per_second: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Responses that were not the expected status.
    pub unexpected: usize,
}

/// `connections` keep-alive connections send requests for `duration`; `request(i)` builds the
/// i-th request of a connection.
pub async fn hammer<F>(
    connections: usize,
    duration: Duration,
    expect: u16,
    request: F,
) -> Result<Throughput, BoxError>
where
    F: Fn(&reqwest::Client, usize, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::with_capacity(connections);
    for c in 0..connections {
        // One client per connection: each keeps its own keep-alive connection.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut unexpected = 0usize;
            let mut i = 0;
            while Instant::now() < deadline {
                let started = Instant::now();
                match request(&http, c, i).send().await {
                    Ok(reply) => {
                        let status = reply.status().as_u16();
                        let _ = reply.bytes().await;
                        if status == expect {
                            latencies.push(started.elapsed());
                        } else {
                            unexpected += 1;
                        }
                    }
                    Err(_) => unexpected += 1,
                }
                i += 1;
            }
            (latencies, unexpected)
        }));
    }
    let mut all = Vec::new();
    let mut unexpected = 0;
    for task in tasks {
        let (latencies, bad) = task.await?;
        all.extend(latencies);
        unexpected += bad;
    }
    all.sort_unstable();
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Ok(Throughput {
        per_second: all.len() as f64 / duration.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        unexpected,
    })
}

/// `connections` keep-alive connections send `total` requests between them.
pub async fn hammer_count<F>(
    connections: usize,
    total: usize,
    request: F,
) -> Result<usize, BoxError>
where
    F: Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let (request, next) = (request.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            while next.fetch_add(1, Ordering::Relaxed) < total {
                if let Ok(reply) = request(&http, ok).send().await {
                    ok += usize::from(reply.bytes().await.is_ok());
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for task in tasks {
        ok += task.await?;
    }
    Ok(ok)
}

/// The `Authorization` header value for a token.
pub fn bearer(token: &SecretString) -> String {
    format!("Bearer {}", token.expose_secret())
}
