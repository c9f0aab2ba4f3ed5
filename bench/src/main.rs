//! `paperlink-bench`: measures the mock and the SDK against baselines run in the same process,
//! so machine noise cancels out in the ratios. Results go to stdout as a Markdown table; the
//! recorded runs are in BENCHMARKS.md.
//!
//! ```text
//! cargo build --release -p paperlink-mock -p paperlink-bench
//! target/release/paperlink-bench            # full run (a few minutes)
//! target/release/paperlink-bench --quick    # smoke run (CI)
//! target/release/paperlink-bench sdk http   # some: http start sdk pagination memory durable load
//! ```
//!
//! HTTP throughput and memory are measured on the `paperlink-mock` binary beside this one (build
//! both), as users run it. HTTP throughput uses `wrk` when it is on PATH (Debian package `wrk`)
//! and the built-in load generator otherwise; both sides of a ratio always use the same one.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use futures_util::TryStreamExt;
use paperlink_bench::{
    BoxError, Throughput, bearer, client, create_under_faults, hammer, hammer_count,
    inject_create_faults, install_tls,
};
use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock, SeedProduct};
use paperlink_sdk::{Decimal, ListProducts, ProductId, RetryConfig};
use secrecy::ExposeSecret;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Plan {
    quick: bool,
    http_seconds: u64,
    starts: usize,
    sdk_calls: usize,
    page_reps: usize,
    memory: (usize, usize),
    load: (usize, usize),
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Prints a row comparing the medians of two sets of timings.
fn timing_row(
    name: &str,
    (ours, ours_label): (Vec<Duration>, &str),
    (base, base_label): (Vec<Duration>, &str),
    notes: &str,
) {
    let runs = ours.len();
    let (ours, base) = (median(ours), median(base));
    println!(
        "| {name}, median of {runs} | {}{ours_label} | {}{base_label} | **{:.2}x** | {notes} |",
        ms(ours),
        ms(base),
        ours.as_secs_f64() / base.as_secs_f64()
    );
}

fn ms(d: Duration) -> String {
    if d < Duration::from_micros(100) {
        format!("{:.2} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.3} ms", d.as_secs_f64() * 1e3)
    }
}

/// Serves fixed bytes on every route: what the mock would answer, without any checks.
/// Serves a baseline until the returned sender is used or dropped: its base URL and the sender.
fn serve_baseline(
    listener: tokio::net::TcpListener,
    app: Router,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let addr = listener
        .local_addr()
        .map_or_else(|_| "127.0.0.1:0".to_owned(), |a| a.to_string());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    (format!("http://{addr}/api/v1"), stop)
}

async fn bare_server(
    status: u16,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
) -> Result<(String, tokio::sync::oneshot::Sender<()>), BoxError> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let status = StatusCode::from_u16(status)?;
    let app = Router::new().fallback(move || {
        let (body, headers) = (body.clone(), headers.clone());
        async move {
            let mut response = (status, body).into_response();
            for (name, value) in &headers {
                if let (Ok(name), Ok(value)) = (
                    axum::http::HeaderName::try_from(name.as_str()),
                    HeaderValue::try_from(value.as_str()),
                ) {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
    });
    Ok(serve_baseline(listener, app))
}

/// A product as the stateful floor keeps it.
#[derive(Clone, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct FloorProduct {
    #[serde(default)]
    id: Option<uuid::Uuid>,
    name: String,
    unit_price: serde_json::Number,
    currency: String,
    #[serde(default)]
    sku: Option<String>,
}

/// The fair floor for creates: a minimal stateful axum server. It checks that a Bearer header
/// is present, deserializes the body into a struct, inserts it into a `Mutex<HashMap>` under a
/// new UUID, and answers 201 with the stored record as JSON. It does none of the mock's other
/// work: no token lookup, scope, rate limit, validation rules, SKU index, idempotency record,
/// ordering index, journal or request id.
async fn stateful_floor() -> Result<(String, tokio::sync::oneshot::Sender<()>), BoxError> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let store: Arc<Mutex<HashMap<uuid::Uuid, FloorProduct>>> = Arc::default();
    let app = Router::new().route(
        "/api/v1/products",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let store = Arc::clone(&store);
                async move {
                    let bearer = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.starts_with("Bearer "));
                    if !bearer {
                        return StatusCode::UNAUTHORIZED.into_response();
                    }
                    let Ok(mut product) = serde_json::from_slice::<FloorProduct>(&body) else {
                        return StatusCode::BAD_REQUEST.into_response();
                    };
                    let id = uuid::Uuid::new_v4();
                    product.id = Some(id);
                    let json = serde_json::to_vec(&serde_json::json!({ "data": &product }))
                        .unwrap_or_default();
                    if let Ok(mut products) = store.lock() {
                        products.insert(id, product);
                    }
                    (
                        StatusCode::CREATED,
                        [("content-type", "application/json")],
                        json,
                    )
                        .into_response()
                }
            },
        ),
    );
    Ok(serve_baseline(listener, app))
}

