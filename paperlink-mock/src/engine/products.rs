//! `/api/v1/products` and `/api/v1/products/{id}`, after authentication, scope, rate limit and
//! idempotency have been checked.

use http::Method;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::catalog::{Catalog, CatalogError, Filter, Stored};
use crate::engine::keys::Caller;
use crate::engine::state::{Settings, State, catalog_of};
use crate::engine::{API_PREFIX, MockRequest, MockResponse, json_body_problem};
use crate::model::{self, FieldError, data_body_json, page_body};

/// Default page size.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest page size.
pub const MAX_LIMIT: usize = 100;

/// A products call, resolved from its route and method, a write's body checked (size,
/// content type, fields) before the state is locked.
pub(crate) enum ProductsOp<'a> {
    /// `GET /products`.
    List,
    /// `POST /products`.
    Create(Result<model::NewProduct, MockResponse>),
    /// `GET /products/{id}`.
    Get(&'a str),
    /// `PATCH /products/{id}`.
    Update(&'a str, Result<model::ProductInput, MockResponse>),
    /// `DELETE /products/{id}`.
    Delete(&'a str),
}

/// The call a request on `/products` (no `id`) or `/products/{id}` makes, with a method the
/// route accepts; a create or update body is parsed once, and its object returned for the
/// idempotency fingerprint.
pub(crate) fn resolve<'a>(
    request: &'a MockRequest,
    id: Option<&'a str>,
) -> (ProductsOp<'a>, Option<model::Object<'a>>) {
    match (id, &request.method) {
        (None, &Method::POST) => {
            let (checked, object) = checked_body(request, true);
            let new =
                checked.and_then(|input| model::new_product(input).map_err(MockResponse::invalid));
            (ProductsOp::Create(new), object)
        }
        (None, _) => (ProductsOp::List, None),
        (Some(id), &Method::PATCH) => {
            let (checked, object) = checked_body(request, false);
            (ProductsOp::Update(id, checked), object)
        }
        (Some(id), &Method::DELETE) => (ProductsOp::Delete(id), None),
        (Some(id), _) => (ProductsOp::Get(id), None),
    }
}

/// A create (`required`) or update body: framing, JSON object, fields.
fn checked_body(
    request: &MockRequest,
    required: bool,
) -> (
    Result<model::ProductInput, MockResponse>,
    Option<model::Object<'_>>,
) {
    if let Some(problem) = json_body_problem(request) {
        return (Err(problem), None);
    }
    let object = match model::parse_object(&request.body) {
        Ok(object) => object,
        Err(error) => return (Err(MockResponse::invalid(vec![error])), None),
    };
    let checked = model::product_fields(&object, required).map_err(MockResponse::invalid);
    (checked, Some(object))
}

/// Runs the call, after authentication, scope, rate limit and idempotency.
pub(crate) fn handle(
    state: &mut State,
    request: &MockRequest,
    op: ProductsOp<'_>,
    key: &Caller,
    now: OffsetDateTime,
) -> MockResponse {
    match op {
        ProductsOp::List => list(state, key, request.query.as_deref().unwrap_or_default()),
        ProductsOp::Create(Ok(new)) => create(state, key, new, now),
        ProductsOp::Get(id) => get(state, key, id),
        ProductsOp::Update(id, Ok(input)) => update(state, key, id, input, now),
        ProductsOp::Delete(id) => delete(state, key, id, now),
        ProductsOp::Create(Err(problem)) | ProductsOp::Update(_, Err(problem)) => problem,
    }
}

/// Answers a write with the product's `{"data": …}` body, from the JSON the catalog made when
/// it stored the product, and notes the product for the data file.
fn written(
    state: &mut State,
    key: &Caller,
    status: u16,
    write: impl for<'a> FnOnce(
        &'a mut Catalog,
        &Settings,
        &mut fastrand::Rng,
    ) -> Result<&'a Stored, CatalogError>,
) -> MockResponse {
    let durable = state.pending.is_some();
    let catalog = catalog_of(&mut state.catalogs, &key.team, key.mode);
    let (body, product) = match write(catalog, &state.settings, &mut state.rng) {
        Ok(stored) => (
            data_body_json(&stored.json),
            durable.then(|| stored.record.clone()),
        ),
        Err(error) => return catalog_error(error),
    };
    if let Some(product) = product {
        state.record_product(&key.team, key.mode, product);
    }
    MockResponse::json(status, body)
}

