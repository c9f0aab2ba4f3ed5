//! Response bodies: `{"data": …}` and `{"error": …}`, and the request body's limit.

use serde::{Deserialize, Serialize};

use super::product::json_string;

/// Largest accepted request body, in bytes (1 MiB).
pub const MAX_BODY: usize = 1024 * 1024;

/// One field-level problem, as served in `error.details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field, as named on the wire.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// `{"error":{"code","message","details"?}}`.
pub(crate) fn error_body(code: &str, message: &str, details: &[FieldError]) -> Vec<u8> {
    #[derive(Serialize)]
    struct Inner<'a> {
        code: &'a str,
        message: &'a str,
        #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
        details: &'a [FieldError],
    }
    #[derive(Serialize)]
    struct Outer<'a> {
        error: Inner<'a>,
    }
    serde_json::to_vec(&Outer {
        error: Inner {
            code,
            message,
            details,
        },
    })
    .unwrap_or_default()
}

/// `{"data": value}`.
pub(crate) fn data_body(value: &impl Serialize) -> Vec<u8> {
    #[derive(Serialize)]
    struct Data<'a, T> {
        data: &'a T,
    }
    let mut body = Vec::with_capacity(256);
    match serde_json::to_writer(&mut body, &Data { data: value }) {
        Ok(()) => body,
        Err(_) => Vec::new(),
    }
}

/// `{"data": json}` around JSON the mock made itself.
pub(crate) fn data_body_json(json: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(json.len() + 9);
    body.extend_from_slice(br#"{"data":"#);
    body.extend_from_slice(json.as_bytes());
    body.push(b'}');
    body
}

/// `{"data":{"data":[…],"hasMore":…,"nextCursor":…}}` from products' JSON, copied once.
pub(crate) fn page_body<'a>(
    items: impl Iterator<Item = &'a str> + Clone,
    has_more: bool,
    next_cursor: Option<&str>,
) -> Vec<u8> {
    let capacity = items.clone().map(|json| json.len() + 1).sum::<usize>() + 96;
    let mut body = Vec::with_capacity(capacity);
    body.extend_from_slice(br#"{"data":{"data":["#);
    for (i, json) in items.enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(json.as_bytes());
    }
    body.extend_from_slice(if has_more {
        br#"],"hasMore":true,"nextCursor":"#
    } else {
        br#"],"hasMore":false,"nextCursor":"#
    });
    match next_cursor {
        Some(cursor) => json_string(&mut body, cursor),
        None => body.extend_from_slice(b"null"),
    }
    body.extend_from_slice(b"}}");
    body
}
