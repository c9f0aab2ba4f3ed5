//! The validation of create and update bodies: every rule of the API, each naming its field.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Deserialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::body::FieldError;
use rust_decimal::Decimal;

use super::number::{Number, to_decimal};
use super::product::{MAX_DESCRIPTION, MAX_NAME, MAX_SHORT, MAX_SKU};

/// A field of a request body: absent, `null`, or a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field<T> {
    Absent,
    Null,
    Value(T),
}

/// The fields of a create or update body, validated.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProductInput {
    pub(crate) name: Option<String>,
    pub(crate) unit_price: Option<Number>,
    pub(crate) currency: Option<String>,
    pub(crate) description: Option<Option<String>>,
    pub(crate) sku: Option<Option<String>>,
    pub(crate) tax_rate: Option<Option<Number>>,
    pub(crate) product_type: Option<String>,
    pub(crate) unit_of_measure: Option<String>,
}

impl ProductInput {
    /// Whether the body set nothing at all (an update that changes nothing).
    pub(crate) fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.unit_price.is_none()
            && self.currency.is_none()
            && self.description.is_none()
            && self.sku.is_none()
            && self.tax_rate.is_none()
            && self.product_type.is_none()
            && self.unit_of_measure.is_none()
    }
}

/// Parses a JSON object body into raw fields, or a validation error naming the body.
pub(crate) fn parse_object(body: &[u8]) -> Result<Object<'_>, FieldError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| FieldError::new("body", "must be UTF-8 encoded JSON"))?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = serde::Deserializer::deserialize_map(&mut deserializer, ObjectVisitor)
        .and_then(|object| deserializer.end().map(|()| object));
    parsed.map_err(|_| {
        // Only a refused body pays for a second pass, to tell bad JSON from a non-object.
        match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => FieldError::new("body", "must be a JSON object"),
            Err(_) if text.trim().is_empty() => FieldError::new("body", "must be a JSON object"),
            Err(e) => FieldError::new("body", format!("is not valid JSON: {e}")),
        }
    })
}

/// Builds an [`Object`] whose keys and values borrow from the body where they can.
struct ObjectVisitor;

impl<'de> serde::de::Visitor<'de> for ObjectVisitor {
    type Value = Object<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Object<'de>, A::Error> {
        let mut object = Object::new();
        // A repeated key keeps its last value, as most JSON parsers do.
        while let Some(Key(key)) = map.next_key()? {
            object.insert(key, map.next_value()?);
        }
        Ok(object)
    }
}

/// An object key: borrowed from the body, or owned when it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

fn field<'a>(body: &'a Object<'_>, name: &str) -> Field<&'a RawValue> {
    match body.get(name) {
        None => Field::Absent,
        Some(raw) if raw.get() == "null" => Field::Null,
        Some(raw) => Field::Value(raw),
    }
}

fn string(
    field_name: &str,
    raw: &RawValue,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    // `raw` is a JSON value the parser already checked: a string without escapes is its text
    // between the quotes.
    let raw = raw.get();
    let plain = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .filter(|text| !text.contains('\\'));
    let parsed = match plain {
        Some(text) => Ok(text.to_owned()),
        None => serde_json::from_str::<String>(raw),
    };
    match parsed {
        Ok(s) if s.chars().count() > max => {
            errors.push(FieldError::new(
                field_name,
                format!("must be at most {max} characters"),
            ));
            None
        }
        Ok(s) => Some(s),
        Err(_) => {
            errors.push(FieldError::new(field_name, "must be a string"));
            None
        }
    }
}

fn number(
    field_name: &str,
    raw: &RawValue,
    max: Option<u32>,
    errors: &mut Vec<FieldError>,
) -> Option<Number> {
    let text = raw.get();
    let is_number = text.starts_with(|c: char| c.is_ascii_digit() || c == '-');
    if !is_number {
        errors.push(FieldError::new(field_name, "must be a number"));
        return None;
    }
    match to_decimal(text) {
        // `-0` is zero, and zero is allowed.
        Ok(value) if value.is_sign_negative() && !value.is_zero() => {
            errors.push(FieldError::new(
                field_name,
                "must be greater than or equal to 0",
            ));
            None
        }
        Ok(value) if max.is_some_and(|m| value > Decimal::from(m)) => {
            errors.push(FieldError::new(
                field_name,
                format!(
                    "must be between 0 and {} inclusive",
                    max.unwrap_or_default()
                ),
            ));
            None
        }
        // The parser already checked the text as JSON: it is kept as it came.
        Ok(_) => Some(Number::from_checked(raw)),
        Err(message) => {
            errors.push(FieldError::new(field_name, message));
            None
        }
    }
}

/// A request body parsed as a JSON object, in key order, each value kept as its exact text.
pub(crate) type Object<'a> = BTreeMap<Cow<'a, str>, &'a RawValue>;

