//! The first step: which door a request comes to (the API under `/api/v1`, the control plane
//! under `/__admin`, the API Keys page under `/__admin/ui`), and on the API which route and
//! method, and what the call asks for, its body read and checked once, before the state is
//! locked (a refused body is answered in its turn, after authentication, scope, rate limit and
//! idempotency).

use http::Method;

use crate::engine::request::{MockRequest, MockResponse};
use crate::model::{self, API_PREFIX, NewProduct, Object, ProductInput};

/// The API routes the mock serves, relative to `/api/v1`, with their methods.
pub const API_ROUTES: &[(&str, &[&str])] = &[
    ("/openapi.json", &["GET"]),
    ("/products", &["GET", "POST"]),
    ("/products/{id}", &["GET", "PATCH", "DELETE"]),
];

/// Where the control plane lives.
pub(crate) const CONTROL_PREFIX: &str = "/__admin";
/// Where the API Keys page lives.
pub(crate) const PAGE_PREFIX: &str = "/__admin/ui";

/// Which front of the server a request comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Door {
    /// The public API, `/api/v1` (and any path outside the other two).
    Api,
    /// The control plane, `/__admin`.
    Control,
    /// The API Keys page, `/__admin/ui`.
    Page,
}

impl Door {
    pub(crate) fn of(path: &str) -> Self {
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if under(PAGE_PREFIX) {
            Door::Page
        } else if under(CONTROL_PREFIX) {
            Door::Control
        } else {
            Door::Api
        }
    }
}

/// What one request was resolved to.
// One per request, on the stack for its handling (see `ProductsOp`).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Route<'a> {
    /// `GET /api/v1/openapi.json`: served without authentication.
    OpenApi,
    /// A products call.
    Products(ProductsCall<'a>),
    /// A control-plane call (its own paths are resolved by `control`).
    Control,
    /// The API Keys page.
    Page,
}

impl Route<'_> {
    /// The door the route is behind.
    pub(crate) fn door(&self) -> Door {
        match self {
            Route::Page => Door::Page,
            Route::Control => Door::Control,
            Route::OpenApi | Route::Products(_) => Door::Api,
        }
    }
}

/// A products call: what it asks for, and for a body that is a JSON object, the object (which
/// identifies the body for idempotency).
pub(crate) struct ProductsCall<'a> {
    pub(crate) op: ProductsOp<'a>,
    pub(crate) object: Option<Object<'a>>,
}

/// What a products call asks for, a write's body checked (size, content type, fields).
// One per request, on the stack for its handling: boxing the large variant would only add an
// allocation to every create.
#[allow(clippy::large_enum_variant)]
pub(crate) enum ProductsOp<'a> {
    /// `GET /products`.
    List,
    /// `POST /products`.
    Create(Result<NewProduct, MockResponse>),
    /// `GET /products/{id}`.
    Get(&'a str),
    /// `PATCH /products/{id}`.
    Update(&'a str, Result<ProductInput, MockResponse>),
    /// `DELETE /products/{id}`.
    Delete(&'a str),
}

/// Resolves a request: its door and, on the API, its call; or the 404 for an unknown path, or
/// the 405 (with `Allow`) for a method the route does not take.
pub(crate) fn resolve(request: &MockRequest) -> Result<Route<'_>, MockResponse> {
    match Door::of(&request.path) {
        Door::Page => return Ok(Route::Page),
        Door::Control => return Ok(Route::Control),
        Door::Api => {}
    }
    let Some((route, allowed)) = api_route(&request.path) else {
        return Err(MockResponse::error(404, "not_found", "no such route"));
    };
    let method = &request.method;
    if !allowed.contains(&method.as_str()) {
        return Err(MockResponse::error(
            405,
            "method_not_allowed",
            "this route does not accept that method",
        )
        .header("allow", allow(allowed)));
    }
    let products = |op, object| Ok(Route::Products(ProductsCall { op, object }));
    match (route, method) {
        (ApiRoute::OpenApi, _) => Ok(Route::OpenApi),
        (ApiRoute::Products, &Method::POST) => {
            let (input, object) = body(request, true);
            let new =
                input.and_then(|input| model::new_product(input).map_err(MockResponse::invalid));
            products(ProductsOp::Create(new), object)
        }
        (ApiRoute::Products, _) => products(ProductsOp::List, None),
        (ApiRoute::Product(id), &Method::PATCH) => {
            let (input, object) = body(request, false);
            products(ProductsOp::Update(id, input), object)
        }
        (ApiRoute::Product(id), &Method::DELETE) => products(ProductsOp::Delete(id), None),
        (ApiRoute::Product(id), _) => products(ProductsOp::Get(id), None),
    }
}

/// A route of the API.
#[derive(Clone, Copy)]
enum ApiRoute<'a> {
    OpenApi,
    Products,
    Product(&'a str),
}

fn api_route(path: &str) -> Option<(ApiRoute<'_>, &'static [&'static str])> {
    let rest = path.strip_prefix(API_PREFIX)?;
    match rest {
        "/openapi.json" => Some((ApiRoute::OpenApi, API_ROUTES[0].1)),
        "/products" => Some((ApiRoute::Products, API_ROUTES[1].1)),
        _ => {
            let id = rest.strip_prefix("/products/")?;
            (!id.is_empty() && !id.contains('/'))
                .then_some((ApiRoute::Product(id), API_ROUTES[2].1))
        }
    }
}

/// A create (`required`) or update body: framing, a JSON object, its fields.
fn body(
    request: &MockRequest,
    required: bool,
) -> (Result<ProductInput, MockResponse>, Option<Object<'_>>) {
    if let Err(refused) = request.json_body() {
        return (Err(refused.into()), None);
    }
    let object = match model::parse_object(&request.body) {
        Ok(object) => object,
        Err(error) => return (Err(MockResponse::invalid(vec![error])), None),
    };
    let checked = model::product_fields(&object, required).map_err(MockResponse::invalid);
    (checked, Some(object))
}

/// The `Allow` header of a route: its methods, and `HEAD` wherever `GET` is (RFC 9110).
fn allow(methods: &[&str]) -> String {
    let mut allowed = methods.to_vec();
    if let Some(get) = methods.iter().position(|m| *m == "GET") {
        allowed.insert(get + 1, "HEAD");
    }
    allowed.join(", ")
}
