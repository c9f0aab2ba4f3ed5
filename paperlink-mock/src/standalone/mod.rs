//! The standalone front door: the same core behind a lean hyper server (the `server` feature,
//! on by default), with [`Limits`] for slow, silent and too many clients. This is what the
//! `paperlink-mock` binary runs; [`Server::spawn`] embeds it in a test or a tool.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # paperlink_sdk::install_crypto_provider();
//! use paperlink_mock::{PaperlinkMock, standalone::Server};
//!
//! let server = Server::bind(PaperlinkMock::builder(), "127.0.0.1:0".parse()?).await?;
//! let base_url = server.base_url();
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let running = tokio::spawn(server.serve(async { let _ = stopped.await; }));
//!
//! let spec = reqwest::get(format!("{base_url}/openapi.json")).await?;
//! assert_eq!(spec.status(), 200);
//!
//! let _ = stop.send(());
//! running.await??;
//! # Ok(())
//! # }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use secrecy::SecretString;

use crate::builder::{Closer, NewKey, PaperlinkMockBuilder, find_seeded};
use crate::engine::edge::Hosts;
use crate::engine::journal::journal_text;
use crate::engine::{MockCore, MockRequest, MockResponse};
use crate::error::MockError;
use crate::model::{API_PREFIX, KeyMode, KeyScope, MAX_BODY};
use crate::standalone::write_deadline::WriteDeadline;
use crate::ui::Ui;

mod write_deadline;

/// How the server protects itself from slow, silent or too many clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// How long a client has to send a request's head (its line and headers), counted from
    /// when the connection opens or its previous response was sent. A silent connection,
    /// and a kept-alive one left idle, is closed after it. Default 10 s.
    pub header_timeout: Duration,
    /// How long a client has to send a request's body once its head is in; a late body gets
    /// 408 and the connection is closed. Default 30 s.
    pub body_timeout: Duration,
    /// How long a write to a client may wait for the client to read: a client that stops
    /// reading its answers has its connection closed after it, so it holds neither a
    /// connection slot nor an unsent answer. Default 30 s.
    pub write_timeout: Duration,
    /// Connections served at once; more wait in the listen queue until one closes (so the
    /// server never runs out of file descriptors). Default 512.
    pub max_connections: usize,
    /// On shutdown, how long requests in flight may take to finish before the server exits
    /// anyway. Default 10 s.
    pub shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_connections: 512,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl Limits {
    /// The longest timeout accepted (one hour).
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
    /// The most connections accepted.
    pub const MAX_CONNECTIONS: usize = 65_536;

    /// Checks each limit against its range.
    pub fn check(&self) -> Result<(), MockError> {
        let timeouts = [
            ("the header timeout", self.header_timeout),
            ("the body timeout", self.body_timeout),
            ("the write timeout", self.write_timeout),
            ("the shutdown timeout", self.shutdown_timeout),
        ];
        for (setting, value) in timeouts {
            if value.is_zero() || value > Self::MAX_TIMEOUT {
                return Err(MockError::OutOfRange {
                    setting,
                    problem: format!("must be from 1 ms to {} s", Self::MAX_TIMEOUT.as_secs()),
                });
            }
        }
        if self.max_connections == 0 || self.max_connections > Self::MAX_CONNECTIONS {
            return Err(MockError::OutOfRange {
                setting: "the connection cap",
                problem: format!("must be from 1 to {}", Self::MAX_CONNECTIONS),
            });
        }
        Ok(())
    }
}

