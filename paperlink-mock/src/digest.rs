//! SHA-256 digests (token hashes, idempotency scopes and body fingerprints) in the data file:
//! 64 lowercase hex digits. The arrays of 32 numbers that earlier versions wrote for
//! idempotency scopes and fingerprints still load.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A SHA-256 digest.
pub(crate) type Digest = [u8; 32];

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Serializes a digest as 64 lowercase hex digits (`#[serde(with = "digest")]`).
pub(crate) fn serialize<S: Serializer>(digest: &Digest, serializer: S) -> Result<S::Ok, S::Error> {
    let mut text = [0u8; 64];
    for (pair, byte) in text.chunks_exact_mut(2).zip(digest) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    // Every byte written is an ASCII digit or letter.
    let text = std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(text)
}

/// Reads 64 hex digits (either case), or an array of 32 byte values.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Digest, D::Error> {
    deserializer.deserialize_any(DigestVisitor)
}

struct DigestVisitor;

impl<'de> Visitor<'de> for DigestVisitor {
    type Value = Digest;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SHA-256 digest: 64 hex digits, or 32 byte values")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Digest, E> {
        let mut digest = [0u8; 32];
        let digits = text.as_bytes();
        if digits.len() != 64 {
            return Err(E::invalid_length(digits.len(), &self));
        }
        for (byte, pair) in digest.iter_mut().zip(digits.chunks_exact(2)) {
            let nibble = |d: u8| {
                char::from(d)
                    .to_digit(16)
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
            };
            *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
        }
        Ok(digest)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Digest, A::Error> {
        let mut digest = [0u8; 32];
        for (i, byte) in digest.iter_mut().enumerate() {
            *byte = seq
                .next_element()?
                .ok_or_else(|| de::Error::invalid_length(i, &self))?;
        }
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(33, &self));
        }
        Ok(digest)
    }
}

/// A digest as it is written, for sequences of pairs.
struct Text<'a>(&'a Digest);

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize(self.0, serializer)
    }
}

/// A digest as it is read, for sequences of pairs.
struct Read(Digest);

impl<'de> Deserialize<'de> for Read {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize(deserializer).map(Read)
    }
}

/// `(digest, value)` pairs (`#[serde(with = "digest::pairs")]`).
pub(crate) mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Digest, Read, Text};

    pub(crate) fn serialize<S: Serializer, T: Serialize>(
        pairs: &[(Digest, T)],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(pairs.iter().map(|(digest, value)| (Text(digest), value)))
    }

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

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::Digest;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct One(#[serde(with = "super")] Digest);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Pairs(#[serde(with = "super::pairs")] Vec<(Digest, u8)>);

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

        let pairs = Pairs(vec![(sample(), 1), ([0xff; 32], 2)]);
        let line = serde_json::to_string(&pairs).expect("serialize");
        assert!(line.starts_with(r#"[["00254a6f"#), "{line}");
        assert_eq!(serde_json::from_str::<Pairs>(&line).expect("pairs"), pairs);
        let old = format!("[[{old},1],[[{}],2]]", ["255"; 32].join(","));
        assert_eq!(
            serde_json::from_str::<Pairs>(&old).expect("old pairs"),
            pairs
        );
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
