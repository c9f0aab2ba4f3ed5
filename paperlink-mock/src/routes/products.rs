//! `/api/v1/products` and `/api/v1/products/{id}`, after authentication, scope, rate limit and
//! idempotency have been checked.

use http::Method;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::Caller;
use crate::catalog::{CatalogError, Filter};
use crate::core::{API_PREFIX, MockRequest, MockResponse, Route, json_body_problem};
use crate::state::State;
use crate::wire::{self, FieldError, ProductRecord, data_body, data_body_sized};
use serde_json::value::RawValue;

/// Default page size.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest page size.
pub const MAX_LIMIT: usize = 100;

pub(crate) fn handle(
    state: &mut State,
    request: &MockRequest,
    route: Route<'_>,
    key: &Caller,
    now: OffsetDateTime,
) -> MockResponse {
    match (route, &request.method) {
        (Route::Products, &Method::GET) => {
            list(state, key, request.query.as_deref().unwrap_or_default())
        }
        (Route::Products, &Method::POST) => create(state, key, request, now),
        (Route::Product(id), &Method::GET) => get(state, key, id),
        (Route::Product(id), &Method::PATCH) => update(state, key, id, request, now),
        (Route::Product(id), &Method::DELETE) => delete(state, key, id, now),
        _ => MockResponse::error(
            405,
            "method_not_allowed",
            "this route does not accept that method",
        ),
    }
}

/// Notes a written product for the data file and returns its `{"data": …}` body, from the JSON
/// the catalog made when it stored the product.
fn written(state: &mut State, key: &Caller, product: &ProductRecord) -> Vec<u8> {
    state.record_product(&key.team, key.mode, product);
    match state.catalog(&key.team, key.mode).json(&product.id) {
        Some(json) => data_body(&json),
        None => data_body(product),
    }
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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListBody<'a> {
    data: Vec<&'a RawValue>,
    has_more: bool,
    next_cursor: Option<Uuid>,
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
        Some(text) => match wire::uuid(text).filter(|id| catalog.contains(id)) {
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
    let capacity = page
        .items
        .iter()
        .map(|(_, json)| json.get().len() + 1)
        .sum::<usize>()
        + 96;
    let body = ListBody {
        data: page.items.iter().map(|(_, json)| *json).collect(),
        has_more: page.has_more,
        next_cursor,
    };
    MockResponse::json(200, data_body_sized(&body, capacity))
}

fn get(state: &mut State, key: &Caller, id: &str) -> MockResponse {
    let catalog = state.catalog(&key.team, key.mode);
    match wire::uuid(id).and_then(|id| catalog.json(&id)) {
        Some(product) => MockResponse::json(200, data_body(&product)),
        None => not_found(),
    }
}

fn create(
    state: &mut State,
    key: &Caller,
    request: &MockRequest,
    now: OffsetDateTime,
) -> MockResponse {
    if let Some(problem) = json_body_problem(request) {
        return problem;
    }
    let new = match wire::create_input(&request.body) {
        Ok(new) => new,
        Err(details) => return MockResponse::invalid(details),
    };
    let id = state.uuid();
    let defaults = (
        state.settings.default_type.clone(),
        state.settings.default_unit.clone(),
    );
    match state
        .catalog(&key.team, key.mode)
        .create(id, new, now, (&defaults.0, &defaults.1))
    {
        Ok(product) => MockResponse::json(201, written(state, key, &product))
            .header("location", format!("{API_PREFIX}/products/{id}")),
        Err(error) => catalog_error(error),
    }
}

fn update(
    state: &mut State,
    key: &Caller,
    id: &str,
    request: &MockRequest,
    now: OffsetDateTime,
) -> MockResponse {
    if let Some(problem) = json_body_problem(request) {
        return problem;
    }
    let input = match wire::product_input(&request.body, false) {
        Ok(input) => input,
        Err(details) => return MockResponse::invalid(details),
    };
    let Some(id) = wire::uuid(id) else {
        return not_found();
    };
    match state.catalog(&key.team, key.mode).update(&id, input, now) {
        Ok(product) => MockResponse::json(200, written(state, key, &product)),
        Err(error) => catalog_error(error),
    }
}

fn delete(state: &mut State, key: &Caller, id: &str, now: OffsetDateTime) -> MockResponse {
    let Some(id) = wire::uuid(id) else {
        return not_found();
    };
    match state.catalog(&key.team, key.mode).archive(&id, now) {
        Ok(product) => MockResponse::json(200, written(state, key, &product)),
        Err(error) => catalog_error(error),
    }
}
