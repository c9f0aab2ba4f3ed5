//! [`SeedProduct`]: a product to put in the mock, in the API's spelling, as a seed file holds it.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::body::FieldError;
use super::millis;
use super::mode::KeyMode;
use super::number::Number;
use super::product::ProductStatus;
use super::validation::{NewProduct, create_input};

/// A product to put in the mock before (or while) it runs. Goes through the same validation as
/// `POST /products`; `id`, `status` and `createdAt` may also be given.
///
/// In a seed file (`paperlink-mock --seed FILE`) it is a JSON object in the API's spelling,
/// with optional `mode` (`live` or `test`, default `test`) and `team`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SeedProduct {
    /// A fixed id (a random one otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// Name.
    pub name: String,
    /// Unit price.
    pub unit_price: Number,
    /// Currency.
    pub currency: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Tax rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_rate: Option<Number>,
    /// Product type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
    /// Unit of measure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_of_measure: Option<String>,
    /// `archived` to seed an archived product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ProductStatus>,
    /// A fixed creation time (the mock clock's now otherwise).
    #[serde(
        default,
        with = "millis::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
    /// Seed files only: the mode (default `test`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<KeyMode>,
    /// Seed files only: the team (default `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
}

impl SeedProduct {
    /// The product this seed makes, checked by the rules of `POST /products` (the seed is
    /// read as the body of a create).
    pub(crate) fn checked(&self) -> Result<NewProduct, Vec<FieldError>> {
        let body = serde_json::to_vec(self)
            .map_err(|e| vec![FieldError::new("body", format!("cannot be written: {e}"))])?;
        create_input(&body)
    }

    /// A product with its required fields.
    pub fn new(name: impl Into<String>, unit_price: Decimal, currency: impl Into<String>) -> Self {
        Self {
            id: None,
            name: name.into(),
            unit_price: Number::from(unit_price),
            currency: currency.into(),
            description: None,
            sku: None,
            tax_rate: None,
            product_type: None,
            unit_of_measure: None,
            status: None,
            created_at: None,
            mode: None,
            team: None,
        }
    }

    /// With a SKU.
    pub fn sku(mut self, sku: impl Into<String>) -> Self {
        self.sku = Some(sku.into());
        self
    }

    /// With a description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// With a tax rate.
    pub fn tax_rate(mut self, rate: Decimal) -> Self {
        self.tax_rate = Some(Number::from(rate));
        self
    }

    /// Archived from the start.
    pub fn archived(mut self) -> Self {
        self.status = Some(ProductStatus::Archived);
        self
    }

    /// Created at this time.
    pub fn created_at(mut self, at: OffsetDateTime) -> Self {
        self.created_at = Some(at);
        self
    }

    /// With this id.
    pub fn id(mut self, id: Uuid) -> Self {
        self.id = Some(id);
        self
    }
}
