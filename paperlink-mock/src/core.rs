//! The request-handling core both front doors share: plain request and response values in,
//! every rule of the API applied in order, state behind one std `Mutex`.
//!
//! Order of checks: route (404 / 405), injected faults, 401, 403, 429, idempotent replay,
//! 413 / 415 / 400, 404, 409.

use std::borrow::Cow;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::auth::{AuthFailure, Caller, KeyScope, bearer, hash_token};
use crate::config::{MockError, PaperlinkMockBuilder, SeededKey};
use crate::model::{FieldError, error_body};
#[cfg(feature = "durable")]
use crate::persist::{Store, Ticket};
use crate::routes;
use crate::state::{
    FaultKind, IDEMPOTENCY_RETENTION, IdempotentResponse, JournalEntry, RateStatus, State,
};

/// The API routes the mock serves, relative to `/api/v1`, with their methods.
pub const API_ROUTES: &[(&str, &[&str])] = &[
    ("/openapi.json", &["GET"]),
    ("/products", &["GET", "POST"]),
    ("/products/{id}", &["GET", "PATCH", "DELETE"]),
];

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The path prefix of the public API.
pub const API_PREFIX: &str = "/api/v1";

/// A request, as any HTTP front door sees it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct MockRequest {
    /// The method.
    pub method: Method,
    /// The path (percent-encoded, as received), without the query.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body (at most [`MAX_BODY`](crate::model::MAX_BODY) + 1 bytes are needed).
    pub body: Vec<u8>,
    /// The front door stopped reading a body larger than the limit.
    pub oversized: bool,
}

impl MockRequest {
    /// A request with no headers and no body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            ..Self::default()
        }
    }
}

/// A response, for a front door to send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MockResponse {
    /// The status.
    pub status: u16,
    /// The headers, in order (names are lower-case constants; fixed values are not copied).
    pub headers: Vec<(&'static str, Cow<'static, str>)>,
    /// The body (JSON). An idempotent write's record shares it rather than copying it.
    pub body: Bytes,
    /// Wait this long before answering (an injected delay).
    pub delay: Option<Duration>,
    /// Break the connection instead of answering (an injected fault; the request was applied).
    pub drop_connection: bool,
    /// The prefix of the key that authenticated the request, for request logs.
    pub key_prefix: Option<String>,
}

impl MockResponse {
    pub(crate) fn json(status: u16, body: impl Into<Bytes>) -> Self {
        let mut response = Self {
            status,
            headers: Vec::with_capacity(4),
            body: body.into(),
            delay: None,
            drop_connection: false,
            key_prefix: None,
        };
        response
            .headers
            .push(("content-type", Cow::Borrowed("application/json")));
        response
    }

    pub(crate) fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(status, error_body(code, message, &[]))
    }

    pub(crate) fn invalid(details: Vec<FieldError>) -> Self {
        Self::json(
            400,
            error_body("validation_error", "the request is invalid", &details),
        )
    }

    pub(crate) fn header(
        mut self,
        name: &'static str,
        value: impl Into<Cow<'static, str>>,
    ) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The first value of a header.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    /// Takes the headers out as `http` values for a front door, skipping any value that is not
    /// a valid header value.
    pub(crate) fn take_http_headers(
        &mut self,
    ) -> impl Iterator<Item = (HeaderName, HeaderValue)> + use<> {
        std::mem::take(&mut self.headers)
            .into_iter()
            .filter_map(|(name, value)| {
                let value = match value {
                    Cow::Borrowed(text)
                        if text
                            .bytes()
                            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) =>
                    {
                        HeaderValue::from_static(text)
                    }
                    Cow::Borrowed(text) => HeaderValue::try_from(text).ok()?,
                    Cow::Owned(text) => HeaderValue::try_from(text).ok()?,
                };
                // Names are the core's lower-case constants.
                Some((HeaderName::from_static(name), value))
            })
    }
}

/// What one request was resolved to.
#[derive(Clone, Copy)]
pub(crate) enum Route<'a> {
    OpenApi,
    Products,
    Product(&'a str),
}

