//! `/api/v1/products` and `/api/v1/products/{id}`, after authentication, scope, rate limit and
//! idempotency have been checked.

use http::Method;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::catalog::{Catalog, CatalogError, Filter, Stored};
use crate::engine::keys::Caller;
use crate::engine::state::{Settings, State, catalog_of};
use crate::engine::{API_PREFIX, MockRequest, MockResponse, Route, json_body_problem};
use crate::model::{self, FieldError, data_body_json};

/// Default page size.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest page size.
pub const MAX_LIMIT: usize = 100;

/// A create or update body, checked (size, content type, fields) before the state is locked.
pub(crate) enum Write {
    New(model::NewProduct),
    Update(model::ProductInput),
}

/// Checks the body of `POST /products` or `PATCH /products/{id}` (`None` for other requests),
/// parsing it once; the parsed object also gives the idempotency fingerprint.
pub(crate) fn check_write<'a>(
    request: &'a MockRequest,
    route: &Route<'_>,
) -> Option<(Result<Write, MockResponse>, Option<model::Object<'a>>)> {
    let create = match (route, &request.method) {
        (Route::Products, &Method::POST) => true,
        (Route::Product(_), &Method::PATCH) => false,
        _ => return None,
    };
    if let Some(problem) = json_body_problem(request) {
        return Some((Err(problem), None));
    }
    let object = match model::parse_object(&request.body) {
        Ok(object) => object,
        Err(error) => return Some((Err(MockResponse::invalid(vec![error])), None)),
    };
    let checked = model::product_fields(&object, create)
        .and_then(|input| {
            if create {
                model::new_product(input).map(Write::New)
            } else {
                Ok(Write::Update(input))
            }
        })
        .map_err(MockResponse::invalid);
    Some((checked, Some(object)))
}

pub(crate) fn handle(
    state: &mut State,
    request: &MockRequest,
    route: Route<'_>,
    key: &Caller,
    write: Option<Result<Write, MockResponse>>,
    now: OffsetDateTime,
) -> MockResponse {
    let body = || MockResponse::invalid(vec![FieldError::new("body", "must be a JSON object")]);
    match (route, &request.method, write) {
        (Route::Products, &Method::GET, _) => {
            list(state, key, request.query.as_deref().unwrap_or_default())
        }
        (Route::Products, &Method::POST, Some(Ok(Write::New(new)))) => create(state, key, new, now),
        (Route::Product(id), &Method::GET, _) => get(state, key, id),
        (Route::Product(id), &Method::PATCH, Some(Ok(Write::Update(input)))) => {
            update(state, key, id, input, now)
        }
        (_, &Method::POST | &Method::PATCH, Some(Err(problem))) => problem,
        (_, &Method::POST | &Method::PATCH, _) => body(),
        (Route::Product(id), &Method::DELETE, _) => delete(state, key, id, now),
        _ => MockResponse::error(
            405,
            "method_not_allowed",
            "this route does not accept that method",
        ),
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
    // `{"data":{"data":[…],"hasMore":…,"nextCursor":…}}` from the stored JSON, copied once.
    let capacity = page
        .items
        .iter()
        .map(|(_, json)| json.len() + 1)
        .sum::<usize>()
        + 96;
    let mut body = Vec::with_capacity(capacity);
    body.extend_from_slice(br#"{"data":{"data":["#);
    for (i, (_, json)) in page.items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(json.as_bytes());
    }
    body.extend_from_slice(if page.has_more {
        br#"],"hasMore":true,"nextCursor":"#
    } else {
        br#"],"hasMore":false,"nextCursor":"#
    });
    match next_cursor {
        Some(id) => {
            body.push(b'"');
            body.extend_from_slice(
                id.hyphenated()
                    .encode_lower(&mut Uuid::encode_buffer())
                    .as_bytes(),
            );
            body.push(b'"');
        }
        None => body.extend_from_slice(b"null"),
    }
    body.extend_from_slice(b"}}");
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
