//! The product as it goes on the wire: its fields' limits, its status, and its JSON.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::millis;
use super::number::Number;

/// Longest `name`, in characters.
pub const MAX_NAME: usize = 255;
/// Longest `description`, in characters.
pub const MAX_DESCRIPTION: usize = 2000;
/// Longest `sku`, in characters.
pub const MAX_SKU: usize = 100;
/// Longest `type` and `unitOfMeasure`, in characters.
pub const MAX_SHORT: usize = 50;
/// The `type` of a product created without one.
pub const DEFAULT_PRODUCT_TYPE: &str = "SERVICES";
/// The `unitOfMeasure` of a product created without one (unless the builder sets another).
pub const DEFAULT_UNIT_OF_MEASURE: &str = "unit";

/// A product's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProductStatus {
    /// Listed by default.
    Active,
    /// Soft-deleted by `DELETE`.
    Archived,
}

impl ProductStatus {
    /// The status as written: `active` or `archived`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Active => "active",
            ProductStatus::Archived => "archived",
        }
    }
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
