//! [`Client`]: a cheap-to-clone handle, the resource accessors, and the one private
//! send/decode/retry path every call goes through.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER, USER_AGENT};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::{DeserializeOwned, Error as _};
use tokio::time::Instant;
use tracing::Instrument;
use url::Url;

use crate::auth::Mode;
use crate::error::{ApiError, ConfigError, Error, Result, TransportError, redact};
use crate::rate_limit::RateLimit;
use crate::retry::{RetryConfig, is_retryable, parse_retry_after};

/// The Paperlink API client. `Clone` is cheap (an `Arc`); share one per key.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use paperlink_sdk::{ApiKey, Client};
/// use paperlink_mock::{KeyScope, KeyMode, PaperlinkMock};
///
/// let mock = PaperlinkMock::start().await;
/// let key = ApiKey::from_secret(mock.token(KeyMode::Test, KeyScope::ReadWrite))?;
/// let client = Client::builder().api_key(key).base_url(mock.base_url()).build()?;
///
/// let page = client.products().list(Default::default()).await?;
/// assert!(page.items.is_empty());
/// assert_eq!(client.rate_limit().map(|r| r.remaining), Some(59));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: Url,
    /// `Bearer <token>`, marked sensitive.
    pub(crate) authorization: HeaderValue,
    pub(crate) user_agent: HeaderValue,
    pub(crate) mode: Mode,
    pub(crate) key_hint: String,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: RetryConfig,
    pub(crate) max_response_bytes: u64,
    pub(crate) sleep: Option<Sleep>,
    pub(crate) last_rate_limit: Mutex<Option<RateLimit>>,
}

/// The function the client waits with between attempts (see
/// [`ClientBuilder::sleep_with`](crate::ClientBuilder::sleep_with)). Built from std types only,
/// so a test tool can provide one without depending on this crate.
pub(crate) type Sleep =
    Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// What one call has spent of its retry deadline.
///
/// Attempts count in real time; waits count as what was asked of the sleep function. With
/// tokio's sleep the two agree; with a sleep that moves a mock's clock instead of waiting,
/// a 60 s `Retry-After` still spends 60 s of the deadline.
struct Budget {
    deadline: Option<Duration>,
    started: Instant,
    /// Real time spent inside the sleep function.
    slept_real: Duration,
    /// Time asked of the sleep function.
    slept: Duration,
}

impl Budget {
    fn new(deadline: Option<Duration>) -> Self {
        Self {
            deadline,
            started: Instant::now(),
            slept_real: Duration::ZERO,
            slept: Duration::ZERO,
        }
    }

    fn spent(&self) -> Duration {
        self.started
            .elapsed()
            .saturating_sub(self.slept_real)
            .saturating_add(self.slept)
    }

    /// What is left of the deadline (`None`: no deadline).
    fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_sub(self.spent()))
    }

    /// Whether a wait of `delay` would end at or past the deadline.
    fn cannot_wait(&self, delay: Duration) -> bool {
        self.remaining().is_some_and(|left| delay >= left)
    }

    async fn sleep(&mut self, sleep: Option<&Sleep>, delay: Duration) {
        let before = Instant::now();
        match sleep {
            Some(sleep) => sleep(delay).await,
            None => tokio::time::sleep(delay).await,
        }
        self.slept_real = self.slept_real.saturating_add(before.elapsed());
        self.slept = self.slept.saturating_add(delay);
    }
}

impl Client {
    pub(crate) fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The key's mode (Live or Test).
    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// The key as the dashboard shows it (`pk_live_AbC…`). Safe to log.
    pub fn key_hint(&self) -> &str {
        &self.inner.key_hint
    }

