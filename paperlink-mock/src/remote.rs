//! A typed client of a running `paperlink-mock` binary's control plane (`/__admin`), for Rust
//! tests of a sandbox started outside the test (a CI job, `docker compose`): keys, team members,
//! the clock, faults, the journal, products and reset, and a [`sleeper`](ControlPlane::sleeper)
//! that moves the binary's clock, as [`PaperlinkMock::sleeper`](crate::PaperlinkMock::sleeper)
//! moves an in-process mock's. The `remote` feature; plain HTTP (the control plane speaks
//! nothing else), no TLS stack, and no dependency on the SDK.
//!
//! ```no_run
//! # async fn run() -> Result<(), paperlink_mock::remote::RemoteError> {
//! use std::time::Duration;
//! use paperlink_mock::{KeyMode, KeyScope};
//! use paperlink_mock::remote::ControlPlane;
//!
//! let sandbox = ControlPlane::new("http://127.0.0.1:12111")?;
//! let ci = sandbox.create_key("default", "CI", KeyMode::Test, KeyScope::ReadWrite).await?;
//! sandbox.advance_clock(Duration::from_secs(60)).await?;
//! let journal = sandbox.journal().await?;
//! # let _ = (ci, journal);
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::builder::NewKey;
use crate::engine::faults::Fault;
use crate::engine::journal::RequestRecord;
use crate::model::{
    FieldError, KeyInfo, KeyMode, KeyScope, Member, ProductRecord, SeedProduct, TeamRole, millis,
};

/// The most bytes of one answer the client reads (a control-plane page is far smaller).
pub const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;
/// How long one call may take, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a control-plane call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The address is not a plain `http://host:port` root.
    #[error("the control plane's address {0:?} is not a plain http:// root")]
    Address(String),
    /// The call did not get an answer (refused, reset, or no answer within the timeout).
    #[error("the control plane did not answer")]
    Unreachable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The control plane refused the call.
    #[error("the control plane refused the call: {status} {code}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The error code (`validation_error`, `member_not_found`, …).
        code: String,
        /// What it said.
        message: String,
        /// Field details of a validation refusal.
        details: Vec<FieldError>,
    },
    /// The answer was not what the control plane sends (or larger than
    /// [`MAX_ANSWER_BYTES`]).
    #[error("the control plane's answer could not be read")]
    Answer(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The control plane of a running `paperlink-mock`. Cheap to clone.
#[derive(Clone)]
pub struct ControlPlane {
    http: Client<HttpConnector, Full<Bytes>>,
    root: Arc<str>,
    admin_token: Option<Arc<SecretString>>,
    timeout: Duration,
}

impl std::fmt::Debug for ControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlPlane")
            .field("root", &self.root)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "…"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A sleep for the code under test (`paperlink_sdk::ClientBuilder::sleep_with`).
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    data: Vec<T>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    #[serde(flatten)]
    info: KeyInfo,
    token: String,
}

#[derive(Deserialize)]
struct Now {
    #[serde(with = "millis")]
    now: OffsetDateTime,
}

#[derive(Deserialize, Default)]
struct Refusal {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Vec<FieldError>,
}

#[derive(Deserialize)]
struct RefusalBody {
    error: Refusal,
}

impl ControlPlane {
    /// The control plane of the mock at `root` (`http://127.0.0.1:12111`: the address the
    /// binary prints after `control plane:`, with or without `/__admin`).
    pub fn new(root: &str) -> Result<Self, RemoteError> {
        let trimmed = root.trim_end_matches('/');
        let trimmed = trimmed.strip_suffix("/__admin").unwrap_or(trimmed);
        let plain = trimmed.strip_prefix("http://").is_some_and(|authority| {
            !authority.is_empty() && !authority.contains(['/', '?', '#', '@'])
        });
        if !plain || trimmed.parse::<http::Uri>().is_err() {
            return Err(RemoteError::Address(root.to_owned()));
        }
        let http = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        Ok(Self {
            http,
            root: Arc::from(trimmed),
            admin_token: None,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Sends `Authorization: Bearer <token>` (a binary started with `--admin-token`).
    #[must_use]
    pub fn admin_token(mut self, token: SecretString) -> Self {
        self.admin_token = Some(Arc::new(token));
        self
    }

    /// How long one call may take (default [`DEFAULT_TIMEOUT`]).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, RemoteError> {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}/__admin{path}", self.root));
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        if let Some(token) = &self.admin_token {
            request = request.header(
                header::AUTHORIZATION,
                format!("Bearer {}", token.expose_secret()),
            );
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| RemoteError::Address(e.to_string()))?;
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| RemoteError::Unreachable(Box::new(e)))?;
            let status = response.status();
            let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(RemoteError::Answer)?
                .to_bytes();
            Ok::<_, RemoteError>((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|e| RemoteError::Unreachable(Box::new(e)))??;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| RemoteError::Answer(Box::new(e)));
        }
        let refusal = serde_json::from_slice::<RefusalBody>(&bytes)
            .map(|body| body.error)
            .unwrap_or_default();
        Err(RemoteError::Refused {
            status: status.as_u16(),
            code: refusal.code,
            message: refusal.message,
            details: refusal.details,
        })
    }