fn not_found() -> MockResponse {
    MockResponse::error(
        404,
        "product_not_found",
        "no product with this id in this key's mode",
    )
}

fn sku_conflict() -> MockResponse {
    MockResponse::error(
        409,
        "sku_conflict",
        "another product of this team and mode already uses this sku",
    )
}

fn catalog_error(error: CatalogError) -> MockResponse {
    match error {
        CatalogError::NotFound => not_found(),
        CatalogError::SkuTaken => sku_conflict(),
    }
}

fn list(state: &mut State, key: &Caller, query: &str) -> MockResponse {
    let mut filter = Filter::Active;
    let mut limit = DEFAULT_LIMIT;
    let mut after = None;
    let mut errors = Vec::new();
    let mut seen = Vec::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        match name.as_ref() {
            "status" => match value.as_ref() {
                "active" => filter = Filter::Active,
                "archived" => filter = Filter::Archived,
                "all" => filter = Filter::All,
                _ => errors.push(FieldError::new(
                    "status",
                    "must be one of active, archived, all",
                )),
            },
            "limit" => match value.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => limit = n,
                _ => errors.push(FieldError::new(
                    "limit",
                    format!("must be an integer from 1 to {MAX_LIMIT}"),
                )),
            },
            "after" => after = Some(value.into_owned()),
            _ => {}
        }
    }
    let catalog = state.catalog(&key.team, key.mode);
    let cursor = match after.as_deref() {
        None => None,
        Some(text) => match model::uuid(text).filter(|id| catalog.contains(id)) {
            Some(id) => Some(id),
            None => {
                errors.push(FieldError::new("after", "is not a cursor from this list"));
                None
            }
        },
    };
    if !errors.is_empty() {
        return MockResponse::invalid(errors);
    }
    let page = catalog.list(filter, limit, cursor.as_ref());
    let next_cursor = page
        .items
        .last()
        .map(|(id, _)| *id)
        .filter(|_| page.has_more);
    let mut cursor_text = Uuid::encode_buffer();
    let next_cursor = next_cursor.map(|id| &*id.hyphenated().encode_lower(&mut cursor_text));
    let body = page_body(
        page.items.iter().map(|(_, json)| &**json),
        page.has_more,
        next_cursor,
    );
    MockResponse::json(200, body)
}

fn get(state: &mut State, key: &Caller, id: &str) -> MockResponse {
    let catalog = state.catalog(&key.team, key.mode);
    match model::uuid(id).and_then(|id| catalog.json(&id)) {
        Some(product) => MockResponse::json(200, data_body_json(product)),
        None => not_found(),
    }
}

fn create(
    state: &mut State,
    key: &Caller,
    new: model::NewProduct,
    now: OffsetDateTime,
) -> MockResponse {
    let mut id = Uuid::nil();
    let response = written(state, key, 201, |catalog, settings, rng| {
        id = catalog.unused_id(rng);
        catalog.create(id, new, now, settings.defaults())
    });
    if response.status != 201 {
        return response;
    }
    let mut location = String::with_capacity(API_PREFIX.len() + 10 + 36);
    location.push_str(API_PREFIX);
    location.push_str("/products/");
    location.push_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
    response.header("location", location)
}

fn update(
    state: &mut State,
    key: &Caller,
    id: &str,
    input: model::ProductInput,
    now: OffsetDateTime,
) -> MockResponse {
    let Some(id) = model::uuid(id) else {
        return not_found();
    };
    written(state, key, 200, |catalog, _, _| {
        catalog.update(&id, input, now)
    })
}

fn delete(state: &mut State, key: &Caller, id: &str, now: OffsetDateTime) -> MockResponse {
    let Some(id) = model::uuid(id) else {
        return not_found();
    };
    written(state, key, 200, |catalog, _, _| catalog.archive(&id, now))
}
