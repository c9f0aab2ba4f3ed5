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

/// The most decimal places an exact decimal keeps.
pub const MAX_DECIMAL_PLACES: u32 = 28;
/// The largest number accepted (the largest exact decimal: 2^96 − 1).
pub const MAX_NUMBER: &str = "79228162514264337593543950335";

pub(super) fn to_decimal(text: &str) -> Result<Decimal, String> {
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str_exact(text)
    };
    parsed.map_err(|_| refusal(text))
}

/// Which rule a number that is not an exact decimal breaks, read from its text: too many
/// decimal places, too large, or too many significant digits for both at once.
fn refusal(text: &str) -> String {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().ok()),
        None => (text, Some(0)),
    };
    let Some(exponent) = exponent else {
        return "must be a decimal number".to_owned();
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let whole = whole.trim_start_matches(['-', '+']).trim_start_matches('0');
    let places = i64::try_from(fraction.len())
        .unwrap_or(i64::MAX)
        .saturating_sub(exponent);
    let digits_before_point = if whole.is_empty() {
        // 0.000123e5: the first significant digit of the fraction, moved by the exponent.
        let leading_zeros = fraction.len() - fraction.trim_start_matches('0').len();
        exponent.saturating_sub(i64::try_from(leading_zeros).unwrap_or(i64::MAX))
    } else {
        i64::try_from(whole.len())
            .unwrap_or(i64::MAX)
            .saturating_add(exponent)
    };
    let max_digits = i64::try_from(MAX_NUMBER.len()).unwrap_or(i64::MAX);
    let too_large = digits_before_point > max_digits
        || (digits_before_point == max_digits && {
            // As many digits before the point as the maximum: compare them digit by digit.
            let significant: String = whole.chars().chain(fraction.chars()).collect();
            let significant = significant.trim_start_matches('0');
            let (head, tail) = significant.split_at(significant.len().min(MAX_NUMBER.len()));
            let head = format!("{head:0<width$}", width = MAX_NUMBER.len());
            head.as_str() > MAX_NUMBER || (head == MAX_NUMBER && tail.bytes().any(|b| b != b'0'))
        });
    if too_large {
        format!("must be at most {MAX_NUMBER}")
    } else if places > i64::from(MAX_DECIMAL_PLACES) {
        format!("must have at most {MAX_DECIMAL_PLACES} decimal places")
    } else {
        format!(
            "has more significant digits than an exact decimal keeps (at most 28 to 29 in all, \
             up to {MAX_NUMBER})"
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_names_the_rule_that_was_broken() {
        let large = format!("must be at most {MAX_NUMBER}");
        let places = "must have at most 28 decimal places";
        for (text, rule) in [
            ("1e29", large.as_str()),
            ("79228162514264337593543950336", &large),
            ("79228162514264337593543950335.5", &large),
            (
                "79228162514264337593543950334.5",
                "has more significant digits",
            ),
            ("792281625142643375935439503351", &large),
            ("0.79228162514264337593543950336e29", &large),
            ("7.9e28", "ok"),
            ("79228162514264337593543950335", "ok"),
            ("0.00000000000000000000000000001", places),
            ("1e-29", places),
            ("1.0000000000000000000000000001", "ok"),
            (
                "10.0000000000000000000000000001",
                "has more significant digits",
            ),
        ] {
            match to_decimal(text) {
                Ok(_) => assert_eq!(rule, "ok", "{text} was accepted"),
                Err(message) => assert!(message.starts_with(rule), "{text}: {message}"),
            }
        }
    }
}
