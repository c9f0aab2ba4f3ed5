//! [`PaperlinkMockBuilder`]: everything a mock is started with, for both front doors.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

use crate::engine::MockCore;
use crate::engine::admin;
use crate::engine::clock::{Clock, MAX_PERIOD};
use crate::engine::edge::Hosts;
use crate::engine::keys::DEFAULT_TEAM;
use crate::engine::rate_limit::RateLimitPolicy;
use crate::engine::state::{Settings, State};
use crate::error::MockError;
use crate::model::{DEFAULT_UNIT_OF_MEASURE, KeyInfo, KeyMode, KeyScope, SeedProduct};

/// What closes a core's data file early (nothing without the `durable` feature).
#[cfg(feature = "durable")]
pub(crate) type Closer = crate::persist::Closer;
/// What closes a core's data file early (nothing without the `durable` feature).
#[cfg(not(feature = "durable"))]
pub(crate) type Closer = std::convert::Infallible;

/// Journal lines kept by default (the oldest are dropped first).
pub const DEFAULT_JOURNAL_CAPACITY: usize = 10_000;

/// A key and its token: one of the four every mock starts with, or a new one. The token is
/// available only here, as on the dashboard's confirmation screen.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NewKey {
    /// Its metadata.
    pub info: KeyInfo,
    /// Its token.
    pub token: SecretString,
}

/// Configures a mock: seed products, rate limit, revocation delay, a deterministic seed, the
/// clock. [`start`](Self::start) starts it in-process; with the `server` feature,
/// [`standalone::Server::bind`](crate::standalone::Server::bind) serves it over a socket.
#[derive(Debug, Clone)]
#[must_use]
pub struct PaperlinkMockBuilder {
    pub(crate) seed: Option<u64>,
    pub(crate) rate_limit: Option<RateLimitPolicy>,
    pub(crate) revocation_delay: Duration,
    pub(crate) start_time: Option<OffsetDateTime>,
    pub(crate) system_clock: bool,
    pub(crate) products: Vec<(KeyMode, SeedProduct)>,
    pub(crate) journal_capacity: usize,
    pub(crate) admin_token: Option<SecretString>,
    pub(crate) allowed_hosts: Vec<String>,
    pub(crate) default_unit: String,
    #[cfg(feature = "durable")]
    pub(crate) data_file: Option<std::path::PathBuf>,
    #[cfg(feature = "durable")]
    pub(crate) import_jsonl: Option<std::path::PathBuf>,
}

impl Default for PaperlinkMockBuilder {
    fn default() -> Self {
        Self {
            seed: None,
            rate_limit: Some(RateLimitPolicy::default()),
            revocation_delay: Duration::ZERO,
            start_time: None,
            system_clock: false,
            products: Vec::new(),
            journal_capacity: DEFAULT_JOURNAL_CAPACITY,
            admin_token: None,
            allowed_hosts: Vec::new(),
            default_unit: DEFAULT_UNIT_OF_MEASURE.to_owned(),
            #[cfg(feature = "durable")]
            data_file: None,
            #[cfg(feature = "durable")]
            import_jsonl: None,
        }
    }
}

impl PaperlinkMockBuilder {
    /// The defaults: 60 requests per 60 s per key, immediate revocation, a frozen clock at the
    /// current time, random ids and tokens.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reproducible product ids, key ids and tokens from this seed (request ids stay random).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The rate limit per key.
    pub fn rate_limit(mut self, policy: RateLimitPolicy) -> Self {
        self.rate_limit = Some(policy);
        self
    }

    /// No rate limit (and no `X-RateLimit-*` headers).
    pub fn no_rate_limit(mut self) -> Self {
        self.rate_limit = None;
        self
    }

    /// A revoked key keeps working for this long of mock time ("within seconds" in
    /// production); zero by default.
    pub fn revocation_delay(mut self, delay: Duration) -> Self {
        self.revocation_delay = delay;
        self
    }

    /// The mock clock starts at this time (default: now).
    pub fn start_time(mut self, at: OffsetDateTime) -> Self {
        self.start_time = Some(at);
        self
    }

    /// The mock clock follows real time (plus any advances). By default it is frozen and moves
    /// only with `advance_clock`, so tests are deterministic.
    pub fn system_clock(mut self) -> Self {
        self.system_clock = true;
        self
    }

    /// A product to seed in `mode`, in the default team.
    pub fn product(mut self, mode: KeyMode, product: SeedProduct) -> Self {
        self.products.push((mode, product));
        self
    }

