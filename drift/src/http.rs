//! One side of the comparison (the target, or the local mock): the one request path, with a
//! timeout on every request, a cap on what is read, no redirect and no proxy (so only the
//! base URL's host is ever contacted), the request budget, and the waits the side asks for.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use serde_json::Value;
use url::Url;

use crate::budget::Budget;
use crate::checks::Check;
use crate::error::Fatal;
use crate::key::Key;
use crate::wait::{self, MAX_STATED_WAIT_SECS, Wait};

/// The most of a body read from the target; the rest is not read.
pub(crate) const BODY_LIMIT: usize = 2 * 1024 * 1024;
/// Tries of one request when it is answered `429`.
const ATTEMPTS: u32 = 3;

/// A response body, as far as the drift check looks into it.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// Nothing.
    Empty,
    /// JSON, parsed, and its text (for numbers as sent).
    Json {
        /// Parsed.
        value: Value,
        /// As received.
        raw: Bytes,
    },
    /// Something that is not JSON.
    NotJson,
    /// Larger than [`BODY_LIMIT`] (not read).
    TooLarge,
}

impl Body {
    /// For a person.
    pub(crate) fn describe(&self) -> String {
        match self {
            Body::Empty => "no body".to_owned(),
            Body::Json { value, .. } => format!("body {}", crate::observe::shape(value)),
            Body::NotJson => "a body that is not JSON".to_owned(),
            Body::TooLarge => format!("a body over {} MiB (not read)", BODY_LIMIT >> 20),
        }
    }
}

/// What came back.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// The status.
    pub(crate) status: u16,
    /// The headers.
    pub(crate) headers: HeaderMap,
    /// The body.
    pub(crate) body: Body,
}

impl Answer {
    /// The body, if it is JSON.
    pub(crate) fn json(&self) -> Option<&Value> {
        match &self.body {
            Body::Json { value, .. } => Some(value),
            _ => None,
        }
    }
}

/// Which credentials a request carries.
#[derive(Debug, Clone)]
pub(crate) enum Auth {
    /// No `Authorization` header.
    None,
    /// `--key` (or the mock's key of the same mode and scope).
    Read,
    /// `--write-key` (or the mock's Read & Write key).
    Write,
    /// This exact `Authorization` value (an unknown key, a malformed value).
    Raw(HeaderValue),
}

/// A request, relative to the base URL.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    method: Method,
    segments: Vec<String>,
    query: Vec<(&'static str, String)>,
    auth: Auth,
    idempotency_key: Option<String>,
    body: Option<(&'static str, Vec<u8>)>,
    reserved: bool,
}

impl Call {
    /// `method` on the base URL plus these path segments (each percent-encoded, so a value
    /// from an answer can never leave its segment).
    pub(crate) fn new<S: Into<String>>(
        method: Method,
        segments: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            method,
            segments: segments.into_iter().map(Into::into).collect(),
            query: Vec::new(),
            auth: Auth::None,
            idempotency_key: None,
            body: None,
            reserved: false,
        }
    }

    /// With a query parameter.
    pub(crate) fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// With these credentials.
    pub(crate) fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// With a JSON body.
    pub(crate) fn json(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(("application/json", body.into()));
        self
    }

    /// With a body of another type.
    pub(crate) fn typed_body(
        mut self,
        content_type: &'static str,
        body: impl Into<Vec<u8>>,
    ) -> Self {
        self.body = Some((content_type, body.into()));
        self
    }

    /// With an `Idempotency-Key`.
    pub(crate) fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Paid for by the requests set aside for the clean-up.
    pub(crate) fn paid_from_reserve(mut self) -> Self {
        self.reserved = true;
        self
    }

    /// Its method.
    pub(crate) fn method(&self) -> &Method {
        &self.method
    }

    fn label(&self) -> String {
        format!("{} /{}", self.method, self.segments.join("/"))
    }
}

