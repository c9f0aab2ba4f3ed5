//! Plain Rust state: keys, catalogs per (team, mode), idempotency records, rate windows, the
//! request journal, injected faults and the mock clock. No wiremock or HTTP server types here.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use foldhash::{HashMap, HashMapExt};
use hashbrown::hash_map::EntryRef;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::{KeyMode, Keyring};
use crate::catalog::Catalog;
use crate::change::Change;
use crate::model::millis;
use crate::sharded::ShardedMap;

/// How long idempotency records are kept (24 hours of mock time).
pub const IDEMPOTENCY_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// A sliding-window rate limit per API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitPolicy {
    /// Requests allowed in any window.
    pub limit: u32,
    /// The window length.
    pub window: Duration,
}

impl RateLimitPolicy {
    /// `limit` requests per `window`.
    pub const fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window }
    }
}

impl Default for RateLimitPolicy {
    /// 60 requests per 60 seconds.
    fn default() -> Self {
        Self::new(60, Duration::from_secs(60))
    }
}

/// The latest time the mock clock shows. An advance past it is refused (400 from
/// `/__admin/clock/advance`); through the Rust API the clock stops there. Every period the mock
/// adds to a time (a rate window, 24 h of idempotency, 90 days of revocation retention, a
/// revocation delay, each at most [`MAX_PERIOD`]) stays in range past it.
pub const CLOCK_END: OffsetDateTime = time::macros::datetime!(9000-01-01 0:00 UTC);

/// The longest rate-limit window and revocation delay the mock accepts (366 days).
pub const MAX_PERIOD: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// `at + by`, or the latest time `time` can hold: no sum of times panics.
pub(crate) fn later(at: OffsetDateTime, by: Duration) -> OffsetDateTime {
    time::Duration::try_from(by)
        .ok()
        .and_then(|by| at.checked_add(by))
        .unwrap_or_else(|| time::PrimitiveDateTime::MAX.assume_offset(time::UtcOffset::UTC))
}

/// The mock clock: a start time, plus manual advances, plus (for a system clock) the real
/// time elapsed since the mock started; never past [`CLOCK_END`].
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    start: OffsetDateTime,
    advanced: Duration,
    real: Option<Instant>,
}

impl Clock {
    pub(crate) fn frozen(start: OffsetDateTime) -> Self {
        Self {
            start: start.min(CLOCK_END),
            advanced: Duration::ZERO,
            real: None,
        }
    }

    pub(crate) fn system(start: OffsetDateTime) -> Self {
        Self {
            real: Some(Instant::now()),
            ..Self::frozen(start)
        }
    }

    /// Now, to the millisecond (what the API serves, so stored times round-trip exactly).
    pub(crate) fn now(&self) -> OffsetDateTime {
        let real = self.real.map(|i| i.elapsed()).unwrap_or_default();
        let now = later(self.start, self.advanced.saturating_add(real)).min(CLOCK_END);
        now.replace_nanosecond(u32::from(now.millisecond()) * 1_000_000)
            .unwrap_or(now)
    }

    /// How far the clock was moved by hand.
    pub(crate) fn advanced(&self) -> Duration {
        self.advanced
    }

    /// How far the clock can still be moved by hand.
    pub(crate) fn room(&self) -> Duration {
        let left = CLOCK_END - self.now();
        Duration::try_from(left).unwrap_or(Duration::ZERO)
    }

    /// Moves the clock forward, stopping at [`CLOCK_END`].
    pub(crate) fn advance(&mut self, by: Duration) {
        self.advanced = self.advanced.saturating_add(by.min(self.room()));
    }

    /// Sets how far the clock has been moved by hand (a restored state).
    #[cfg(feature = "durable")]
    pub(crate) fn set_advanced(&mut self, advanced: Duration) {
        self.advanced = Duration::ZERO;
        self.advance(advanced);
    }
}

/// One line of the request journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// Status served.
    pub status: u16,
    /// The key's prefix (`pk_test_AbC`), when the request authenticated.
    pub key_prefix: Option<String>,
    /// Mock time of the request.
    #[serde(with = "millis")]
    pub time: OffsetDateTime,
    /// The `X-Request-Id` served.
    pub request_id: String,
}

