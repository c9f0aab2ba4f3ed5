//! What a client can observe of an answer, as short texts that never carry ids, times or
//! anything else that differs from run to run: two answers that behave alike read alike.

use http::HeaderMap;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::http::{Answer, Body};

/// The most characters of one observation (a hostile target could send a body that makes an
/// endless one).
pub(crate) const MAX_OBSERVATION: usize = 2000;

/// Text from the target made safe to print: control characters (a terminal's escape
/// sequences) escaped, and at most `max` characters.
pub(crate) fn printable(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The shape of a JSON value: its JSON types, object keys sorted, array elements merged.
pub(crate) fn shape(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "boolean".to_owned(),
        Value::Number(_) => "number".to_owned(),
        Value::String(_) => "string".to_owned(),
        Value::Array(items) => {
            let mut shapes: Vec<String> = items.iter().map(shape).collect();
            shapes.sort_unstable();
            shapes.dedup();
            format!("[{}]", shapes.join("|"))
        }
        Value::Object(map) => {
            let mut fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}:{}", shape(v)))
                .collect();
            fields.sort_unstable();
            format!("{{{}}}", fields.join(","))
        }
    }
}

/// The error code of `{"error":{"code":…,"message":…[,"details":[…]]}}`, when the body has
/// exactly that shape.
pub(crate) fn error_code(value: &Value) -> Option<&str> {
    let outer = value.as_object()?;
    let error = outer.get("error")?.as_object()?;
    let only_known = outer.len() == 1
        && error
            .keys()
            .all(|k| matches!(k.as_str(), "code" | "message" | "details"));
    let message_ok = error.get("message").is_some_and(Value::is_string);
    let details_ok = error.get("details").is_none_or(Value::is_array);
    (only_known && message_ok && details_ok)
        .then(|| error.get("code").and_then(Value::as_str))
        .flatten()
}

