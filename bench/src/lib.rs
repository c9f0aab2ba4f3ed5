//! Shared pieces of the benchmarks: a small HTTP load generator. The embedded mock's helpers
//! and the load-with-faults run come from `paperlink-tests`, which the end-to-end tests use too.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

pub use paperlink_tests::{
    BoxError, LoadReport, admin, client, create_under_faults, inject_create_faults, install_tls,
};

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
