//! The edge guard: what the server takes from the network at all, before anything looks at a
//! key or the state. One guard for the API, the control plane and the API Keys page.
//!
//! * A form sent to the page from another site (its `Origin` is not this server) is refused.

use http::Method;
use http::header::{HOST, ORIGIN};

use crate::engine::request::{MockRequest, MockResponse};
use crate::engine::routes::Door;

/// Why the edge guard refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Refusal {
    /// The refusal as the API and the control plane answer it (the page renders its own).
    pub(crate) fn into_response(self) -> MockResponse {
        MockResponse::error(self.status, self.code, &self.message)
    }
}

/// What the guard lets through.
#[derive(Debug, Default)]
pub(crate) struct EdgeGuard {}

impl EdgeGuard {
    /// Lets the request through, or says why not.
    pub(crate) fn check(&self, request: &MockRequest, door: Door) -> Result<(), Refusal> {
        if door == Door::Page && request.method == Method::POST && !same_origin(request) {
            return Err(Refusal {
                status: 403,
                code: "origin_not_allowed",
                message: "This form was sent from another site.".to_owned(),
            });
        }
        Ok(())
    }
}

/// When the browser says where a request comes from (`Origin`, which every current browser
/// sends with a form), it must be this server.
fn same_origin(request: &MockRequest) -> bool {
    let Some(from) = request.headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = request
        .headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    from == format!("http://{host}")
}