    /// How many journal lines to keep (a ring buffer; 0 keeps none).
    pub fn journal_capacity(mut self, lines: usize) -> Self {
        self.journal_capacity = lines;
        self
    }

    /// Require `Authorization: Bearer <token>` on `/__admin` (not empty: an empty token is
    /// refused when the mock starts). The builder's `Debug` does not show it.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(SecretString::from(token.into()));
        self
    }

    /// Also answer to requests whose `Host` is this name (any port), besides the loopback
    /// names (`127.0.0.1`, `[::1]`, `localhost`, `*.localhost`); repeatable. Any other `Host`
    /// gets `421 host_not_allowed`, so a web page cannot reach the sandbox by rebinding its own
    /// name to it. A standalone server on a non-loopback address checks `Host` only when names
    /// are given here (`--allowed-host`).
    pub fn allowed_host(mut self, name: impl Into<String>) -> Self {
        self.allowed_hosts.push(name.into());
        self
    }

    /// The `unitOfMeasure` given to products created without one (default `unit`).
    pub fn default_unit_of_measure(mut self, unit: impl Into<String>) -> Self {
        self.default_unit = unit.into();
        self
    }

    /// Keep keys, products and idempotency records in this SQLite database (standalone use;
    /// the `durable` feature): every change is committed before its response is sent, and a
    /// restart resumes from it. When the file already has state, the seeded keys and seed
    /// products are not created again (and their tokens, shown at first start, are not shown
    /// again). The file is locked while the mock runs: a second mock on it refuses to start.
    #[cfg(feature = "durable")]
    pub fn data_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.data_file = Some(path.into());
        self
    }

    /// Fills a new [`data_file`](Self::data_file) from a data file of the JSON-lines format
    /// that paperlink-mock 0.1 wrote (which is only read). Refused when the data file already
    /// holds state, so an import happens once.
    #[cfg(feature = "durable")]
    pub fn import_jsonl(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.import_jsonl = Some(path.into());
        self
    }

    /// The `Host` rule of an in-process mock (the standalone server sets its own from its
    /// address).
    fn hosts(&self) -> Hosts {
        Hosts::for_bind(std::net::Ipv4Addr::LOCALHOST.into(), &self.allowed_hosts)
    }

    /// How long the admin token is, in characters.
    #[cfg(feature = "server")]
    pub(crate) fn admin_token_chars(&self) -> Option<usize> {
        self.expose_admin_token().map(|t| t.chars().count())
    }

    fn expose_admin_token(&self) -> Option<&str> {
        self.admin_token.as_ref().map(|t| t.expose_secret())
    }

    /// Checks the settings that enter from outside against their ranges.
    fn check(&self) -> Result<(), MockError> {
        let period = |setting: &'static str, value: std::time::Duration| {
            if value > MAX_PERIOD {
                return Err(MockError::OutOfRange {
                    setting,
                    problem: format!("must be at most {} seconds", MAX_PERIOD.as_secs()),
                });
            }
            Ok(())
        };
        period("the revocation delay", self.revocation_delay)?;
        if let Some(policy) = self.rate_limit {
            period("the rate-limit window", policy.window)?;
            if policy.window.is_zero() {
                return Err(MockError::OutOfRange {
                    setting: "the rate-limit window",
                    problem: "must be at least 1 millisecond".to_owned(),
                });
            }
        }
        if self
            .admin_token
            .as_ref()
            .is_some_and(|t| t.expose_secret().trim().is_empty())
        {
            return Err(MockError::OutOfRange {
                setting: "the admin token",
                problem: "must not be empty (it would lock the control plane)".to_owned(),
            });
        }
        #[cfg(feature = "durable")]
        if self.import_jsonl.is_some() && self.data_file.is_none() {
            return Err(MockError::OutOfRange {
                setting: "import_jsonl",
                problem: "needs a data_file to import into".to_owned(),
            });
        }
        if self.start_time.is_some_and(|at| at > Clock::latest()) {
            return Err(MockError::OutOfRange {
                setting: "the start time",
                problem: format!(
                    "must be at most {} (366 days before the end of the mock's calendar, \
                     9000-01-01)",
                    crate::model::millis::format(Clock::latest())
                ),
            });
        }
        Ok(())
    }

    /// Builds the core with its four seeded keys and the seed products.
    pub(crate) fn build_core(&self) -> Result<(MockCore, Vec<NewKey>), MockError> {
        let (core, seeded, _) = self.build_core_closable()?;
        Ok((core, seeded))
    }

    /// [`build_core`](Self::build_core), and what closes its data file (for a server's
    /// shutdown deadline; `None` without one).
    pub(crate) fn build_core_closable(
        &self,
    ) -> Result<(MockCore, Vec<NewKey>, Option<Closer>), MockError> {
        self.check()?;
        let (mut state, seeded) = self.base_state();
        #[cfg(feature = "durable")]
        if let Some(path) = &self.data_file {
            let mut opened = crate::persist::Opened::open(path, self.import_jsonl.is_some())?;
            let seeded = if let Some(from) = &self.import_jsonl {
                let snapshot = opened.import_jsonl(from)?;
                opened.write_first(&snapshot)?;
                state.load(snapshot);
                Vec::new()
            } else if opened.holds_state() {
                // An existing data file wins over fresh seeds.
                state.load(opened.read()?);
                Vec::new()
            } else {
                self.seed_products(&mut state)?;
                opened.write_first(&state.snapshot())?;
                seeded
            };
            let data_file = opened.serve(state.clock.now())?;
            let closer = data_file.closer();
            let core = MockCore::new(state, self.expose_admin_token(), self.hosts());
            return Ok((
                core.with_data_file(Box::new(data_file)),
                seeded,
                Some(closer),
            ));
        }
        self.seed_products(&mut state)?;
        Ok((
            MockCore::new(state, self.expose_admin_token(), self.hosts()),
            seeded,
            None,
        ))
    }

    fn seed_products(&self, state: &mut State) -> Result<(), MockError> {
        for (mode, product) in &self.products {
            let team = product.team.as_deref().unwrap_or(DEFAULT_TEAM);
            admin::insert_product(state, team, product.mode.unwrap_or(*mode), product, false)?;
        }
        admin::mark_seeded(state);
        Ok(())
    }

    /// Builds the core with its four seeded keys, ignoring seed products (so it cannot fail).
    pub(crate) fn build_core_without_products(&self) -> (MockCore, Vec<NewKey>) {
        let (mut state, seeded) = self.base_state();
        admin::mark_seeded(&mut state);
        (
            MockCore::new(state, self.expose_admin_token(), self.hosts()),
            seeded,
        )
    }

    /// The state with its settings, clock and four seeded keys.
    fn base_state(&self) -> (State, Vec<NewKey>) {
        let settings = Settings {
            rate_limit: self.rate_limit,
            revocation_delay: self.revocation_delay,
            default_unit: self.default_unit.clone(),
            journal_capacity: self.journal_capacity,
        };
        // The clock serves whole milliseconds whatever its start.
        let start = self.start_time.unwrap_or_else(OffsetDateTime::now_utc);
        let clock = if self.system_clock {
            Clock::system(start)
        } else {
            Clock::frozen(start)
        };
        let rng = self
            .seed
            .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        let mut state = State::new(settings, clock, rng);
        let mut seeded = Vec::with_capacity(4);
        for mode in KeyMode::ALL {
            for scope in KeyScope::ALL {
                let name = match (mode, scope) {
                    (KeyMode::Live, KeyScope::ReadWrite) => "Live Read & Write",
                    (KeyMode::Live, KeyScope::ReadOnly) => "Live Read-only",
                    (KeyMode::Test, KeyScope::ReadWrite) => "Test Read & Write",
                    (KeyMode::Test, KeyScope::ReadOnly) => "Test Read-only",
                };
                // The team and names are constants that keep the names rule.
                if let Ok((info, token)) =
                    admin::create_key(&mut state, DEFAULT_TEAM, name, mode, scope, None)
                {
                    seeded.push(NewKey { info, token });
                }
            }
        }
        (state, seeded)
    }
}

impl MockCore {
    /// Builds a core as configured (for a custom front door, or for fuzzing), with the four
    /// seeded keys and their tokens.
    pub fn from_builder(builder: &PaperlinkMockBuilder) -> Result<(Self, Vec<NewKey>), MockError> {
        builder.build_core()
    }
}

/// Picks a seeded key.
pub(crate) fn find_seeded(keys: &[NewKey], mode: KeyMode, scope: KeyScope) -> Option<&NewKey> {
    keys.iter()
        .find(|k| k.info.mode == mode && k.info.scope == scope)
}

/// Parses a seed file: a JSON array of [`SeedProduct`]s.
pub fn parse_seed_file(text: &str) -> Result<Vec<SeedProduct>, MockError> {
    serde_json::from_str(text).map_err(|e| MockError::File {
        what: "the seed file".to_owned(),
        source: Box::new(e),
    })
}
