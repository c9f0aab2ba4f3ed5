//! `paperlink-mock`: the Paperlink API mock as a standalone server.
//!
//! ```text
//! cargo run -p paperlink-mock -- --port 12111
//! cargo run -p paperlink-mock -- backup --data state.sqlite --to copy.sqlite
//! ```

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use paperlink_mock::standalone::{Limits, Server};
use paperlink_mock::{KeyMode, PaperlinkMock, RateLimitPolicy, parse_seed_file};
use secrecy::ExposeSecret;

/// A faithful, stateful mock of the Paperlink public API.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Tool>,
    /// Address to bind. Any address other than loopback needs --admin-token, or
    /// --unprotected-control-plane to give everyone who can reach it the control plane.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Serve /__admin without a token on a non-loopback --host: anyone who can reach the
    /// server can then create keys, reset the state and move the clock.
    #[arg(long)]
    unprotected_control_plane: bool,
    /// Port to bind (0 picks a free port).
    #[arg(long, default_value_t = 12111)]
    port: u16,
    /// Seed products from a JSON file (an array of products in the API's spelling, each with
    /// optional "mode" and "team").
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Requests allowed per key per window (at least 1; --no-rate-limit turns the limit off).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    rate_limit: u32,
    /// The rate-limit window in seconds (1 to 31622400, 366 days).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=MAX_PERIOD_SECS))]
    rate_window: u64,
    /// Turn rate limiting off.
    #[arg(long)]
    no_rate_limit: bool,
    /// Seconds of mock time a revoked key keeps working (0 to 31622400, 366 days).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=MAX_PERIOD_SECS))]
    revocation_delay: u64,
    /// Reproducible ids and tokens from this number.
    #[arg(long)]
    rng_seed: Option<u64>,
    /// Journal lines kept for GET /__admin/requests (a ring buffer).
    #[arg(long, default_value_t = paperlink_mock::bounds::DEFAULT_JOURNAL_CAPACITY)]
    journal_capacity: usize,
    /// Keep keys (as hashes), products and idempotency records in this SQLite database; every
    /// write is committed before it is acknowledged, and a restart resumes from it. The file
    /// is locked while the server runs.
    #[arg(long, value_name = "PATH")]
    data: Option<PathBuf>,
    /// Fill a new --data database from a data file of the earlier JSON-lines format (read
    /// only; refused if --data already holds state).
    #[arg(long, value_name = "OLD", requires = "data")]
    import_jsonl: Option<PathBuf>,
    /// Seconds a client has to send a request's head, from when its connection opens or its
    /// previous response was sent (silent and idle connections are closed after it).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
    /// Seconds a client has to send a request's body once its head is in.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_timeout: u64,
    /// Seconds a write to a client may wait for the client to read (a client that stops
    /// reading its answers is disconnected after it).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    write_timeout: u64,
    /// Connections served at once (more wait in the listen queue).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=65536))]
    max_connections: u64,
    /// On SIGTERM or Ctrl-C, seconds the requests in flight may take before the server exits
    /// anyway.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    shutdown_timeout: u64,
    /// Require `Authorization: Bearer <token>` on /__admin.
    #[arg(long, env = "PAPERLINK_MOCK_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
}

/// What the binary does besides serving.
#[derive(Debug, Subcommand)]
enum Tool {
    /// Copy a data file safely, while a server may be writing to it (for a CI cache or a
    /// fixture): one consistent snapshot, in a single new file that starts a server as it is.
    Backup {
        /// The data file (a server's --data).
        #[arg(long, value_name = "PATH")]
        data: PathBuf,
        /// The copy to create (never overwritten).
        #[arg(long, value_name = "COPY")]
        to: PathBuf,
    },
}

fn main() -> ExitCode {
    // Log lines are written by a thread of their own, through a buffer that it flushes
    // whenever it has caught up: request handlers do not wait on stderr, and under load many
    // lines go out in one write. No line is dropped: when 16,384 lines wait (a few MiB), the
    // next logger waits for room, so memory stays bounded however slow stderr is.
    let (writer, flushed) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(16_384)
        .lossy(false)
        .thread_name("paperlink-mock-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(writer)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut args = Args::parse();
    let outcome = match args.command.take() {
        Some(Tool::Backup { data, to }) => paperlink_mock::backup_data_file(&data, &to)
            .map(|()| println!("copied {} to {}", data.display(), to.display()))
            .map_err(|e| report(&e)),
        None => match tokio::runtime::Runtime::new() {
            Ok(runtime) => {
                let outcome = runtime.block_on(run(args));
                // Handlers still running past the shutdown deadline are not waited for long:
                // the data file is closed by then, so they end at once.
                runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
                outcome
            }
            Err(error) => Err(format!("could not start the runtime: {error}")),
        },
    };
    // Every line logged so far, the runtime's last included, is written before the process
    // ends.
    drop(flushed);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("paperlink-mock: {message}");
            ExitCode::FAILURE
        }
    }
}

