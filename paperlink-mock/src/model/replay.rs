//! A write's answer as recorded for idempotent replay, and the name it is filed under.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::millis;

/// The SHA-256 of the API key's credential, the method, the path and the `Idempotency-Key`:
/// a record is found only by the same key sending the same `Idempotency-Key` to the same route.
pub(crate) type ReplayScope = [u8; 32];

/// A write's success answer, kept for idempotent replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReplayRecord {
    /// What identifies the request body that got this answer.
    #[serde(with = "super::encoding::digest")]
    pub(crate) fingerprint: [u8; 32],
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    /// The response body, shared with the response that was sent; written as text.
    #[serde(with = "super::encoding::body")]
    pub(crate) body: Bytes,
    #[serde(with = "millis")]
    pub(crate) expires: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_body_is_written_as_text_and_read_from_text_or_byte_values() {
        let record = ReplayRecord {
            fingerprint: [7; 32],
            status: 201,
            location: None,
            body: Bytes::from_static(br#"{"data":{"name":"Kept"}}"#),
            expires: OffsetDateTime::UNIX_EPOCH,
        };
        let line = serde_json::to_string(&record).expect("serialize");
        assert!(
            line.contains(r#""body":"{\"data\":{\"name\":\"Kept\"}}""#),
            "{line}"
        );
        let back: ReplayRecord = serde_json::from_str(&line).expect("text");
        assert_eq!(back.body, record.body);
        // Earlier versions wrote the body as an array of byte values.
        let values: Vec<String> = record.body.iter().map(u8::to_string).collect();
        let old = line.replace(
            r#""{\"data\":{\"name\":\"Kept\"}}""#,
            &format!("[{}]", values.join(",")),
        );
        assert_ne!(old, line);
        let back: ReplayRecord = serde_json::from_str(&old).expect("byte values");
        assert_eq!(back.body, record.body);
        assert!(
            serde_json::from_str::<ReplayRecord>(&line.replace(r#""body":"#, r#""body":7,"x":"#))
                .is_err()
        );
    }
}