/// A bound, not yet serving, standalone mock.
pub struct Server {
    core: Arc<MockCore>,
    seeded: Vec<NewKey>,
    /// Closes the data file at the shutdown deadline.
    closer: Option<Closer>,
    listener: TcpListener,
    addr: SocketAddr,
    limits: Limits,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration (seed products, data file, limits) is not usable.
    #[error(transparent)]
    Config(#[from] MockError),
    /// The socket could not be bound.
    #[error("could not bind {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl Server {
    /// Builds the mock and binds `addr` (port 0 picks a free port), with the default
    /// [`Limits`].
    pub async fn bind(
        builder: PaperlinkMockBuilder,
        addr: SocketAddr,
    ) -> Result<Self, ServerError> {
        if !addr.ip().is_loopback() && builder.admin_token_chars().is_some_and(|n| n < 16) {
            return Err(ServerError::Config(MockError::OutOfRange {
                setting: "the admin token",
                problem: "must be at least 16 characters on an address other than loopback"
                    .to_owned(),
            }));
        }
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        // Bound first: a start that cannot bind leaves no data file behind.
        let (core, seeded, closer) = builder.build_core_closable()?;
        let core = core
            .with_hosts(Hosts::for_bind(addr.ip(), &builder.allowed_hosts))
            .with_page(Box::new(Ui::new(addr)));
        Ok(Self {
            core: Arc::new(core),
            seeded,
            closer,
            listener,
            addr,
            limits: Limits::default(),
        })
    }

    /// Serves with these limits (checked against their ranges).
    pub fn limits(mut self, limits: Limits) -> Result<Self, ServerError> {
        limits.check()?;
        self.limits = limits;
        Ok(self)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/api/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}{API_PREFIX}", self.addr)
    }

    /// The four seeded keys, with their tokens.
    pub fn seeded_keys(&self) -> &[NewKey] {
        &self.seeded
    }

    /// The shared core.
    pub fn core(&self) -> Arc<MockCore> {
        self.core.clone()
    }

    /// Serves on a task of its own until the returned handle is shut down or dropped: for a
    /// test or a tool that embeds the server.
    pub fn spawn(self) -> Running {
        let (base_url, addr, core) = (self.base_url(), self.addr, self.core());
        let seeded = self.seeded.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(self.serve(async {
            let _ = stopped.await;
        }));
        Running {
            base_url,
            addr,
            core,
            seeded,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Serves until `shutdown` completes, then stops accepting, lets the requests in flight
    /// finish for up to [`Limits::shutdown_timeout`], and returns (dropping any connection
    /// still open). With a data file, it is closed then: a write still waiting (for a lock
    /// another program holds on the file) is refused at once rather than after the wait.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let Self {
            core,
            listener,
            limits,
            closer,
            ..
        } = self;
        let slots = Arc::new(Semaphore::new(limits.max_connections));
        let graceful = GracefulShutdown::new();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_buf_size(64 * 1024);
        tokio::pin!(shutdown);
        loop {
            // A slot first: past the cap, connections wait in the kernel's listen queue.
            let slot = tokio::select! {
                () = &mut shutdown => break,
                slot = Arc::clone(&slots).acquire_owned() => slot,
            };
            let Ok(slot) = slot else { break };
            let (stream, _) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of descriptors, or a connection reset before it was
                        // accepted: wait a moment rather than spin.
                        tracing::warn!(%error, "could not accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let core = Arc::clone(&core);
            let service = hyper::service::service_fn(move |request| {
                let core = Arc::clone(&core);
                async move { Ok::<_, Infallible>(serve_request(core, limits, request).await) }
            });
            let stream = WriteDeadline::new(stream, limits.write_timeout);
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                let _slot = slot;
                let _ = connection.await;
            });
        }
        drop(listener);
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(limits.shutdown_timeout) => {
                tracing::warn!(
                    timeout_ms = limits.shutdown_timeout.as_millis() as u64,
                    "requests still in flight at the shutdown deadline; stopping anyway"
                );
            }
        }
        // Writes still waiting end now (refused), so the handlers holding the core return
        // and the runtime's shutdown does not wait for them.
        if let Some(closer) = closer {
            #[cfg(feature = "durable")]
            closer.close();
            #[cfg(not(feature = "durable"))]
            match closer {}
        }
        Ok(())
    }
}