/// How long the runtime's shutdown waits for handlers still running after `serve` returns.
const RUNTIME_SHUTDOWN: Duration = Duration::from_millis(500);

/// The longest rate window and revocation delay, in seconds.
const MAX_PERIOD_SECS: u64 = paperlink_mock::bounds::MAX_PERIOD.as_secs();

/// A message and its sources, each once.
fn report(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

async fn run(args: Args) -> Result<(), String> {
    if !args.host.is_loopback() && args.admin_token.is_none() && !args.unprotected_control_plane {
        return Err(format!(
            "--host {} serves the control plane (/__admin: create keys, reset, move the clock) \
             to the whole network; set --admin-token (or PAPERLINK_MOCK_ADMIN_TOKEN), or pass \
             --unprotected-control-plane to accept that",
            args.host
        ));
    }
    // Before the data file is written: a file-size limit fails the write (503) rather than
    // killing the process.
    #[cfg(unix)]
    let _file_size_signal = ignore_file_size_signal();
    let mut builder = PaperlinkMock::builder()
        .system_clock()
        .revocation_delay(Duration::from_secs(args.revocation_delay))
        .journal_capacity(args.journal_capacity);
    builder = if args.no_rate_limit {
        builder.no_rate_limit()
    } else {
        builder.rate_limit(RateLimitPolicy::new(
            args.rate_limit,
            Duration::from_secs(args.rate_window),
        ))
    };
    if let Some(seed) = args.rng_seed {
        builder = builder.seed(seed);
    }
    if let Some(path) = &args.data {
        builder = builder.data_file(path);
    }
    if let Some(path) = &args.import_jsonl {
        builder = builder.import_jsonl(path);
    }
    if let Some(token) = &args.admin_token {
        builder = builder.admin_token(token.clone());
    }
    if let Some(path) = &args.seed {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("could not read {}: {e}", path.display()))?;
        for product in parse_seed_file(&text).map_err(|e| report(&e))? {
            builder = builder.product(KeyMode::Test, product);
        }
    }
    let mut limits = Limits::default();
    limits.header_timeout = Duration::from_secs(args.header_timeout);
    limits.body_timeout = Duration::from_secs(args.body_timeout);
    limits.write_timeout = Duration::from_secs(args.write_timeout);
    limits.max_connections = usize::try_from(args.max_connections).unwrap_or(usize::MAX);
    limits.shutdown_timeout = Duration::from_secs(args.shutdown_timeout);
    let server = Server::bind(builder, SocketAddr::new(args.host, args.port))
        .await
        .and_then(|server| server.limits(limits))
        .map_err(|e| report(&e))?;
    let shutdown = shutdown_signal();
    tracing::info!(url = %server.base_url(), "listening");
    // A closed stdout (`paperlink-mock | head -1`) must not stop the server.
    if let Err(error) = banner(&server, &args) {
        tracing::warn!(%error, "could not print the banner; serving anyway");
    }
    server.serve(shutdown).await.map_err(|e| report(&e))?;
    tracing::info!("stopped");
    Ok(())
}

/// The URL, the control plane and the seeded keys' tokens (the only place they are shown).
fn banner(server: &Server, args: &Args) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "paperlink-mock listening on {}", server.base_url())?;
    writeln!(out, "control plane: http://{}/__admin", server.local_addr())?;
    writeln!(
        out,
        "API Keys page: http://{}/__admin/ui",
        server.local_addr()
    )?;
    if server.seeded_keys().is_empty() {
        match (&args.data, &args.import_jsonl) {
            (Some(data), Some(old)) => writeln!(
                out,
                "state imported from {} into {} (tokens were shown when it was created)",
                old.display(),
                data.display()
            )?,
            (Some(data), None) => writeln!(
                out,
                "state restored from {} (tokens were shown when it was created)",
                data.display()
            )?,
            (None, _) => {}
        }
    } else {
        writeln!(out, "seeded keys (team \"default\"):")?;
    }
    for key in server.seeded_keys() {
        writeln!(
            out,
            "  {:<5} {:<10} {}",
            format!("{:?}", key.info.mode).to_lowercase(),
            format!("{:?}", key.info.scope),
            key.token.expose_secret()
        )?;
    }
    out.flush()
}

/// Replaces SIGXFSZ's default action (ending the process) with a handler that does nothing,
/// for as long as the returned stream lives: a write past a file-size limit (`ulimit -f`)
/// then fails with EFBIG, as one on a full disk fails with ENOSPC, and the client gets 503.
#[cfg(unix)]
fn ignore_file_size_signal() -> Option<tokio::signal::unix::Signal> {
    use tokio::signal::unix::{SignalKind, signal};
    signal(SignalKind::from_raw(libc::SIGXFSZ))
        .inspect_err(|error| tracing::warn!(%error, "could not catch SIGXFSZ"))
        .ok()
}

/// Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the future is
/// first polled, so a signal that comes as soon as the banner is out stops the server cleanly.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |stream: Option<tokio::signal::unix::Signal>| async move {
                match stream {
                    Some(mut stream) => {
                        stream.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {}
                () = wait(terminate) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}