/// The wrk script that sends each `POST /products` with its own `Idempotency-Key` and SKU.
const CREATE_SCRIPT: &str = include_str!("../wrk/create.lua");

/// The built-in generator's version of the same create request.
fn create_request(
    http: &reqwest::Client,
    url: &str,
    auth: &str,
    c: usize,
    i: usize,
) -> reqwest::RequestBuilder {
    let key = format!("bench-{c}-{i}");
    http.post(url)
        .header("authorization", auth)
        .header("content-type", "application/json")
        .header("idempotency-key", &key)
        .body(format!(
            r#"{{"name":"{key}","unitPrice":120.10,"currency":"USD","sku":"{key}"}}"#
        ))
}

/// CPU time a process has used, user and system, from `/proc/PID/stat` (`None` elsewhere).
fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the command name, utime and stime are the 12th and 13th fields, in USER_HZ (100/s).
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// One side of an HTTP comparison.
struct Load {
    throughput: Throughput,
    tool: &'static str,
    /// With wrk (another process), the serving process's CPU time per request.
    cpu_per_request: Option<Duration>,
}

impl Load {
    /// A run of the built-in generator. It runs in this process, so its CPU time is not the
    /// server's.
    fn built_in(throughput: Throughput) -> Self {
        Self {
            throughput,
            tool: "built-in",
            cpu_per_request: None,
        }
    }
}

/// Throughput of `GET url` (or, with `create`, of unique-key `POST url`) served by process
/// `server`: wrk when available, else the built-in generator.
async fn http_load(
    server: u32,
    url: &str,
    auth: &str,
    seconds: u64,
    create: bool,
) -> Result<Load, BoxError> {
    let script = if create {
        let path = std::env::temp_dir().join(format!("paperlink-bench-{}.lua", std::process::id()));
        std::fs::write(&path, CREATE_SCRIPT)?;
        Some(path)
    } else {
        None
    };
    let cpu_before = process_cpu(server);
    // wrk runs off the runtime's workers, so that the server under test keeps both of them.
    let (wrk_url, wrk_auth, wrk_script) = (url.to_owned(), auth.to_owned(), script.clone());
    let measured = tokio::task::spawn_blocking(move || {
        wrk(&wrk_url, &wrk_auth, seconds, wrk_script.as_deref())
    })
    .await?;
    let cpu = cpu_before
        .zip(process_cpu(server))
        .map(|(a, b)| b.saturating_sub(a));
    if let Some(path) = &script {
        let _ = std::fs::remove_file(path);
    }
    if let Some(throughput) = measured? {
        let requests = throughput.per_second * seconds as f64;
        let cpu_per_request = cpu
            .filter(|_| requests >= 1.0)
            .map(|cpu| cpu.div_f64(requests));
        return Ok(Load {
            throughput,
            tool: "wrk",
            cpu_per_request,
        });
    }
    let (url, auth) = (url.to_owned(), auth.to_owned());
    let duration = Duration::from_secs(seconds);
    let result = if create {
        hammer(64, duration, 201, move |http, c, i| {
            create_request(http, &url, &auth, c, i)
        })
        .await?
    } else {
        hammer(64, duration, 200, move |http, _, _| {
            http.get(&url).header("authorization", &auth)
        })
        .await?
    };
    Ok(Load::built_in(result))
}

