//! The engine both front doors share: a request in, every rule of the API applied once, in
//! order, an answer out; the state behind one std `Mutex`. Public for a custom front door, the
//! fuzz target and the bench; tests use [`PaperlinkMock`](crate::PaperlinkMock) or the
//! standalone server.
//!
//! [`MockCore::handle`] is the request's path, one step per file, each called once in order
//! and each answering or letting the request go on: route, edge guard, authenticate,
//! authorize, faults, rate limit, idempotency around the operation, durability, the journal's
//! line. The crate's `ARCHITECTURE.md` (in the crate guide) maps each step to its file and
//! each rule to its one home; a test checks it against the step comments below.

pub(crate) mod admin;
pub(crate) mod authenticate;
pub(crate) mod authorize;
pub(crate) mod catalog;
pub(crate) mod changes;
pub(crate) mod clock;
pub(crate) mod control;
pub(crate) mod durability;
pub(crate) mod edge;
pub(crate) mod faults;
pub(crate) mod idempotency;
pub(crate) mod ids;
pub(crate) mod journal;
pub(crate) mod keys;
pub(crate) mod members;
pub(crate) mod products;
pub(crate) mod rate_limit;
pub(crate) mod request;
pub(crate) mod routes;
pub(crate) mod sharded;
pub(crate) mod state;

use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use http::Method;
use time::OffsetDateTime;

use crate::engine::authenticate::AdminToken;
use crate::engine::durability::{Durability, Ticket};
use crate::engine::edge::{EdgeGuard, Hosts};
use crate::engine::journal::Call;
use crate::engine::routes::{Door, ProductsOp, Route};
use crate::engine::state::State;
use crate::error::MockError;

pub use crate::engine::request::{MockRequest, MockResponse};
pub use crate::engine::routes::API_ROUTES;

/// The API Keys page, plugged into the core by the standalone server (the engine never
/// imports `ui`): `/__admin/ui` passes the route and the edge guard, then goes to the page.
pub(crate) trait Page: Send + Sync + std::fmt::Debug {
    /// Answers a request to the page.
    fn answer(&self, core: &MockCore, request: &MockRequest) -> MockResponse;
    /// The page that says a request was refused at the edge.
    fn refused(&self, status: u16, message: &str) -> MockResponse;
}

/// The engine behind both front doors: the wiremock responder of
/// [`PaperlinkMock`](crate::PaperlinkMock) and the standalone server. Usable directly for
/// another adapter, or for fuzzing the request handling.
#[derive(Debug)]
pub struct MockCore {
    state: Mutex<State>,
    edge: EdgeGuard,
    admin_token: AdminToken,
    data_file: Option<Box<dyn Durability>>,
    page: Option<Box<dyn Page>>,
}

impl MockCore {
    pub(crate) fn new(state: State, admin_token: Option<&str>, hosts: Hosts) -> Self {
        Self {
            state: Mutex::new(state),
            edge: EdgeGuard::new(hosts),
            admin_token: AdminToken::new(admin_token),
            data_file: None,
            page: None,
        }
    }

    /// This core, keeping its durable state in `data_file`.
    #[cfg(feature = "durable")]
    pub(crate) fn with_data_file(mut self, data_file: Box<dyn Durability>) -> Self {
        self.lock().changes = crate::engine::changes::Changes::noted();
        self.data_file = Some(data_file);
        self
    }

    /// This core, answering to these `Host` names (the standalone server's rule for its
    /// address).
    #[cfg(feature = "server")]
    pub(crate) fn with_hosts(mut self, hosts: Hosts) -> Self {
        self.edge = EdgeGuard::new(hosts);
        self
    }

    /// This core, serving the API Keys page.
    #[cfg(feature = "server")]
    pub(crate) fn with_page(mut self, page: Box<dyn Page>) -> Self {
        self.page = Some(page);
        self
    }

    /// The control plane's admin token.
    #[cfg(feature = "server")]
    pub(crate) fn admin_token(&self) -> &AdminToken {
        &self.admin_token
    }

    /// The data file (tests).
    #[cfg(all(test, feature = "durable"))]
    pub(crate) fn data_file(&self) -> Option<&dyn Durability> {
        self.data_file.as_deref()
    }

    /// Whether writes wait for a data file's commit (the standalone server then runs them
    /// off its worker threads).
    pub fn waits_for_disk(&self) -> bool {
        self.data_file.is_some()
    }