/// The longest path a journal line keeps, in bytes; a longer one is cut and ends in
/// [`JOURNAL_CUT_MARKER`].
pub const JOURNAL_FIELD_MAX: usize = 1024;
/// What ends a path the journal cut.
pub const JOURNAL_CUT_MARKER: &str = "…[cut]";
/// The bytes the journal holds at most, counting each line's text and a fixed overhead per
/// line; past it the oldest lines go first, whatever the line capacity.
pub const JOURNAL_MAX_BYTES: usize = 16 * 1024 * 1024;
/// What a journal line costs besides its text.
const JOURNAL_LINE_OVERHEAD: usize = 128;

/// A path as the journal keeps it: at most [`JOURNAL_FIELD_MAX`] bytes.
pub(crate) fn journal_text(text: &str) -> String {
    if text.len() <= JOURNAL_FIELD_MAX {
        return text.to_owned();
    }
    let mut end = JOURNAL_FIELD_MAX - JOURNAL_CUT_MARKER.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{JOURNAL_CUT_MARKER}", &text[..end])
}

/// A journal line as kept: no text is made until the journal is read.
#[derive(Debug, Clone)]
pub(crate) struct JournalEntry {
    pub(crate) method: http::Method,
    pub(crate) path: String,
    pub(crate) status: u16,
    pub(crate) key_prefix: Option<String>,
    pub(crate) time: OffsetDateTime,
    pub(crate) request_id: Uuid,
}

impl JournalEntry {
    fn cost(&self) -> usize {
        JOURNAL_LINE_OVERHEAD + self.path.len() + self.key_prefix.as_ref().map_or(0, String::len)
    }

    pub(crate) fn record(&self) -> RequestRecord {
        RequestRecord {
            method: self.method.as_str().to_owned(),
            path: self.path.clone(),
            status: self.status,
            key_prefix: self.key_prefix.clone(),
            time: self.time,
            request_id: self.request_id.to_string(),
        }
    }
}

/// What an injected fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer with this status (and `Retry-After`, when given) before the request is handled:
    /// nothing changes.
    Status {
        /// The status, such as 503 or 429.
        status: u16,
        /// `Retry-After` seconds.
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// Handle the request, then answer after this delay.
    Delay {
        /// The delay in milliseconds.
        millis: u64,
    },
    /// Handle the request (its effects stay), then break the connection instead of answering.
    /// Only the standalone server can do this; in-process it answers normally.
    DropConnection,
}

/// An injected fault: which requests it hits, how often, and what it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Fault {
    /// Only requests with this method (any method when `None`).
    #[serde(default)]
    pub method: Option<String>,
    /// Only this path; a `*` segment matches any one segment (`/api/v1/products/*`).
    pub path: String,
    /// What happens.
    pub kind: FaultKind,
    /// How many requests it hits before it is spent (`None`: unlimited).
    #[serde(default)]
    pub times: Option<u32>,
    /// The chance that a matching request is hit (1.0: every one).
    #[serde(default = "one")]
    pub probability: f64,
}

fn one() -> f64 {
    1.0
}

impl Fault {
    /// A fault hitting every request with `method` to `path` (`*` matches one segment),
    /// until limited with [`times`](Self::times) or [`with_probability`](Self::with_probability).
    pub fn new(method: &str, path: &str, kind: FaultKind) -> Self {
        Self {
            method: Some(method.to_ascii_uppercase()),
            path: path.to_owned(),
            kind,
            times: None,
            probability: 1.0,
        }
    }

    /// The next `times` requests with `method` to `path` get `status` (no state changes).
    pub fn fail_next(
        method: &str,
        path: &str,
        times: u32,
        status: u16,
        retry_after: Option<u64>,
    ) -> Self {
        Self::new(
            method,
            path,
            FaultKind::Status {
                status,
                retry_after,
            },
        )
        .times(times)
    }

    /// Every request with `method` to `path` is answered after `delay`.
    pub fn delay(method: &str, path: &str, delay: Duration) -> Self {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        Self::new(method, path, FaultKind::Delay { millis })
    }