/// Runs wrk with 64 connections; `None` when wrk is not installed.
fn wrk(
    url: &str,
    auth: &str,
    seconds: u64,
    script: Option<&std::path::Path>,
) -> Result<Option<Throughput>, BoxError> {
    let mut command = Command::new("wrk");
    command.args([
        "-t2",
        "-c64",
        &format!("-d{seconds}s"),
        "--latency",
        "-H",
        &format!("Authorization: {auth}"),
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = match command.arg(url).stderr(Stdio::null()).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let value = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()))
    };
    let latency = |p: &str| {
        value(p).and_then(|v| {
            let (number, unit) =
                v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
            let number: f64 = number.parse().ok()?;
            let scale = match unit {
                "us" => 1e-6,
                "ms" => 1e-3,
                "s" => 1.0,
                _ => return None,
            };
            Some(Duration::from_secs_f64(number * scale))
        })
    };
    let per_second = value("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("unexpected wrk output: {text}"))?;
    let unexpected = value("Non-2xx or 3xx responses:")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(Some(Throughput {
        per_second,
        p50: latency("50%").unwrap_or_default(),
        p99: latency("99%").unwrap_or_default(),
        unexpected,
    }))
}

fn row(name: &str, ours: &Load, base: &Load) {
    let cpu = match (ours.cpu_per_request, base.cpu_per_request) {
        (Some(ours), Some(base)) => format!(
            "; server CPU per request {:.1} µs vs {:.1} µs",
            ours.as_secs_f64() * 1e6,
            base.as_secs_f64() * 1e6
        ),
        _ => String::new(),
    };
    let (o, b) = (&ours.throughput, &base.throughput);
    println!(
        "| {name} | {:.0} req/s (p50 {}, p99 {}) | {:.0} req/s (p50 {}, p99 {}) | **{:.2}x** | {}; unexpected statuses: {} / {}{cpu} |",
        o.per_second,
        ms(o.p50),
        ms(o.p99),
        b.per_second,
        ms(b.p50),
        ms(b.p99),
        o.per_second / b.per_second,
        base.tool,
        o.unexpected,
        b.unexpected
    );
}

/// The binary with one log level for an HTTP comparison.
struct Served {
    mock: Binary,
    label: &'static str,
}

/// One HTTP comparison: the bare server first, then each served binary, on the same path.
struct Compared {
    name: &'static str,
    path: &'static str,
    /// Unique-key creates (`POST`) rather than `GET`s.
    create: bool,
}

impl Compared {
    async fn run(
        &self,
        plan: &Plan,
        servers: &[Served],
        (bare_url, _stop): (String, tokio::sync::oneshot::Sender<()>),
        against: &str,
    ) -> Result<(), BoxError> {
        let base = http_load(
            std::process::id(),
            &format!("{bare_url}{}", self.path),
            &servers[0].mock.auth(),
            plan.http_seconds,
            self.create,
        )
        .await?;
        for served in servers {
            let ours = http_load(
                served.mock.pid(),
                &format!("{}{}", served.mock.base_url, self.path),
                &served.mock.auth(),
                plan.http_seconds,
                self.create,
            )
            .await?;
            let name = format!("{}, 64 connections, {}{against}", self.name, served.label);
            row(&name, &ours, &base);
        }
        Ok(())
    }
}