fn route(path: &str) -> Option<(Route<'_>, &'static [&'static str])> {
    let rest = path.strip_prefix(API_PREFIX)?;
    match rest {
        "/openapi.json" => Some((Route::OpenApi, API_ROUTES[0].1)),
        "/products" => Some((Route::Products, API_ROUTES[1].1)),
        _ => {
            let id = rest.strip_prefix("/products/")?;
            (!id.is_empty() && !id.contains('/')).then_some((Route::Product(id), API_ROUTES[2].1))
        }
    }
}

/// The engine behind both front doors: the wiremock responder of
/// [`PaperlinkMock`](crate::PaperlinkMock) and the standalone server. Usable directly for
/// another adapter, or for fuzzing the request handling.
#[derive(Debug)]
pub struct MockCore {
    state: Mutex<State>,
    admin_token: Option<[u8; 32]>,
    #[cfg(feature = "durable")]
    store: Option<Store>,
}

/// What the journal and the headers need to know about a handled request.
#[derive(Default)]
pub(crate) struct Outcome {
    pub(crate) key_prefix: Option<String>,
    pub(crate) rate: Option<RateStatus>,
}

impl MockCore {
    pub(crate) fn new(state: State, admin_token: Option<&str>) -> Self {
        Self {
            state: Mutex::new(state),
            admin_token: admin_token.map(hash_token),
            #[cfg(feature = "durable")]
            store: None,
        }
    }

    /// This core, keeping its durable state in `store`.
    #[cfg(feature = "durable")]
    pub(crate) fn with_store(mut self, store: Store) -> Self {
        self.lock().pending = Some(Vec::new());
        self.store = Some(store);
        self
    }

    /// Builds a core as configured (for a custom front door, or for fuzzing), with the four
    /// seeded keys and their tokens.
    pub fn from_builder(
        builder: &PaperlinkMockBuilder,
    ) -> Result<(Self, Vec<SeededKey>), MockError> {
        builder.build_core()
    }

    /// Hands the request's changes to the data file, in the order they were made (the caller
    /// holds the state's lock). A success answer to a write (a replay included) must not go
    /// out before everything handed over so far is committed, so for such an answer this
    /// returns the ticket that [`MockCore::durable`] waits on once the lock is released.
    #[cfg(feature = "durable")]
    fn persist(&self, state: &mut State, method: &Method, status: u16) -> Option<Ticket> {
        let (Some(store), Some(pending)) = (&self.store, state.pending.as_mut()) else {
            return None;
        };
        let acknowledges = method != Method::GET && (200..300).contains(&status);
        if pending.is_empty() && !acknowledges {
            return None;
        }
        let ticket = store.submit(std::mem::take(pending));
        acknowledges.then_some(ticket)
    }

    /// Waits, without the state's lock, until the request's changes are committed. If they
    /// are refused, the state is read back from the data file (so the refused change is
    /// gone) before the 503 replaces the answer, and the journal says so.
    #[cfg(feature = "durable")]
    fn durable(&self, ticket: Ticket, request_id: uuid::Uuid, response: &mut MockResponse) {
        if ticket.wait() {
            return;
        }
        *response = storage_unavailable();
        let mut state = self.lock();
        self.recover(&mut state);
        state.journal_status(request_id, response.status);
    }

    /// After a refused commit, reads the state back from the data file.
    fn recover(&self, state: &mut State) {
        #[cfg(feature = "durable")]
        if let Some(store) = &self.store {
            store.recover(state);
        }
        #[cfg(not(feature = "durable"))]
        let _ = state;
    }

    /// Runs a control-plane change from the Rust API and, with a data file, waits until it
    /// is committed; a refused change is undone and reported.
    pub(crate) fn change<R>(
        &self,
        change: impl FnOnce(&mut State) -> R,
    ) -> (R, Result<(), MockError>) {
        let mut state = self.lock();
        self.recover(&mut state);
        let result = change(&mut state);
        #[cfg(feature = "durable")]
        if let Some(ticket) = self.persist(&mut state, &Method::POST, 200) {
            drop(state);
            if !ticket.wait() {
                self.recover(&mut self.lock());
                return (result, Err(MockError::Storage));
            }
        }
        (result, Ok(()))
    }

    /// The data file (tests).
    #[cfg(all(test, feature = "durable"))]
    pub(crate) fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// Whether writes wait for a data file's commit (the standalone server then runs them
    /// off its worker threads).
    pub fn waits_for_disk(&self) -> bool {
        #[cfg(feature = "durable")]
        return self.store.is_some();
        #[cfg(not(feature = "durable"))]
        false
    }

    /// Locks the state. A panic elsewhere while it was held (a bug) does not take the mock down:
    /// the state is plain data and still consistent between requests.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Handles one request. With a data file, a write returns only once it is on disk (other
    /// requests go on meanwhile); a front door on an async runtime should then call this off
    /// its worker threads, as the standalone server does (see [`MockCore::waits_for_disk`]).
    pub fn handle(&self, request: &MockRequest) -> MockResponse {
        // What needs no state is worked out before taking the lock, so that the lock is held
        // only for the state's own work.
        let mut prepared = Prepared::new(request);
        let mut state = self.lock();
        self.recover(&mut state);
        let now = state.clock.now();
        state.expire(now);
        let mut outcome = Outcome::default();
        let response = if request.path == "/__admin" || request.path.starts_with("/__admin/") {
            if self.admin_allowed(&request.headers) {
                routes::admin::handle(&mut state, request, now)
            } else {
                MockResponse::error(
                    401,
                    "unauthorized",
                    "the control plane requires the admin token",
                )
                .header("www-authenticate", "Bearer")
            }
        } else {
            api(&mut state, request, &mut prepared, now, &mut outcome)
        };
        #[cfg(feature = "durable")]
        let ticket = self.persist(&mut state, &request.method, response.status);
        #[cfg_attr(not(feature = "durable"), allow(unused_mut))]
        let mut response = response;
        state.journal(JournalEntry {
            method: request.method.clone(),
            path: crate::state::journal_text(&request.path),
            status: response.status,
            key_prefix: outcome.key_prefix.clone(),
            time: now,
            request_id: prepared.request_id,
        });
        drop(state);
        #[cfg(feature = "durable")]
        if let Some(ticket) = ticket {
            self.durable(ticket, prepared.request_id, &mut response);
        }
        let request_id = prepared
            .request_id
            .hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer())
            .to_owned();
        response
            .headers
            .push(("x-request-id", Cow::Owned(request_id)));
        if let Some(rate) = outcome.rate {
            response
                .headers
                .push(("x-ratelimit-limit", rate.limit.to_string().into()));
            response
                .headers
                .push(("x-ratelimit-remaining", rate.remaining.to_string().into()));
            response
                .headers
                .push(("x-ratelimit-reset", rate.reset.to_string().into()));
        }
        response.key_prefix = outcome.key_prefix;
        response
    }

    fn admin_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.admin_token else {
            return true;
        };
        // Exactly one Authorization header, as on the API: two are ambiguous credentials.
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let (Some(only), None) = (values.next(), values.next()) else {
            return false;
        };
        let presented = only
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| hash_token(token.trim()));
        presented.is_some_and(|p| bool::from(p.ct_eq(expected)))
    }
}