/// One exchange, kept for the checks made across all answers (headers, error shapes).
#[derive(Debug, Clone)]
pub(crate) struct Logged {
    /// The check it served; `None` for the clean-up.
    pub(crate) check: Option<Check>,
    /// The status.
    pub(crate) status: u16,
    /// The headers.
    pub(crate) headers: HeaderMap,
    /// Whether it carried a key the side issued.
    pub(crate) keyed: bool,
    /// The error body's shape, for an error with a JSON body.
    pub(crate) error_shape: Option<String>,
    /// A `429` whose request was sent again: it is not part of the scenario (the mock's
    /// side never has one), so only the `Retry-After` check looks at it.
    pub(crate) retried: bool,
}

/// Whether this side is the target or the local mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The service under test: budgeted, waited for in real time.
    Target,
    /// The local mock: its clock is advanced instead of waiting.
    Mock,
}

/// One side of the comparison.
pub(crate) struct Side {
    /// Target or mock.
    pub(crate) role: Role,
    http: reqwest::Client,
    base: Url,
    read: Key,
    write: Option<Key>,
    budget: Option<Budget>,
    max_wait: Duration,
    /// Per key (read, write): wait until then before its next request.
    pending: [Option<(Instant, Wait)>; 2],
    /// Every exchange.
    pub(crate) log: Vec<Logged>,
}

impl std::fmt::Debug for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Side")
            .field("role", &self.role)
            .field("base", &self.base.as_str())
            .field("read", &self.read)
            .field("write", &self.write)
            .finish_non_exhaustive()
    }
}

/// The HTTP client both sides use.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("paperlink-drift/", env!("CARGO_PKG_VERSION")))
        .build()
}

impl Side {
    /// A side on `base` with these keys; a budget for the target.
    pub(crate) fn new(
        role: Role,
        http: reqwest::Client,
        base: Url,
        read: Key,
        write: Option<Key>,
        budget: Option<Budget>,
        max_wait: Duration,
    ) -> Self {
        Self {
            role,
            http,
            base,
            read,
            write,
            budget,
            max_wait,
            pending: [None, None],
            log: Vec::new(),
        }
    }

    /// The base URL's path (`/api/v1`).
    pub(crate) fn base_path(&self) -> &str {
        self.base.path()
    }

    /// `--key`, or the mock's key for it.
    pub(crate) fn read_key(&self) -> &Key {
        &self.read
    }

    /// `--write-key`, or the mock's key for it.
    pub(crate) fn write_key(&self) -> Option<&Key> {
        self.write.as_ref()
    }

    /// Requests sent (the target's budget; 0 for the mock).
    pub(crate) fn requests(&self) -> u32 {
        self.budget.map_or(0, |b| b.used())
    }

    /// Sets a request aside to archive what the next request may create (target only).
    pub(crate) fn reserve_archive(&mut self) -> Result<(), Fatal> {
        match &mut self.budget {
            Some(budget) => budget.reserve().map_err(Fatal::Budget),
            None => Ok(()),
        }
    }

    /// Gives back a request set aside.
    pub(crate) fn release_archive(&mut self) {
        if let Some(budget) = &mut self.budget {
            budget.release();
        }
    }

    /// Sends `call` for `check`, and again (at most [`ATTEMPTS`] times) after a `429` once
    /// the wait it asks for is over. Every try is logged and counted.
    pub(crate) async fn send(
        &mut self,
        check: Option<Check>,
        call: &Call,
    ) -> Result<Answer, Fatal> {
        let slot = match call.auth {
            Auth::Read => Some(0),
            Auth::Write => Some(1),
            _ => None,
        };
        let mut attempt = 1;
        loop {
            if let Some(slot) = slot
                && let Some((since, wait)) = self.pending[slot].take()
            {
                let left = wait.duration.saturating_sub(since.elapsed());
                self.pause(Wait {
                    duration: left,
                    ..wait
                })
                .await?;
            }
            if let Some(budget) = &mut self.budget {
                budget.spend(call.reserved)?;
            }
            let answer = self.once(call).await?;
            self.log.push(Logged {
                check,
                status: answer.status,
                headers: answer.headers.clone(),
                keyed: slot.is_some(),
                error_shape: (answer.status >= 400)
                    .then(|| answer.json().map(crate::observe::shape))
                    .flatten(),
                retried: false,
            });
            let next = wait::before_next(answer.status, &answer.headers, wait::unix_now());
            if answer.status == 429 && attempt < ATTEMPTS {
                attempt += 1;
                if let Some(logged) = self.log.last_mut() {
                    logged.retried = true;
                }
                let wait = next.unwrap_or(Wait {
                    duration: wait::DEFAULT_429_WAIT,
                    reason: wait::Reason::Unstated,
                });
                self.pause(wait).await?;
                continue;
            }
            if let (Some(slot), Some(wait)) = (slot, next) {
                self.pending[slot] = Some((Instant::now(), wait));
            }
            return Ok(answer);
        }
    }

