//! The mock's own JSON shapes: the product as it goes on the wire, error bodies, and the
//! validation of request bodies. Written from the API description, never from the SDK's types.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use uuid::Uuid;

/// Longest `name`, in characters.
pub const MAX_NAME: usize = 255;
/// Longest `description`, in characters.
pub const MAX_DESCRIPTION: usize = 2000;
/// Longest `sku`, in characters.
pub const MAX_SKU: usize = 100;
/// Longest `type` and `unitOfMeasure`, in characters.
pub const MAX_SHORT: usize = 50;
/// Largest accepted request body, in bytes (1 MiB).
pub const MAX_BODY: usize = 1024 * 1024;

/// A product's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProductStatus {
    /// Listed by default.
    Active,
    /// Soft-deleted by `DELETE`.
    Archived,
}

/// A product as the mock stores and serves it. Numbers keep the exact text they were sent
/// with, so `120.10` is served as `120.10`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ProductRecord {
    /// The product's id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Unit price, as the exact JSON number text.
    pub unit_price: Number,
    /// Currency code.
    pub currency: String,
    /// Description.
    pub description: Option<String>,
    /// SKU.
    pub sku: Option<String>,
    /// Tax rate, as the exact JSON number text.
    pub tax_rate: Option<Number>,
    /// Product type.
    #[serde(rename = "type")]
    pub product_type: String,
    /// Unit of measure.
    pub unit_of_measure: String,
    /// Status.
    pub status: ProductStatus,
    /// Creation time (served in UTC with milliseconds).
    #[serde(with = "millis")]
    pub created_at: OffsetDateTime,
    /// Last change (served in UTC with milliseconds).
    #[serde(with = "millis")]
    pub updated_at: OffsetDateTime,
}