/// What can be known about a request without the state.
struct Prepared<'a> {
    /// The API route and its methods, when the path is one.
    route: Option<(Route<'a>, &'static [&'static str])>,
    /// A fresh request id (random, also with a seed: only ids and tokens are reproducible).
    request_id: uuid::Uuid,
    /// The SHA-256 of the Bearer token, or why there is none.
    credential: Result<[u8; 32], AuthFailure>,
    /// For a write that carries an `Idempotency-Key`: where its record is kept and what the
    /// body was, or why the header is refused.
    idempotency: Result<Option<Idempotency>, MockResponse>,
    /// A create or update body, checked.
    write: Option<Result<routes::products::Write, MockResponse>>,
}

/// An idempotent write, identified before the state is locked.
#[derive(Clone, Copy)]
struct Idempotency {
    /// Names the record: the key's credential, the method, the path and the `Idempotency-Key`.
    scope: [u8; 32],
    /// The body's identity: keys in order, each value as its exact text (so 120.10 and 120.1
    /// are different bodies); the raw bytes when the body is not a JSON object.
    fingerprint: [u8; 32],
}

/// Feeds `bytes` to the hash with their length first, so that fields cannot run together.
fn framed(hash: &mut Sha256, bytes: &[u8]) {
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}

/// The one `Idempotency-Key` of a write, or the 400 for a repeated or malformed one.
fn idempotency_key(request: &MockRequest) -> Result<Option<&str>, MockResponse> {
    if request.method == Method::GET {
        return Ok(None);
    }
    let mut keys = request.headers.get_all(&IDEMPOTENCY_KEY).iter();
    match (keys.next(), keys.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(MockResponse::invalid(vec![FieldError::new(
            "Idempotency-Key",
            "must be sent once",
        )])),
        (Some(value), None) => match value.to_str() {
            Ok(k) if !k.is_empty() && k.len() <= 255 => Ok(Some(k)),
            _ => Err(MockResponse::invalid(vec![FieldError::new(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )])),
        },
    }
}

impl<'a> Prepared<'a> {
    fn new(request: &'a MockRequest) -> Self {
        let mut authorization = request.headers.get_all(AUTHORIZATION).iter();
        let credential = match (authorization.next(), authorization.next()) {
            // Two Authorization headers are ambiguous credentials, never "the first one wins".
            (_, Some(_)) => Err(AuthFailure::Malformed),
            (first, None) => bearer(first).map(hash_token),
        };
        let route = route(&request.path);
        let checked = route.and_then(|(route, _)| routes::products::check_write(request, &route));
        let (write, object) = match checked {
            Some((write, object)) => (Some(write), object),
            None => (None, None),
        };
        let idempotency = idempotency_key(request).map(|key| {
            let (key, credential) = (key?, credential.ok()?);
            let mut scope = Sha256::new();
            framed(&mut scope, &credential);
            framed(&mut scope, request.method.as_str().as_bytes());
            framed(&mut scope, request.path.as_bytes());
            framed(&mut scope, key.as_bytes());
            let fingerprint = match &object {
                Some(object) => {
                    let mut body = Sha256::new();
                    for (name, value) in object {
                        framed(&mut body, name.as_bytes());
                        framed(&mut body, value.get().as_bytes());
                    }
                    body.finalize()
                }
                None => Sha256::digest(&request.body),
            };
            Some(Idempotency {
                scope: scope.finalize().into(),
                fingerprint: fingerprint.into(),
            })
        });
        Self {
            route,
            request_id: uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes())
                .into_uuid(),
            credential,
            idempotency,
            write,
        }
    }
}

