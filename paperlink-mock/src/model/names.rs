//! The one rule for the names people give: API keys, team members and teams. Every front door
//! (the control plane, the API Keys page, the Rust API) checks a name here, so the same name
//! gets the same answer everywhere.
//!
//! A name is trimmed of surrounding whitespace, must not be blank, holds no control
//! characters (NUL, line breaks, escapes: `char::is_control`), and has at most a kind's number
//! of characters. Member names are unique in a team after Unicode NFKC normalisation, so a
//! look-alike such as `ｏｗｎｅｒ` (full-width) is the same member as `owner`.

use std::borrow::Cow;

use icu_normalizer::ComposingNormalizerBorrowed;

use super::body::FieldError;

/// The longest API key name, in characters.
pub const MAX_KEY_NAME: usize = 255;
/// The longest team member name, in characters.
pub const MAX_MEMBER_NAME: usize = 100;
/// The longest team name, in characters.
pub const MAX_TEAM_NAME: usize = 100;

/// What a name names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameKind {
    Key,
    Member,
    Team,
}

impl NameKind {
    fn max(self) -> usize {
        match self {
            NameKind::Key => MAX_KEY_NAME,
            NameKind::Member => MAX_MEMBER_NAME,
            NameKind::Team => MAX_TEAM_NAME,
        }
    }
}

/// The name, trimmed, if it keeps the rule; otherwise what is wrong, under `field` (the name
/// the caller's front door gave the value: a body field, a form field, a path segment).
pub(crate) fn checked_name(kind: NameKind, field: &str, value: &str) -> Result<String, FieldError> {
    let name = value.trim();
    let problem = if name.is_empty() {
        "must not be blank".to_owned()
    } else if name.chars().any(char::is_control) {
        "must not contain control characters".to_owned()
    } else if name.chars().count() > kind.max() {
        format!("must be at most {} characters", kind.max())
    } else {
        return Ok(name.to_owned());
    };
    Err(FieldError::new(field, problem))
}

/// What makes two member names the same member: their NFKC normalisation.
pub(crate) fn same_name_key(name: &str) -> Cow<'_, str> {
    ComposingNormalizerBorrowed::new_nfkc().normalize(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_must_be_visible_and_short() {
        assert_eq!(
            checked_name(NameKind::Key, "name", "  CI  ").map_err(|e| e.message),
            Ok("CI".to_owned())
        );
        for bad in ["", "   ", "a\0b", "line\nbreak", "esc\u{1b}[31m"] {
            let refused = checked_name(NameKind::Member, "name", bad).expect_err(bad);
            assert_eq!(refused.field, "name");
        }
        let long = "é".repeat(MAX_KEY_NAME + 1);
        assert_eq!(
            checked_name(NameKind::Key, "name", &long).map_err(|e| e.message),
            Err(format!("must be at most {MAX_KEY_NAME} characters"))
        );
        assert!(checked_name(NameKind::Key, "name", &long[..long.len() - 2]).is_ok());
        assert!(checked_name(NameKind::Team, "team", &"t".repeat(MAX_TEAM_NAME + 1)).is_err());
    }

    #[test]
    fn look_alikes_normalise_to_the_same_member() {
        assert_eq!(same_name_key("ｏｗｎｅｒ"), "owner");
        assert_eq!(same_name_key("ana"), "ana");
        assert_ne!(same_name_key("Ana"), same_name_key("ana"));
    }
}
