//! The product catalog: the [`Product`] model, request parameters, and the [`Products`] handle.

use std::marker::PhantomData;

use futures_util::Stream;
use reqwest::Method;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::client::{Call, Client, Detailed, ReadOnlyClient, Reply, WriteOptions};
use crate::error::Result;
use crate::pagination::{self, Page};
use crate::scope::{ReadOnly, ReadWrite, Scope};
use crate::types::{Currency, ProductId, decimal};

/// A catalog item, as the API returns it.
///
/// Unknown fields are ignored, so a newer server does not break an older client.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Product {
    /// The product's id.
    pub id: ProductId,
    /// Name, at most 255 characters.
    pub name: String,
    /// Price per unit in major units, exact (`120.10` stays `120.10`).
    #[serde(with = "decimal")]
    pub unit_price: Decimal,
    /// ISO 4217 currency of `unit_price`.
    pub currency: Currency,
    /// Free text, at most 2000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// Stock-keeping unit, unique per team and mode.
    #[serde(default)]
    pub sku: Option<String>,
    /// Tax percentage, 0 to 100, exact.
    #[serde(default, deserialize_with = "decimal::option::deserialize")]
    pub tax_rate: Option<Decimal>,
    /// Product type, such as `SERVICES` (a free string on the wire).
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub product_type: String,
    /// Unit of measure, such as `hr`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub unit_of_measure: String,
    /// Active or archived.
    pub status: ProductStatus,
    /// When the product was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the product last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

fn null_as_default<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// A product's status. Values this version does not know are kept in [`ProductStatus::Unknown`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProductStatus {
    /// Listed by default and usable on invoices.
    Active,
    /// Soft-deleted: still readable by id and with `status=archived`.
    Archived,
    /// A status added to the API after this version.
    Unknown(String),
}

impl ProductStatus {
    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            ProductStatus::Active => "active",
            ProductStatus::Archived => "archived",
            ProductStatus::Unknown(other) => other,
        }
    }
}

impl<'de> Deserialize<'de> for ProductStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(match text.as_str() {
            "active" => ProductStatus::Active,
            "archived" => ProductStatus::Archived,
            _ => ProductStatus::Unknown(text),
        })
    }
}

/// Which products a list returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StatusFilter {
    /// Active products only (the server's default).
    #[default]
    Active,
    /// Archived products only.
    Archived,
    /// Both.
    All,
}

impl StatusFilter {
    /// The wire spelling (`active`, `archived`, `all`).
    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Active => "active",
            StatusFilter::Archived => "archived",
            StatusFilter::All => "all",
        }
    }
}

/// Parameters of `GET /products`. Unset values are left to the server's defaults.
///
/// ```
/// use paperlink_sdk::{ListProducts, StatusFilter};
/// let params = ListProducts::new().status(StatusFilter::All).limit(100);
/// # let _ = params;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct ListProducts {
    status: Option<StatusFilter>,
    limit: Option<u32>,
    after: Option<String>,
}

impl ListProducts {
    /// The server's defaults: active products, 20 per page, from the start.
    pub fn new() -> Self {
        Self::default()
    }

    /// Filter by status.
    pub fn status(mut self, status: StatusFilter) -> Self {
        self.status = Some(status);
        self
    }

    /// Page size (the server accepts 1 to 100).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Start after this cursor (a previous page's [`Page::next_cursor`]).
    pub fn after(mut self, cursor: impl Into<String>) -> Self {
        self.after = Some(cursor.into());
        self
    }

    /// The status filter, if set (for fakes that honour it).
    pub fn get_status(&self) -> Option<StatusFilter> {
        self.status
    }

    /// The page size, if set.
    pub fn get_limit(&self) -> Option<u32> {
        self.limit
    }

    /// The cursor to start after, if set.
    pub fn get_after(&self) -> Option<&str> {
        self.after.as_deref()
    }

    pub(crate) fn set_after(&mut self, cursor: Option<String>) {
        self.after = cursor;
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(status) = self.status {
            query.push(("status", status.as_str().to_owned()));
        }
        if let Some(limit) = self.limit {
            query.push(("limit", limit.to_string()));
        }
        if let Some(after) = &self.after {
            query.push(("after", after.clone()));
        }
        query
    }
}

