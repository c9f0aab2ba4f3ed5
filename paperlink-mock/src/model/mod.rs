//! The mock's own wire shapes, written from the API description and never from the SDK's
//! types: the product, exact numbers, timestamps, response bodies, the validation of request
//! bodies, and how digests and bodies are written in the data file. Nothing here imports any
//! other part of the crate.

/// The path prefix of the public API.
pub const API_PREFIX: &str = "/api/v1";

mod body;
pub(crate) mod encoding;
mod key;
mod member;
pub(crate) mod millis;
mod mode;
mod names;
pub(crate) mod number;
pub(crate) mod openapi;
mod product;
mod replay;
mod role;
mod seed;
mod validation;

pub use body::{FieldError, MAX_BODY};
pub(crate) use body::{data_body, data_body_json, error_body, page_body};
pub use key::KeyInfo;
pub(crate) use key::KeyRecord;
pub use member::Member;
pub use mode::{KeyMode, KeyScope};
pub use names::{MAX_KEY_NAME, MAX_MEMBER_NAME, MAX_TEAM_NAME};
pub(crate) use names::{NameKind, checked_name, same_name_key};
pub use number::Number;
pub(crate) use product::json_string;
pub use product::{
    DEFAULT_PRODUCT_TYPE, DEFAULT_UNIT_OF_MEASURE, MAX_DESCRIPTION, MAX_NAME, MAX_SHORT, MAX_SKU,
    ProductRecord, ProductStatus,
};
pub(crate) use replay::{ReplayRecord, ReplayScope};
pub use role::TeamRole;
pub use seed::SeedProduct;
pub(crate) use validation::{
    NewProduct, Object, ProductInput, new_product, parse_object, product_fields, sku_key, uuid,
};
#[cfg(test)]
pub(crate) use validation::{create_input, product_input};

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;
    use uuid::Uuid;

    fn record() -> ProductRecord {
        ProductRecord {
            id: Uuid::nil(),
            name: "Widget".into(),
            unit_price: Number::parse("120.10").expect("a number"),
            currency: "USD".into(),
            description: None,
            sku: None,
            tax_rate: None,
            product_type: "SERVICES".into(),
            unit_of_measure: "unit".into(),
            status: ProductStatus::Active,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn create(body: &str) -> Result<ProductInput, Vec<FieldError>> {
        product_input(body.as_bytes(), true)
    }

    fn fields(result: Result<ProductInput, Vec<FieldError>>) -> Vec<String> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_minimal_create_body_is_accepted_and_numbers_kept_exactly() {
        let input = create(
            r#"{"name":"Web","unitPrice":120.10,"currency":"USD","status":"archived","x":1}"#,
        )
        .expect("valid");
        assert_eq!(
            input.unit_price.map(|n| n.as_str().to_owned()).as_deref(),
            Some("120.10")
        );
    }

    #[test]
    fn every_rule_names_its_field() {
        assert_eq!(fields(create("{}")), ["name", "unitPrice", "currency"]);
        assert_eq!(
            fields(create(r#"{"name":" ","unitPrice":"1","currency":"usd"}"#)),
            ["name", "unitPrice", "currency"]
        );
        let long = "é".repeat(256);
        assert_eq!(
            fields(create(&format!(
                r#"{{"name":"{long}","unitPrice":-1,"currency":"USDX"}}"#
            ))),
            ["name", "unitPrice", "currency"]
        );
        let ok_255 = "é".repeat(255);
        assert!(
            create(&format!(
                r#"{{"name":"{ok_255}","unitPrice":0,"currency":"EUR"}}"#
            ))
            .is_ok()
        );
        assert_eq!(
            fields(create(
                r#"{"name":"a","unitPrice":1e400,"currency":"EUR","taxRate":100.5,"type":null,"unitOfMeasure":7,"sku":""}"#
            )),
            ["unitPrice", "sku", "taxRate", "type", "unitOfMeasure"]
        );
        // `-0` is zero: allowed, and kept as sent; any other minus is refused by its rule.
        assert!(create(r#"{"name":"a","unitPrice":-0,"currency":"EUR","taxRate":-0.00}"#).is_ok());
        let negative = create(r#"{"name":"a","unitPrice":-0.01,"currency":"EUR"}"#);
        assert_eq!(fields(negative.clone()), ["unitPrice"]);
        assert!(negative.is_err_and(|e| e[0].message == "must be greater than or equal to 0"));
        assert!(create(r#"{"name":"a","unitPrice":0,"currency":"EUR","taxRate":100}"#).is_ok());
    }

    #[test]
    fn bodies_that_are_not_json_objects_are_rejected() {
        for body in ["", "[]", "\"x\"", "{", "{\"name\":", "nul"] {
            assert_eq!(fields(create(body)), ["body"], "{body}");
        }
        assert_eq!(fields(product_input(b"\xff\xfe", false)), ["body"]);
        // Deep nesting is refused or skipped without recursion, never a stack overflow.
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert_eq!(
            fields(create(&format!(r#"{{"name":{deep}}}"#))),
            ["name", "unitPrice", "currency"]
        );
        assert_eq!(fields(create(&deep)), ["body"]);
    }

    #[test]
    fn keys_with_escapes_are_read_and_a_repeated_key_keeps_its_last_value() {
        let input =
            create(r#"{"na\u006de":"Widget","unitPrice":1,"unitPrice":2.50,"currency":"EUR"}"#)
                .expect("valid");
        assert_eq!(input.name.as_deref(), Some("Widget"));
        assert_eq!(
            input.unit_price.map(|n| n.as_str().to_owned()).as_deref(),
            Some("2.50")
        );
        let object = parse_object(br#"{"b":1,"a":"x"}"#).expect("an object");
        assert_eq!(object.keys().map(|k| &**k).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            parse_object(b"[1]").err().map(|e| e.message),
            Some("must be a JSON object".to_owned())
        );
        assert!(
            parse_object(b"{\"a\":1} x")
                .err()
                .is_some_and(|e| e.message.starts_with("is not valid JSON"))
        );
    }

    #[test]
    fn update_bodies_are_partial_and_null_clears_only_nullable_fields() {
        let input = product_input(br#"{"description":null,"sku":null,"taxRate":null}"#, false)
            .expect("valid");
        assert_eq!(
            (
                input.description,
                input.sku,
                input.tax_rate.map(|t| t.is_none())
            ),
            (Some(None), Some(None), Some(true))
        );
        assert!(product_input(b"{}", false).expect("valid").is_empty());
        assert_eq!(
            fields(product_input(br#"{"name":null,"currency":null}"#, false)),
            ["name", "currency"]
        );
    }

    #[test]
    fn a_products_json_is_what_serde_makes_of_it() {
        let plain = record();
        let full = ProductRecord {
            name: "Caf\u{e9} \"Deluxe\" \\ tab\there\u{1}\u{7f} \u{1F600}".into(),
            description: Some("line\nbreak </script>".into()),
            sku: Some("SKU-1".into()),
            tax_rate: Some(Number::parse("8.25").expect("a number")),
            unit_price: Number::parse("1e2").expect("a number"),
            status: ProductStatus::Archived,
            created_at: time::macros::datetime!(2026-11-28 18:38:10.123 UTC),
            updated_at: time::macros::datetime!(2026-11-28 20:00:00.5 +01:00),
            ..record()
        };
        let far = ProductRecord {
            created_at: time::macros::datetime!(-0001-01-01 00:00:00 UTC),
            ..record()
        };
        for product in [plain, full, far] {
            let json = product.to_json();
            assert_eq!(&*json, serde_json::to_string(&product).expect("serialises"));
            if product.created_at.year() >= 0 {
                let back: ProductRecord = serde_json::from_str(&json).expect("parses");
                assert_eq!(back, product);
            }
        }
    }

    #[test]
    fn timestamps_are_served_with_milliseconds() {
        let t = time::macros::datetime!(2025-01-15 10:00:00.5 UTC);
        assert_eq!(millis::format(t), "2025-01-15T10:00:00.500Z");
        let t = time::macros::datetime!(2025-01-15 12:00:00 +02:00);
        assert_eq!(millis::format(t), "2025-01-15T10:00:00.000Z");
    }

    #[test]
    fn the_fast_timestamp_format_matches_the_time_crate() {
        use time::macros::datetime;
        for t in [
            datetime!(2024-02-29 23:59:59.999 UTC),
            datetime!(0001-01-01 00:00:00 UTC),
            datetime!(9999-12-31 23:59:59.999_999 UTC),
            datetime!(1970-01-01 00:00:00.0005 UTC),
            datetime!(2026-11-28 01:02:03.04 -05:30),
        ] {
            assert_eq!(millis::format(t), millis::slow(t));
            let json = serde_json::to_string(&ProductRecord {
                created_at: t,
                updated_at: t,
                ..record()
            })
            .expect("serialises");
            assert!(json.contains(&millis::format(t)), "{json}");
        }
    }
}
