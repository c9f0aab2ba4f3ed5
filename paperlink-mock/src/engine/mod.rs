//! The engine both front doors share: plain request and response values in, every rule of
//! the API applied in order, state behind one std `Mutex`. Public for a custom front door,
//! the fuzz target and the bench; tests use [`PaperlinkMock`](crate::PaperlinkMock) or the
//! standalone server.
//!
//! The order of checks is the order of the code in [`MockCore::handle`] and the two functions
//! it calls, `api` and `authorized`: each step returns its answer, or goes on to the next.
//! One file per rule: `routes` (paths and methods), `limits` (injected faults and rate
//! limits), `keys` (credentials and scope), `idempotency`, `request` (body framing),
//! `crate::model`'s validation, `products` and `catalog` (the product rules), `control`
//! (the control plane), `journal`, `clock`, `ids`, and `state` with every change it
//! can make. A data file plugs in through `durability`, which the engine never implements.

pub(crate) mod catalog;
pub(crate) mod change;
pub(crate) mod clock;
pub(crate) mod control;
pub(crate) mod durability;
pub(crate) mod idempotency;
pub(crate) mod ids;
pub(crate) mod journal;
pub(crate) mod keys;
pub(crate) mod limits;
pub(crate) mod members;
pub(crate) mod products;
pub(crate) mod request;
pub(crate) mod routes;
pub(crate) mod sharded;
pub(crate) mod state;

use std::borrow::Cow;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{HeaderMap, Method};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::engine::durability::{Durability, Ticket};
use crate::engine::idempotency::Idempotency;
use crate::engine::journal::{JournalEntry, journal_text};
use crate::engine::keys::{AuthFailure, Caller, KeyScope, bearer, hash_token};
use crate::engine::limits::{FaultKind, RateStatus};
use crate::engine::request::json_body_problem;
pub use crate::engine::request::{MockRequest, MockResponse};
pub use crate::engine::routes::{API_PREFIX, API_ROUTES};
use crate::engine::routes::{Operation, resolve};
use crate::engine::state::State;
use crate::error::MockError;

