//! API keys as the drift check holds them: the token in a [`SecretString`], exposed in exactly
//! one function ([`Key::authorization`]), which builds the sensitive `Authorization` value.
//! Everything shown to a person is the SDK's hint (`pk_test_AbC…`).

use std::fmt;

use http::HeaderValue;
use paperlink_mock::{KeyMode, KeyScope};
use paperlink_sdk::{ApiKey, Mode};
use secrecy::{ExposeSecret, SecretString};

/// Why a key given on the command line cannot be used. No variant carries the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum KeyProblem {
    /// Not a Paperlink key (the SDK's own reason is the source).
    #[error("{flag} is not a Paperlink API key")]
    Invalid {
        /// `--key` or `--write-key`.
        flag: &'static str,
        /// Why not.
        #[source]
        source: paperlink_sdk::KeyError,
    },
    /// A Live key: the drift check never runs against production data.
    #[error(
        "{flag} is a Live key ({hint}); paperlink-drift runs only with Test keys, so it never \
         touches production data"
    )]
    Live {
        /// `--key` or `--write-key`.
        flag: &'static str,
        /// The key's hint.
        hint: String,
    },
}

/// A Test key given to the drift check, or one of the local mock's seeded keys.
#[derive(Clone)]
pub(crate) struct Key {
    secret: SecretString,
    hint: String,
}

impl Key {
    /// Parses a key from the command line: a Live key is refused here, before anything is
    /// sent anywhere.
    pub(crate) fn parse(flag: &'static str, secret: SecretString) -> Result<Self, KeyProblem> {
        let key = ApiKey::from_secret(secret.clone())
            .map_err(|source| KeyProblem::Invalid { flag, source })?;
        if key.mode() == Mode::Live {
            return Err(KeyProblem::Live {
                flag,
                hint: key.hint().to_owned(),
            });
        }
        Ok(Self {
            secret,
            hint: key.hint().to_owned(),
        })
    }

    /// A key of the local mock (it knows its own mode and scope).
    pub(crate) fn of_mock(secret: SecretString) -> Self {
        let hint = ApiKey::from_secret(secret.clone())
            .map(|key| key.hint().to_owned())
            .unwrap_or_else(|_| "(mock key)".to_owned());
        Self { secret, hint }
    }

    /// The key's mode as the mock spells it (only Test keys get this far).
    pub(crate) fn mock_mode(&self) -> KeyMode {
        KeyMode::Test
    }

    /// What the dashboard shows for this key: safe to print.
    pub(crate) fn hint(&self) -> &str {
        &self.hint
    }

    /// `Bearer <token>`, marked sensitive so that HTTP libraries never log it. The one place
    /// the token leaves its secret wrapper.
    pub(crate) fn authorization(&self) -> Option<HeaderValue> {
        let mut value =
            HeaderValue::try_from(format!("Bearer {}", self.secret.expose_secret())).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key").field("hint", &self.hint).finish()
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hint)
    }
}

/// What a key may do, as the target showed it (a write refused with `403`, or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Writes are refused.
    ReadOnly,
    /// Writes are not refused.
    ReadWrite,
}

impl Scope {
    /// The mock's spelling.
    pub(crate) fn mock_scope(self) -> KeyScope {
        match self {
            Scope::ReadOnly => KeyScope::ReadOnly,
            Scope::ReadWrite => KeyScope::ReadWrite,
        }
    }

    /// The dashboard's label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Scope::ReadOnly => "Read-only",
            Scope::ReadWrite => "Read & Write",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "pk_test_AbCdEfGhIjKlMnOpQrStUvWxYz012345";

    #[test]
    fn debug_and_display_show_only_the_hint() {
        let key = Key::parse("--key", SecretString::from(TOKEN)).expect("a test key");
        let shown = format!("{key:?} {key}");
        assert!(shown.contains("pk_test_AbC…"));
        assert!(!shown.contains("AbCd"), "{shown}");
    }

    #[test]
    fn a_live_key_is_refused_and_the_refusal_shows_only_its_hint() {
        let live = "pk_live_AbCdEfGhIjKlMnOpQrStUvWxYz012345";
        let problem = Key::parse("--key", SecretString::from(live)).expect_err("refused");
        assert!(matches!(problem, KeyProblem::Live { .. }));
        let text = format!("{problem} {problem:?}");
        assert!(
            text.contains("pk_live_AbC…") && !text.contains("AbCd"),
            "{text}"
        );
    }

    #[test]
    fn a_key_that_is_not_a_paperlink_key_is_refused_without_echoing_it() {
        let problem =
            Key::parse("--write-key", SecretString::from("sk_secret_value")).expect_err("refused");
        let text = format!("{problem} {problem:?}");
        assert!(!text.contains("secret_value"), "{text}");
    }

    #[test]
    fn the_authorization_value_is_marked_sensitive() {
        let key = Key::parse("--key", SecretString::from(TOKEN)).expect("a test key");
        let value = key.authorization().expect("a header value");
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("AbCd"));
    }
}