    async fn data<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, RemoteError> {
        self.call::<Data<T>>(method, path, body)
            .await
            .map(|d| d.data)
    }

    /// Every item of a paged list, page after page.
    async fn all<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, RemoteError> {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let separator = if path.contains('?') { '&' } else { '?' };
            let page_path = match &after {
                Some(cursor) => format!("{path}{separator}after={}", encode(cursor)),
                None => path.to_owned(),
            };
            let page: Page<T> = self.call(Method::GET, &page_path, None).await?;
            items.extend(page.data);
            match page.next_cursor {
                Some(next) if Some(&next) != after.as_ref() => after = Some(next),
                _ => return Ok(items),
            }
        }
    }

    /// Creates a key in `team`, as its Owner; the token is in the answer, and only there.
    pub async fn create_key(
        &self,
        team: &str,
        name: &str,
        mode: KeyMode,
        scope: KeyScope,
    ) -> Result<NewKey, RemoteError> {
        self.create_key_by(team, None, name, mode, scope).await
    }

    /// Creates a key in `team` as the member `by` (an Owner or an Admin).
    pub async fn create_key_as(
        &self,
        team: &str,
        by: &str,
        name: &str,
        mode: KeyMode,
        scope: KeyScope,
    ) -> Result<NewKey, RemoteError> {
        self.create_key_by(team, Some(by), name, mode, scope).await
    }

    async fn create_key_by(
        &self,
        team: &str,
        by: Option<&str>,
        name: &str,
        mode: KeyMode,
        scope: KeyScope,
    ) -> Result<NewKey, RemoteError> {
        let body = serde_json::json!({
            "team": team, "name": name, "mode": mode, "scope": scope, "createdBy": by,
        });
        let created: Created = self
            .data(Method::POST, "/keys", Some(body.to_string().into_bytes()))
            .await?;
        Ok(NewKey {
            info: created.info,
            token: SecretString::from(created.token),
        })
    }

    /// Every key of `team` (every team's with `None`), oldest first; never tokens.
    pub async fn keys(&self, team: Option<&str>) -> Result<Vec<KeyInfo>, RemoteError> {
        match team {
            Some(team) => self.all(&format!("/keys?team={}", encode(team))).await,
            None => self.all("/keys").await,
        }
    }

    /// Revokes a key, as the member `by` of its team (its Owner with `None`).
    pub async fn revoke_key(&self, id: Uuid, by: Option<&str>) -> Result<KeyInfo, RemoteError> {
        let body = serde_json::json!({ "revokedBy": by });
        self.data(
            Method::POST,
            &format!("/keys/{id}/revoke"),
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    /// A team's members, the Owner first.
    pub async fn members(&self, team: &str) -> Result<Vec<Member>, RemoteError> {
        self.data(
            Method::GET,
            &format!("/teams/{}/members", encode(team)),
            None,
        )
        .await
    }

    /// Adds a member (any role but Owner: ownership is transferred with
    /// [`set_member_role`](Self::set_member_role)).
    pub async fn add_member(
        &self,
        team: &str,
        name: &str,
        role: TeamRole,
    ) -> Result<Member, RemoteError> {
        let body = serde_json::json!({ "name": name, "role": role });
        self.data(
            Method::POST,
            &format!("/teams/{}/members", encode(team)),
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    /// Changes a member's role; `OWNER` transfers ownership.
    pub async fn set_member_role(
        &self,
        team: &str,
        name: &str,
        role: TeamRole,
    ) -> Result<Member, RemoteError> {
        let body = serde_json::json!({ "role": role });
        self.data(
            Method::PATCH,
            &format!("/teams/{}/members/{}", encode(team), encode(name)),
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    /// Removes a member (never the Owner).
    pub async fn remove_member(&self, team: &str, name: &str) -> Result<Member, RemoteError> {
        self.data(
            Method::DELETE,
            &format!("/teams/{}/members/{}", encode(team), encode(name)),
            None,
        )
        .await
    }

    /// The mock clock's time.
    pub async fn now(&self) -> Result<OffsetDateTime, RemoteError> {
        self.data::<Now>(Method::GET, "/clock", None)
            .await
            .map(|n| n.now)
    }

    /// Moves the mock clock forward; the new time.
    pub async fn advance_clock(&self, by: Duration) -> Result<OffsetDateTime, RemoteError> {
        let body = serde_json::json!({ "seconds": by.as_secs_f64() });
        self.data::<Now>(
            Method::POST,
            "/clock/advance",
            Some(body.to_string().into_bytes()),
        )
        .await
        .map(|n| n.now)
    }

    /// A sleep that advances the binary's clock by the duration instead of waiting: one
    /// clock for the sandbox and the code under test. Give it to the SDK
    /// (`ClientBuilder::sleep_with(control_plane.sleeper())`): a `429` with `Retry-After: 60`
    /// is then retried after 60 s of the sandbox's time, at once. A move the control plane
    /// refuses (past the clock's latest time) is logged, not waited for.
    pub fn sleeper(&self) -> impl Fn(Duration) -> Sleep + Send + Sync + 'static {
        let control = self.clone();
        move |by| {
            let control = control.clone();
            Box::pin(async move {
                if let Err(error) = control.advance_clock(by).await {
                    tracing::warn!(%error, "the sandbox's clock could not be moved");
                }
            })
        }
    }

    /// Injects a fault; the fault as kept.
    pub async fn inject(&self, fault: &Fault) -> Result<Fault, RemoteError> {
        let body = serde_json::to_vec(fault).map_err(|e| RemoteError::Answer(Box::new(e)))?;
        self.data(Method::POST, "/faults", Some(body)).await
    }

    /// The injected faults.
    pub async fn faults(&self) -> Result<Vec<Fault>, RemoteError> {
        self.data(Method::GET, "/faults", None).await
    }

    /// Removes every injected fault.
    pub async fn clear_faults(&self) -> Result<(), RemoteError> {
        self.data::<Vec<Fault>>(Method::DELETE, "/faults", None)
            .await
            .map(drop)
    }

    /// The journal, oldest first.
    pub async fn journal(&self) -> Result<Vec<RequestRecord>, RemoteError> {
        self.all("/requests").await
    }

    /// Puts a product in `team`'s catalog of `mode` without an API call.
    pub async fn insert_product(
        &self,
        team: &str,
        mode: KeyMode,
        product: &SeedProduct,
    ) -> Result<ProductRecord, RemoteError> {
        #[derive(Serialize)]
        struct Placed<'a> {
            #[serde(flatten)]
            product: &'a SeedProduct,
            team: &'a str,
            mode: KeyMode,
        }
        let mut product = product.clone();
        product.team = None;
        product.mode = None;
        let body = serde_json::to_vec(&Placed {
            product: &product,
            team,
            mode,
        })
        .map_err(|e| RemoteError::Answer(Box::new(e)))?;
        self.data(Method::POST, "/products", Some(body)).await
    }

    /// Every product of `team` in `mode`, archived ones included, newest first.
    pub async fn products(
        &self,
        team: &str,
        mode: KeyMode,
    ) -> Result<Vec<ProductRecord>, RemoteError> {
        self.all(&format!(
            "/products?team={}&mode={}",
            encode(team),
            mode.as_str()
        ))
        .await
    }

    /// Back to the seeded keys and products, the clock back to real time.
    pub async fn reset(&self) -> Result<(), RemoteError> {
        self.call::<serde_json::Value>(Method::POST, "/reset", None)
            .await
            .map(drop)
    }
}

/// A value for a path segment or a query.
fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