/// A standalone mock serving on a task of its own ([`Server::spawn`]). Dropping it stops the
/// server; [`Running::shutdown`] stops it and waits until it has.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # paperlink_sdk::install_crypto_provider();
/// use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock, standalone::Server};
/// use secrecy::ExposeSecret;
///
/// let mock = Server::bind(PaperlinkMock::builder(), "127.0.0.1:0".parse()?).await?.spawn();
/// let token = mock.token(KeyMode::Test, KeyScope::ReadOnly).ok_or("a seeded key")?;
/// let listed = reqwest::Client::new()
///     .get(format!("{}/products", mock.base_url()))
///     .bearer_auth(token.expose_secret())
///     .send()
///     .await?;
/// assert_eq!(listed.status(), 200);
/// mock.shutdown().await?;
/// # Ok(())
/// # }
/// ```
pub struct Running {
    base_url: String,
    addr: SocketAddr,
    core: Arc<MockCore>,
    seeded: Vec<NewKey>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<io::Result<()>>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Running {
    /// `http://ADDR/api/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared core (control-plane calls without HTTP).
    pub fn core(&self) -> &Arc<MockCore> {
        &self.core
    }

    /// The token of a seeded key; `None` when the state was restored from a data file (the
    /// tokens were shown when it was created).
    pub fn token(&self, mode: KeyMode, scope: KeyScope) -> Option<SecretString> {
        find_seeded(&self.seeded, mode, scope).map(|key| key.token.clone())
    }

    /// Stops accepting, lets requests in flight finish (up to the shutdown timeout), and
    /// waits until the server has stopped.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

type Body = BoxBody<Bytes, io::Error>;

/// Reads one request off the socket (its body within the body timeout and the size limit),
/// hands it to the core, and writes the answer.
async fn serve_request(
    core: Arc<MockCore>,
    limits: Limits,
    request: Request<Incoming>,
) -> Response<Body> {
    let started = Instant::now();
    let core_waits = core.waits_for_disk();
    let (parts, body) = request.into_parts();
    let mut incoming = MockRequest::new(parts.method, parts.uri.path());
    incoming.query = parts.uri.query().map(str::to_owned);
    incoming.headers = parts.headers;
    let read = tokio::time::timeout(
        limits.body_timeout,
        Limited::new(body, MAX_BODY + 1).collect(),
    )
    .await;
    match read {
        Ok(Ok(collected)) => incoming.body = collected.to_bytes().to_vec(),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            incoming.oversized = true;
        }
        // The client broke the body off: nobody is left to answer.
        Ok(Err(_)) => {
            return closing(MockResponse::error(
                400,
                "bad_request",
                "the request body could not be read",
            ));
        }
        Err(_) => {
            return closing(MockResponse::error(
                408,
                "request_timeout",
                "the request body was not received in time",
            ));
        }
    }
    let answer = move |incoming: &MockRequest| core.handle(incoming);
    let (incoming, response) = if core_waits && incoming.method != Method::GET {
        // A write waits for the data file's commit: on a blocking thread, so that the
        // workers go on serving other requests meanwhile.
        let (method, path) = (incoming.method.clone(), incoming.path.clone());
        match tokio::task::spawn_blocking(move || {
            let response = answer(&incoming);
            (incoming, response)
        })
        .await
        {
            Ok(handled) => handled,
            Err(error) => {
                tracing::error!(%error, %method, %path, "a request's handling failed");
                return into_http(MockResponse::error(
                    500,
                    "internal_error",
                    "the mock failed while handling this request",
                ));
            }
        }
    } else {
        let response = answer(&incoming);
        (incoming, response)
    };
    if let Some(delay) = response.delay {
        tokio::time::sleep(delay).await;
    }
    tracing::info!(
        method = %incoming.method,
        path = %journal_text(&incoming.path),
        status = response.status,
        key = %response.key_prefix.as_deref().unwrap_or("-"),
        request_id = %response.header_value("x-request-id").unwrap_or("-"),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    into_http(response)
}

/// An answer after which the connection is closed (its body was not read to the end).
fn closing(response: MockResponse) -> Response<Body> {
    let mut response = into_http(response);
    response
        .headers_mut()
        .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn into_http(mut response: MockResponse) -> Response<Body> {
    let headers = response.take_http_headers();
    let body: Body = if response.drop_connection {
        // The request was applied; break the connection mid-response so the client never
        // learns the outcome (what an idempotency key is for).
        let broken = futures_util::stream::once(async {
            Err::<Frame<Bytes>, io::Error>(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "injected connection drop",
            ))
        });
        BodyExt::boxed(StreamBody::new(broken))
    } else {
        BodyExt::boxed(Full::new(response.body).map_err(|never| match never {}))
    };
    let mut out = Response::new(body);
    *out.status_mut() =
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    out.headers_mut().extend(headers);
    out
}