    /// The base URL every path is appended to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The rate-limit headers of the most recent response that carried them.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner
            .last_rate_limit
            .lock()
            .ok()
            .and_then(|guard| *guard)
    }

    /// This client as a read-only handle: its write methods do not exist, so code holding a
    /// Read-only key cannot compile a write.
    pub fn read_only(&self) -> ReadOnlyClient {
        ReadOnlyClient {
            client: self.clone(),
        }
    }

    fn url(&self, segments: &[String]) -> Result<Url> {
        let mut url = self.inner.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| ConfigError::new("the base URL cannot have paths appended"))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Sends a call with retries, and decodes a `{"data": T}` success body.
    pub(crate) async fn call<T: DeserializeOwned>(&self, call: Call) -> Result<Reply<T>> {
        let mut url = self.url(&call.segments)?;
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        let idempotency_key = call
            .idempotency_key
            .as_deref()
            .map(|key| {
                check_idempotency_key(key)?;
                HeaderValue::from_str(key).map_err(|_| Error::InvalidIdempotencyKey {
                    reason: "must be 1 to 255 visible ASCII characters",
                })
            })
            .transpose()?;
        let retry = &self.inner.retry;
        let mut budget = Budget::new(retry.deadline());
        let mut attempt = 1;
        loop {
            let span = tracing::info_span!(
                "paperlink.request",
                method = %call.method,
                path = url.path(),
                attempt,
                status = tracing::field::Empty,
                request_id = tracing::field::Empty,
            );
            // The deadline bounds the attempt in flight too, with or without a timeout.
            let timeout = match (self.inner.timeout, budget.remaining()) {
                (Some(t), Some(left)) => Some(t.min(left)),
                (timeout, left) => timeout.or(left),
            };
            let error = match self
                .attempt(&call, &url, idempotency_key.as_ref(), timeout)
                .instrument(span.clone())
                .await
            {
                Ok(reply) => return Ok(reply),
                Err(error) => error,
            };
            if attempt >= retry.attempts()
                || !is_retryable(&error, &call.method, idempotency_key.is_some())
            {
                return Err(error);
            }
            let Some(delay) = retry.delay(attempt, error.retry_after(), fastrand::f64()) else {
                return Err(error);
            };
            if budget.cannot_wait(delay) {
                return Err(error);
            }
            span.in_scope(
                || tracing::debug!(error = %error, delay_ms = delay.as_millis() as u64, "retrying"),
            );
            budget.sleep(self.inner.sleep.as_ref(), delay).await;
            attempt += 1;
        }
    }

    /// A call whose success must carry a body, with the response's metadata.
    pub(crate) async fn call_for_detailed<T: DeserializeOwned>(
        &self,
        call: Call,
    ) -> Result<Detailed<T>> {
        let Reply { data, meta } = self.call::<T>(call).await?;
        match data {
            Some(value) => Ok(Detailed {
                value,
                meta: meta.into(),
            }),
            None => Err(meta.empty_body_error()),
        }
    }

    /// A call whose success must carry a body.
    pub(crate) async fn call_for_data<T: DeserializeOwned>(&self, call: Call) -> Result<T> {
        Ok(self.call_for_detailed(call).await?.value)
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        call: &Call,
        url: &Url,
        idempotency_key: Option<&HeaderValue>,
        timeout: Option<Duration>,
    ) -> Result<Reply<T>> {
        let inner = &self.inner;
        let mut request = inner
            .http
            .request(call.method.clone(), url.clone())
            .header(AUTHORIZATION, inner.authorization.clone())
            .header(USER_AGENT, inner.user_agent.clone())
            .header(ACCEPT, "application/json");
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key.clone());
        }
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        let foreign = !same_origin(response.url(), &inner.base_url);
        if status.is_redirection() || foreign {
            // Nothing from another origin is taken as the API's answer.
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            return Err(Error::Redirected {
                status: status.as_u16(),
                location: location
                    .or_else(|| foreign.then(|| response.url().origin().ascii_serialization())),
            });
        }
        let headers = response.headers();
        let request_id = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let rate_limit = RateLimit::from_headers(headers);
        let replayed = headers
            .get("idempotent-replayed")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let span = tracing::Span::current();
        span.record("status", status.as_u16());
        if let Some(id) = &request_id {
            span.record("request_id", id.as_str());
        }
        if let Some(limit) = rate_limit
            && let Ok(mut last) = inner.last_rate_limit.lock()
        {
            *last = Some(limit);
        }
        let limit = inner.max_response_bytes;
        let too_large = |request_id: Option<String>| Error::ResponseTooLarge {
            limit,
            status: status.as_u16(),
            request_id,
        };
        let announced = response.content_length().unwrap_or(0);
        if announced > limit {
            return Err(too_large(request_id));
        }
        let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large(request_id));
            }
            body.extend_from_slice(&chunk);
        }
        let meta = Meta {
            status: status.as_u16(),
            request_id,
            rate_limit,
            replayed,
        };
        tracing::debug!(status = status.as_u16(), bytes = body.len(), "response");
        if !status.is_success() {
            return Err(Error::from_api(ApiError::from_response(
                meta.status,
                &body,
                meta.request_id,
                retry_after,
                rate_limit,
            )));
        }
        if status == StatusCode::NO_CONTENT || body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Reply { data: None, meta });
        }
        match serde_json::from_slice::<Envelope<T>>(&body) {
            Ok(envelope) => Ok(Reply {
                data: envelope.data,
                meta,
            }),
            Err(source) => Err(meta.decode_error(&body, source)),
        }
    }
}