/// The body of `POST /products`: the three required fields, plus optional ones by setter.
///
/// ```
/// use paperlink_sdk::{CreateProduct, Decimal};
///
/// let new = CreateProduct::new("Web Design", Decimal::new(12010, 2), "USD".parse()?)
///     .sku("WD-001")
///     .tax_rate(Decimal::new(20, 0));
/// assert_eq!(
///     serde_json::to_string(&new)?,
///     r#"{"name":"Web Design","unitPrice":120.10,"currency":"USD","sku":"WD-001","taxRate":20}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[must_use]
pub struct CreateProduct {
    name: String,
    #[serde(with = "decimal")]
    unit_price: Decimal,
    currency: Currency,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sku: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "decimal::option::serialize"
    )]
    tax_rate: Option<Decimal>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    product_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_of_measure: Option<String>,
}

impl CreateProduct {
    /// A product with its required fields.
    pub fn new(name: impl Into<String>, unit_price: Decimal, currency: Currency) -> Self {
        Self {
            name: name.into(),
            unit_price,
            currency,
            description: None,
            sku: None,
            tax_rate: None,
            product_type: None,
            unit_of_measure: None,
        }
    }

    /// Free text, at most 2000 characters.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Stock-keeping unit, unique per team and mode.
    pub fn sku(mut self, sku: impl Into<String>) -> Self {
        self.sku = Some(sku.into());
        self
    }

    /// Tax percentage, 0 to 100.
    pub fn tax_rate(mut self, rate: Decimal) -> Self {
        self.tax_rate = Some(rate);
        self
    }

    /// Product type (the server's default is `SERVICES`).
    pub fn product_type(mut self, product_type: impl Into<String>) -> Self {
        self.product_type = Some(product_type.into());
        self
    }

    /// Unit of measure, such as `hr`.
    pub fn unit_of_measure(mut self, unit: impl Into<String>) -> Self {
        self.unit_of_measure = Some(unit.into());
        self
    }
}

/// One field of a partial update: leave it, clear it (`null`), or set it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Not sent: the server keeps the current value.
    #[default]
    Unchanged,
    /// Sent as `null`: the server clears the value.
    Clear,
    /// Sent as a value.
    Set(T),
}

impl<T> Patch<T> {
    fn is_unchanged(&self) -> bool {
        matches!(self, Patch::Unchanged)
    }
}

impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Patch::Set(value) => value.serialize(s),
            Patch::Unchanged | Patch::Clear => s.serialize_none(),
        }
    }
}

fn patch_decimal<S: Serializer>(
    value: &Patch<Decimal>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match value {
        Patch::Set(v) => decimal::serialize(v, s),
        Patch::Unchanged | Patch::Clear => s.serialize_none(),
    }
}

/// The body of `PATCH /products/{id}`: only the fields you set are sent.
///
/// The nullable fields (`description`, `sku`, `taxRate`) can also be cleared:
///
/// ```
/// use paperlink_sdk::UpdateProduct;
///
/// let change = UpdateProduct::new().name("Web Design (hourly)").clear_sku();
/// assert_eq!(serde_json::to_string(&change)?, r#"{"name":"Web Design (hourly)","sku":null}"#);
/// assert_eq!(serde_json::to_string(&UpdateProduct::new())?, "{}");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[must_use]
pub struct UpdateProduct {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "decimal::option::serialize"
    )]
    unit_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency: Option<Currency>,
    #[serde(skip_serializing_if = "Patch::is_unchanged")]
    description: Patch<String>,
    #[serde(skip_serializing_if = "Patch::is_unchanged")]
    sku: Patch<String>,
    #[serde(
        skip_serializing_if = "Patch::is_unchanged",
        serialize_with = "patch_decimal"
    )]
    tax_rate: Patch<Decimal>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    product_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_of_measure: Option<String>,
}

impl UpdateProduct {
    /// An update that changes nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Set the unit price.
    pub fn unit_price(mut self, price: Decimal) -> Self {
        self.unit_price = Some(price);
        self
    }

    /// Set the currency.
    pub fn currency(mut self, currency: Currency) -> Self {
        self.currency = Some(currency);
        self
    }

