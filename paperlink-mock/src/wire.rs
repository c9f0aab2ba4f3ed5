//! Response bodies for a test's own wiremock `Mock`s, written by the code the mock serves
//! with, so a hand-mounted answer has exactly the wire shape of a real one.
//!
//! [`product`] builds a [`ProductRecord`] from a [`SeedProduct`] (validated as
//! `POST /products` validates it), and the `*_body` functions render the JSON envelopes:
//! `{"data": product}`, `{"data": {"data": [...], "hasMore", "nextCursor"}}` and
//! `{"error": {"code", "message", "details"?}}`. The `*_response` functions wrap them in a
//! `ResponseTemplate` with `Content-Type: application/json` and an `X-Request-Id`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use paperlink_mock::{PaperlinkMock, SeedProduct, wire};
//! use rust_decimal::Decimal;
//! use wiremock::Mock;
//! use wiremock::matchers::{method, path};
//!
//! let mock = PaperlinkMock::start().await;
//! let product = wire::product(&SeedProduct::new("Web Design", Decimal::new(12010, 2), "USD"))?;
//! // A page that says there is more, with a cursor the core never issued.
//! Mock::given(method("GET"))
//!     .and(path("/api/v1/products"))
//!     .respond_with(wire::page_response(&[product.clone()], Some("cursor-2")))
//!     .up_to_n_times(1)
//!     .mount(mock.server())
//!     .await;
//! assert!(wire::product_body(&product).contains(r#""unitPrice":120.10"#));
//! let refused = wire::error_body("sku_conflict", "a product with this sku already exists", &[]);
//! assert_eq!(
//!     refused,
//!     r#"{"error":{"code":"sku_conflict","message":"a product with this sku already exists"}}"#
//! );
//! # Ok(())
//! # }
//! ```

use time::OffsetDateTime;
use uuid::Uuid;
use wiremock::ResponseTemplate;

use crate::engine::catalog::new_record;
use crate::error::MockError;
use crate::model::{
    self, DEFAULT_PRODUCT_TYPE, DEFAULT_UNIT_OF_MEASURE, FieldError, ProductRecord, ProductStatus,
    SeedProduct,
};

/// The OpenAPI 3.1 document the mock serves at `GET /api/v1/openapi.json`.
pub const OPENAPI_DOCUMENT: &str = crate::model::openapi::DOCUMENT;

/// The creation time of a [`product`] whose seed sets none: 2025-01-15 10:00:00 UTC.
pub const DEFAULT_CREATED_AT: OffsetDateTime =
    match OffsetDateTime::from_unix_timestamp(1_736_935_200) {
        Ok(at) => at,
        Err(_) => OffsetDateTime::UNIX_EPOCH,
    };

/// A product as the API would return it: the seed's fields, validated as `POST /products`
/// validates them (an invalid seed is [`MockError::InvalidProduct`] with the field details),
/// the default `type` and `unitOfMeasure` where absent, a random id unless the seed sets one,
/// created at the seed's time or [`DEFAULT_CREATED_AT`], archived if the seed says so.
pub fn product(seed: &SeedProduct) -> Result<ProductRecord, MockError> {
    let new = seed.checked().map_err(MockError::InvalidProduct)?;
    let id = seed.id.unwrap_or_else(Uuid::new_v4);
    let at = seed.created_at.unwrap_or(DEFAULT_CREATED_AT);
    let mut record = new_record(id, new, at, (DEFAULT_PRODUCT_TYPE, DEFAULT_UNIT_OF_MEASURE));
    if seed.status == Some(ProductStatus::Archived) {
        record.status = ProductStatus::Archived;
    }
    Ok(record)
}

/// `{"data": product}`, as `GET /products/{id}`, `POST`, `PATCH` and `DELETE` answer.
pub fn product_body(product: &ProductRecord) -> String {
    utf8(model::data_body_json(&product.to_json()))
}

/// `{"data":{"data":[…],"hasMore":…,"nextCursor":…}}`, as `GET /products` answers;
/// `hasMore` is whether a cursor is given.
pub fn page_body(products: &[ProductRecord], next_cursor: Option<&str>) -> String {
    let items: Vec<Box<str>> = products.iter().map(ProductRecord::to_json).collect();
    utf8(model::page_body(
        items.iter().map(|json| &**json),
        next_cursor.is_some(),
        next_cursor,
    ))
}

/// `{"error":{"code","message","details"?}}` (`details` only when there are some).
pub fn error_body(code: &str, message: &str, details: &[FieldError]) -> String {
    utf8(model::error_body(code, message, details))
}

/// A response with [`product_body`] and this status (`200`, or `201` for a create).
pub fn product_response(status: u16, product: &ProductRecord) -> ResponseTemplate {
    json_response(status, product_body(product))
}

/// A `200` response with [`page_body`].
pub fn page_response(products: &[ProductRecord], next_cursor: Option<&str>) -> ResponseTemplate {
    json_response(200, page_body(products, next_cursor))
}

/// An error response with [`error_body`] (no details). Add `Retry-After` or rate-limit
/// headers with `insert_header` where the status calls for them.
pub fn error_response(status: u16, code: &str, message: &str) -> ResponseTemplate {
    json_response(status, error_body(code, message, &[]))
}

fn json_response(status: u16, body: String) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-request-id", Uuid::new_v4().to_string())
        .set_body_raw(body, "application/json")
}

/// The renderers write UTF-8 only; a lossy conversion keeps this free of panics.
fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn a_product_from_a_seed_has_the_served_defaults_and_shape() {
        let seed = SeedProduct::new("Web Design", Decimal::new(12010, 2), "USD").sku("WD-1");
        let record = product(&seed).expect("valid");
        assert_eq!(record.product_type, DEFAULT_PRODUCT_TYPE);
        assert_eq!(record.unit_of_measure, DEFAULT_UNIT_OF_MEASURE);
        assert_eq!(record.created_at, DEFAULT_CREATED_AT);
        let body: serde_json::Value = serde_json::from_str(&product_body(&record)).expect("JSON");
        assert_eq!(body["data"]["sku"], "WD-1");
        assert_eq!(body["data"]["createdAt"], "2025-01-15T10:00:00.000Z");

        let page: serde_json::Value =
            serde_json::from_str(&page_body(&[record.clone(), record], Some("c\"2")))
                .expect("JSON");
        assert_eq!(page["data"]["data"].as_array().map(Vec::len), Some(2));
        assert_eq!(page["data"]["hasMore"], true);
        assert_eq!(page["data"]["nextCursor"], "c\"2");
        let last: serde_json::Value = serde_json::from_str(&page_body(&[], None)).expect("JSON");
        assert_eq!(last["data"]["hasMore"], false);
        assert!(last["data"]["nextCursor"].is_null());
    }

    #[test]
    fn an_invalid_seed_is_refused_with_its_fields() {
        let seed = SeedProduct::new(" ", Decimal::new(-1, 0), "usd");
        match product(&seed) {
            Err(MockError::InvalidProduct(fields)) => {
                let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
                assert!(
                    names.contains(&"name") && names.contains(&"unitPrice"),
                    "{names:?}"
                );
            }
            other => panic!("expected InvalidProduct, got {other:?}"),
        }
    }
}
