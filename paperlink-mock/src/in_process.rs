//! [`PaperlinkMock`]: the core behind a wiremock `MockServer`, for in-process tests.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use secrecy::SecretString;
use time::OffsetDateTime;
use uuid::Uuid;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

use crate::builder::{NewKey, PaperlinkMockBuilder, find_seeded};
use crate::engine::admin;
use crate::engine::faults::Fault;
use crate::engine::journal::{JournalEntry, RequestRecord};
use crate::engine::keys::DEFAULT_TEAM;
use crate::engine::{MockCore, MockRequest, MockResponse};
use crate::error::MockError;
use crate::model::{
    API_PREFIX, KeyInfo, KeyMode, KeyScope, Member, ProductRecord, SeedProduct, TeamRole,
};

/// The lowest wiremock priority: any `Mock` a test mounts itself takes precedence.
pub const CORE_PRIORITY: u8 = u8::MAX;

/// A running, isolated Paperlink mock: its own state, its own port.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use paperlink_mock::{KeyMode, KeyScope, PaperlinkMock};
///
/// let mock = PaperlinkMock::start().await;
/// assert!(mock.base_url().ends_with("/api/v1"));
/// assert_eq!(mock.keys().len(), 4);
/// let token = mock.token(KeyMode::Live, KeyScope::ReadOnly);
/// # let _ = token;
/// # }
/// ```
pub struct PaperlinkMock {
    server: MockServer,
    shared: Arc<LazyCore>,
}

/// The core and the seeded keys of one mock.
///
/// [`PaperlinkMock::start`] draws the random seed and builds the rest on first use: the first
/// request, or the first call of a method such as [`PaperlinkMock::token`]. The mock clock is
/// frozen at that moment.
struct LazyCore {
    built: OnceLock<Box<(MockCore, Vec<NewKey>)>>,
    /// The seed a deferred build starts from (not read once `built` is full).
    seed: u64,
}

impl LazyCore {
    fn built(core: MockCore, seeded: Vec<NewKey>) -> Self {
        Self {
            built: OnceLock::from(Box::new((core, seeded))),
            seed: 0,
        }
    }

    fn deferred() -> Self {
        Self {
            built: OnceLock::new(),
            seed: fastrand::u64(..),
        }
    }

    fn get(&self) -> (&MockCore, &[NewKey]) {
        let built = self.built.get_or_init(|| {
            Box::new(
                PaperlinkMockBuilder::new()
                    .seed(self.seed)
                    .build_core_without_products(),
            )
        });
        (&built.0, &built.1)
    }

    fn core(&self) -> &MockCore {
        self.get().0
    }
}

impl std::fmt::Debug for PaperlinkMock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaperlinkMock")
            .field("uri", &self.server.uri())
            .finish_non_exhaustive()
    }
}

/// Moves a core's clock forward, logging (not panicking) if the move cannot be kept.
fn advance(core: &MockCore, by: Duration) {
    if let Err(error) = core.change(|state| admin::advance_clock(state, by)) {
        tracing::error!(%error, "the clock's advance could not be kept");
    }
}

/// Mounts the core at the lowest priority, so a test's own `Mock`s win.
async fn mount_core(server: &MockServer, shared: &Arc<LazyCore>) {
    Mock::given(any())
        .respond_with(CoreResponder(Arc::clone(shared)))
        .with_priority(CORE_PRIORITY)
        .mount(server)
        .await;
}

/// Answers every request from the core.
struct CoreResponder(Arc<LazyCore>);

impl Respond for CoreResponder {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let mut incoming = MockRequest::new(request.method.clone(), request.url.path());
        incoming.query = request.url.query().map(str::to_owned);
        incoming.headers = request.headers.clone();
        incoming.body = request.body.clone();
        template(self.0.core().handle(&incoming))
    }
}

