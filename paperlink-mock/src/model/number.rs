//! Exact decimals: a JSON number kept as the text it was sent with.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

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

    /// Keeps a number whose text the caller has checked with [`to_decimal`].
    pub(super) fn from_checked(raw: &RawValue) -> Self {
        Self(raw.to_owned())
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

pub(super) fn to_decimal(text: &str) -> Result<Decimal, String> {
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

impl From<Decimal> for Number {
    fn from(value: Decimal) -> Self {
        Number::from_decimal(value)
    }
}