async fn http_throughput(plan: &Plan) -> Result<(), BoxError> {
    // The `paperlink-mock` binary as users run it, with 40 products and no rate limit for the
    // load: once with the default log level (a line per request, here to a file) and once
    // with RUST_LOG=warn (no request log).
    let seed: Vec<String> = (0..40)
        .map(|i| {
            format!(
                r#"{{"name":"Product {i}","unitPrice":{},"currency":"USD","sku":"S-{i}"}}"#,
                Decimal::new(12010 + i, 2)
            )
        })
        .collect();
    let scratch = |what: &str| {
        std::env::temp_dir().join(format!("paperlink-bench-{what}-{}", std::process::id()))
    };
    let (seed_file, log_file) = (scratch("seed.json"), scratch("log.txt"));
    std::fs::write(&seed_file, format!("[{}]", seed.join(",")))?;
    let seed_arg = seed_file.to_string_lossy().into_owned();
    let args = ["--no-rate-limit", "--seed", &seed_arg];
    let started = Binary::spawn(&args, "info", Some(&log_file)).and_then(|logged| {
        Ok([
            Served {
                mock: logged,
                label: "default log level",
            },
            Served {
                mock: Binary::spawn(&args, "warn", None)?,
                label: "RUST_LOG=warn",
            },
        ])
    });
    let _ = std::fs::remove_file(&seed_file);
    let servers = started?;
    let url = format!("{}/products?limit=20", servers[0].mock.base_url);
    let sample = reqwest::Client::new()
        .get(&url)
        .header("authorization", servers[0].mock.auth())
        .send()
        .await?;
    let headers: Vec<(String, String)> = sample
        .headers()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "content-length" | "transfer-encoding" | "date"))
        .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = sample.bytes().await?.to_vec();
    let list = Compared {
        name: "GET /products?limit=20",
        path: "/products?limit=20",
        create: false,
    };
    list.run(
        plan,
        &servers,
        bare_server(200, body, headers.clone()).await?,
        "",
    )
    .await?;

    let url = format!("{}/products", servers[0].mock.base_url);
    let sample = create_request(
        &reqwest::Client::new(),
        &url,
        &servers[0].mock.auth(),
        999,
        0,
    )
    .send()
    .await?;
    let body = sample.bytes().await?.to_vec();
    let create = Compared {
        name: "POST /products with Idempotency-Key",
        path: "/products",
        create: true,
    };
    create
        .run(plan, &servers, bare_server(201, body, headers).await?, "")
        .await?;
    create
        .run(
            plan,
            &servers,
            stateful_floor().await?,
            "; against the stateful floor",
        )
        .await?;
    drop(servers);
    let _ = std::fs::remove_file(&log_file);
    Ok(())
}

/// Times `count` calls of `start`, each result dropped (so a pooled server goes back to the
/// pool) before the next.
async fn time_starts<T, F: Future<Output = T>>(
    count: usize,
    samples: &mut Vec<Duration>,
    mut start: impl FnMut() -> F,
) {
    for _ in 0..count {
        let started = Instant::now();
        let running = start().await;
        samples.push(started.elapsed());
        drop(running);
        tokio::task::yield_now().await;
    }
}

/// A pooled wiremock server with one trivial `Mock` mounted: the least any mock built on
/// wiremock does at start.
async fn floor_start() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