fn template(mut response: MockResponse) -> ResponseTemplate {
    // A status outside HTTP's range (an injected fault through the Rust API) answers 500
    // rather than stopping the responder.
    let status = http::StatusCode::from_u16(response.status)
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut template = ResponseTemplate::new(status);
    for (name, value) in response.take_http_headers() {
        template = template.append_header(name, value);
    }
    template = template.set_body_bytes(response.body);
    match response.delay {
        Some(delay) => template.set_delay(delay),
        None => template,
    }
}

impl PaperlinkMock {
    /// Starts a mock with the defaults: four keys (live/test × Read & Write/Read-only), no
    /// products, 60 requests per 60 s per key, a frozen clock.
    ///
    /// Only the server and a random seed are taken here; the state and the keys are built on
    /// first use (the first request, or the first call of a method such as
    /// [`token`](Self::token)), and the clock is frozen at that moment. A test that never
    /// reaches the mock pays only for the server.
    pub async fn start() -> Self {
        Self::mount(LazyCore::deferred()).await
    }

    /// Configures a mock.
    pub fn builder() -> PaperlinkMockBuilder {
        PaperlinkMockBuilder::new()
    }

    async fn mount(shared: LazyCore) -> Self {
        let shared = Arc::new(shared);
        let server = MockServer::start().await;
        mount_core(&server, &shared).await;
        Self { server, shared }
    }

    /// Removes the `Mock`s a test mounted on [`server`](Self::server) and its recorded
    /// requests, and keeps the mock's own behaviour and state. (`server().reset()` would
    /// remove the mock's behaviour too: every request would then get wiremock's bare 404.)
    /// To return the state to the seeded keys and products, use [`reset`](Self::reset).
    pub async fn reset_mocks(&self) {
        self.server.reset().await;
        mount_core(&self.server, &self.shared).await;
    }

    /// The API's base URL, `http://127.0.0.1:PORT/api/v1`.
    pub fn base_url(&self) -> String {
        format!("{}{API_PREFIX}", self.server.uri())
    }

    /// The server's root, `http://127.0.0.1:PORT` (the control plane is under `/__admin`).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The underlying wiremock server: mount your own `Mock`s on it (they win over the
    /// mock's behaviour), or inspect it. To clear your `Mock`s, use
    /// [`reset_mocks`](Self::reset_mocks): the server's own `reset()` also removes the
    /// mock's behaviour.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// The shared request-handling core.
    pub fn core(&self) -> &MockCore {
        self.shared.core()
    }

    /// The token of the seeded key with this mode and scope.
    pub fn token(&self, mode: KeyMode, scope: KeyScope) -> SecretString {
        find_seeded(self.shared.get().1, mode, scope)
            .map(|k| k.token.clone())
            .unwrap_or_else(|| SecretString::from(String::new()))
    }

    /// The metadata of the seeded key with this mode and scope.
    pub fn seeded_key(&self, mode: KeyMode, scope: KeyScope) -> Option<&KeyInfo> {
        find_seeded(self.shared.get().1, mode, scope).map(|k| &k.info)
    }

    /// Creates a key in the default team, as the dashboard does, as the team's Owner; the
    /// token is returned only here. The name must keep the names rule (not blank, no control
    /// characters, at most [`MAX_KEY_NAME`](crate::bounds::MAX_KEY_NAME) characters):
    /// [`MockError::InvalidName`] otherwise.
    pub fn create_key(
        &self,
        name: &str,
        mode: KeyMode,
        scope: KeyScope,
    ) -> Result<NewKey, MockError> {
        self.create_team_key(DEFAULT_TEAM, name, mode, scope)
    }

    /// Creates a key in `team` as its Owner (a new team name creates an isolated team). With
    /// a data file whose disk refuses the change, the key is undone and
    /// [`MockError::Storage`] returned.
    pub fn create_team_key(
        &self,
        team: &str,
        name: &str,
        mode: KeyMode,
        scope: KeyScope,
    ) -> Result<NewKey, MockError> {
        self.create_key_by(team, None, name, mode, scope)
    }

