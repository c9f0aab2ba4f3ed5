//! Loopback servers that behave unlike the mock: a proxy in front of it that changes answers
//! or cuts connections, one that answers garbage, one that closes every connection, one that
//! redirects. Each binds 127.0.0.1:0 and stops when dropped.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What the proxy does with a request.
pub enum Action {
    /// Forwards it, and passes the answer through the rewrite.
    Forward,
    /// Closes the connection without sending it on.
    Close,
    /// Sends it on, then closes the connection instead of answering (the answer is lost).
    ForwardThenClose,
    /// Never answers (until the client gives up on the connection).
    Hold,
}

/// Chooses what to do with a request: method, path, body.
pub type Decide = dyn Fn(&hyper::Method, &str, &[u8]) -> Action + Send + Sync;
/// Changes an answer: method, path, status, body.
pub type Rewrite = dyn Fn(&hyper::Method, &str, &mut u16, &mut Vec<u8>) + Send + Sync;

/// A server task, stopped when dropped.
pub struct Serving {
    pub addr: std::net::SocketAddr,
    task: JoinHandle<()>,
}

impl Serving {
    /// `http://ADDR/api/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port")
}

/// A proxy in front of `upstream` (`http://ADDR`).
pub async fn proxy(upstream: String, decide: Arc<Decide>, rewrite: Arc<Rewrite>) -> Serving {
    let listener = listener().await;
    let addr = listener.local_addr().expect("an address");
    let client = reqwest::Client::new();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (client, upstream, decide, rewrite) = (
                client.clone(),
                upstream.clone(),
                decide.clone(),
                rewrite.clone(),
            );
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let (client, upstream, decide, rewrite) = (
                    client.clone(),
                    upstream.clone(),
                    decide.clone(),
                    rewrite.clone(),
                );
                async move { forward(&client, &upstream, &*decide, &*rewrite, request).await }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Serving { addr, task }
}

/// The proxy's handling of one request; an `Err` makes hyper close the connection unanswered.
async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    decide: &Decide,
    rewrite: &Rewrite,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let path = parts.uri.path().to_owned();
    let action = decide(&parts.method, &path, &body);
    match action {
        Action::Close => return Err(std::io::Error::other("closed by the test proxy")),
        Action::Hold => std::future::pending::<()>().await,
        Action::Forward | Action::ForwardThenClose => {}
    }
    let target = match parts.uri.query() {
        Some(query) => format!("{upstream}{path}?{query}"),
        None => format!("{upstream}{path}"),
    };
    let mut sent = client
        .request(parts.method.clone(), target)
        .body(body.to_vec());
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection") {
            sent = sent.header(name, value);
        }
    }
    let answer = sent.send().await.map_err(std::io::Error::other)?;
    if matches!(action, Action::ForwardThenClose) {
        return Err(std::io::Error::other("answer dropped by the test proxy"));
    }
    let mut status = answer.status().as_u16();
    let headers = answer.headers().clone();
    let mut body = answer
        .bytes()
        .await
        .map_err(std::io::Error::other)?
        .to_vec();
    rewrite(&parts.method, &path, &mut status, &mut body);
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = hyper::StatusCode::from_u16(status).map_err(std::io::Error::other)?;
    for (name, value) in &headers {
        if !matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            response.headers_mut().append(name, value.clone());
        }
    }
    Ok(response)
}

/// Answers every connection with `reply` (raw bytes), then closes it.
pub async fn raw(reply: impl Into<Vec<u8>>) -> Serving {
    let reply: Arc<[u8]> = reply.into().into();
    let listener = listener().await;
    let addr = listener.local_addr().expect("an address");
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buffer = [0_u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let _ = stream.write_all(&reply).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Serving { addr, task }
}

/// Closes every connection as soon as it is accepted.
pub async fn closing() -> Serving {
    let listener = listener().await;
    let addr = listener.local_addr().expect("an address");
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            drop(stream);
        }
    });
    Serving { addr, task }
}
