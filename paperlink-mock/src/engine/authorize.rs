//! What an authenticated key may do: a Read-only key reads (`GET`, and `HEAD` as a `GET`); a
//! write needs a Read & Write key, else `403 scope_insufficient`. Who may manage keys (an
//! Owner or an Admin) is a team rule: see `members`.

use http::Method;

use crate::engine::authenticate::Caller;
use crate::engine::request::MockResponse;
use crate::model::KeyScope;

/// Whether the caller's scope allows `method`, or its 403.
pub(crate) fn scope(caller: &Caller, method: &Method) -> Result<(), MockResponse> {
    let write = method != Method::GET && method != Method::HEAD;
    if write && caller.scope == KeyScope::ReadOnly {
        return Err(MockResponse::error(
            403,
            "scope_insufficient",
            "this API key is Read-only; writes need a Read & Write key",
        ));
    }
    Ok(())
}