#[cfg(feature = "durable")]
fn storage_unavailable() -> MockResponse {
    MockResponse::error(
        503,
        "storage_unavailable",
        "the data file refused the change, so it was not made; try again later",
    )
}

fn unauthorized(failure: AuthFailure) -> MockResponse {
    MockResponse::error(401, "unauthorized", failure.message()).header("www-authenticate", "Bearer")
}

fn status_fault(status: u16, retry_after: Option<u64>) -> MockResponse {
    let code = match status {
        429 => "rate_limit_exceeded",
        500 => "internal_error",
        502 => "bad_gateway",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        _ => "injected_fault",
    };
    let fault = MockResponse::error(status, code, "injected by paperlink-mock");
    match retry_after {
        Some(seconds) => fault.header("retry-after", seconds.to_string()),
        None => fault,
    }
}

fn api(
    state: &mut State,
    request: &MockRequest,
    prepared: &mut Prepared<'_>,
    now: OffsetDateTime,
    outcome: &mut Outcome,
) -> MockResponse {
    let Some((route, allowed)) = prepared.route else {
        return MockResponse::error(404, "not_found", "no such route");
    };
    if !allowed.contains(&request.method.as_str()) {
        return MockResponse::error(
            405,
            "method_not_allowed",
            "this route does not accept that method",
        )
        .header("allow", allowed.join(", "));
    }
    let fault = state.fault_for(request.method.as_str(), &request.path);
    if let Some(FaultKind::Status {
        status,
        retry_after,
    }) = fault
    {
        return status_fault(status, retry_after);
    }
    let mut response = authorized(state, request, prepared, route, now, outcome);
    match fault {
        Some(FaultKind::Delay { millis }) => response.delay = Some(Duration::from_millis(millis)),
        Some(FaultKind::DropConnection) => response.drop_connection = true,
        _ => {}
    }
    response
}

