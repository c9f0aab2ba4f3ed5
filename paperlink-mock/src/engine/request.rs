//! A request and a response as any front door sees them.

use std::borrow::Cow;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::error::MockError;
use crate::model::{FieldError, error_body};

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

    /// Whether the body is framed as the API and the control plane take one: at most
    /// [`MAX_BODY`](crate::model::MAX_BODY) bytes (413 otherwise), sent with exactly one
    /// `Content-Type: application/json` (415 otherwise).
    pub(crate) fn json_body(&self) -> Result<(), Refusal> {
        if self.oversized || self.body.len() > crate::model::MAX_BODY {
            return Err(Refusal {
                status: 413,
                code: "payload_too_large",
                message: Cow::Borrowed("the request body is larger than 1 MiB"),
            });
        }
        if self
            .content_type()
            .is_some_and(|c| c.eq_ignore_ascii_case("application/json"))
        {
            return Ok(());
        }
        Err(Refusal {
            status: 415,
            code: "unsupported_media_type",
            message: Cow::Borrowed("send the body as Content-Type: application/json"),
        })
    }

    /// The media type of the one `Content-Type` header, without its parameters (`None` when
    /// there is none, or more than one).
    pub(crate) fn content_type(&self) -> Option<&str> {
        let mut types = self.headers.get_all(CONTENT_TYPE).iter();
        match (types.next(), types.next()) {
            (Some(only), None) => only
                .to_str()
                .ok()
                .map(|c| c.split(';').next().unwrap_or_default().trim()),
            _ => None,
        }
    }
}

/// A request refused before its route's rules are reached: its status, code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: Cow<'static, str>,
}

impl From<Refusal> for MockResponse {
    fn from(refusal: Refusal) -> Self {
        MockResponse::error(refusal.status, refusal.code, &refusal.message)
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
        Self::typed(status, "application/json", body.into())
    }

    fn typed(status: u16, content_type: &'static str, body: Bytes) -> Self {
        let mut headers = Vec::with_capacity(4);
        headers.push(("content-type", Cow::Borrowed(content_type)));
        Self {
            status,
            headers,
            body,
            delay: None,
            drop_connection: false,
            key_prefix: None,
        }
    }

    /// An HTML page (the API Keys page), never cached, never framed, and with no script.
    #[cfg(feature = "server")]
    pub(crate) fn html(status: u16, body: String) -> Self {
        Self::typed(status, "text/html; charset=utf-8", body.into())
            .header("cache-control", "no-store")
            .header("x-content-type-options", "nosniff")
            .header("referrer-policy", "same-origin")
            .header(
                "content-security-policy",
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            )
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

    /// The answer to a refused control-plane change: its status and code (one mapping, in
    /// [`MockError`]), with the field details of a validation refusal.
    pub(crate) fn refusal(error: &MockError) -> Self {
        let details = error.details();
        if !details.is_empty() {
            return Self::invalid(details);
        }
        let (status, code) = error.status_and_code();
        Self::error(status, code, &error.to_string())
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