    /// Set the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Patch::Set(description.into());
        self
    }

    /// Clear the description (sends `null`).
    pub fn clear_description(mut self) -> Self {
        self.description = Patch::Clear;
        self
    }

    /// Set the SKU.
    pub fn sku(mut self, sku: impl Into<String>) -> Self {
        self.sku = Patch::Set(sku.into());
        self
    }

    /// Clear the SKU (sends `null`).
    pub fn clear_sku(mut self) -> Self {
        self.sku = Patch::Clear;
        self
    }

    /// Set the tax rate.
    pub fn tax_rate(mut self, rate: Decimal) -> Self {
        self.tax_rate = Patch::Set(rate);
        self
    }

    /// Clear the tax rate (sends `null`).
    pub fn clear_tax_rate(mut self) -> Self {
        self.tax_rate = Patch::Clear;
        self
    }

    /// Set the product type.
    pub fn product_type(mut self, product_type: impl Into<String>) -> Self {
        self.product_type = Some(product_type.into());
        self
    }

    /// Set the unit of measure.
    pub fn unit_of_measure(mut self, unit: impl Into<String>) -> Self {
        self.unit_of_measure = Some(unit.into());
        self
    }
}

impl Client {
    /// The products endpoints, reads and writes.
    pub fn products(&self) -> Products<'_> {
        Products::new(self)
    }
}

impl ReadOnlyClient {
    /// The products endpoints, reads only.
    pub fn products(&self) -> Products<'_, ReadOnly> {
        Products::new(self.client())
    }
}

/// The products endpoints. Get one from [`Client::products`] (all calls) or
/// [`ReadOnlyClient::products`](crate::ReadOnlyClient::products) (reads only: writes do not
/// compile).
#[derive(Debug, Clone, Copy)]
pub struct Products<'a, S: Scope = ReadWrite> {
    client: &'a Client,
    scope: PhantomData<S>,
}

impl<'a, S: Scope> Products<'a, S> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self {
            client,
            scope: PhantomData,
        }
    }

    /// `GET /products`: one page.
    pub async fn list(&self, params: ListProducts) -> Result<Page<Product>> {
        let call = Call::new(Method::GET, ["products".to_owned()]).query(params.query());
        let reply = self
            .client
            .call::<pagination::WirePage<Product>>(call)
            .await?;
        Page::from_reply(reply)
    }

    /// Every product matching `params`, fetched lazily page by page as the stream is polled.
    /// It follows `nextCursor`, stops on `hasMore: false` or a `null` cursor, and ends with
    /// [`Error::CursorLoop`](crate::Error::CursorLoop) if the server repeats a cursor.
    pub fn stream(
        &self,
        params: ListProducts,
    ) -> impl Stream<Item = Result<Product>> + Send + 'static {
        let client = self.client.clone();
        let first = params.get_after().map(str::to_owned);
        pagination::stream(first, move |after| {
            let (client, mut params) = (client.clone(), params.clone());
            params.set_after(after);
            async move { Products::<'_, ReadOnly>::new(&client).list(params).await }
        })
    }

    /// `GET /products/{id}`.
    pub async fn get(&self, id: ProductId) -> Result<Product> {
        let call = Call::new(Method::GET, ["products".to_owned(), id.to_string()]);
        self.client.call_for_data(call).await
    }
}