    /// Handles one request. With a data file, a write returns only once it is on disk (other
    /// requests go on meanwhile); a front door on an async runtime should then call this off
    /// its worker threads, as the standalone server does (see [`MockCore::waits_for_disk`]).
    ///
    /// `HEAD` on the API is handled as `GET` (authentication, scope and rate limit included)
    /// and answers with the same status and headers; the response keeps the `GET` body so
    /// that its length is known, and the front door sends none (hyper, under both front
    /// doors, drops a `HEAD` response's body itself). The journal records it as `HEAD`.
    pub fn handle(&self, request: &MockRequest) -> MockResponse {
        if request.method == Method::HEAD && Door::of(&request.path) == Door::Api {
            let mut get = request.clone();
            get.method = Method::GET;
            return self.pass(&get, Method::HEAD);
        }
        self.pass(request, request.method.clone())
    }

    /// One pass through the steps, in order: each answers or goes on.
    fn pass(&self, request: &MockRequest, journal_as: Method) -> MockResponse {
        let call = Call::new(request, journal_as);
        // 1. Route (before the lock: a write's body is read and checked here).
        let route = match routes::resolve(request) {
            Ok(route) => route,
            Err(unknown) => return self.locked(call, |_, _| unknown),
        };
        // 2. Edge guard.
        if let Err(refusal) = self.edge.check(request, route.door()) {
            return match (route.door(), &self.page) {
                (Door::Page, Some(page)) => page.refused(refusal.status, &refusal.message),
                _ => self.locked(call, |_, _| refusal.into()),
            };
        }
        match route {
            Route::Page => match &self.page {
                Some(page) => page.answer(self, request),
                None => self.locked(call, |_, _| {
                    MockResponse::error(404, "not_found", "no such control-plane route")
                }),
            },
            // 3. Authenticate (the admin token), 8. the control plane's operation.
            Route::Control => self.locked(call, |state, call| {
                let admission = self.admin_token.check_headers(&request.headers);
                if let Some(refused) = authenticate::admin_refusal(admission) {
                    return refused;
                }
                control::handle(state, request, call.now)
            }),
            // 5. Faults, 8. the document (no key needed).
            Route::OpenApi => self.locked(call, |state, _| {
                let fault =
                    state
                        .faults
                        .hit(&mut state.rng, request.method.as_str(), &request.path);
                if let Some(answer) = fault.as_ref().and_then(faults::answer) {
                    return answer;
                }
                let mut document = MockResponse::json(
                    200,
                    Bytes::from_static(crate::model::openapi::DOCUMENT.as_bytes()),
                );
                faults::apply(fault, &mut document);
                document
            }),
            Route::Products(products) => {
                // The pure work of steps 3 and 7 is done before the lock, so that the lock is
                // held only for the decisions: the token's hash, the write's identity.
                let credential = authenticate::credential(request);
                let identity = credential
                    .as_ref()
                    .ok()
                    .map(|hash| idempotency::identify(request, hash, products.object.as_ref()));
                self.locked(call, |state, call| {
                    api(state, request, products.op, (credential, identity), call)
                })
            }
        }
    }

    /// Runs `steps` under the state's lock, then hands their changes to the data file and
    /// keeps the journal's line; after the lock, waits for a write's commit (9), then puts
    /// the request id and the rate-limit headers on the answer (10).
    fn locked(
        &self,
        mut call: Call,
        steps: impl FnOnce(&mut State, &mut Call) -> MockResponse,
    ) -> MockResponse {
        let mut state = self.lock_current();
        call.now = state.clock.now();
        let mut response = steps(&mut state, &mut call);
        // 9. Durability: hand the changes over, under the lock (so that they reach the data
        // file in the order they were made).
        let ticket = self.submit(&mut state, &call.method, response.status);
        // 10. The journal's line.
        let capacity = state.settings.journal_capacity;
        state.journal.push(call.entry(response.status), capacity);
        drop(state);
        if let Some(ticket) = ticket {
            self.commit(ticket, &call, &mut response);
        }
        call.finish(&mut response);
        response
    }

    /// Hands the request's changes to the data file (the caller holds the state's lock). A
    /// success answer to a write (a replay included) must not go out before everything handed
    /// over so far is committed, so for such an answer this returns the ticket to wait on.
    fn submit(&self, state: &mut State, method: &Method, status: u16) -> Option<Ticket> {
        let data_file = self.data_file.as_ref()?;
        let changes = state.changes.take()?;
        let acknowledges = method != Method::GET && (200..300).contains(&status);
        if changes.is_empty() && !acknowledges {
            return None;
        }
        let ticket = data_file.submit(changes);
        acknowledges.then_some(ticket)
    }

