//! One error type for every failure, and the tolerant parser for error bodies.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::auth::KeyError;
use crate::rate_limit::RateLimit;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a call.
///
/// Branch on the variant (and on [`ApiError::code`]), never on the message text. Each variant
/// says whether the request may have reached the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API key is not usable. Nothing was sent.
    #[error("invalid api key")]
    InvalidKey(#[from] KeyError),
    /// A caller's `Idempotency-Key` breaks the server's rules (see
    /// [`WriteOptions::idempotency_key`](crate::WriteOptions::idempotency_key)). Nothing was
    /// sent. The key itself is not repeated here.
    #[error("invalid idempotency key: {reason}")]
    InvalidIdempotencyKey {
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The client configuration is not usable. Nothing was sent.
    #[error("invalid configuration")]
    Config(#[from] ConfigError),
    /// `401`: the key is missing, malformed, unknown or revoked. The server did nothing.
    #[error("unauthorized: {0}")]
    Unauthorized(Box<ApiError>),
    /// `403 scope_insufficient`: a write with a Read-only key. The server did nothing.
    #[error("scope insufficient: {0}")]
    ScopeInsufficient(Box<ApiError>),
    /// Any other `403`. The server did nothing.
    #[error("forbidden: {0}")]
    Forbidden(Box<ApiError>),
    /// `404`: no such product in this key's mode (or no such route). The server answered;
    /// nothing changed.
    #[error("not found: {0}")]
    NotFound(Box<ApiError>),
    /// `400` or `422`: the request was rejected; [`ApiError::details`] names the fields. The
    /// server answered; nothing changed.
    #[error("validation failed: {0}")]
    Validation(Box<ApiError>),
    /// `409`: a conflict such as `sku_conflict` or `idempotency_key_reused`. Nothing changed.
    #[error("conflict: {0}")]
    Conflict(Box<ApiError>),
    /// `429`: rate limited. [`ApiError::retry_after`] and [`ApiError::rate_limit`] say when to
    /// come back. The server did nothing.
    #[error("rate limited: {0}")]
    RateLimited(Box<ApiError>),
    /// `5xx`: the server failed. The request may or may not have been applied.
    #[error("server error: {0}")]
    Server(Box<ApiError>),
    /// Any other non-success status. The server answered; whether it changed anything is
    /// not known.
    #[error("unexpected response: {0}")]
    Api(Box<ApiError>),
    /// The connection failed or broke. The request may have reached the server.
    #[error("transport error")]
    Transport(#[source] TransportError),
    /// An attempt took longer than the configured timeout. The request may have reached the
    /// server.
    #[error("request timed out")]
    Timeout(#[source] TransportError),
    /// A success response whose body is not what the API documents. The request was applied.
    #[error("undecodable response (status {status}): {snippet}")]
    Decode {
        /// The HTTP status of the response.
        status: u16,
        /// The `X-Request-Id` of the response, if any.
        request_id: Option<String>,
        /// The start of the body (at most 200 characters), with anything shaped like a key
        /// redacted.
        snippet: String,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },
    /// The response body was larger than
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes); it
    /// was not read on. The request reached the server, and may have been applied.
    #[error("response body larger than {limit} bytes (status {status})")]
    ResponseTooLarge {
        /// The limit in force.
        limit: u64,
        /// The HTTP status of the response.
        status: u16,
        /// The `X-Request-Id` of the response, if any.
        request_id: Option<String>,
    },
    /// The answer was a redirect, or came from another origin than the base URL's: the SDK
    /// does not follow it and does not take it as the API's answer (the API never
    /// redirects). The request reached a server; a write may or may not have been applied.
    #[error("redirected (status {status}); the SDK does not follow redirects")]
    Redirected {
        /// The HTTP status of the response.
        status: u16,
        /// Where it pointed (its `Location`, or the origin that answered).
        location: Option<String>,
    },
    /// A stream got this many pages in a row with no item but another cursor each time; it
    /// stops instead of asking forever. The requests reached the server.
    #[error("{pages} empty pages in a row; stopping the stream")]
    EmptyPages {
        /// How many empty pages came in a row.
        pages: u32,
        /// The last cursor the server sent.
        cursor: String,
    },
    /// The server sent a cursor it had already sent in this stream; the stream stops instead
    /// of looping forever. The requests reached the server (they only read). The items of
    /// the page that repeated the cursor are not yielded: they would be repeats.
    #[error("pagination cursor repeated; stopping to avoid a loop")]
    CursorLoop {
        /// The repeated cursor (an opaque server value, not a secret).
        cursor: String,
    },
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Decode { status, .. }
            | Error::ResponseTooLarge { status, .. }
            | Error::Redirected { status, .. } => Some(*status),
            other => other.api_error().map(ApiError::status),
        }
    }

    /// The API error details, for the variants that carry them.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Unauthorized(e)
            | Error::ScopeInsufficient(e)
            | Error::Forbidden(e)
            | Error::NotFound(e)
            | Error::Validation(e)
            | Error::Conflict(e)
            | Error::RateLimited(e)
            | Error::Server(e)
            | Error::Api(e) => Some(e.as_ref()),
            _ => None,
        }
    }

    /// The server's `X-Request-Id`, to quote when reporting a problem.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Decode { request_id, .. } | Error::ResponseTooLarge { request_id, .. } => {
                request_id.as_deref()
            }
            other => other.api_error().and_then(ApiError::request_id),
        }
    }

    /// Whether the failure class is worth retrying for an idempotent request: transport
    /// errors, timeouts, `429` and `500`/`502`/`503`/`504`.
    ///
    /// The SDK's own retries go one step further for writes: a `500` may have half-applied a
    /// write, so the SDK retries a `500` only for reads. A caller that retries a write's `500`
    /// itself should send the same `Idempotency-Key` (`WriteOptions::idempotency_key`).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(_) | Error::Timeout(_) | Error::RateLimited(_) => true,
            Error::Server(e) => matches!(e.status, 500 | 502..=504),
            _ => false,
        }
    }

    /// Maps an error response to its variant.
    pub(crate) fn from_api(api: ApiError) -> Self {
        let api = Box::new(api);
        match api.status {
            401 => Error::Unauthorized(api),
            403 if api.code() == Some(crate::codes::SCOPE_INSUFFICIENT) => {
                Error::ScopeInsufficient(api)
            }
            403 => Error::Forbidden(api),
            404 => Error::NotFound(api),
            400 | 422 => Error::Validation(api),
            409 => Error::Conflict(api),
            429 => Error::RateLimited(api),
            500..=599 => Error::Server(api),
            _ => Error::Api(api),
        }
    }

    pub(crate) fn retry_after(&self) -> Option<Duration> {
        self.api_error().and_then(ApiError::retry_after)
    }
}