fn authorized(
    state: &mut State,
    request: &MockRequest,
    prepared: &mut Prepared<'_>,
    route: Route<'_>,
    now: OffsetDateTime,
    outcome: &mut Outcome,
) -> MockResponse {
    if let Route::OpenApi = route {
        return MockResponse::json(200, Bytes::from_static(crate::openapi::DOCUMENT.as_bytes()));
    }
    let credential = match prepared.credential {
        Ok(hash) => hash,
        Err(failure) => return unauthorized(failure),
    };
    let delay = state.settings.revocation_delay;
    let key: Caller = match state.keys.authenticate(&credential, now, delay) {
        Ok(id) => match state.keys.get(&id) {
            Some(info) => {
                outcome.key_prefix = Some(info.prefix.clone());
                Caller::from(info)
            }
            None => return unauthorized(AuthFailure::InvalidOrRevoked),
        },
        Err(failure) => return unauthorized(failure),
    };
    let write = request.method != Method::GET;
    if write && key.scope == KeyScope::ReadOnly {
        outcome.rate = state.rate(key.id, now, false);
        return MockResponse::error(
            403,
            "scope_insufficient",
            "this API key is Read-only; writes need a Read & Write key",
        );
    }
    outcome.rate = state.rate(key.id, now, true);
    if let Some(wait) = outcome.rate.and_then(|r| r.retry_after) {
        return MockResponse::error(
            429,
            "rate_limit_exceeded",
            "too many requests for this API key",
        )
        .header("retry-after", wait.to_string());
    }
    let idempotency = match std::mem::replace(&mut prepared.idempotency, Ok(None)) {
        Ok(idempotency) => idempotency,
        Err(problem) => return problem,
    };
    if let Some(stored) = idempotency.and_then(|i| state.idempotency.get(&i.scope)) {
        if Some(stored.fingerprint) != idempotency.map(|i| i.fingerprint) {
            return MockResponse::error(
                409,
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request body",
            );
        }
        let mut replay = MockResponse::json(stored.status, stored.body.clone())
            .header("idempotent-replayed", "true");
        if let Some(location) = &stored.location {
            replay = replay.header("location", location.clone());
        }
        return replay;
    }
    let response =
        routes::products::handle(state, request, route, &key, prepared.write.take(), now);
    if let Some(idempotency) = idempotency.filter(|_| (200..300).contains(&response.status)) {
        let stored = IdempotentResponse {
            fingerprint: idempotency.fingerprint,
            status: response.status,
            location: response.header_value("location").map(str::to_owned),
            body: response.body.clone(),
            expires: crate::state::later(now, IDEMPOTENCY_RETENTION),
        };
        state.remember(idempotency.scope, stored);
    }
    response
}

/// Checks a write's body framing: size and content type.
pub(crate) fn json_body_problem(request: &MockRequest) -> Option<MockResponse> {
    if request.oversized || request.body.len() > crate::model::MAX_BODY {
        return Some(MockResponse::error(
            413,
            "payload_too_large",
            "the request body is larger than 1 MiB",
        ));
    }
    let mut types = request.headers.get_all(CONTENT_TYPE).iter();
    let content_type = match (types.next(), types.next()) {
        (Some(only), None) => only.to_str().ok(),
        _ => None,
    };
    let json = content_type.is_some_and(|c| {
        c.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .eq_ignore_ascii_case("application/json")
    });
    if !json {
        return Some(MockResponse::error(
            415,
            "unsupported_media_type",
            "send the body as Content-Type: application/json",
        ));
    }
    None
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
