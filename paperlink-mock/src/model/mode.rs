//! A key's mode (Live or Test) and scope (Read & Write or Read-only), as the wire spells them,
//! and the one parser every front door reads them with (the control plane's JSON, its query
//! strings, the API Keys page's form, seed files).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use super::body::FieldError;

/// A key's mode: Live or Test data. Written `live` / `test`; read in any letter case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyMode {
    /// `pk_live_…`.
    Live,
    /// `pk_test_…`.
    Test,
}

impl KeyMode {
    /// Both modes.
    pub const ALL: [KeyMode; 2] = [KeyMode::Live, KeyMode::Test];

    /// The token prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            KeyMode::Live => "pk_live_",
            KeyMode::Test => "pk_test_",
        }
    }

    /// The name as written: `live` or `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyMode::Live => "live",
            KeyMode::Test => "test",
        }
    }

    /// Reads `live` or `test`, in any letter case; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|mode| mode.as_str().eq_ignore_ascii_case(text))
    }

    /// [`parse`](Self::parse), or the refusal that names `field`.
    pub(crate) fn parse_field(field: &str, text: &str) -> Result<Self, FieldError> {
        Self::parse(text).ok_or_else(|| FieldError::new(field, "must be live or test"))
    }
}

/// A key's scope. Written `READ_WRITE` / `READ_ONLY`; read in any letter case, with or without
/// the underscore (`read_only`, `ReadOnly`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyScope {
    /// Read & Write: `GET`, `POST`, `PATCH`, `DELETE`.
    ReadWrite,
    /// Read-only: `GET` only; writes get `403 scope_insufficient`.
    ReadOnly,
}

impl KeyScope {
    /// Both scopes.
    pub const ALL: [KeyScope; 2] = [KeyScope::ReadWrite, KeyScope::ReadOnly];

    /// The name as written: `READ_WRITE` or `READ_ONLY`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::ReadWrite => "READ_WRITE",
            KeyScope::ReadOnly => "READ_ONLY",
        }
    }

    /// The dashboard's label: `Read & Write` or `Read-only`.
    pub fn label(self) -> &'static str {
        match self {
            KeyScope::ReadWrite => "Read & Write",
            KeyScope::ReadOnly => "Read-only",
        }
    }

    /// Reads `READ_WRITE` or `READ_ONLY` in any letter case, with or without the underscore;
    /// anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let plain = |name: &str| name.replace('_', "");
        Self::ALL
            .into_iter()
            .find(|scope| plain(scope.as_str()).eq_ignore_ascii_case(&plain(text)))
    }

    /// [`parse`](Self::parse), or the refusal that names `field`.
    pub(crate) fn parse_field(field: &str, text: &str) -> Result<Self, FieldError> {
        Self::parse(text).ok_or_else(|| FieldError::new(field, "must be READ_WRITE or READ_ONLY"))
    }
}

/// Deserializes a string through a type's one parser (its refusal's message becomes the
/// error's).
fn by_parser<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    parse: fn(&str, &str) -> Result<T, FieldError>,
) -> Result<T, D::Error> {
    struct Text<T>(fn(&str, &str) -> Result<T, FieldError>);
    impl<T> serde::de::Visitor<'_> for Text<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
            (self.0)("", text).map_err(|refused| E::custom(format!("{text:?} {}", refused.message)))
        }
    }
    deserializer.deserialize_str(Text(parse))
}

impl<'de> Deserialize<'de> for KeyMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        by_parser(deserializer, KeyMode::parse_field)
    }
}

impl<'de> Deserialize<'de> for KeyScope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        by_parser(deserializer, KeyScope::parse_field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_parser_reads_every_spelling_and_nothing_else() {
        for text in ["live", "LIVE", "Live"] {
            assert_eq!(KeyMode::parse(text), Some(KeyMode::Live), "{text}");
        }
        for text in ["prod", "", "live ", "tests"] {
            assert_eq!(KeyMode::parse(text), None, "{text}");
        }
        for text in ["READ_ONLY", "read_only", "ReadOnly", "readonly"] {
            assert_eq!(KeyScope::parse(text), Some(KeyScope::ReadOnly), "{text}");
        }
        for text in ["read", "READ-ONLY", "RW", ""] {
            assert_eq!(KeyScope::parse(text), None, "{text}");
        }
        let mode: KeyMode = serde_json::from_str(r#""TEST""#).expect("parses");
        assert_eq!(mode, KeyMode::Test);
        assert!(serde_json::from_str::<KeyMode>(r#""prod""#).is_err());
        assert_eq!(
            serde_json::to_string(&KeyScope::ReadOnly).ok().as_deref(),
            Some(r#""READ_ONLY""#)
        );
    }
}