impl Products<'_, ReadWrite> {
    /// `POST /products`. Retried safely: the call carries an idempotency key.
    pub async fn create(&self, product: CreateProduct) -> Result<Product> {
        self.create_with(product, WriteOptions::new()).await
    }

    /// `POST /products` with options (such as your own idempotency key).
    pub async fn create_with(
        &self,
        product: CreateProduct,
        options: WriteOptions,
    ) -> Result<Product> {
        Ok(self.create_detailed(product, options).await?.value)
    }

    /// `POST /products` with options, returning the response's metadata too: its request id,
    /// rate limit, and whether the server replayed an earlier create with the same key.
    pub async fn create_detailed(
        &self,
        product: CreateProduct,
        options: WriteOptions,
    ) -> Result<Detailed<Product>> {
        let call = Call::new(Method::POST, ["products".to_owned()])
            .json(&product)?
            .write(options);
        self.client.call_for_detailed(call).await
    }

    /// `PATCH /products/{id}`: a partial update.
    pub async fn update(&self, id: ProductId, change: UpdateProduct) -> Result<Product> {
        self.update_with(id, change, WriteOptions::new()).await
    }

    /// `PATCH /products/{id}` with options.
    pub async fn update_with(
        &self,
        id: ProductId,
        change: UpdateProduct,
        options: WriteOptions,
    ) -> Result<Product> {
        Ok(self.update_detailed(id, change, options).await?.value)
    }

    /// `PATCH /products/{id}` with options, returning the response's metadata too.
    pub async fn update_detailed(
        &self,
        id: ProductId,
        change: UpdateProduct,
        options: WriteOptions,
    ) -> Result<Detailed<Product>> {
        let call = Call::new(Method::PATCH, ["products".to_owned(), id.to_string()])
            .json(&change)?
            .write(options);
        self.client.call_for_detailed(call).await
    }

    /// `DELETE /products/{id}`: archives the product. Returns the archived product when the
    /// server sends it (`200`), `None` for an empty success (`204`).
    pub async fn delete(&self, id: ProductId) -> Result<Option<Product>> {
        self.delete_with(id, WriteOptions::new()).await
    }

    /// `DELETE /products/{id}` with options.
    pub async fn delete_with(
        &self,
        id: ProductId,
        options: WriteOptions,
    ) -> Result<Option<Product>> {
        Ok(self.delete_detailed(id, options).await?.value)
    }

    /// `DELETE /products/{id}` with options, returning the response's metadata too.
    pub async fn delete_detailed(
        &self,
        id: ProductId,
        options: WriteOptions,
    ) -> Result<Detailed<Option<Product>>> {
        let call =
            Call::new(Method::DELETE, ["products".to_owned(), id.to_string()]).write(options);
        let Reply { data, meta } = self.client.call::<Product>(call).await?;
        Ok(Detailed {
            value: data,
            meta: meta.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIRE: &str = r#"{
        "id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        "name": "Web Design",
        "unitPrice": 120.10,
        "currency": "USD",
        "description": "Custom web design service",
        "sku": "WD-001",
        "taxRate": 20.0,
        "type": "SERVICES",
        "unitOfMeasure": "hr",
        "status": "active",
        "createdAt": "2025-01-15T10:00:00.000Z",
        "updatedAt": "2023-11-07T05:31:56Z",
        "someFutureField": {"nested": true}
    }"#;

    #[test]
    fn the_documented_product_parses_exactly() {
        let p: Product = serde_json::from_str(WIRE).expect("parses");
        assert_eq!(p.unit_price.to_string(), "120.10");
        assert_eq!(p.tax_rate.map(|t| t.to_string()).as_deref(), Some("20.0"));
        assert_eq!(p.currency.as_str(), "USD");
        assert_eq!(p.status, ProductStatus::Active);
        assert_eq!(p.created_at.unix_timestamp(), 1_736_935_200);
        assert_eq!(p.updated_at.unix_timestamp(), 1_699_335_116);
        assert_eq!(p.product_type, "SERVICES");
    }

    #[test]
    fn timestamps_keep_their_milliseconds() {
        let json = WIRE.replace("10:00:00.000Z", "10:00:00.123Z");
        let p: Product = serde_json::from_str(&json).expect("parses");
        assert_eq!(p.created_at.millisecond(), 123);
        let text = p
            .created_at
            .format(&time::format_description::well_known::Rfc3339)
            .expect("formats");
        assert_eq!(text, "2025-01-15T10:00:00.123Z");
    }

    #[test]
    fn nulls_unknown_statuses_and_missing_optionals_are_tolerated() {
        let json = WIRE
            .replace(r#""SERVICES""#, "null")
            .replace(r#""active""#, r#""frozen""#)
            .replace(r#""taxRate": 20.0,"#, "")
            .replace(r#""sku": "WD-001","#, r#""sku": null,"#);
        let p: Product = serde_json::from_str(&json).expect("parses");
        assert_eq!(p.product_type, "");
        assert_eq!(p.status, ProductStatus::Unknown("frozen".into()));
        assert_eq!((p.tax_rate, p.sku), (None, None));
    }

    #[test]
    fn update_bodies_distinguish_absent_null_and_value() {
        let body = |u: &UpdateProduct| serde_json::to_string(u).expect("serializes");
        assert_eq!(body(&UpdateProduct::new()), "{}");
        assert_eq!(
            body(
                &UpdateProduct::new()
                    .clear_description()
                    .clear_sku()
                    .clear_tax_rate()
            ),
            r#"{"description":null,"sku":null,"taxRate":null}"#
        );
        assert_eq!(
            body(
                &UpdateProduct::new()
                    .description("d")
                    .tax_rate(Decimal::new(755, 1))
                    .unit_price(Decimal::new(100, 2))
            ),
            r#"{"unitPrice":1.00,"description":"d","taxRate":75.5}"#
        );
    }

    #[test]
    fn list_parameters_become_the_query() {
        let q = ListProducts::new()
            .status(StatusFilter::Archived)
            .limit(5)
            .after("c1")
            .query();
        assert_eq!(
            q,
            vec![
                ("status", "archived".into()),
                ("limit", "5".into()),
                ("after", "c1".into())
            ]
        );
        assert!(ListProducts::new().query().is_empty());
    }
}