/// What the HTTP stack reported for a failed connection or a timeout. Its source is the
/// HTTP client's own error, kept for error-chain reporters; this type keeps that client out of
/// the SDK's public API.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct TransportError {
    kind: &'static str,
    #[source]
    source: reqwest::Error,
}

impl TransportError {
    pub(crate) fn new(source: reqwest::Error) -> Self {
        let kind = if source.is_timeout() {
            "the attempt timed out"
        } else if source.is_connect() {
            "could not connect"
        } else if source.is_body() || source.is_decode() {
            "the response body broke off"
        } else {
            "the connection failed"
        };
        Self { kind, source }
    }

    /// Whether connecting failed (nothing reached the server).
    pub fn is_connect(&self) -> bool {
        self.source.is_connect()
    }
}

/// A configuration problem found by [`ClientBuilder::build`](crate::ClientBuilder::build) or
/// [`Client::from_env`](crate::Client::from_env).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ConfigError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// The body of an error response, with the response's metadata.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    pub(crate) status: u16,
    pub(crate) code: Option<String>,
    pub(crate) message: String,
    pub(crate) details: Vec<FieldError>,
    pub(crate) request_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) rate_limit: Option<RateLimit>,
}

/// One field-level validation problem.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct FieldError {
    /// The field, as named on the wire (`unitPrice`, `limit`, …).
    #[serde(default)]
    pub field: String,
    /// What is wrong with it.
    #[serde(default)]
    pub message: String,
}

