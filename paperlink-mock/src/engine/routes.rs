//! The API's routes: which paths exist under `/api/v1`, which methods each accepts, and what
//! a request asks for once both are known.

use crate::engine::limits::Fault;
use crate::engine::products::{self, ProductsOp};
use crate::engine::request::{MockRequest, MockResponse};
use crate::model::Object;

/// The API routes the mock serves, relative to `/api/v1`, with their methods.
pub const API_ROUTES: &[(&str, &[&str])] = &[
    ("/openapi.json", &["GET"]),
    ("/products", &["GET", "POST"]),
    ("/products/{id}", &["GET", "PATCH", "DELETE"]),
];

pub use crate::model::API_PREFIX;

/// What one request was resolved to.
#[derive(Clone, Copy)]
enum Route<'a> {
    OpenApi,
    Products,
    Product(&'a str),
}

fn route(path: &str) -> Option<(Route<'_>, &'static [&'static str])> {
    let rest = path.strip_prefix(API_PREFIX)?;
    match rest {
        "/openapi.json" => Some((Route::OpenApi, API_ROUTES[0].1)),
        "/products" => Some((Route::Products, API_ROUTES[1].1)),
        _ => {
            let id = rest.strip_prefix("/products/")?;
            (!id.is_empty() && !id.contains('/')).then_some((Route::Product(id), API_ROUTES[2].1))
        }
    }
}

/// What a request on a known route, with a method that route accepts, asks for.
// One per request, on the stack for its handling: boxing the large variant would only add an
// allocation to every create.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Operation<'a> {
    /// `GET /openapi.json`: served without authentication.
    OpenApi,
    /// A products call, its body checked.
    Products(ProductsOp<'a>),
}

/// Resolves a request before the state is locked: its operation (with a write's body parsed
/// and checked once) and, for a JSON object body, the object (which gives the idempotency
/// fingerprint); or the 404 for an unknown path, or the 405 (with `Allow`) for a method the
/// route does not accept.
pub(crate) fn resolve(
    request: &MockRequest,
) -> Result<(Operation<'_>, Option<Object<'_>>), MockResponse> {
    let Some((route, allowed)) = route(&request.path) else {
        return Err(MockResponse::error(404, "not_found", "no such route"));
    };
    if !allowed.contains(&request.method.as_str()) {
        return Err(MockResponse::error(
            405,
            "method_not_allowed",
            "this route does not accept that method",
        )
        .header("allow", allow(allowed)));
    }
    Ok(match route {
        Route::OpenApi => (Operation::OpenApi, None),
        Route::Products => {
            let (op, object) = products::resolve(request, None);
            (Operation::Products(op), object)
        }
        Route::Product(id) => {
            let (op, object) = products::resolve(request, Some(id));
            (Operation::Products(op), object)
        }
    })
}

/// The `Allow` header of a route: its methods, and `HEAD` wherever `GET` is (RFC 9110).
pub(crate) fn allow(methods: &[&str]) -> String {
    let mut allowed = methods.to_vec();
    if let Some(get) = methods.iter().position(|m| *m == "GET") {
        allowed.insert(get + 1, "HEAD");
    }
    allowed.join(", ")
}

/// What makes a fault unusable: a status or delay out of range ([`Fault::problem`]), or a
/// method and path that no route of the API can match (such a fault would never fire).
pub(crate) fn fault_problem(fault: &Fault) -> Option<(&'static str, String)> {
    fault.problem().or_else(|| {
        (!can_match(fault)).then(|| {
            let method = fault
                .method
                .as_deref()
                .map_or(String::new(), |m| format!(" with {m}"));
            (
                "path",
                format!(
                    "{}{method} matches no route of the API (routes: /api/v1/openapi.json, \
                     /api/v1/products, /api/v1/products/{{id}})",
                    fault.path
                ),
            )
        })
    })
}

/// Whether some route of the API, with a method it accepts, can match this fault (its path in
/// full; `*` matches one segment, and any segment matches a route's `{id}`).
pub(crate) fn can_match(fault: &Fault) -> bool {
    API_ROUTES.iter().any(|(template, methods)| {
        let method_fits = fault.method.as_deref().is_none_or(|m| {
            methods
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(m))
        });
        let full = format!("{API_PREFIX}{template}");
        let (mut want, mut have) = (fault.path.split('/'), full.split('/'));
        let path_fits = loop {
            match (want.next(), have.next()) {
                (None, None) => break true,
                (Some(w), Some(h)) if w == h || w == "*" || (h == "{id}" && !w.is_empty()) => {}
                _ => break false,
            }
        };
        method_fits && path_fits
    })
}