async fn start_time(plan: &Plan) -> Result<(), BoxError> {
    // A pooled server is reset when it is next taken, so a start pays for what the previous
    // user of the server left mounted. Each kind therefore runs in blocks of its own (each
    // start then follows one of its own kind), and the blocks alternate to spread drift.
    const ROUNDS: usize = 5;
    let (mut ours, mut base, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ours_used, mut floor_used) = (Vec::new(), Vec::new());
    // `PaperlinkMock::start` builds its state on first use, so a start and the first
    // request together show that the cost moved, not vanished.
    let http = reqwest::Client::new();
    let failed = std::cell::Cell::new(0_usize);
    let first_get = |uri: String, token: &str| {
        let request = http
            .get(format!("{uri}/api/v1/products"))
            .bearer_auth(token);
        let failed = &failed;
        async move {
            match request.send().await {
                Ok(response) if response.status() == reqwest::StatusCode::OK => {}
                _ => failed.set(failed.get() + 1),
            }
        }
    };
    let per_block = plan.starts.div_ceil(ROUNDS);
    for _ in 0..ROUNDS {
        time_starts(per_block, &mut base, MockServer::start).await;
        time_starts(per_block, &mut floor, floor_start).await;
        time_starts(per_block, &mut ours, PaperlinkMock::start).await;
    }
    // In a loop of their own: interleaved with them, the bare starts ran slower and noisier.
    for _ in 0..ROUNDS {
        time_starts(per_block, &mut floor_used, || async {
            let server = floor_start().await;
            first_get(server.uri(), "pk_test_unchecked").await;
            server
        })
        .await;
        time_starts(per_block, &mut ours_used, || async {
            let mock = PaperlinkMock::start().await;
            let token = mock.token(KeyMode::Test, KeyScope::ReadOnly);
            first_get(mock.uri(), token.expose_secret()).await;
            mock
        })
        .await;
    }
    if failed.get() > 0 {
        return Err(format!("{} first requests did not get a 200", failed.get()).into());
    }
    let floor_ratio = median(floor.clone()).as_secs_f64() / median(base.clone()).as_secs_f64();
    timing_row(
        "in-process start",
        (ours.clone(), " (PaperlinkMock::start)"),
        (base, " (MockServer::start)"),
        &format!(
            "seeded with four keys, built on first use (next rows); a pooled start with one trivial `Mock` mounted is itself {floor_ratio:.2}x"
        ),
    );
    timing_row(
        "in-process start against a pooled start with one trivial `Mock` mounted",
        (ours, " (PaperlinkMock::start)"),
        (floor, " (MockServer::start + mount)"),
        "what the mock adds at start: its responder and a random seed",
    );
    timing_row(
        "in-process start, then the first authenticated `GET /products` (keep-alive)",
        (ours_used, " (PaperlinkMock::start + token + GET)"),
        (floor_used, " (MockServer::start + mount + GET)"),
        "the state, four keys and their token hashes are built here, on first use",
    );
    Ok(())
}

