//! The operation of the API: `/api/v1/products` and `/api/v1/products/{id}`, on the caller's
//! own catalog (its team and mode), after authentication, scope, faults, rate limit and
//! idempotency.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::authenticate::Caller;
use crate::engine::catalog::{Catalog, CatalogError, Catalogs, Filter, ProductEntry, catalog_of};
use crate::engine::changes::{Change, Changes, Placed};
use crate::engine::request::MockResponse;
use crate::engine::routes::ProductsOp;
use crate::model::{self, API_PREFIX, DEFAULT_PRODUCT_TYPE, FieldError, data_body_json, page_body};

/// Default page size.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest page size.
pub const MAX_LIMIT: usize = 100;

/// What a products call works on besides the caller's catalog.
pub(crate) struct Context<'a> {
    pub(crate) query: Option<&'a str>,
    pub(crate) rng: &'a mut fastrand::Rng,
    pub(crate) changes: &'a mut Changes,
    pub(crate) default_unit: &'a str,
    pub(crate) now: OffsetDateTime,
}

/// Runs a products call for `caller`. A write's refused body is answered here, in its turn.
pub(crate) fn run(
    op: ProductsOp<'_>,
    caller: &Caller,
    catalogs: &mut Catalogs,
    cx: Context<'_>,
) -> MockResponse {
    let catalog = catalog_of(catalogs, &caller.team, caller.mode);
    let now = cx.now;
    match op {
        ProductsOp::List => list(catalog, cx.query.unwrap_or_default()),
        ProductsOp::Get(id) => get(catalog, id),
        ProductsOp::Create(Ok(new)) => {
            let id = catalog.unused_id(cx.rng);
            let created = catalog.create(id, new, now, (DEFAULT_PRODUCT_TYPE, cx.default_unit));
            let response = written(created, caller, cx.changes, 201);
            if response.status != 201 {
                return response;
            }
            let mut location = String::with_capacity(API_PREFIX.len() + 10 + 36);
            location.push_str(API_PREFIX);
            location.push_str("/products/");
            location.push_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
            response.header("location", location)
        }
        ProductsOp::Update(id, Ok(input)) => match model::uuid(id) {
            Some(id) => written(catalog.update(&id, input, now), caller, cx.changes, 200),
            None => not_found(),
        },
        ProductsOp::Delete(id) => match model::uuid(id) {
            Some(id) => written(catalog.archive(&id, now), caller, cx.changes, 200),
            None => not_found(),
        },
        ProductsOp::Create(Err(refused)) | ProductsOp::Update(_, Err(refused)) => refused,
    }
}

/// Answers a write with the product's `{"data": …}` body, from the JSON the catalog made when
/// it filed the product, and notes the product for the data file.
fn written(
    result: Result<&ProductEntry, CatalogError>,
    caller: &Caller,
    changes: &mut Changes,
    status: u16,
) -> MockResponse {
    match result {
        Ok(entry) => {
            changes.record(|| {
                Change::ProductPut(Placed {
                    team: caller.team.clone(),
                    mode: caller.mode,
                    product: entry.record.clone(),
                })
            });
            MockResponse::json(status, data_body_json(&entry.json))
        }
        Err(CatalogError::NotFound) => not_found(),
        Err(CatalogError::SkuTaken) => MockResponse::error(
            409,
            "sku_conflict",
            "another product of this team and mode already uses this sku",
        ),
    }
}

fn not_found() -> MockResponse {
    MockResponse::error(
        404,
        "product_not_found",
        "no product with this id in this key's mode",
    )
}

fn list(catalog: &Catalog, query: &str) -> MockResponse {
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

fn get(catalog: &Catalog, id: &str) -> MockResponse {
    match model::uuid(id).and_then(|id| catalog.json(&id)) {
        Some(product) => MockResponse::json(200, data_body_json(product)),
        None => not_found(),
    }
}