    /// This fault, hitting each matching request with `probability` (0.0 to 1.0).
    pub fn with_probability(mut self, probability: f64) -> Self {
        self.probability = probability.clamp(0.0, 1.0);
        self
    }

    /// This fault, spent after `times` hits.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if self
            .method
            .as_deref()
            .is_some_and(|m| !m.eq_ignore_ascii_case(method))
        {
            return false;
        }
        let mut want = self.path.split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some("*"), Some(_)) => {}
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    }
}

/// A stored write response for idempotent replay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IdempotentResponse {
    #[serde(with = "crate::model::stored::digest")]
    pub(crate) fingerprint: [u8; 32],
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    /// The response body, shared with the response that was sent; stored as text.
    #[serde(with = "crate::model::stored::body")]
    pub(crate) body: Bytes,
    #[serde(with = "millis")]
    pub(crate) expires: OffsetDateTime,
}

/// The SHA-256 of the API key's credential, the method, the path and the `Idempotency-Key`:
/// a record is found only by the same key sending the same key to the same route.
pub(crate) type IdempotencyScope = [u8; 32];

/// A random (or, with a seeded generator, reproducible) v4 UUID.
pub(crate) fn random_uuid(rng: &mut fastrand::Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.u128(..).to_le_bytes()).into_uuid()
}

/// Draws until the value is not `taken`, so that a repeating generator (the same seed after a
/// restart) never hands out an id or a token twice.
pub(crate) fn draw_unused<T>(mut draw: impl FnMut() -> T, taken: impl Fn(&T) -> bool) -> T {
    loop {
        let value = draw();
        if !taken(&value) {
            return value;
        }
    }
}

/// Product catalogs by (team, mode).
pub(crate) type Catalogs = hashbrown::HashMap<(String, KeyMode), Catalog>;

/// A catalog's (team, mode) borrowed from the request: finding a catalog copies nothing; the
/// team's name is copied only when its catalog is made. Hashes as the owned key does.
#[derive(Hash)]
struct TeamMode<'a>(&'a str, KeyMode);

impl hashbrown::Equivalent<(String, KeyMode)> for TeamMode<'_> {
    fn equivalent(&self, key: &(String, KeyMode)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

/// The catalog of a team and mode, made empty the first time it is needed.
pub(crate) fn catalog_of<'a>(
    catalogs: &'a mut Catalogs,
    team: &str,
    mode: KeyMode,
) -> &'a mut Catalog {
    match catalogs.entry_ref(&TeamMode(team, mode)) {
        EntryRef::Occupied(found) => found.into_mut(),
        EntryRef::Vacant(slot) => slot.insert_with_key((team.to_owned(), mode), Catalog::default()),
    }
}

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) rate_limit: Option<RateLimitPolicy>,
    pub(crate) revocation_delay: Duration,
    pub(crate) default_type: String,
    pub(crate) default_unit: String,
    pub(crate) journal_capacity: usize,
}

impl Settings {
    /// The `type` and `unitOfMeasure` of a product created without them.
    pub(crate) fn defaults(&self) -> (&str, &str) {
        (&self.default_type, &self.default_unit)
    }
}

/// Everything the mock knows.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) settings: Settings,
    pub(crate) clock: Clock,
    pub(crate) rng: fastrand::Rng,
    pub(crate) keys: Keyring,
    pub(crate) catalogs: Catalogs,
    /// Boxed for the same reason as the catalog's products: growth moves pointers.
    pub(crate) idempotency: ShardedMap<IdempotencyScope, Box<IdempotentResponse>>,
    idempotency_expiry: VecDeque<(OffsetDateTime, IdempotencyScope)>,
    windows: HashMap<Uuid, VecDeque<OffsetDateTime>>,
    pub(crate) journal: VecDeque<JournalEntry>,
    /// What the journal's lines cost, in bytes.
    journal_bytes: usize,
    pub(crate) faults: Vec<Fault>,
    /// What `reset` returns to.
    pub(crate) seeded: Option<(Keyring, Catalogs)>,
    /// Changes to make durable before the response goes out (only with a data file).
    pub(crate) pending: Option<Vec<Change>>,
}