    /// Creates a key in `team` as the member `by`, as the dashboard's API Keys page does:
    /// only an Owner or an Admin may ([`MockError::RoleInsufficient`] for a Manager or a
    /// Member, [`MockError::UnknownMember`] for a name not in the team).
    pub fn create_key_as(
        &self,
        team: &str,
        by: &str,
        name: &str,
        mode: KeyMode,
        scope: KeyScope,
    ) -> Result<NewKey, MockError> {
        self.create_key_by(team, Some(by), name, mode, scope)
    }

    fn create_key_by(
        &self,
        team: &str,
        by: Option<&str>,
        name: &str,
        mode: KeyMode,
        scope: KeyScope,
    ) -> Result<NewKey, MockError> {
        let (info, token) = self
            .core()
            .change(|state| admin::create_key(state, team, name, mode, scope, by))??;
        Ok(NewKey { info, token })
    }

    /// Revokes a key as its team's Owner: it is refused on its next call (after the configured
    /// delay).
    pub fn revoke_key(&self, id: Uuid) -> Result<KeyInfo, MockError> {
        self.core()
            .change(|state| admin::revoke_key(state, &id, None))?
    }

    /// Revokes a key as the member `by` of its team (an Owner or an Admin).
    pub fn revoke_key_as(&self, id: Uuid, by: &str) -> Result<KeyInfo, MockError> {
        self.core()
            .change(|state| admin::revoke_key(state, &id, Some(by)))?
    }

    /// A team's members, the Owner first. Every team has exactly one Owner; until ownership
    /// is transferred it is [`DEFAULT_OWNER`](crate::bounds::DEFAULT_OWNER).
    pub fn members(&self, team: &str) -> Vec<Member> {
        self.core().view(|state, _| state.members.list(team))
    }

    /// Adds a member to a team (any role but Owner: ownership is transferred with
    /// [`set_member_role`](Self::set_member_role)). The team and member names keep the
    /// names rule; member names are unique after Unicode NFKC normalisation.
    pub fn add_member(&self, team: &str, name: &str, role: TeamRole) -> Result<Member, MockError> {
        self.core()
            .change(|state| admin::add_member(state, team, name, role))?
    }

    /// Changes a member's role; [`TeamRole::Owner`] transfers ownership (the previous Owner
    /// becomes an Admin). The Owner's own role changes only that way.
    pub fn set_member_role(
        &self,
        team: &str,
        name: &str,
        role: TeamRole,
    ) -> Result<Member, MockError> {
        self.core()
            .change(|state| admin::set_member_role(state, team, name, role))?
    }

    /// Removes a member (never the Owner).
    pub fn remove_member(&self, team: &str, name: &str) -> Result<Member, MockError> {
        self.core()
            .change(|state| admin::remove_member(state, team, name))?
    }

    /// Every key's metadata (never tokens), oldest first.
    pub fn keys(&self) -> Vec<KeyInfo> {
        self.core().view(|state, now| state.keys.list(None, now))
    }

    /// A snapshot of the default team's products in `mode`, newest first.
    pub fn products(&self, mode: KeyMode) -> Vec<ProductRecord> {
        self.team_products(DEFAULT_TEAM, mode)
    }

    /// A snapshot of `team`'s products in `mode`, newest first (a team made with
    /// [`create_team_key`](Self::create_team_key)).
    pub fn team_products(&self, team: &str, mode: KeyMode) -> Vec<ProductRecord> {
        self.core().view(|state, _| {
            state
                .catalogs
                .get(&crate::engine::catalog::TeamMode(team, mode))
                .map(|catalog| catalog.snapshot())
                .unwrap_or_default()
        })
    }

    /// Adds a product to the default team in `mode` without an API call.
    pub fn insert_product(
        &self,
        mode: KeyMode,
        product: SeedProduct,
    ) -> Result<ProductRecord, MockError> {
        self.core()
            .change(|state| admin::insert_product(state, DEFAULT_TEAM, mode, &product, false))?
    }