/// The fields named in an error's `details`, sorted.
pub(crate) fn detail_fields(value: &Value) -> Vec<String> {
    let mut fields: Vec<String> = value
        .pointer("/error/details")
        .and_then(Value::as_array)
        .map(|details| {
            details
                .iter()
                .filter_map(|d| d.get("field").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    fields.sort_unstable();
    fields.dedup();
    fields
}

/// An answer as an error: `404 product_not_found`, `400 validation_error on limit`, or the
/// status and what the body is when it is not the error envelope.
pub(crate) fn error_text(answer: &Answer) -> String {
    let status = answer.status;
    match &answer.body {
        Body::Json { value, .. } => match error_code(value) {
            Some(code) => {
                let fields = detail_fields(value);
                if fields.is_empty() {
                    format!("{status} {code}")
                } else {
                    format!("{status} {code} on {}", fields.join(", "))
                }
            }
            None => format!("{status}, body {}", shape(value)),
        },
        other => format!("{status}, {}", other.describe()),
    }
}

/// An answer to a request that should succeed: `200` and what its body is, unless the body is
/// the JSON the caller looks into (then only the status; the caller adds the rest).
pub(crate) fn status_text(answer: &Answer) -> String {
    if answer.status >= 400 {
        return error_text(answer);
    }
    match &answer.body {
        Body::Json { .. } => answer.status.to_string(),
        other => format!("{}, {}", answer.status, other.describe()),
    }
}

/// The product in `{"data": {…}}`, if that is the body.
pub(crate) fn data_object(answer: &Answer) -> Option<&serde_json::Map<String, Value>> {
    answer.json()?.get("data")?.as_object()
}

/// How a timestamp is written.
pub(crate) fn timestamp_class(text: &str) -> &'static str {
    let Ok(parsed) = OffsetDateTime::parse(text, &Rfc3339) else {
        return "not RFC 3339";
    };
    if !parsed.offset().is_utc() || !(text.ends_with('Z') || text.ends_with('z')) {
        return "RFC 3339 with an offset, not Z";
    }
    let fraction = text
        .split_once('.')
        .map_or(0, |(_, rest)| rest.trim_end_matches(['Z', 'z']).len());
    match fraction {
        0 => "RFC 3339 UTC, whole seconds",
        3 => "RFC 3339 UTC, milliseconds",
        _ => "RFC 3339 UTC, another fraction of a second",
    }
}

/// How a product's two timestamps are written (one text when both are alike).
pub(crate) fn timestamps(product: &serde_json::Map<String, Value>) -> String {
    let class = |field: &str| match product.get(field) {
        Some(Value::String(text)) => timestamp_class(text),
        Some(_) => "not a string",
        None => "absent",
    };
    let (created, updated) = (class("createdAt"), class("updatedAt"));
    if created == updated {
        created.to_owned()
    } else {
        format!("createdAt {created}; updatedAt {updated}")
    }
}

/// Whether a header is present.
pub(crate) fn has(headers: &HeaderMap, name: &str) -> bool {
    headers.contains_key(name)
}

/// A header's value, if it is text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The first word of `WWW-Authenticate`, or that it is absent.
pub(crate) fn www_authenticate(headers: &HeaderMap) -> String {
    match header(headers, "www-authenticate") {
        Some(value) => format!(
            "WWW-Authenticate: {}",
            value.split_whitespace().next().unwrap_or("(empty)")
        ),
        None => "no WWW-Authenticate".to_owned(),
    }
}

/// Where a `Location` header points, relative to the product it should name.
pub(crate) fn location_kind(headers: &HeaderMap, base_path: &str, id: Option<&str>) -> String {
    let Some(location) = header(headers, "location") else {
        return "no Location".to_owned();
    };
    let Some(id) = id else {
        return "a Location, but no product id to compare".to_owned();
    };
    let expected = format!("{base_path}/products/{id}");
    if location == expected {
        "Location: the product's path".to_owned()
    } else if location.ends_with(&expected) && location.contains("://") {
        "Location: the product's absolute URL".to_owned()
    } else if location.ends_with(id) {
        "Location: another path to the product".to_owned()
    } else {
        "Location: not the product".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_from_the_target_is_printed_without_its_control_characters_and_cut() {
        assert_eq!(printable("a\u{1b}[2Jb", 100), "a\\u{1b}[2Jb");
        assert_eq!(printable("abcdef", 3), "abc…");
    }

    #[test]
    fn a_shape_sorts_keys_and_merges_array_elements() {
        let value = json!({"b": [1, 2, "x"], "a": {"z": null, "y": true}, "c": []});
        assert_eq!(
            shape(&value),
            "{a:{y:boolean,z:null},b:[number|string],c:[]}"
        );
    }

    #[test]
    fn only_the_documented_envelope_gives_an_error_code() {
        let good = json!({"error": {"code": "x", "message": "m", "details": []}});
        assert_eq!(error_code(&good), Some("x"));
        for bad in [
            json!({"error": "x"}),
            json!({"code": "x", "message": "m"}),
            json!({"error": {"code": "x"}}),
            json!({"error": {"code": "x", "message": "m", "extra": 1}}),
            json!({"error": {"code": "x", "message": "m"}, "requestId": "r"}),
        ] {
            assert_eq!(error_code(&bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamps_are_classified_by_how_they_are_written() {
        assert_eq!(
            timestamp_class("2025-01-15T10:00:00.000Z"),
            "RFC 3339 UTC, milliseconds"
        );
        assert_eq!(
            timestamp_class("2023-11-07T05:31:56Z"),
            "RFC 3339 UTC, whole seconds"
        );
        assert_eq!(
            timestamp_class("2023-11-07T05:31:56.123456Z"),
            "RFC 3339 UTC, another fraction of a second"
        );
        assert_eq!(
            timestamp_class("2023-11-07T05:31:56+02:00"),
            "RFC 3339 with an offset, not Z"
        );
        assert_eq!(timestamp_class("yesterday"), "not RFC 3339");
    }

    #[test]
    fn a_location_is_compared_with_the_products_path() {
        let mut headers = HeaderMap::new();
        let id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890";
        headers.insert(
            "location",
            format!("/api/v1/products/{id}").parse().expect("a value"),
        );
        assert_eq!(
            location_kind(&headers, "/api/v1", Some(id)),
            "Location: the product's path"
        );
        headers.insert(
            "location",
            format!("https://h/api/v1/products/{id}")
                .parse()
                .expect("a value"),
        );
        assert_eq!(
            location_kind(&headers, "/api/v1", Some(id)),
            "Location: the product's absolute URL"
        );
        assert_eq!(
            location_kind(&HeaderMap::new(), "/api/v1", Some(id)),
            "no Location"
        );
    }
}
