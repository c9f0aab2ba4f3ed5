//! How values are written in the data file, and read back from what earlier versions wrote.
//!
//! * [`digest`]: a SHA-256 (token hash, idempotency scope, body fingerprint) as 64 lowercase
//!   hex digits; an array of 32 byte values also loads.
//! * [`body`]: a recorded response body as text; an array of byte values also loads.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A value written as text, or as the array of byte values earlier versions wrote.
enum TextOrBytes {
    Text(String),
    Bytes(Vec<u8>),
}

impl<'de> Deserialize<'de> for TextOrBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;

        impl<'de> Visitor<'de> for Either {
            type Value = TextOrBytes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("text, or an array of byte values")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<TextOrBytes, E> {
                Ok(TextOrBytes::Text(text.to_owned()))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<TextOrBytes, E> {
                Ok(TextOrBytes::Text(text))
            }

            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<TextOrBytes, E> {
                Ok(TextOrBytes::Bytes(bytes.to_vec()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TextOrBytes, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(byte) = seq.next_element::<u8>()? {
                    bytes.push(byte);
                }
                Ok(TextOrBytes::Bytes(bytes))
            }
        }

        deserializer.deserialize_any(Either)
    }
}

/// A recorded response body (`#[serde(with = "crate::model::encoding::body")]`): written as text (the
/// mock's bodies are JSON), as byte values if it is not UTF-8.
pub(crate) mod body {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::TextOrBytes;

    pub(crate) fn serialize<S: Serializer>(body: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(body) {
            Ok(text) => serializer.serialize_str(text),
            Err(_) => serializer.serialize_bytes(body),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Bytes, D::Error> {
        Ok(match TextOrBytes::deserialize(deserializer)? {
            TextOrBytes::Text(text) => Bytes::from(text),
            TextOrBytes::Bytes(bytes) => Bytes::from(bytes),
        })
    }
}

/// A SHA-256 digest (`#[serde(with = "crate::model::encoding::digest")]`).
pub(crate) mod digest {
    use serde::de::{Error, Unexpected};
    use serde::{Deserialize, Deserializer, Serializer};

    use super::TextOrBytes;

    /// A SHA-256 digest.
    pub(crate) type Digest = [u8; 32];

    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    const EXPECTED: &str = "a SHA-256 digest: 64 hex digits, or 32 byte values";

    /// Writes 64 lowercase hex digits.
    pub(crate) fn serialize<S: Serializer>(
        digest: &Digest,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&to_hex(digest))
    }

    /// 64 lowercase hex digits.
    pub(crate) fn to_hex(digest: &Digest) -> String {
        let mut text = String::with_capacity(64);
        for byte in digest {
            text.push(char::from(DIGITS[usize::from(byte >> 4)]));
            text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        text
    }

    /// Reads 64 hex digits (either case), or an array of 32 byte values.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Digest, D::Error> {
        match TextOrBytes::deserialize(deserializer)? {
            TextOrBytes::Text(text) => from_hex(&text)
                .ok_or_else(|| D::Error::invalid_value(Unexpected::Str(&text), &EXPECTED)),
            TextOrBytes::Bytes(bytes) => {
                let len = bytes.len();
                Digest::try_from(bytes).map_err(|_| D::Error::invalid_length(len, &EXPECTED))
            }
        }
    }

    /// 64 hex digits, either case.
    pub(crate) fn from_hex(text: &str) -> Option<Digest> {
        let digits = text.as_bytes();
        if digits.len() != 64 {
            return None;
        }
        let nibble = |d: u8| {
            char::from(d)
                .to_digit(16)
                .and_then(|n| u8::try_from(n).ok())
        };
        let mut digest = [0u8; 32];
        for (byte, pair) in digest.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
        }
        Some(digest)
    }

    /// A digest as it is read, for sequences of pairs.
    #[cfg(feature = "durable")]
    struct Read(Digest);

    #[cfg(feature = "durable")]
    impl<'de> Deserialize<'de> for Read {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserialize(deserializer).map(Read)
        }
    }

    #[cfg(feature = "durable")]
    /// `(digest, value)` pairs, read (`#[serde(deserialize_with = "crate::model::encoding::digest::pairs::deserialize")]`).
    pub(crate) mod pairs {
        use serde::{Deserialize, Deserializer};

        use super::{Digest, Read};

        pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
            deserializer: D,
        ) -> Result<Vec<(Digest, T)>, D::Error> {
            let pairs = Vec::<(Read, T)>::deserialize(deserializer)?;
            Ok(pairs
                .into_iter()
                .map(|(Read(digest), value)| (digest, value))
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::digest::Digest;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct One(#[serde(with = "super::digest")] Digest);

    #[cfg(feature = "durable")]
    #[derive(Debug, PartialEq, Deserialize)]
    struct Pairs(
        #[serde(deserialize_with = "super::digest::pairs::deserialize")] Vec<(Digest, u8)>,
    );

    fn sample() -> Digest {
        std::array::from_fn(|i| (i as u8).wrapping_mul(37))
    }

    #[test]
    fn a_digest_is_written_as_hex_and_read_from_hex_or_byte_values() {
        let line = serde_json::to_string(&One(sample())).expect("serialize");
        assert_eq!(
            line,
            r#""00254a6f94b9de03284d7297bce1062b50759abfe4092e53789dc2e70c31567b""#
        );
        assert_eq!(
            serde_json::from_str::<One>(&line).expect("hex"),
            One(sample())
        );
        let upper = line.to_ascii_uppercase();
        assert_eq!(
            serde_json::from_str::<One>(&upper).expect("HEX"),
            One(sample())
        );
        let values: Vec<String> = sample().iter().map(u8::to_string).collect();
        let old = format!("[{}]", values.join(","));
        assert_eq!(
            serde_json::from_str::<One>(&old).expect("values"),
            One(sample())
        );

        #[cfg(feature = "durable")]
        {
            let pairs = Pairs(vec![(sample(), 1), ([0xff; 32], 2)]);
            let line = format!(r#"[[{line},1],["{}",2]]"#, "ff".repeat(32));
            assert_eq!(serde_json::from_str::<Pairs>(&line).expect("pairs"), pairs);
            let old = format!("[[{old},1],[[{}],2]]", ["255"; 32].join(","));
            assert_eq!(
                serde_json::from_str::<Pairs>(&old).expect("old pairs"),
                pairs
            );
        }
    }

    #[test]
    fn anything_but_64_hex_digits_or_32_byte_values_is_refused() {
        let hex = "00254a6f94b9de03284d7297bce1062b50759abfe4092e53789dc2e70c31567b";
        let refused = [
            format!(r#""{}""#, &hex[..63]),
            format!(r#""{hex}0""#),
            // A sign is not a digit, though `from_str_radix` would take "+f".
            format!(r#""+f{}""#, &hex[2..]),
            format!(r#""{} ""#, &hex[..63]),
            format!(r#""é{}""#, &hex[2..]),
            format!("[{}]", ["1"; 31].join(",")),
            format!("[{}]", ["1"; 33].join(",")),
            format!("[{},256]", ["1"; 31].join(",")),
            "7".to_owned(),
            "null".to_owned(),
        ];
        for text in refused {
            assert!(serde_json::from_str::<One>(&text).is_err(), "{text}");
        }
    }
}