/// The engine behind both front doors: the wiremock responder of
/// [`PaperlinkMock`](crate::PaperlinkMock) and the standalone server. Usable directly for
/// another adapter, or for fuzzing the request handling.
#[derive(Debug)]
pub struct MockCore {
    state: Mutex<State>,
    admin_token: Option<[u8; 32]>,
    store: Option<Box<dyn Durability>>,
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
            store: None,
        }
    }

    /// This core, keeping its durable state in `store`.
    #[cfg(feature = "durable")]
    pub(crate) fn with_store(mut self, store: Box<dyn Durability>) -> Self {
        self.lock().pending = Some(Vec::new());
        self.store = Some(store);
        self
    }

    /// Hands the request's changes to the data file, in the order they were made (the caller
    /// holds the state's lock). A success answer to a write (a replay included) must not go
    /// out before everything handed over so far is committed, so for such an answer this
    /// returns the ticket that [`MockCore::durable`] waits on once the lock is released.
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
    fn durable(&self, ticket: Ticket, request_id: uuid::Uuid, response: &mut MockResponse) {
        if ticket.wait() {
            return;
        }
        *response = storage_unavailable();
        let mut state = self.lock();
        self.recover(&mut state);
        state.journal.set_status(request_id, response.status);
    }

    /// After a refused commit, reads the state back from the data file.
    fn recover(&self, state: &mut State) {
        if let Some(store) = &self.store {
            store.recover(state);
        }
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
        if let Some(ticket) = self.persist(&mut state, &Method::POST, 200) {
            drop(state);
            if !ticket.wait() {
                self.recover(&mut self.lock());
                return (result, Err(MockError::Storage));
            }
        }
        (result, Ok(()))
    }

    /// Runs a read of the state, as a request would see it: what the data file holds, and
    /// nothing that has expired (for the API Keys page).
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub(crate) fn view<R>(&self, read: impl FnOnce(&State, OffsetDateTime) -> R) -> R {
        let mut state = self.lock();
        self.recover(&mut state);
        let now = state.clock.now();
        state.expire(now);
        read(&state, now)
    }

    /// Whether the control plane asks for an admin token.
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub(crate) fn has_admin_token(&self) -> bool {
        self.admin_token.is_some()
    }

    /// Whether `token` is the admin token (compared as hashes, in constant time).
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    pub(crate) fn is_admin_token(&self, token: &str) -> bool {
        self.admin_token
            .is_some_and(|expected| bool::from(hash_token(token).ct_eq(&expected)))
    }

    /// The data file (tests).
    #[cfg(test)]
    pub(crate) fn store(&self) -> Option<&dyn Durability> {
        self.store.as_deref()
    }

    /// Whether writes wait for a data file's commit (the standalone server then runs them
    /// off its worker threads).
    pub fn waits_for_disk(&self) -> bool {
        self.store.is_some()
    }

    /// Locks the state. A panic elsewhere while it was held (a bug) does not take the mock down:
    /// the state is plain data and still consistent between requests.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Handles one request. With a data file, a write returns only once it is on disk (other
    /// requests go on meanwhile); a front door on an async runtime should then call this off
    /// its worker threads, as the standalone server does (see [`MockCore::waits_for_disk`]).
    ///
    /// `HEAD` on an API route is handled as `GET` (authentication, scope and rate limit
    /// included) and answers with the same status and headers; the response keeps the `GET`
    /// body so that its length is known, and the front door sends none (hyper, under both
    /// front doors, drops a `HEAD` response's body itself).
    pub fn handle(&self, request: &MockRequest) -> MockResponse {
        if request.method == Method::HEAD && !is_control_plane(&request.path) {
            let mut get = request.clone();
            get.method = Method::GET;
            return self.serve(&get, Method::HEAD);
        }
        self.serve(request, request.method.clone())
    }

    /// Handles a request; the journal records it under `journal_method`.
    fn serve(&self, request: &MockRequest, journal_method: Method) -> MockResponse {
        // What needs no state is worked out before taking the lock, so that the lock is held
        // only for the state's own work.
        let (mut prepared, operation) = Prepared::new(request);
        let mut state = self.lock();
        self.recover(&mut state);
        let now = state.clock.now();
        state.expire(now);
        let mut outcome = Outcome::default();
        let mut response = if is_control_plane(&request.path) {
            if self.admin_allowed(&request.headers) {
                crate::engine::control::handle(&mut state, request, now)
            } else {
                MockResponse::error(
                    401,
                    "unauthorized",
                    "the control plane requires the admin token",
                )
                .header("www-authenticate", "Bearer")
            }
        } else {
            api(
                &mut state,
                request,
                &mut prepared,
                operation,
                now,
                &mut outcome,
            )
        };
        let ticket = self.persist(&mut state, &request.method, response.status);
        state.journal(JournalEntry {
            method: journal_method,
            path: prepared.journal_path,
            query: prepared.journal_query,
            status: response.status,
            key_prefix: outcome.key_prefix.clone(),
            time: now,
            request_id: prepared.request_id,
        });
        drop(state);
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

fn is_control_plane(path: &str) -> bool {
    path == "/__admin" || path.starts_with("/__admin/")
}

/// What can be known about a request without the state.
struct Prepared {
    /// The path and query as the journal keeps them (cut to length before the lock).
    journal_path: String,
    journal_query: Option<String>,
    /// A fresh request id (random, also with a seed: only ids and tokens are reproducible).
    request_id: uuid::Uuid,
    /// The SHA-256 of the Bearer token, or why there is none.
    credential: Result<[u8; 32], AuthFailure>,
    /// For a write that carries an `Idempotency-Key`: where its record is kept and what the
    /// body was, or why the header is refused.
    idempotency: Result<Option<Idempotency>, MockResponse>,
}

impl Prepared {
    /// What is known before the lock, and what the request asks for (or its 404 or 405).
    fn new(request: &MockRequest) -> (Self, Result<Operation<'_>, MockResponse>) {
        let mut authorization = request.headers.get_all(AUTHORIZATION).iter();
        let credential = match (authorization.next(), authorization.next()) {
            // Two Authorization headers are ambiguous credentials, never "the first one wins".
            (_, Some(_)) => Err(AuthFailure::Malformed),
            (first, None) => bearer(first).map(hash_token),
        };
        let (operation, object) = match resolve(request) {
            Ok((operation, object)) => (Ok(operation), object),
            Err(problem) => (Err(problem), None),
        };
        let idempotency = idempotency::identify(request, credential.as_ref().ok(), object.as_ref());
        let prepared = Self {
            journal_path: journal_text(&request.path),
            journal_query: request.query.as_deref().map(journal_text),
            request_id: uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes())
                .into_uuid(),
            credential,
            idempotency,
        };
        (prepared, operation)
    }
}

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
    prepared: &mut Prepared,
    operation: Result<Operation<'_>, MockResponse>,
    now: OffsetDateTime,
    outcome: &mut Outcome,
) -> MockResponse {
    let operation = match operation {
        Ok(operation) => operation,
        Err(problem) => return problem,
    };
    let fault = state.fault_for(request.method.as_str(), &request.path);
    if let Some(FaultKind::Status {
        status,
        retry_after,
    }) = fault
    {
        return status_fault(status, retry_after);
    }
    let mut response = authorized(state, request, prepared, operation, now, outcome);
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
    prepared: &mut Prepared,
    operation: Operation<'_>,
    now: OffsetDateTime,
    outcome: &mut Outcome,
) -> MockResponse {
    let op = match operation {
        Operation::OpenApi => {
            return MockResponse::json(
                200,
                Bytes::from_static(crate::model::openapi::DOCUMENT.as_bytes()),
            );
        }
        Operation::Products(op) => op,
    };
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
    if let Some(idempotency) = &idempotency
        && let Some(stored) = state.idempotency.get(&idempotency.scope)
    {
        return idempotency::replay(stored, idempotency);
    }
    let response = crate::engine::products::handle(state, request, op, &key, now);
    if let Some(idempotency) = idempotency.filter(|_| (200..300).contains(&response.status)) {
        let stored = idempotency::record(&idempotency, &response, now);
        state.remember(idempotency.scope, stored);
    }
    response
}

#[cfg(test)]
mod tests;
