//! Small typed values shared by the models: ids, currencies, exact money on the wire.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// A product's id (a UUID on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProductId(Uuid);

impl ProductId {
    /// Wraps a UUID.
    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl From<Uuid> for ProductId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl FromStr for ProductId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A three-letter ISO 4217 currency code in upper case (`USD`, `EUR`, `UAH`).
///
/// ```
/// use paperlink_sdk::Currency;
///
/// let eur: Currency = "EUR".parse()?;
/// assert_eq!(eur.as_str(), "EUR");
/// assert!("eur".parse::<Currency>().is_err());
/// assert!("EURO".parse::<Currency>().is_err());
/// # Ok::<(), paperlink_sdk::CurrencyError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// The string is not three upper-case ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a currency is three upper-case letters, such as USD")]
#[non_exhaustive]
pub struct CurrencyError;

impl Currency {
    /// Validates a code.
    pub fn new(code: &str) -> Result<Self, CurrencyError> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(CurrencyError),
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        // The bytes are validated ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Currency::new(&code).map_err(serde::de::Error::custom)
    }
}

/// Exact decimals as JSON numbers: the number's text goes straight to and from
/// [`rust_decimal::Decimal`], never through `f64`, so `120.10` stays `120.10`.
///
/// This works with `serde_json` reading from bytes or a string (as the client does); a JSON
/// string holding a number is accepted too.
pub(crate) mod decimal {
    use rust_decimal::Decimal;
    use serde::de::Error as _;
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::value::RawValue;

    pub(crate) fn parse(text: &str) -> Result<Decimal, String> {
        let number = match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(inner) => inner,
            None => text,
        };
        let parsed = if number.contains(['e', 'E']) {
            Decimal::from_scientific(number)
        } else {
            Decimal::from_str_exact(number)
        };
        parsed.map_err(|e| format!("not an exact decimal number: {e}"))
    }

    pub(crate) fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        RawValue::from_string(value.to_string())
            .map_err(S::Error::custom)?
            .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let raw = <&'de RawValue>::deserialize(d)?;
        parse(raw.get()).map_err(D::Error::custom)
    }

    /// The same for `Option<Decimal>` (JSON `null` is `None`).
    pub(crate) mod option {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            value: &Option<Decimal>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Decimal>, D::Error> {
            let raw = <Option<&'de RawValue>>::deserialize(d)?;
            match raw.map(RawValue::get) {
                None | Some("null") => Ok(None),
                Some(text) => parse(text).map(Some).map_err(D::Error::custom),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[derive(Serialize, Deserialize)]
    struct Money {
        #[serde(with = "decimal")]
        amount: Decimal,
        #[serde(default, with = "decimal::option")]
        rate: Option<Decimal>,
    }

    #[test]
    fn decimals_round_trip_exactly() {
        for text in ["120.10", "0", "120", "0.000001", "99999999999.99", "20.0"] {
            let json = format!(r#"{{"amount":{text},"rate":null}}"#);
            let money: Money = serde_json::from_str(&json).expect("parses");
            assert_eq!(money.amount.to_string(), text);
            assert_eq!(money.rate, None);
            let back = serde_json::to_string(&money).expect("serializes");
            assert_eq!(back, format!(r#"{{"amount":{text},"rate":null}}"#));
        }
    }

    #[test]
    fn decimals_accept_exponents_strings_and_reject_junk() {
        let money: Money =
            serde_json::from_str(r#"{"amount":1.5e2,"rate":"20.5"}"#).expect("parses");
        assert_eq!(money.amount, Decimal::new(150, 0));
        assert_eq!(money.rate.map(|r| r.to_string()).as_deref(), Some("20.5"));
        assert!(serde_json::from_str::<Money>(r#"{"amount":true}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":1e400}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"NaN"}"#).is_err());
        let missing: Money = serde_json::from_str(r#"{"amount":1}"#).expect("parses");
        assert_eq!(missing.rate, None);
    }

    #[test]
    fn currency_is_three_upper_case_letters() {
        assert!(Currency::new("UAH").is_ok());
        for bad in ["", "US", "usd", "USDX", "U$D", "ÜSD"] {
            assert_eq!(Currency::new(bad), Err(CurrencyError), "{bad}");
        }
        let c: Currency = serde_json::from_str(r#""USD""#).expect("parses");
        assert_eq!(serde_json::to_string(&c).ok().as_deref(), Some(r#""USD""#));
        assert!(serde_json::from_str::<Currency>(r#""usd""#).is_err());
    }
}