    /// Moves the mock clock forward (rate windows, revocation delay, idempotency expiry and
    /// timestamps all follow it). The clock stops at [`CLOCK_END`](crate::bounds::CLOCK_END).
    pub fn advance_clock(&self, by: Duration) {
        advance(self.core(), by);
    }

    /// A sleep that advances this mock's clock by the duration instead of waiting, and is
    /// ready at once: one clock for the mock and the code under test.
    ///
    /// Give it to the SDK (`paperlink_sdk::ClientBuilder::sleep_with(mock.sleeper())`), or
    /// to your own code's waits. Then a `429` with `Retry-After: 60` is retried after 60 s of
    /// mock time, at once, with the SDK's default retry settings, and rate windows, revocation
    /// delays and idempotency expiry follow the same clock. The signature is plain std
    /// (`Fn(Duration) -> impl Future<Output = ()>`), so this crate does not depend on the SDK.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use paperlink_mock::PaperlinkMock;
    ///
    /// let mock = PaperlinkMock::start().await;
    /// let sleep = mock.sleeper();
    /// let before = mock.now();
    /// sleep(Duration::from_secs(90)).await;
    /// assert_eq!(mock.now() - before, time::Duration::seconds(90));
    /// # }
    /// ```
    pub fn sleeper(&self) -> impl Fn(Duration) -> std::future::Ready<()> + Send + Sync + 'static {
        let shared = Arc::clone(&self.shared);
        move |by| {
            advance(shared.core(), by);
            std::future::ready(())
        }
    }

    /// The mock clock's time.
    pub fn now(&self) -> OffsetDateTime {
        self.core().view(|_, now| now)
    }

    /// Every request wiremock received, in full (headers and bodies).
    pub async fn received_requests(&self) -> Vec<wiremock::Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// The mock's journal: method, path, status, key prefix, time and request id per request.
    pub fn journal(&self) -> Vec<RequestRecord> {
        self.core()
            .view(|state, _| state.journal.iter().map(JournalEntry::record).collect())
    }

    /// Injects a fault. Its path may be relative to the base URL (`/products/*`) or in full
    /// (`/api/v1/products/*`). A fault that no route and method of the API can match (it would
    /// never fire), or whose status or delay is out of range, is refused.
    pub fn inject(&self, fault: Fault) -> Result<(), MockError> {
        self.core().lock().faults.inject(fault).map(drop)
    }

    /// The next `times` calls of `method` to `path` (`/products`, or in full
    /// `/api/v1/products`; `*` matches one segment) get `status`, with `Retry-After` when
    /// given. Nothing changes on the server for those calls. Refused as
    /// [`inject`](Self::inject) refuses.
    pub fn fail_next(
        &self,
        method: &str,
        path: &str,
        times: u32,
        status: u16,
        retry_after: Option<u64>,
    ) -> Result<(), MockError> {
        self.inject(Fault::fail_next(method, path, times, status, retry_after))
    }

    /// Every call of `method` to `path` (either spelling) is answered after `delay` (at most
    /// [`MAX_FAULT_DELAY`](crate::bounds::MAX_FAULT_DELAY)).
    pub fn delay(&self, method: &str, path: &str, delay: Duration) -> Result<(), MockError> {
        self.inject(Fault::delay(method, path, delay))
    }

    /// Removes every injected fault.
    pub fn clear_faults(&self) {
        self.core().lock().faults.clear();
    }

    /// Back to the seeded state (see `POST /__admin/reset`).
    pub fn reset(&self) {
        if let Err(error) = self.core().change(admin::reset) {
            tracing::error!(%error, "the reset could not be kept");
        }
    }
}

impl PaperlinkMockBuilder {
    /// Starts the configured mock in-process.
    pub async fn start(self) -> Result<PaperlinkMock, MockError> {
        let (core, seeded) = self.build_core()?;
        Ok(PaperlinkMock::mount(LazyCore::built(core, seeded)).await)
    }
}