    /// Waits as the side asked: in real time on the target (at most `--max-wait`), by
    /// advancing the mock's clock on the mock.
    async fn pause(&self, wait: Wait) -> Result<(), Fatal> {
        if wait.duration.is_zero() {
            return Ok(());
        }
        match self.role {
            Role::Target => {
                if wait.duration > self.max_wait {
                    return Err(Fatal::WaitTooLong {
                        asked: wait.duration.as_secs(),
                        reason: wait.reason.label(),
                        max: self.max_wait.as_secs(),
                    });
                }
                tokio::time::sleep(wait.duration).await;
                Ok(())
            }
            Role::Mock => {
                let seconds = wait.duration.as_secs().min(MAX_STATED_WAIT_SECS);
                let mut advance = self.base.clone();
                advance.set_path("/__admin/clock/advance");
                let answer = self
                    .http
                    .post(advance)
                    .header("content-type", "application/json")
                    .body(format!(r#"{{"seconds":{seconds}}}"#))
                    .send()
                    .await
                    .map_err(|e| Fatal::mock("advancing its clock", e))?;
                if answer.status().is_success() {
                    Ok(())
                } else {
                    Err(Fatal::Mock {
                        what: format!("advancing its clock answered {}", answer.status()),
                        source: None,
                    })
                }
            }
        }
    }

    fn url(&self, call: &Call) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(&call.segments);
        }
        if !call.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &call.query {
                pairs.append_pair(name, value);
            }
        }
        url
    }

    /// One try.
    async fn once(&self, call: &Call) -> Result<Answer, Fatal> {
        let mut request = self.http.request(call.method.clone(), self.url(call));
        let authorization = match &call.auth {
            Auth::None => None,
            Auth::Read => self.read.authorization(),
            Auth::Write => self.write.as_ref().and_then(Key::authorization),
            Auth::Raw(value) => Some(value.clone()),
        };
        if let Some(value) = authorization {
            request = request.header(http::header::AUTHORIZATION, value);
        }
        if let Some(key) = &call.idempotency_key {
            request = request.header("idempotency-key", key.as_str());
        }
        if let Some((content_type, body)) = &call.body {
            request = request
                .header(http::header::CONTENT_TYPE, *content_type)
                .body(body.clone());
        }
        let failed = |source: reqwest::Error| match self.role {
            Role::Target => Fatal::Unreachable {
                request: call.label(),
                source,
            },
            Role::Mock => Fatal::mock(format!("{} failed", call.label()), source),
        };
        let mut response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let declared = response
            .content_length()
            .and_then(|n| usize::try_from(n).ok());
        if declared.is_some_and(|n| n > BODY_LIMIT) {
            return Ok(Answer {
                status,
                headers,
                body: Body::TooLarge,
            });
        }
        let mut read = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if read.len().saturating_add(chunk.len()) > BODY_LIMIT {
                return Ok(Answer {
                    status,
                    headers,
                    body: Body::TooLarge,
                });
            }
            read.extend_from_slice(&chunk);
        }
        let body = if read.is_empty() {
            Body::Empty
        } else {
            match serde_json::from_slice::<Value>(&read) {
                Ok(value) => Body::Json {
                    value,
                    raw: Bytes::from(read),
                },
                Err(_) => Body::NotJson,
            }
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}