/// The rate-limit headers of one response, and the wait when over the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateStatus {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) reset: i64,
    pub(crate) retry_after: Option<u64>,
}

impl State {
    pub(crate) fn new(settings: Settings, clock: Clock, rng: fastrand::Rng) -> Self {
        Self {
            settings,
            clock,
            rng,
            keys: Keyring::default(),
            catalogs: Catalogs::default(),
            idempotency: ShardedMap::default(),
            idempotency_expiry: VecDeque::new(),
            windows: HashMap::new(),
            journal: VecDeque::new(),
            journal_bytes: 0,
            faults: Vec::new(),
            seeded: None,
            pending: None,
        }
    }

    /// Notes a change for the data file, when there is one.
    pub(crate) fn record(&mut self, change: impl FnOnce() -> Change) {
        if let Some(pending) = &mut self.pending {
            pending.push(change());
        }
    }

    /// Forgets idempotency records.
    pub(crate) fn clear_idempotency(&mut self) {
        self.idempotency.clear();
        self.idempotency_expiry.clear();
    }

    /// Forgets idempotency records, rate windows, the journal and faults.
    pub(crate) fn clear_traffic(&mut self) {
        self.clear_idempotency();
        self.windows.clear();
        self.journal.clear();
        self.journal_bytes = 0;
        self.faults.clear();
    }

    pub(crate) fn catalog(&mut self, team: &str, mode: KeyMode) -> &mut Catalog {
        catalog_of(&mut self.catalogs, team, mode)
    }

    /// Forgets what has expired: idempotency records past 24 h, revoked keys past 90 days.
    pub(crate) fn expire(&mut self, now: OffsetDateTime) {
        while let Some((at, _)) = self.idempotency_expiry.front() {
            if *at > now {
                break;
            }
            if let Some((_, scope)) = self.idempotency_expiry.pop_front()
                && self
                    .idempotency
                    .get(&scope)
                    .is_some_and(|r| r.expires <= now)
            {
                self.idempotency.remove(&scope);
            }
        }
        self.keys.purge(now);
    }

    pub(crate) fn remember(&mut self, scope: IdempotencyScope, response: IdempotentResponse) {
        self.record(|| Change::Idempotency {
            scope,
            response: response.clone(),
        });
        self.idempotency_expiry.push_back((response.expires, scope));
        self.idempotency.insert(scope, Box::new(response));
    }

    /// Counts a request against the key's window (`consume`), or only reports it.
    pub(crate) fn rate(
        &mut self,
        key: Uuid,
        now: OffsetDateTime,
        consume: bool,
    ) -> Option<RateStatus> {
        let policy = self.settings.rate_limit?;
        let window = self.windows.entry(key).or_default();
        while window
            .front()
            .is_some_and(|t| later(*t, policy.window) <= now)
        {
            window.pop_front();
        }
        let seconds_until = |t: OffsetDateTime| {
            let wait = (t - now).as_seconds_f64().ceil();
            if wait > 0.0 { wait as u64 } else { 0 }
        };
        let ceil_unix = |t: OffsetDateTime| t.unix_timestamp() + i64::from(t.nanosecond() > 0);
        let used = u32::try_from(window.len()).unwrap_or(u32::MAX);
        if used >= policy.limit {
            let frees_at = window.front().map_or(now, |t| later(*t, policy.window));
            return Some(RateStatus {
                limit: policy.limit,
                remaining: 0,
                reset: ceil_unix(frees_at),
                retry_after: Some(seconds_until(frees_at).max(1)),
            });
        }
        if consume {
            window.push_back(now);
        }
        let used = used + u32::from(consume);
        let frees_at = window.front().map_or(now, |t| later(*t, policy.window));
        Some(RateStatus {
            limit: policy.limit,
            remaining: policy.limit.saturating_sub(used),
            reset: ceil_unix(frees_at),
            retry_after: None,
        })
    }