impl FieldError {
    /// A field-level problem (for fakes: see [`testing`](crate::testing)).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl ApiError {
    /// Builds the error for a response from its status and body.
    pub(crate) fn from_response(
        status: u16,
        body: &[u8],
        request_id: Option<String>,
        retry_after: Option<Duration>,
        rate_limit: Option<RateLimit>,
    ) -> Self {
        let (code, message, details) = parse_error_body(status, body);
        Self {
            status,
            code,
            message,
            details,
            request_id,
            retry_after,
            rate_limit,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The machine-readable code (`unauthorized`, `scope_insufficient`, `sku_conflict`, …),
    /// when the body carried one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The human-readable message (for people, not for branching).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Field-level validation problems (empty when there are none).
    pub fn details(&self) -> &[FieldError] {
        &self.details
    }

    /// The `X-Request-Id` response header.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The `Retry-After` response header, as a duration from when the response arrived.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The `X-RateLimit-*` headers of the response.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.rate_limit.as_ref()
    }

    #[cfg(test)]
    pub(crate) fn for_tests(status: u16) -> Self {
        Self::from_response(status, b"", None, None, None)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// Longest message or snippet kept from a body.
const MAX_TEXT: usize = 200;

/// Reads an error body tolerantly: `{"error":{"code","message","details"}}`, then top-level
/// `code`/`message`, then `{"error":"text"}` or a bare JSON string or plain text, then the
/// status alone.
fn parse_error_body(status: u16, body: &[u8]) -> (Option<String>, String, Vec<FieldError>) {
    let fallback = || {
        reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("error")
            .to_lowercase()
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(|s| redact(s, MAX_TEXT));
    let details = |v: Option<&Value>| {
        v.and_then(|d| Vec::<FieldError>::deserialize(d).ok())
            .unwrap_or_default()
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(top)) => {
            if let Some(Value::Object(inner)) = top.get("error") {
                let message = text(inner.get("message")).unwrap_or_else(fallback);
                return (
                    text(inner.get("code")),
                    message,
                    details(inner.get("details")),
                );
            }
            if let Some(Value::String(message)) = top.get("error") {
                return (
                    text(top.get("code")),
                    redact(message, MAX_TEXT),
                    details(top.get("details")),
                );
            }
            let message = text(top.get("message")).unwrap_or_else(fallback);
            (text(top.get("code")), message, details(top.get("details")))
        }
        Ok(Value::String(message)) if !message.trim().is_empty() => {
            (None, redact(&message, MAX_TEXT), Vec::new())
        }
        Ok(_) => (None, fallback(), Vec::new()),
        Err(_) => match std::str::from_utf8(body).map(str::trim) {
            Ok(plain) if !plain.is_empty() => (None, redact(plain, MAX_TEXT), Vec::new()),
            _ => (None, fallback(), Vec::new()),
        },
    }
}

/// The start of `text` (at most `max` characters), with every `pk_live_…`/`pk_test_…` token
/// cut down to its prefix, so that a server echoing a key cannot leak it into logs.
pub(crate) fn redact(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    let mut rest = text;
    while let Some(at) = ["pk_live_", "pk_test_"]
        .iter()
        .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
        .min()
    {
        let (start, prefix_len) = at;
        out.push_str(&rest[..start + prefix_len]);
        out.push_str("[redacted]");
        let after = &rest[start + prefix_len..];
        let end = after
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-')
            .unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    if out.chars().count() > max {
        out = out.chars().take(max).collect::<String>() + "…";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> (Option<String>, String, Vec<FieldError>) {
        parse_error_body(400, body.as_bytes())
    }

    #[test]
    fn the_documented_envelope_is_read_first() {
        let (code, message, details) = parse(
            r#"{"error":{"code":"validation_error","message":"bad","details":[{"field":"name","message":"required"}]},"code":"other"}"#,
        );
        assert_eq!(code.as_deref(), Some("validation_error"));
        assert_eq!(message, "bad");
        assert_eq!(
            details,
            vec![FieldError {
                field: "name".into(),
                message: "required".into()
            }]
        );
    }

    #[test]
    fn top_level_code_and_message_come_second() {
        let (code, message, _) = parse(r#"{"code":"sku_conflict","message":"taken"}"#);
        assert_eq!(
            (code.as_deref(), message.as_str()),
            (Some("sku_conflict"), "taken")
        );
    }

    #[test]
    fn a_bare_string_comes_third() {
        assert_eq!(parse(r#"{"error":"nope"}"#).1, "nope");
        assert_eq!(parse(r#""nope""#).1, "nope");
        assert_eq!(parse("upstream exploded").1, "upstream exploded");
    }

    #[test]
    fn the_status_alone_comes_last() {
        assert_eq!(parse("").1, "bad request");
        assert_eq!(parse("[1,2]").1, "bad request");
        assert_eq!(parse_error_body(503, b"{}").1, "service unavailable");
        assert_eq!(parse_error_body(599, b"\xff\xfe").1, "error");
        assert_eq!(
            parse(r#"{"error":{"code":7,"details":"x"}}"#),
            (None, "bad request".into(), vec![])
        );
    }

    #[test]
    fn keys_in_bodies_are_redacted_and_long_text_cut() {
        let (_, message, _) = parse(r#"{"error":{"message":"bad key pk_live_AbCdEfGh123 here"}}"#);
        assert_eq!(message, "bad key pk_live_[redacted] here");
        let long = "x".repeat(1000);
        assert_eq!(redact(&long, 10).chars().count(), 11);
        assert_eq!(redact("a pk_test_", 50), "a pk_test_[redacted]");
    }

    #[test]
    fn statuses_map_to_their_variants() {
        let err = |status: u16, body: &str| {
            Error::from_api(ApiError::from_response(
                status,
                body.as_bytes(),
                Some("req-1".into()),
                None,
                None,
            ))
        };
        assert!(matches!(err(401, ""), Error::Unauthorized(_)));
        assert!(matches!(
            err(403, r#"{"error":{"code":"scope_insufficient"}}"#),
            Error::ScopeInsufficient(_)
        ));
        assert!(matches!(err(403, ""), Error::Forbidden(_)));
        assert!(matches!(err(404, ""), Error::NotFound(_)));
        assert!(matches!(err(400, ""), Error::Validation(_)));
        assert!(matches!(err(422, ""), Error::Validation(_)));
        assert!(matches!(err(409, ""), Error::Conflict(_)));
        assert!(matches!(err(429, ""), Error::RateLimited(_)));
        assert!(matches!(err(502, ""), Error::Server(_)));
        assert!(matches!(err(418, ""), Error::Api(_)));
        let e = err(
            404,
            r#"{"error":{"code":"product_not_found","message":"no"}}"#,
        );
        assert_eq!(e.status(), Some(404));
        assert_eq!(e.request_id(), Some("req-1"));
        assert_eq!(
            e.to_string(),
            "not found: 404 product_not_found: no (request id req-1)"
        );
    }
}