/// The standalone mock embedded in the bench process, on loopback.
async fn embedded(
    builder: paperlink_mock::PaperlinkMockBuilder,
) -> Result<paperlink_mock::standalone::Running, BoxError> {
    let server =
        paperlink_mock::standalone::Server::bind(builder, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await?;
    Ok(server.spawn())
}

async fn sdk_overhead(plan: &Plan) -> Result<(), BoxError> {
    let mock = embedded(PaperlinkMock::builder().no_rate_limit()).await?;
    let client = client(&mock, RetryConfig::default())?;
    let product = client
        .products()
        .create(paperlink_sdk::CreateProduct::new(
            "p",
            Decimal::ONE,
            "EUR".parse()?,
        ))
        .await?;
    let raw = reqwest::Client::new();
    let (url, auth) = (
        format!("{}/products/{}", mock.base_url(), product.id),
        bearer(
            &mock
                .token(KeyMode::Test, KeyScope::ReadWrite)
                .ok_or("a seeded key")?,
        ),
    );
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    for _ in 0..plan.sdk_calls {
        let started = Instant::now();
        let reply = raw.get(&url).header("authorization", &auth).send().await?;
        let _ = reply.bytes().await?;
        base.push(started.elapsed());
        let started = Instant::now();
        client.products().get(product.id).await?;
        ours.push(started.elapsed());
    }
    timing_row(
        "SDK `products().get(id)`",
        (ours, ""),
        (base, " (reqwest GET, same header)"),
        "sequential, standalone mock",
    );
    Ok(())
}

async fn pagination(plan: &Plan) -> Result<(), BoxError> {
    let mut builder = PaperlinkMock::builder().no_rate_limit();
    let t0 = time_zero();
    for i in 0..10_000u64 {
        builder = builder.product(
            KeyMode::Test,
            SeedProduct::new(format!("p{i}"), Decimal::ONE, "EUR")
                .created_at(t0 + Duration::from_secs(i)),
        );
    }
    let mock = embedded(builder).await?;
    let client = client(&mock, RetryConfig::default())?;
    // The cursor after 9,900 products: the id of the 9,900th, newest first.
    let mut cursor = None;
    let mut stream = Box::pin(client.products().stream(ListProducts::new().limit(100)));
    let mut seen = 0;
    while let Some(p) = stream.try_next().await? {
        seen += 1;
        if seen == 9_900 {
            cursor = Some(p.id);
        }
    }
    let cursor: ProductId = cursor.ok_or("fewer than 9,900 products")?;
    let (mut first, mut deep) = (Vec::new(), Vec::new());
    for _ in 0..plan.page_reps {
        let started = Instant::now();
        client
            .products()
            .list(ListProducts::new().limit(100))
            .await?;
        first.push(started.elapsed());
        let started = Instant::now();
        client
            .products()
            .list(ListProducts::new().limit(100).after(cursor.to_string()))
            .await?;
        deep.push(started.elapsed());
    }
    timing_row(
        "page of 100 after 9,900 products",
        (deep, ""),
        (first, " (first page)"),
        "keyset cursor, BTree index",
    );
    // Alternating repetitions, medians: one pass of each moves by a third between runs.
    let (mut streams, mut hundreds, mut count) = (Vec::new(), Vec::new(), 0);
    for _ in 0..if plan.quick { 1 } else { 7 } {
        let started = Instant::now();
        // Counted, not collected: the round trips below keep no products either.
        count = client
            .products()
            .stream(ListProducts::new().limit(100))
            .try_fold(0usize, |n, _| async move { Ok(n + 1) })
            .await?;
        streams.push(started.elapsed());
        let started = Instant::now();
        for _ in 0..100 {
            client
                .products()
                .list(ListProducts::new().limit(100))
                .await?;
        }
        hundreds.push(started.elapsed());
    }
    timing_row(
        &format!("stream all {count} products (100 pages), counted"),
        (streams, ""),
        (hundreds, " (100 first-page round trips)"),
        "",
    );
    Ok(())
}

fn time_zero() -> time::OffsetDateTime {
    time::OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1_736_935_200)
}

/// The `paperlink-mock` binary beside this one, serving on a free loopback port until dropped.
struct Binary {
    child: std::process::Child,
    /// Its stdout, open until it stops.
    _banner: Banner,
    /// `http://127.0.0.1:PORT/api/v1`.
    base_url: String,
    /// The Test Read & Write key's token, as the binary printed it.
    token: String,
}

impl Binary {
    /// Starts it with `args` and `RUST_LOG=log_level`, its logs going to `log_file` (or nowhere).
    fn spawn(
        args: &[&str],
        log_level: &str,
        log_file: Option<&std::path::Path>,
    ) -> Result<Self, BoxError> {
        let binary = std::env::current_exe()?.with_file_name("paperlink-mock");
        let stderr = match log_file {
            Some(path) => Stdio::from(std::fs::File::create(path)?),
            None => Stdio::null(),
        };
        let mut child = Command::new(&binary)
            .args(["--port", "0"])
            .args(args)
            .env("RUST_LOG", log_level)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {} (build it first): {e}", binary.display()))?;
        match child
            .stdout
            .take()
            .ok_or_else(|| "no stdout".into())
            .and_then(read_banner)
        {
            Ok((banner, base_url, token)) => Ok(Self {
                child,
                _banner: banner,
                base_url,
                token,
            }),
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(error)
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The `Authorization` value for its Test Read & Write key.
    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        self.stop();
    }
}

type Banner = std::io::Lines<std::io::BufReader<std::process::ChildStdout>>;

/// Reads the binary's banner (the URL, the control plane, the API Keys page, a heading, then
/// the four seeded keys) to the end: the base URL and the Test Read & Write token. The pipe is returned, to be
/// kept open, so that the binary never writes to a closed pipe.
fn read_banner(stdout: std::process::ChildStdout) -> Result<(Banner, String, String), BoxError> {
    let mut banner = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let mut lines = Vec::with_capacity(8);
    for _ in 0..8 {
        lines.push(banner.next().ok_or("the banner ended early")??);
    }
    let base_url = lines[0]
        .trim_start_matches("paperlink-mock listening on ")
        .to_owned();
    let token = lines
        .iter()
        .find(|l| l.contains("test") && l.contains("ReadWrite"))
        .and_then(|l| l.split_whitespace().last().map(str::to_owned))
        .ok_or("no Test Read & Write token in the banner")?;
    Ok((banner, base_url, token))
}

fn rss_kib(pid: u32) -> Result<u64, BoxError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS".into())
}