    /// The fault that hits this request, if any (spent faults are removed).
    pub(crate) fn fault_for(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        // Each matching fault rolls its own chance, in the order they were injected.
        let index = (0..self.faults.len()).find(|&i| {
            let fault = &self.faults[i];
            fault.matches(method, path) && self.rng.f64() < fault.probability
        })?;
        let fault = &mut self.faults[index];
        let kind = fault.kind.clone();
        if let Some(times) = &mut fault.times {
            *times = times.saturating_sub(1);
            if *times == 0 {
                self.faults.remove(index);
            }
        }
        Some(kind)
    }

    pub(crate) fn journal(&mut self, entry: JournalEntry) {
        if self.settings.journal_capacity == 0 {
            return;
        }
        let cost = entry.cost();
        while self.journal.len() >= self.settings.journal_capacity
            || (!self.journal.is_empty() && self.journal_bytes + cost > JOURNAL_MAX_BYTES)
        {
            if let Some(old) = self.journal.pop_front() {
                self.journal_bytes -= old.cost();
            }
        }
        self.journal_bytes += cost;
        self.journal.push_back(entry);
    }

    /// Corrects the status a request was journaled with (its answer changed after the
    /// state's lock was released).
    #[cfg(feature = "durable")]
    pub(crate) fn journal_status(&mut self, request_id: Uuid, status: u16) {
        if let Some(entry) = self
            .journal
            .iter_mut()
            .rev()
            .find(|e| e.request_id == request_id)
        {
            entry.status = status;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(limit: u32) -> State {
        let settings = Settings {
            rate_limit: Some(RateLimitPolicy::new(limit, Duration::from_secs(60))),
            revocation_delay: Duration::ZERO,
            default_type: "SERVICES".into(),
            default_unit: "unit".into(),
            journal_capacity: 3,
        };
        State::new(
            settings,
            Clock::frozen(OffsetDateTime::UNIX_EPOCH),
            fastrand::Rng::with_seed(1),
        )
    }

    #[test]
    fn the_window_slides_per_key() {
        let mut s = state(2);
        let key = Uuid::from_u128(1);
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(s.rate(key, t0, true).map(|r| r.remaining), Some(1));
        let second = s
            .rate(key, t0 + Duration::from_secs(30), true)
            .expect("policy");
        assert_eq!((second.remaining, second.reset), (0, 1_060));
        let over = s
            .rate(key, t0 + Duration::from_secs(59), true)
            .expect("policy");
        assert_eq!((over.retry_after, over.remaining), (Some(1), 0));
        assert_eq!(
            s.rate(Uuid::from_u128(2), t0, true).map(|r| r.retry_after),
            Some(None)
        );
        let later = s
            .rate(key, t0 + Duration::from_secs(60), true)
            .expect("policy");
        assert_eq!((later.retry_after, later.remaining), (None, 0));
        assert_eq!(
            s.rate(key, t0 + Duration::from_secs(61), false)
                .map(|r| r.retry_after),
            Some(Some(29))
        );
    }

    #[test]
    fn faults_match_paths_and_are_spent() {
        let mut s = state(1);
        s.faults.push(Fault::fail_next(
            "post",
            "/api/v1/products/*",
            2,
            503,
            Some(1),
        ));
        assert_eq!(s.fault_for("GET", "/api/v1/products/x"), None);
        assert_eq!(s.fault_for("POST", "/api/v1/products"), None);
        assert!(s.fault_for("POST", "/api/v1/products/x").is_some());
        assert!(s.fault_for("POST", "/api/v1/products/y").is_some());
        assert_eq!(s.fault_for("POST", "/api/v1/products/z"), None);
        assert!(s.faults.is_empty());
        s.faults
            .push(Fault::fail_next("GET", "/a", 100, 503, None).with_probability(0.0));
        s.faults.push(Fault::fail_next("GET", "/a", 100, 429, None));
        assert!(
            matches!(
                s.fault_for("GET", "/a"),
                Some(FaultKind::Status { status: 429, .. })
            ),
            "the second fault gets its turn"
        );
    }

    #[test]
    fn the_journal_is_a_ring() {
        let mut s = state(1);
        for i in 0..5 {
            s.journal(JournalEntry {
                method: http::Method::GET,
                path: format!("/{i}"),
                status: 200,
                key_prefix: None,
                time: OffsetDateTime::UNIX_EPOCH,
                request_id: Uuid::from_u128(i),
            });
        }
        let paths: Vec<_> = s.journal.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["/2", "/3", "/4"]);
    }

    #[test]
    fn clocks_advance_by_hand() {
        let mut c = Clock::frozen(OffsetDateTime::UNIX_EPOCH);
        c.advance(Duration::from_secs(90));
        assert_eq!(c.now().unix_timestamp(), 90);
    }

    #[test]
    fn a_repeating_generator_never_reuses_a_product_id_a_token_or_a_key_id() {
        let mut s = state(10);
        let spec = || crate::auth::KeySpec {
            name: "k".into(),
            mode: KeyMode::Test,
            scope: crate::auth::KeyScope::ReadWrite,
            team: "t".into(),
            created_by: "owner".into(),
        };
        let product = crate::config::SeedProduct::new("p", rust_decimal::Decimal::ONE, "USD");
        // Each second draw starts from the generator's state before the first, as a restart
        // with the same seed would.
        let before = s.rng.clone();
        let first_product = s
            .insert_product("t", KeyMode::Test, &product)
            .expect("seeded");
        s.rng = before;
        let second_product = s
            .insert_product("t", KeyMode::Test, &product)
            .expect("seeded");
        let before = s.rng.clone();
        let (first_key, _) = s.create_key(spec());
        s.rng = before;
        let (second_key, _) = s.create_key(spec());
        assert_ne!(first_product.id, second_product.id);
        assert_ne!(first_key.id, second_key.id);
        assert_ne!(
            first_key.prefix, second_key.prefix,
            "a token is not handed out twice"
        );
        assert_eq!(s.catalog("t", KeyMode::Test).snapshot().len(), 2);
        assert_eq!(s.keys.list(None).len(), 2);
    }

    #[test]
    fn a_stored_body_is_written_as_text_and_read_from_text_or_byte_values() {
        let record = IdempotentResponse {
            fingerprint: [7; 32],
            status: 201,
            location: None,
            body: Bytes::from_static(br#"{"data":{"name":"Kept"}}"#),
            expires: OffsetDateTime::UNIX_EPOCH,
        };
        let line = serde_json::to_string(&record).expect("serialize");
        assert!(
            line.contains(r#""body":"{\"data\":{\"name\":\"Kept\"}}""#),
            "{line}"
        );
        let back: IdempotentResponse = serde_json::from_str(&line).expect("text");
        assert_eq!(back.body, record.body);
        // Earlier versions wrote the body as an array of byte values.
        let values: Vec<String> = record.body.iter().map(u8::to_string).collect();
        let old = line.replace(
            r#""{\"data\":{\"name\":\"Kept\"}}""#,
            &format!("[{}]", values.join(",")),
        );
        assert_ne!(old, line);
        let back: IdempotentResponse = serde_json::from_str(&old).expect("byte values");
        assert_eq!(back.body, record.body);
        assert!(
            serde_json::from_str::<IdempotentResponse>(
                &line.replace(r#""body":"#, r#""body":7,"x":"#)
            )
            .is_err()
        );
    }

    #[test]
    fn a_borrowed_team_name_finds_the_catalog_made_for_it() {
        let mut catalogs = Catalogs::default();
        let id = Uuid::from_u128(9);
        let product = crate::config::SeedProduct::new("p", rust_decimal::Decimal::ONE, "USD");
        let new = crate::model::create_input(&serde_json::to_vec(&product).expect("json"))
            .expect("valid");
        catalog_of(&mut catalogs, "team", KeyMode::Test)
            .create(id, new, OffsetDateTime::UNIX_EPOCH, ("SERVICES", "unit"))
            .expect("created");
        assert!(catalog_of(&mut catalogs, "team", KeyMode::Test).contains(&id));
        assert!(!catalog_of(&mut catalogs, "team", KeyMode::Live).contains(&id));
        assert!(!catalog_of(&mut catalogs, "other", KeyMode::Test).contains(&id));
        assert_eq!(catalogs.len(), 3);
    }
}