/// Whether two URLs have the same scheme, host and port.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn transport(error: reqwest::Error) -> Error {
    if error.is_timeout() {
        Error::Timeout(TransportError::new(error))
    } else {
        Error::Transport(TransportError::new(error))
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("key", &self.inner.key_hint)
            .field("mode", &self.inner.mode)
            .field("base_url", &self.inner.base_url.as_str())
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// A client for a Read-only key: the same calls as [`Client`] minus every write, checked at
/// compile time.
///
/// ```compile_fail
/// # async fn f(client: paperlink_sdk::Client, new: paperlink_sdk::CreateProduct) {
/// let reports = client.read_only();
/// reports.products().create(new).await; // no such method on a read-only handle
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ReadOnlyClient {
    client: Client,
}

impl ReadOnlyClient {
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The key's mode.
    pub fn mode(&self) -> Mode {
        self.client.mode()
    }

    /// The rate-limit headers of the most recent response.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.client.rate_limit()
    }

    /// The key as the dashboard shows it (`pk_live_AbC…`). Safe to log.
    pub fn key_hint(&self) -> &str {
        self.client.key_hint()
    }

    /// The base URL every path is appended to.
    pub fn base_url(&self) -> &Url {
        self.client.base_url()
    }
}

/// `{"data": T}`; `data` may be absent or null on an empty success.
#[derive(serde::Deserialize)]
pub(crate) struct Envelope<T> {
    data: Option<T>,
}

/// One API call, before it is sent.
pub(crate) struct Call {
    method: Method,
    segments: Vec<String>,
    query: Vec<(&'static str, String)>,
    /// Encoded once; each attempt shares the bytes.
    body: Option<Bytes>,
    idempotency_key: Option<String>,
}

impl Call {
    pub(crate) fn new(method: Method, segments: impl IntoIterator<Item = String>) -> Self {
        Self {
            method,
            segments: segments.into_iter().collect(),
            query: Vec::new(),
            body: None,
            idempotency_key: None,
        }
    }

    pub(crate) fn query(mut self, query: Vec<(&'static str, String)>) -> Self {
        self.query = query;
        self
    }

    pub(crate) fn json(mut self, body: &impl Serialize) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| ConfigError::with_source("could not encode the request body", e))?;
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }

    /// Marks the call as a write: it carries the caller's idempotency key or a fresh UUIDv4,
    /// the same on every attempt.
    pub(crate) fn write(mut self, options: WriteOptions) -> Self {
        self.idempotency_key = Some(
            options
                .idempotency_key
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        );
        self
    }
}

/// Per-call options for writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct WriteOptions {
    pub(crate) idempotency_key: Option<String>,
}

impl WriteOptions {
    /// No options: a UUIDv4 idempotency key is generated for the call.
    pub fn new() -> Self {
        Self::default()
    }

    /// Use this `Idempotency-Key` (on every attempt). Reusing a key with the same body replays
    /// the first result; with a different body the server answers `409 idempotency_key_reused`.
    ///
    /// A key is 1 to [`MAX_IDEMPOTENCY_KEY`] characters, each visible ASCII (`!` to `~`: no
    /// space, no tab, no letter outside ASCII), so that a key never changes on the wire (the
    /// server strips outer spaces, so `" k "` would be `"k"`). A key that breaks the rules
    /// fails the call with [`Error::InvalidIdempotencyKey`] before anything is sent. To build a
    /// key from any text (a SKU such as `Café-1`, a long one), use
    /// [`idempotency_key_from`](Self::idempotency_key_from).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// The caller's `Idempotency-Key`, if one was set (for fakes that honour it; without one,
    /// the client generates a key per call).
    pub fn get_idempotency_key(&self) -> Option<&str> {
        self.idempotency_key.as_deref()
    }