async fn memory(plan: &Plan) -> Result<(), BoxError> {
    let mut mock = Binary::spawn(&["--no-rate-limit", "--rng-seed", "9"], "warn", None)?;
    let (small, large) = plan.memory;
    let url = format!("{}/products?limit=20", mock.base_url);
    let auth = mock.auth();
    let send = |total: usize| {
        let (url, auth) = (url.clone(), auth.clone());
        hammer_count(64, total, move |http, _| {
            http.get(&url).header("authorization", &auth)
        })
    };
    send(small).await?;
    let after_small = rss_kib(mock.pid())?;
    send(large - small).await?;
    let after_large = rss_kib(mock.pid())?;
    mock.stop();
    println!(
        "| standalone RSS after {large} requests | {:.1} MiB | {:.1} MiB (after {small}) | **{:.2}x** | journal ring of 10,000 lines |",
        after_large as f64 / 1024.0,
        after_small as f64 / 1024.0,
        after_large as f64 / after_small as f64
    );
    Ok(())
}

/// The memory 1,000 slow clients cost the binary: each opens a connection and sends half a
/// request head, then nothing (slowloris). The baseline is the same binary, idle.
async fn slow_connections() -> Result<(), BoxError> {
    use tokio::io::AsyncWriteExt;

    let mock = Binary::spawn(&["--no-rate-limit"], "warn", None)?;
    let addr = mock
        .base_url
        .trim_start_matches("http://")
        .trim_end_matches("/api/v1")
        .to_owned();
    // One request first, so both readings include a served connection's buffers.
    reqwest::get(format!("{}/openapi.json", mock.base_url)).await?;
    let idle = rss_kib(mock.pid())?;
    let mut held = Vec::with_capacity(1_000);
    for _ in 0..1_000 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await?;
        stream
            .write_all(b"GET /api/v1/products HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow:")
            .await?;
        held.push(stream);
    }
    // Let the server accept what its cap allows (the rest wait in the listen queue).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let slow = rss_kib(mock.pid())?;
    // A request still gets through (after a slot frees, at most one header timeout later).
    let answered = tokio::time::timeout(
        Duration::from_secs(30),
        reqwest::get(format!("{}/openapi.json", mock.base_url)),
    )
    .await;
    drop(held);
    println!(
        "| standalone RSS with 1,000 slow connections | {:.1} MiB | {:.1} MiB (idle) | **{:.2}x** | half-sent heads; 512 served at once, the rest queued; a new request {} |",
        slow as f64 / 1024.0,
        idle as f64 / 1024.0,
        slow as f64 / idle as f64,
        match answered {
            Ok(Ok(reply)) if reply.status() == 200 => "answered",
            _ => "NOT answered in 30 s",
        }
    );
    Ok(())
}

