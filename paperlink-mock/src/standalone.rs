//! The standalone front door: the same core behind a lean axum server (the `server` feature,
//! on by default). This is what the `paperlink-mock` binary runs.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let _ = rustls::crypto::ring::default_provider().install_default();
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

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use tokio::net::TcpListener;

use crate::config::{MockError, PaperlinkMockBuilder, SeededKey};
use crate::core::{API_PREFIX, MockCore, MockRequest, MockResponse};
use crate::wire::MAX_BODY;

/// A bound, not yet serving, standalone mock.
pub struct Server {
    core: Arc<MockCore>,
    seeded: Vec<SeededKey>,
    listener: TcpListener,
    addr: SocketAddr,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration (seed products, data file) is not usable.
    #[error(transparent)]
    Config(#[from] MockError),
    /// The socket could not be bound.
    #[error("could not bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl Server {
    /// Builds the mock and binds `addr` (port 0 picks a free port).
    pub async fn bind(
        builder: PaperlinkMockBuilder,
        addr: SocketAddr,
    ) -> Result<Self, ServerError> {
        let (core, seeded) = builder.build_core()?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        Ok(Self {
            core: Arc::new(core),
            seeded,
            listener,
            addr,
        })
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
    pub fn seeded_keys(&self) -> &[SeededKey] {
        &self.seeded
    }

    /// The shared core.
    pub fn core(&self) -> Arc<MockCore> {
        self.core.clone()
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let app = Router::new().fallback(handle).with_state(self.core);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

async fn handle(State(core): State<Arc<MockCore>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let mut incoming = MockRequest::new(parts.method, parts.uri.path());
    incoming.query = parts.uri.query().map(str::to_owned);
    incoming.headers = parts.headers;
    match axum::body::to_bytes(body, MAX_BODY + 1).await {
        Ok(bytes) => incoming.body = bytes.to_vec(),
        Err(_) => incoming.oversized = true,
    }
    let (incoming, response) = if core.waits_for_disk() && incoming.method != Method::GET {
        // A write waits for the data file's fsync: on a blocking thread, so that the workers
        // go on serving other requests meanwhile.
        let (method, path) = (incoming.method.clone(), incoming.path.clone());
        match tokio::task::spawn_blocking(move || {
            let response = core.handle(&incoming);
            (incoming, response)
        })
        .await
        {
            Ok(handled) => handled,
            Err(error) => {
                tracing::error!(%error, %method, %path, "a request's handling failed");
                return into_axum(MockResponse::error(
                    500,
                    "internal_error",
                    "the mock failed while handling this request",
                ));
            }
        }
    } else {
        let response = core.handle(&incoming);
        (incoming, response)
    };
    if let Some(delay) = response.delay {
        tokio::time::sleep(delay).await;
    }
    tracing::info!(
        method = %incoming.method,
        path = %incoming.path,
        status = response.status,
        key = %response.key_prefix.as_deref().unwrap_or("-"),
        request_id = %response.header_value("x-request-id").unwrap_or("-"),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    into_axum(response)
}

fn into_axum(mut response: MockResponse) -> Response {
    let headers = response.take_http_headers();
    let body = if response.drop_connection {
        // The request was applied; break the connection mid-response so the client never
        // learns the outcome (what an idempotency key is for).
        let broken = futures_util::stream::once(async {
            Err::<Bytes, io::Error>(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "injected connection drop",
            ))
        });
        Body::from_stream(broken)
    } else {
        Body::from(response.body)
    };
    let mut out = Response::new(body);
    *out.status_mut() =
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    out.headers_mut().extend(headers);
    out
}
