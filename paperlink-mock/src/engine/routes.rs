//! The API's routes: which paths exist under `/api/v1`, and which methods each accepts.

/// The API routes the mock serves, relative to `/api/v1`, with their methods.
pub const API_ROUTES: &[(&str, &[&str])] = &[
    ("/openapi.json", &["GET"]),
    ("/products", &["GET", "POST"]),
    ("/products/{id}", &["GET", "PATCH", "DELETE"]),
];

/// The path prefix of the public API.
pub const API_PREFIX: &str = "/api/v1";

/// What one request was resolved to.
#[derive(Clone, Copy)]
pub(crate) enum Route<'a> {
    OpenApi,
    Products,
    Product(&'a str),
}

pub(crate) fn route(path: &str) -> Option<(Route<'_>, &'static [&'static str])> {
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
