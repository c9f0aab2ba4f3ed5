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
    /// US dollar.
    pub const USD: Currency = Currency(*b"USD");
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");
    /// Ukrainian hryvnia.
    pub const UAH: Currency = Currency(*b"UAH");

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
/// [`Decimal`](crate::Decimal), never through `f64`, so `120.10` stays `120.10`.
///
/// Deserializing works from any self-describing deserializer:
/// * `serde_json` text, bytes or a reader: the number's own text is read (through serde_json's
///   raw-value protocol), exactly;
/// * a `serde_json::Value`: exact for integers, for strings (`"120.10"`), and for every number
///   when serde_json's `arbitrary_precision` feature is on; otherwise a `Value` already holds
///   a non-integer as an `f64` (that happened when it was built), and its shortest decimal
///   text is read, which is the literal written for up to 15 significant digits;
/// * any other format: integers, strings, and floats as above.
///
/// A string holding a number is accepted too.
pub(crate) mod decimal {
    use std::fmt;

    use rust_decimal::Decimal;
    use serde::de::{self, Error as _, MapAccess, Visitor};
    use serde::ser::Error as _;
    use serde::{Deserializer, Serialize, Serializer};
    use serde_json::value::RawValue;

    /// serde_json hands a number's raw text to a visitor that asks for this newtype (its
    /// `RawValue` protocol); other deserializers see an ordinary newtype.
    const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";
    /// The map key serde_json uses for a number under `arbitrary_precision`.
    const NUMBER_TOKEN: &str = "$serde_json::private::Number";

    pub(crate) fn parse(text: &str) -> Result<Decimal, String> {
        let text = text.trim();
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
        d.deserialize_newtype_struct(RAW_VALUE_TOKEN, DecimalVisitor)
    }

    /// Reads a decimal from whatever the deserializer offers (see the module docs).
    struct DecimalVisitor;

    impl<'de> Visitor<'de> for DecimalVisitor {
        type Value = Decimal;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal number")
        }

        fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Decimal, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Decimal, A::Error> {
            // serde_json's raw value, or its `arbitrary_precision` number: one entry whose
            // value is the number's text.
            match map.next_key::<String>()?.as_deref() {
                Some(RAW_VALUE_TOKEN | NUMBER_TOKEN) => {
                    let text = map.next_value::<String>()?;
                    parse(&text).map_err(A::Error::custom)
                }
                _ => Err(A::Error::invalid_type(de::Unexpected::Map, &self)),
            }
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Decimal, E> {
            parse(text).map_err(E::custom)
        }

        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(n))
        }

        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(n))
        }

        fn visit_i128<E: de::Error>(self, n: i128) -> Result<Decimal, E> {
            Decimal::try_from_i128_with_scale(n, 0).map_err(E::custom)
        }

        fn visit_u128<E: de::Error>(self, n: u128) -> Result<Decimal, E> {
            let n = i128::try_from(n).map_err(E::custom)?;
            self.visit_i128(n)
        }

        fn visit_f64<E: de::Error>(self, n: f64) -> Result<Decimal, E> {
            // The format already holds a binary float; its shortest text is the literal it
            // was written from (for up to 15 significant digits).
            if !n.is_finite() {
                return Err(E::custom("not a finite number"));
            }
            parse(&n.to_string()).map_err(E::custom)
        }
    }

    /// The same for `Option<Decimal>` (`null` or a missing field is `None`).
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
            d.deserialize_option(OptionVisitor)
        }

        struct OptionVisitor;

        impl<'de> Visitor<'de> for OptionVisitor {
            type Value = Option<Decimal>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number or null")
            }

            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                super::deserialize(d).map(Some)
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
    fn decimals_deserialize_from_a_value_a_reader_and_other_formats() {
        use serde::de::IntoDeserializer;
        use serde::de::value::Error as ValueError;

        let from_value: Money =
            serde_json::from_value(serde_json::json!({"amount": 120.10, "rate": "20.50"}))
                .expect("from a Value");
        assert_eq!(from_value.amount, Decimal::new(12010, 2));
        assert_eq!(
            from_value.rate.map(|r| r.to_string()).as_deref(),
            Some("20.50")
        );
        let int: Money = serde_json::from_value(serde_json::json!({"amount": 7, "rate": null}))
            .expect("an integer Value");
        assert_eq!((int.amount, int.rate), (Decimal::new(7, 0), None));

        let text = br#"{"amount":0.30000000000000004441,"rate":20.0}"#;
        let from_reader: Money = serde_json::from_reader(&text[..]).expect("from a reader");
        assert_eq!(from_reader.amount.to_string(), "0.30000000000000004441");
        assert_eq!(
            from_reader.rate.map(|r| r.to_string()).as_deref(),
            Some("20.0")
        );

        // Deserializers other than serde_json's (serde's own value deserializers here).
        fn exact<'de, D: serde::Deserializer<'de, Error = ValueError>>(
            d: D,
        ) -> Result<String, ValueError> {
            decimal::deserialize(d).map(|v| v.to_string())
        }
        assert_eq!(
            exact(IntoDeserializer::<ValueError>::into_deserializer("120.10")).ok(),
            Some("120.10".into())
        );
        assert_eq!(
            exact(IntoDeserializer::<ValueError>::into_deserializer(42u64)).ok(),
            Some("42".into())
        );
        assert_eq!(
            exact(IntoDeserializer::<ValueError>::into_deserializer(-3i64)).ok(),
            Some("-3".into())
        );
        assert_eq!(
            exact(IntoDeserializer::<ValueError>::into_deserializer(0.1f64)).ok(),
            Some("0.1".into())
        );
        assert!(exact(IntoDeserializer::<ValueError>::into_deserializer(f64::NAN)).is_err());
        assert!(exact(IntoDeserializer::<ValueError>::into_deserializer(true)).is_err());
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