/// Validates a create (`required`) or update body into a [`ProductInput`].
pub(crate) fn product_input(body: &[u8], required: bool) -> Result<ProductInput, Vec<FieldError>> {
    let object = parse_object(body).map_err(|e| vec![e])?;
    product_fields(&object, required)
}

/// Validates the fields of a parsed body.
pub(crate) fn product_fields(
    object: &Object<'_>,
    required: bool,
) -> Result<ProductInput, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut input = ProductInput::default();
    let not_null = |name: &str, errors: &mut Vec<FieldError>| {
        errors.push(FieldError::new(name, "must not be null"));
    };

    match field(object, "name") {
        Field::Absent if required => errors.push(FieldError::new("name", "is required")),
        Field::Absent => {}
        Field::Null => not_null("name", &mut errors),
        Field::Value(raw) => {
            if let Some(name) = string("name", raw, MAX_NAME, &mut errors) {
                if name.trim().is_empty() {
                    errors.push(FieldError::new("name", "must not be blank"));
                } else {
                    input.name = Some(name);
                }
            }
        }
    }
    match field(object, "unitPrice") {
        Field::Absent if required => errors.push(FieldError::new("unitPrice", "is required")),
        Field::Absent => {}
        Field::Null => not_null("unitPrice", &mut errors),
        Field::Value(raw) => input.unit_price = number("unitPrice", raw, None, &mut errors),
    }
    match field(object, "currency") {
        Field::Absent if required => errors.push(FieldError::new("currency", "is required")),
        Field::Absent => {}
        Field::Null => not_null("currency", &mut errors),
        Field::Value(raw) => {
            if let Some(code) = string("currency", raw, 3, &mut errors) {
                if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
                    input.currency = Some(code);
                } else {
                    errors.push(FieldError::new(
                        "currency",
                        "must be a three-letter upper-case ISO 4217 code",
                    ));
                }
            }
        }
    }
    match field(object, "description") {
        Field::Absent => {}
        Field::Null => input.description = Some(None),
        Field::Value(raw) => {
            if let Some(d) = string("description", raw, MAX_DESCRIPTION, &mut errors) {
                input.description = Some(Some(d));
            }
        }
    }
    match field(object, "sku") {
        Field::Absent => {}
        Field::Null => input.sku = Some(None),
        Field::Value(raw) => {
            if let Some(sku) = string("sku", raw, MAX_SKU, &mut errors) {
                if sku.trim().is_empty() {
                    errors.push(FieldError::new(
                        "sku",
                        "must not be blank (send null to clear it)",
                    ));
                } else {
                    input.sku = Some(Some(sku));
                }
            }
        }
    }
    match field(object, "taxRate") {
        Field::Absent => {}
        Field::Null => input.tax_rate = Some(None),
        Field::Value(raw) => {
            if let Some(rate) = number("taxRate", raw, Some(100), &mut errors) {
                input.tax_rate = Some(Some(rate));
            }
        }
    }
    for (wire, slot) in [
        ("type", &mut input.product_type),
        ("unitOfMeasure", &mut input.unit_of_measure),
    ] {
        match field(object, wire) {
            Field::Absent => {}
            Field::Null => not_null(wire, &mut errors),
            Field::Value(raw) => *slot = string(wire, raw, MAX_SHORT, &mut errors),
        }
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(errors)
    }
}

/// A validated create body: the required fields, and the optional ones.
#[derive(Debug, Clone)]
pub(crate) struct NewProduct {
    pub(crate) name: String,
    pub(crate) unit_price: Number,
    pub(crate) currency: String,
    pub(crate) rest: ProductInput,
}

/// Validates a create body.
pub(crate) fn create_input(body: &[u8]) -> Result<NewProduct, Vec<FieldError>> {
    new_product(product_input(body, true)?)
}

/// Splits the required fields off a validated create body.
pub(crate) fn new_product(mut rest: ProductInput) -> Result<NewProduct, Vec<FieldError>> {
    match (
        rest.name.take(),
        rest.unit_price.take(),
        rest.currency.take(),
    ) {
        (Some(name), Some(unit_price), Some(currency)) => Ok(NewProduct {
            name,
            unit_price,
            currency,
            rest,
        }),
        // product_input(.., true) reports every missing required field, so this is unreachable.
        _ => Err(vec![FieldError::new("body", "is missing a required field")]),
    }
}

/// The SKU as compared for uniqueness: case-sensitive, trimmed.
pub(crate) fn sku_key(sku: &str) -> &str {
    sku.trim()
}

/// Parses a UUID path or cursor value: the canonical hyphenated form only (either letter
/// case). `urn:uuid:…`, braces and the 32-digit form are not ids of this API, so they are not
/// found (404), as for any other non-UUID.
pub(crate) fn uuid(text: &str) -> Option<Uuid> {
    // Of the spellings the parser knows, only the hyphenated one is 36 characters long.
    if text.len() != 36 {
        return None;
    }
    Uuid::from_str(text).ok()
}