    /// Uses a key derived from `text`: `sha256-` and the 64 hex digits of its SHA-256, valid
    /// whatever the text, and the same for the same text (so a re-run replays instead of
    /// creating twice).
    pub fn idempotency_key_from(self, text: impl AsRef<str>) -> Self {
        self.idempotency_key(idempotency_key_from(text.as_ref()))
    }
}

/// The longest `Idempotency-Key` the server accepts, in characters.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// A valid `Idempotency-Key` derived from any text: `sha256-` and its SHA-256 in hex.
pub fn idempotency_key_from(text: &str) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    let mut key = String::with_capacity(7 + 64);
    key.push_str("sha256-");
    for byte in Sha256::digest(text.as_bytes()) {
        let _ = write!(key, "{byte:02x}");
    }
    key
}

/// The server's rules for a caller's key (see [`WriteOptions::idempotency_key`]).
fn check_idempotency_key(key: &str) -> Result<()> {
    let reason = if key.is_empty() {
        "must not be empty"
    } else if key.len() > MAX_IDEMPOTENCY_KEY {
        "must be at most 255 characters"
    } else if !key.bytes().all(|b| b.is_ascii_graphic()) {
        "must be visible ASCII characters only (no spaces, no letters outside ASCII)"
    } else {
        return Ok(());
    };
    Err(Error::InvalidIdempotencyKey { reason })
}

/// A decoded success.
pub(crate) struct Reply<T> {
    pub(crate) data: Option<T>,
    pub(crate) meta: Meta,
}

/// What every response tells besides its body.
pub(crate) struct Meta {
    pub(crate) status: u16,
    pub(crate) request_id: Option<String>,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) replayed: bool,
}

/// What a write's response said besides its body: for a sync that must tell "created" from
/// "replayed".
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// The HTTP status.
    pub status: u16,
    /// The `X-Request-Id`.
    pub request_id: Option<String>,
    /// The rate-limit headers.
    pub rate_limit: Option<RateLimit>,
    /// `Idempotent-Replayed: true`: the server answered from an earlier call with the same
    /// `Idempotency-Key`, and changed nothing this time.
    pub replayed: bool,
}

impl ResponseMeta {
    /// Metadata with this status and nothing else (for fakes: see
    /// [`testing`](crate::testing)).
    pub fn new(status: u16) -> Self {
        Self {
            status,
            request_id: None,
            rate_limit: None,
            replayed: false,
        }
    }

    /// With this `X-Request-Id`.
    #[must_use]
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// With these rate-limit headers.
    #[must_use]
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Marked as a replay (`Idempotent-Replayed: true`).
    #[must_use]
    pub fn replayed(mut self, replayed: bool) -> Self {
        self.replayed = replayed;
        self
    }
}

impl<T> Detailed<T> {
    /// A value with its metadata (for fakes).
    pub fn new(value: T, meta: ResponseMeta) -> Self {
        Self { value, meta }
    }
}

impl From<Meta> for ResponseMeta {
    fn from(meta: Meta) -> Self {
        Self {
            status: meta.status,
            request_id: meta.request_id,
            rate_limit: meta.rate_limit,
            replayed: meta.replayed,
        }
    }
}

/// A write's result with its response's metadata (the `*_detailed` calls).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Detailed<T> {
    /// What the call returns.
    pub value: T,
    /// The response's request id, rate limit and whether it was a replay.
    pub meta: ResponseMeta,
}

impl Meta {
    fn decode_error(self, body: &[u8], source: serde_json::Error) -> Error {
        Error::Decode {
            status: self.status,
            request_id: self.request_id,
            snippet: redact(&String::from_utf8_lossy(body), 200),
            source,
        }
    }

    pub(crate) fn empty_body_error(self) -> Error {
        self.decode_error(
            b"",
            serde_json::Error::custom("the success response has no data"),
        )
    }
}