impl ProductRecord {
    /// The product's JSON, byte for byte what `serde_json` makes of it, written straight into
    /// one buffer of the right size (a create renders it under the state's lock).
    pub(crate) fn to_json(&self) -> Box<str> {
        let texts = [
            Some(self.name.as_str()),
            Some(self.unit_price.as_str()),
            Some(self.currency.as_str()),
            self.description.as_deref(),
            self.sku.as_deref(),
            self.tax_rate.as_ref().map(Number::as_str),
            Some(self.product_type.as_str()),
            Some(self.unit_of_measure.as_str()),
        ];
        let capacity = 256 + texts.iter().flatten().map(|t| t.len() + 2).sum::<usize>();
        let mut out = Vec::with_capacity(capacity);
        out.extend_from_slice(br#"{"id":""#);
        out.extend_from_slice(
            self.id
                .hyphenated()
                .encode_lower(&mut Uuid::encode_buffer())
                .as_bytes(),
        );
        out.extend_from_slice(br#"","name":"#);
        json_string(&mut out, &self.name);
        out.extend_from_slice(br#","unitPrice":"#);
        out.extend_from_slice(self.unit_price.as_str().as_bytes());
        out.extend_from_slice(br#","currency":"#);
        json_string(&mut out, &self.currency);
        out.extend_from_slice(br#","description":"#);
        optional_json_string(&mut out, self.description.as_deref());
        out.extend_from_slice(br#","sku":"#);
        optional_json_string(&mut out, self.sku.as_deref());
        out.extend_from_slice(br#","taxRate":"#);
        match &self.tax_rate {
            Some(rate) => out.extend_from_slice(rate.as_str().as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(br#","type":"#);
        json_string(&mut out, &self.product_type);
        out.extend_from_slice(br#","unitOfMeasure":"#);
        json_string(&mut out, &self.unit_of_measure);
        out.extend_from_slice(match self.status {
            ProductStatus::Active => br#","status":"active","createdAt":"#,
            ProductStatus::Archived => br#","status":"archived","createdAt":"#,
        });
        millis::write_json(&mut out, self.created_at);
        out.extend_from_slice(br#","updatedAt":"#);
        millis::write_json(&mut out, self.updated_at);
        out.push(b'}');
        // Every piece above is UTF-8, so the fallback is never taken.
        match String::from_utf8(out) {
            Ok(json) => json.into_boxed_str(),
            Err(_) => serde_json::to_string(self)
                .unwrap_or_default()
                .into_boxed_str(),
        }
    }
}

/// Writes `text` as a JSON string: copied as is when nothing in it needs escaping.
pub(crate) fn json_string(out: &mut Vec<u8>, text: &str) {
    if text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        // serde_json's escaping, for the rare string that needs it.
        let _ = serde_json::to_writer(&mut *out, text);
    } else {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

fn optional_json_string(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => json_string(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

/// A JSON number kept as its exact text.
#[derive(Debug, Clone)]
pub struct Number(Box<RawValue>);

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Number {}

impl Number {
    /// Parses and checks the text of a JSON number (exact decimal, finite).
    pub fn parse(text: &str) -> Result<Self, String> {
        to_decimal(text)?;
        Self::from_text(text.to_owned())
    }

    /// Keeps a number already taken from a parsed JSON body.
    fn from_raw(raw: &RawValue) -> Result<Self, String> {
        to_decimal(raw.get()).map(|_| Self(raw.to_owned()))
    }

    fn from_text(text: String) -> Result<Self, String> {
        RawValue::from_string(text)
            .map(Self)
            .map_err(|_| "must be a JSON number".to_owned())
    }

    pub(crate) fn from_decimal(value: Decimal) -> Self {
        // A decimal's text is always a JSON number; the fallback is never taken.
        Self::from_text(value.to_string()).unwrap_or_else(|_| Self(zero()))
    }

    /// The exact text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The value.
    pub fn value(&self) -> Decimal {
        to_decimal(self.as_str()).unwrap_or_default()
    }
}

fn zero() -> Box<RawValue> {
    serde_json::value::to_raw_value(&0).unwrap_or_default()
}

fn to_decimal(text: &str) -> Result<Decimal, String> {
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str_exact(text)
    };
    parsed.map_err(|_| "must be a finite decimal number with at most 28 decimal places".to_owned())
}

impl Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        Number::from_raw(raw).map_err(serde::de::Error::custom)
    }
}

/// RFC 3339 in UTC with exactly three fractional digits (`2025-01-15T10:00:00.000Z`).
pub(crate) mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;

    /// The time as the API serves it.
    pub(crate) fn format(t: OffsetDateTime) -> String {
        with_text(t, str::to_owned)
    }

    /// Calls `f` with the time's text, made on the stack for years 0 to 9999.
    fn with_text<R>(t: OffsetDateTime, f: impl FnOnce(&str) -> R) -> R {
        match fixed(t) {
            // The fixed text is ASCII digits and separators.
            Some(bytes) => f(std::str::from_utf8(&bytes).unwrap_or_default()),
            None => f(&slow(t)),
        }
    }

    /// The text as 24 ASCII bytes, for years 0 to 9999 (every clock this mock runs on).
    fn fixed(t: OffsetDateTime) -> Option<[u8; 24]> {
        let utc = t.checked_to_offset(time::UtcOffset::UTC)?;
        let year = u32::try_from(utc.year()).ok().filter(|y| *y <= 9999)?;
        let (hour, minute, second, milli) = utc.to_hms_milli();
        let mut out = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut value: u32| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, u8::from(utc.month()).into());
        put(8, 2, utc.day().into());
        put(11, 2, hour.into());
        put(14, 2, minute.into());
        put(17, 2, second.into());
        put(20, 3, milli.into());
        Some(out)
    }

    pub(super) fn slow(t: OffsetDateTime) -> String {
        let utc = t.checked_to_offset(time::UtcOffset::UTC).unwrap_or(t);
        utc.format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
    }

    /// Writes the time as a JSON string.
    pub(crate) fn write_json(out: &mut Vec<u8>, t: OffsetDateTime) {
        with_text(t, |text| super::json_string(out, text));
    }

    pub(crate) fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        with_text(*t, |text| s.serialize_str(text))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)
    }

    pub(crate) mod option {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
            text.map(|t| OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339))
                .transpose()
                .map_err(serde::de::Error::custom)
        }
    }
}

/// One field-level problem, as served in `error.details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field, as named on the wire.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// `{"error":{"code","message","details"?}}`.
pub(crate) fn error_body(code: &str, message: &str, details: &[FieldError]) -> Vec<u8> {
    #[derive(Serialize)]
    struct Inner<'a> {
        code: &'a str,
        message: &'a str,
        #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
        details: &'a [FieldError],
    }
    #[derive(Serialize)]
    struct Outer<'a> {
        error: Inner<'a>,
    }
    serde_json::to_vec(&Outer {
        error: Inner {
            code,
            message,
            details,
        },
    })
    .unwrap_or_default()
}

/// `{"data": value}`.
pub(crate) fn data_body(value: &impl Serialize) -> Vec<u8> {
    #[derive(Serialize)]
    struct Data<'a, T> {
        data: &'a T,
    }
    let mut body = Vec::with_capacity(256);
    match serde_json::to_writer(&mut body, &Data { data: value }) {
        Ok(()) => body,
        Err(_) => Vec::new(),
    }
}

/// `{"data": json}` around JSON the mock made itself.
pub(crate) fn data_body_json(json: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(json.len() + 9);
    body.extend_from_slice(br#"{"data":"#);
    body.extend_from_slice(json.as_bytes());
    body.push(b'}');
    body
}

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
    if text.starts_with('-') {
        errors.push(FieldError::new(
            field_name,
            "must be greater than or equal to 0",
        ));
        return None;
    }
    match to_decimal(text) {
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
        Ok(_) => Some(Number(raw.to_owned())),
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

/// Parses a UUID path or cursor value.
pub(crate) fn uuid(text: &str) -> Option<Uuid> {
    Uuid::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            fields(create(r#"{"name":"a","unitPrice":-0,"currency":"EUR"}"#)),
            ["unitPrice"]
        );
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
