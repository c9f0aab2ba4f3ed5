//! The edge guard: what the server takes from the network at all, before anything looks at a
//! key or the state. One guard for the API, the control plane and the API Keys page.
//!
//! * **Host.** On a loopback address only loopback names are served (`127.0.0.1` and the
//!   rest of `127.0.0.0/8`, `[::1]`, `localhost`, `*.localhost`), plus every name allowed with
//!   `--allowed-host`; any other `Host` is `421 host_not_allowed`. A page a developer opens
//!   cannot rebind its own name to the sandbox and read it (DNS rebinding). On another address
//!   the check applies when names are allowed (so `docker compose` service names work).
//! * **Origin.** A control-plane or page request that a browser marks as coming from another
//!   site (an `Origin` that is not this server, or, without one, `Sec-Fetch-Site` other than
//!   `same-origin` or `none`) is `403 origin_not_allowed`: a web page cannot drive the sandbox
//!   (CSRF). The page still opens from a link (a top-level `GET` navigation).
//! * **Body type.** The control plane takes JSON bodies only (`415` otherwise, also for a
//!   bodiless write that says it carries a form or text), so a plain HTML form cannot post to
//!   it; its bodies, as the API's, are at most 1 MiB (`413`). The API's writes check their
//!   body in their turn, after authentication (see `routes`).

use std::borrow::Cow;
use std::net::IpAddr;

use http::Method;
use http::header::{HOST, ORIGIN};

use crate::engine::request::{MockRequest, Refusal};
use crate::engine::routes::Door;

/// Which `Host` names the server answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hosts {
    /// Loopback names, and these.
    Loopback(Vec<String>),
    /// Any name (a non-loopback address with no name allowed).
    Any,
}

impl Default for Hosts {
    fn default() -> Self {
        Hosts::Loopback(Vec::new())
    }
}

impl Hosts {
    /// The rule for a server bound to `ip` that allows `names` besides the loopback ones.
    pub(crate) fn for_bind(ip: IpAddr, names: &[String]) -> Self {
        if ip.is_loopback() || !names.is_empty() {
            Hosts::Loopback(names.iter().map(|n| n.to_ascii_lowercase()).collect())
        } else {
            Hosts::Any
        }
    }

    fn serves(&self, host: &str) -> bool {
        let Hosts::Loopback(allowed) = self else {
            return true;
        };
        let name = host_name(host);
        // The common names first: this runs on every request.
        name == "127.0.0.1"
            || is_loopback_name(name)
            || allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// The name part of a `Host` value: without its port, and without the brackets of an IPv6
/// literal.
pub(crate) fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Whether a name (in any letter case) always means this machine.
pub(crate) fn is_loopback_name(name: &str) -> bool {
    const LOCALHOST: &str = "localhost";
    let bytes = name.as_bytes();
    let under_localhost = bytes.len() > LOCALHOST.len() + 1
        && bytes[bytes.len() - LOCALHOST.len() - 1] == b'.'
        && name[name.len() - LOCALHOST.len()..].eq_ignore_ascii_case(LOCALHOST);
    name.eq_ignore_ascii_case(LOCALHOST)
        || under_localhost
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What the guard lets through.
#[derive(Debug, Default)]
pub(crate) struct EdgeGuard {
    hosts: Hosts,
}

impl EdgeGuard {
    pub(crate) fn new(hosts: Hosts) -> Self {
        Self { hosts }
    }

    /// Lets the request through, or says why not.
    pub(crate) fn check(&self, request: &MockRequest, door: Door) -> Result<(), Refusal> {
        // A `Host` that is not plain text is no name this server answers to.
        let host = match request.headers.get(HOST).map(|v| v.to_str()) {
            None => None,
            Some(Ok(host)) if self.hosts.serves(host) => Some(host),
            Some(read) => {
                return Err(Refusal {
                    status: 421,
                    code: "host_not_allowed",
                    message: Cow::Owned(format!(
                        "this sandbox answers to loopback names (127.0.0.1, [::1], localhost) \
                         and to the names given with --allowed-host; {:?} is not one of them",
                        read.unwrap_or("(not text)")
                    )),
                });
            }
        };
        if door == Door::Api {
            return Ok(());
        }
        if from_another_site(request, host, door) {
            return Err(Refusal {
                status: 403,
                code: "origin_not_allowed",
                message: Cow::Borrowed(match door {
                    Door::Page => "This form was sent from another site.",
                    _ => {
                        "the control plane takes no request from another site (its Origin is \
                          not this server)"
                    }
                }),
            });
        }
        if door == Door::Control {
            control_body(request)?;
        }
        Ok(())
    }
}

/// Whether a browser says the request comes from another site: an `Origin` that is not
/// `http://HOST`, or, without one, a `Sec-Fetch-Site` other than `same-origin` or `none` (a
/// top-level navigation to the page, a link followed, is let through).
fn from_another_site(request: &MockRequest, host: Option<&str>, door: Door) -> bool {
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = header(ORIGIN.as_str()) {
        let own = host.map(|h| format!("http://{h}"));
        return own.is_none_or(|own| !origin.eq_ignore_ascii_case(&own));
    }
    let navigation = door == Door::Page
        && request.method == Method::GET
        && header("sec-fetch-mode") == Some("navigate");
    match header("sec-fetch-site") {
        None | Some("same-origin" | "none") => false,
        Some(_) => !navigation,
    }
}

/// The control plane's body rule: JSON only, at most 1 MiB. A read with no body passes; a
/// write that carries a body, or says it does with a `Content-Type`, must say JSON.
fn control_body(request: &MockRequest) -> Result<(), Refusal> {
    let read = request.method == Method::GET || request.method == Method::HEAD;
    let typed = request.headers.contains_key(http::header::CONTENT_TYPE);
    if (read && request.body.is_empty())
        || (!typed && request.body.is_empty() && !request.oversized)
    {
        return Ok(());
    }
    request.json_body()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_allowed_names_are_served() {
        let hosts = Hosts::for_bind("127.0.0.1".parse().expect("ip"), &["Mock.Internal".into()]);
        for host in [
            "127.0.0.1:12111",
            "127.0.0.2",
            "[::1]:80",
            "localhost",
            "LOCALHOST:9",
            "api.localhost:1",
            "mock.internal:12111",
        ] {
            assert!(hosts.serves(host), "{host}");
        }
        for host in [
            "evil.example:12111",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "x;{touch,pwned};.evil.example",
            "[::2]:80",
            "",
        ] {
            assert!(!hosts.serves(host), "{host}");
        }
        let open = Hosts::for_bind("0.0.0.0".parse().expect("ip"), &[]);
        assert!(open.serves("mock:12111"));
        let listed = Hosts::for_bind("0.0.0.0".parse().expect("ip"), &["mock".into()]);
        assert!(listed.serves("mock:12111") && !listed.serves("other:12111"));
    }

    #[test]
    fn a_host_that_cannot_be_read_is_not_served() {
        let guard = EdgeGuard::new(Hosts::default());
        let mut request = MockRequest::new(Method::GET, "/api/v1/products");
        let unreadable = http::HeaderValue::from_bytes(b"127.0.0.1\xff").expect("a header value");
        request.headers.insert(HOST, unreadable);
        let refusal = guard.check(&request, Door::Api).expect_err("refused");
        assert_eq!((refusal.status, refusal.code), (421, "host_not_allowed"));
        request
            .headers
            .insert(HOST, http::HeaderValue::from_static("127.0.0.1:1"));
        assert!(guard.check(&request, Door::Api).is_ok());
    }
}