/// Reads beside a create load, on the binary with a data file and on the binary in memory:
/// writers wait for their commit without holding the state, so reads should not notice the
/// disk, and the creates share commits (one transaction for every waiting write).
async fn durable(plan: &Plan) -> Result<(), BoxError> {
    let dir = std::env::temp_dir().join(format!("paperlink-bench-data-{}", std::process::id()));
    let data = dir.join("state.sqlite");
    let data_arg = data.to_string_lossy().into_owned();
    let mut measured = Vec::with_capacity(2);
    for args in [
        &["--no-rate-limit", "--data", &data_arg][..],
        &["--no-rate-limit"][..],
    ] {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let mock = Binary::spawn(args, "warn", None)?;
        measured.push(reads_beside_creates(&mock, plan.http_seconds).await?);
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let [(reads, creates), (base_reads, base_creates)] = &measured[..] {
        row(
            "GET /products?limit=20, 4 connections, while 16 connections create; `--data` vs in memory",
            reads,
            base_reads,
        );
        row(
            "those creates (unique `Idempotency-Key`); `--data` vs in memory",
            creates,
            base_creates,
        );
    }
    Ok(())
}

/// 4 connections list products while 16 create them, for `seconds`, with the built-in
/// generator: (the reads, the creates).
async fn reads_beside_creates(mock: &Binary, seconds: u64) -> Result<(Load, Load), BoxError> {
    let duration = Duration::from_secs(seconds);
    let (list, products, auth) = (
        format!("{}/products?limit=20", mock.base_url),
        format!("{}/products", mock.base_url),
        mock.auth(),
    );
    let reads = {
        let auth = auth.clone();
        hammer(4, duration, 200, move |http, _, _| {
            http.get(&list).header("authorization", &auth)
        })
    };
    let creates = hammer(16, duration, 201, move |http, c, i| {
        create_request(http, &products, &auth, c, i)
    });
    let (reads, creates) = tokio::try_join!(reads, creates)?;
    Ok((Load::built_in(reads), Load::built_in(creates)))
}

async fn load_with_faults(plan: &Plan) -> Result<(), BoxError> {
    let (clients, total) = plan.load;
    let mock = embedded(PaperlinkMock::builder().no_rate_limit()).await?;
    inject_create_faults(&mock, 0.10)?;
    let report = create_under_faults(&mock, clients, total).await?;
    println!(
        "| load with ~10% faults (503, 429, dropped connections): {clients} SDK clients create {total} | {} stored, {} distinct | {total} expected | {} | {:.1} s; {} creates re-issued by callers after the SDK's 6 attempts |",
        report.stored,
        report.distinct,
        if report.stored == total && report.distinct == total {
            "**exact**"
        } else {
            "**MISMATCH**"
        },
        report.elapsed.as_secs_f64(),
        report.caller_retries
    );
    if report.stored != total || report.distinct != total {
        return Err("products were lost or duplicated".into());
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), BoxError> {
    install_tls();
    let quick = std::env::args().any(|a| a == "--quick");
    let plan = if quick {
        Plan {
            quick,
            http_seconds: 1,
            starts: 20,
            sdk_calls: 100,
            page_reps: 20,
            memory: (1_000, 5_000),
            load: (64, 256),
        }
    } else {
        Plan {
            quick,
            http_seconds: 10,
            starts: 200,
            sdk_calls: 2_000,
            page_reps: 300,
            memory: (10_000, 1_000_000),
            load: (64, 10_000),
        }
    };
    println!(
        "paperlink-bench{} ({} build)\n",
        if plan.quick { " --quick" } else { "" },
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!("| measurement | ours | baseline | ratio | notes |");
    println!("|---|---|---|---|---|");
    // Scenario names on the command line pick a subset:
    // http start sdk pagination memory durable load slow.
    let chosen: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |name: &str| chosen.is_empty() || chosen.iter().any(|c| c == name);
    if run("http") {
        http_throughput(&plan).await?;
    }
    if run("start") {
        start_time(&plan).await?;
    }
    if run("sdk") {
        sdk_overhead(&plan).await?;
    }
    if run("pagination") {
        pagination(&plan).await?;
    }
    if run("memory") {
        memory(&plan).await?;
    }
    if run("durable") {
        durable(&plan).await?;
    }
    if run("load") {
        load_with_faults(&plan).await?;
    }
    if run("slow") {
        slow_connections().await?;
    }
    Ok(())
}
