//! RFC 3339 in UTC with exactly three fractional digits (`2025-01-15T10:00:00.000Z`).

use serde::{Deserialize, Deserializer, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// The time as the API serves it.
pub(crate) fn format(t: OffsetDateTime) -> String {
    with_text(t, str::to_owned)
}

/// Calls `f` with the time's text, made on the stack for years 0 to 9999.
fn with_text<R>(t: OffsetDateTime, f: impl FnOnce(&str) -> R) -> R {
    match fixed(t) {
        // The fixed text is ASCII digits and separators.
        Some(bytes) => f(std::str::from_utf8(&bytes).unwrap_or_default()),
        None => f(&slow(t)),
    }
}

/// The text as 24 ASCII bytes, for years 0 to 9999 (every clock this mock runs on).
fn fixed(t: OffsetDateTime) -> Option<[u8; 24]> {
    let utc = t.checked_to_offset(time::UtcOffset::UTC)?;
    let year = u32::try_from(utc.year()).ok().filter(|y| *y <= 9999)?;
    let (hour, minute, second, milli) = utc.to_hms_milli();
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut value: u32| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, u8::from(utc.month()).into());
    put(8, 2, utc.day().into());
    put(11, 2, hour.into());
    put(14, 2, minute.into());
    put(17, 2, second.into());
    put(20, 3, milli.into());
    Some(out)
}

pub(super) fn slow(t: OffsetDateTime) -> String {
    let utc = t.checked_to_offset(time::UtcOffset::UTC).unwrap_or(t);
    utc.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// Writes the time as a JSON string.
pub(crate) fn write_json(out: &mut Vec<u8>, t: OffsetDateTime) {
    with_text(t, |text| super::json_string(out, text));
}

pub(crate) fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    with_text(*t, |text| s.serialize_str(text))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)
}

pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        t: &Option<OffsetDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
        text.map(|t| OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339))
            .transpose()
            .map_err(serde::de::Error::custom)
    }
}