    /// Waits, without the state's lock, until the request's changes are committed. If they
    /// are refused, the state is read back from the data file (so the refused change is
    /// gone) before the 503 replaces the answer, and the journal says so.
    fn commit(&self, ticket: Ticket, call: &Call, response: &mut MockResponse) {
        if ticket.wait() {
            return;
        }
        *response = MockResponse::error(
            503,
            "storage_unavailable",
            "the data file refused the change, so it was not made; try again later",
        );
        let mut state = self.lock_current();
        state.journal.set_status(call.request_id, response.status);
    }

    /// Runs a control-plane change from the Rust API and, with a data file, waits until it
    /// is committed; a refused change is undone and reported.
    pub(crate) fn change<R>(&self, change: impl FnOnce(&mut State) -> R) -> Result<R, MockError> {
        let mut state = self.lock_current();
        let result = change(&mut state);
        if let Some(ticket) = self.submit(&mut state, &Method::POST, 200) {
            drop(state);
            if !ticket.wait() {
                drop(self.lock_current());
                return Err(MockError::Storage);
            }
        }
        Ok(result)
    }

    /// Runs a read of the state as a request would see it: what the data file holds, and
    /// nothing that has expired.
    pub(crate) fn view<R>(&self, read: impl FnOnce(&State, OffsetDateTime) -> R) -> R {
        let state = self.lock_current();
        let now = state.clock.now();
        read(&state, now)
    }

    /// Locks the state. A panic elsewhere while it was held (a bug) does not take the mock
    /// down: the state is plain data and still consistent between requests.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the state as of now: read back from the data file after a refused commit, and
    /// without what has expired (idempotency records past 24 h, keys revoked 90 days ago).
    fn lock_current(&self) -> MutexGuard<'_, State> {
        let mut state = self.lock();
        if let Some(reloaded) = self.data_file.as_ref().and_then(|file| file.reload()) {
            match reloaded {
                Ok(snapshot) => state.reload(snapshot),
                Err(error) => {
                    tracing::error!(%error, "could not read the data file back; writes stay refused");
                }
            }
        }
        state
    }
}

/// What an API call's steps 3 and 7 worked out before the lock: the token's hash (or why
/// there is none), and for a write, its idempotency identity (or the 400 of a bad key).
type Prepared = (
    Result<[u8; 32], authenticate::AuthError>,
    Option<Result<Option<idempotency::Idempotency>, MockResponse>>,
);

/// Steps 3 to 8 of an API call, under the lock.
fn api(
    state: &mut State,
    request: &MockRequest,
    op: ProductsOp<'_>,
    (credential, identity): Prepared,
    call: &mut Call,
) -> MockResponse {
    let now = call.now;
    // 3. Authenticate.
    let delay = state.settings.revocation_delay;
    let caller = match authenticate::authenticate(&mut state.keys, credential, now, delay) {
        Ok(caller) => caller,
        Err(refused) => {
            call.key = refused.key;
            return authenticate::unauthorized(refused.error);
        }
    };
    call.key = Some(caller.key.clone());
    // 4. Authorize.
    let policy = state.settings.rate_limit;
    if let Err(refused) = authorize::scope(&caller, &request.method) {
        call.rate = state.rates.peek(policy, caller.id, now);
        return refused;
    }
    // 5. Faults.
    let fault = state
        .faults
        .hit(&mut state.rng, request.method.as_str(), &request.path);
    if let Some(answer) = fault.as_ref().and_then(faults::answer) {
        // An injected 429 carries the headers a real one does (without counting the call).
        if answer.status == 429 {
            call.rate = state.rates.peek(policy, caller.id, now);
        }
        return answer;
    }
    // 6. Rate limit.
    call.rate = state.rates.count(policy, caller.id, now);
    if let Some(refused) = rate_limit::refusal(call.rate) {
        return refused;
    }
    // 7. Idempotency, around 8. the operation.
    let idempotency = match identity {
        Some(Ok(idempotency)) => idempotency,
        Some(Err(refused)) => return refused,
        None => None,
    };
    let State {
        catalogs,
        rng,
        changes,
        idempotency: records,
        settings,
        ..
    } = state;
    let (mut response, replayed) =
        idempotency::once(records, changes, idempotency, now, |changes| {
            let cx = products::Context {
                query: request.query.as_deref(),
                rng,
                changes,
                default_unit: &settings.default_unit,
                now,
            };
            products::run(op, &caller, catalogs, cx)
        });
    call.replayed = replayed;
    faults::apply(fault, &mut response);
    response
}
