//! API keys: the token lives in a [`SecretString`] and is exposed in exactly one place, the
//! private `check`, which validates it and builds the `Authorization: Bearer` value.

use std::fmt;
use std::str::FromStr;

use reqwest::header::HeaderValue;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};

const LIVE_PREFIX: &str = "pk_live_";
const TEST_PREFIX: &str = "pk_test_";
/// How many characters after the mode prefix the dashboard shows.
const HINT_CHARS: usize = 3;

/// The mode of an API key, fixed at creation and visible in the token's prefix.
///
/// Live keys see the team's real data; Test keys see an isolated sandbox. Neither mode can see
/// the other's products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `pk_live_…`: the team's real production data.
    Live,
    /// `pk_test_…`: the isolated sandbox for development and CI.
    Test,
}

impl Mode {
    /// The token prefix for this mode (`pk_live_` or `pk_test_`).
    pub fn prefix(self) -> &'static str {
        match self {
            Mode::Live => LIVE_PREFIX,
            Mode::Test => TEST_PREFIX,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Live => "live",
            Mode::Test => "test",
        })
    }
}

/// Why a string is not a usable API key. No variant carries the token or any part of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The input was empty.
    #[error("the api key is empty")]
    Empty,
    /// The input contains whitespace, a control character or a non-ASCII character (often a
    /// copy-paste accident such as a trailing newline). Nothing is trimmed for you.
    #[error(
        "the api key contains whitespace, a control or a non-ASCII character at byte {position}"
    )]
    InvalidCharacter {
        /// Byte offset of the first offending character.
        position: usize,
    },
    /// The input does not start with `pk_live_` or `pk_test_`.
    #[error("the api key does not start with `pk_live_` or `pk_test_`")]
    UnknownPrefix,
    /// The input is only a mode prefix, with no token after it.
    #[error("the api key has a mode prefix but no token after it")]
    MissingToken,
}

/// A Paperlink API key (`pk_live_…` or `pk_test_…`).
///
/// `Debug` and `Display` show only what the dashboard shows: the prefix and at most three more
/// characters, e.g. `pk_live_AbC…`.
///
/// ```
/// use paperlink_sdk::{ApiKey, Mode};
///
/// let key: ApiKey = "pk_test_AbCdEfGhIjKlMnOpQrStUvWxYz012345".parse()?;
/// assert_eq!(key.mode(), Mode::Test);
/// assert_eq!(key.to_string(), "pk_test_AbC…");
/// assert!(!format!("{key:?}").contains("AbCd"));
/// # Ok::<(), paperlink_sdk::KeyError>(())
/// ```
#[derive(Clone)]
pub struct ApiKey {
    secret: SecretString,
    mode: Mode,
    hint: String,
}

impl ApiKey {
    /// Parses a token. Nothing is trimmed: surrounding whitespace is an error, not a fix-up.
    pub fn new(token: impl Into<String>) -> Result<Self, KeyError> {
        Self::from_secret(SecretString::from(token.into()))
    }

    /// Parses a token that is already held as a secret.
    pub fn from_secret(secret: SecretString) -> Result<Self, KeyError> {
        let Checked { mode, hint, .. } = check(&secret)?;
        Ok(Self { secret, mode, hint })
    }

    /// The key's mode, from its prefix.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// What the dashboard shows for this key: the prefix and at most three more characters,
    /// followed by `…`. Safe to log.
    pub fn hint(&self) -> &str {
        &self.hint
    }

    /// The `Authorization: Bearer <token>` header value, marked sensitive so that HTTP
    /// libraries redact it.
    pub(crate) fn authorization_header(&self) -> Result<HeaderValue, KeyError> {
        check(&self.secret).map(|checked| checked.header)
    }
}

/// What [`check`] learns from a token.
struct Checked {
    mode: Mode,
    hint: String,
    header: HeaderValue,
}

/// The one place the token leaves its secret wrapper: it is validated, and turned into the
/// dashboard hint and the sensitive `Authorization: Bearer` header value. Nothing else of it
/// is kept, and the temporary header text is zeroed when dropped.
fn check(secret: &SecretString) -> Result<Checked, KeyError> {
    let token = secret.expose_secret();
    if token.is_empty() {
        return Err(KeyError::Empty);
    }
    if let Some((position, _)) = token
        .char_indices()
        .find(|(_, c)| !c.is_ascii() || c.is_ascii_whitespace() || c.is_ascii_control())
    {
        return Err(KeyError::InvalidCharacter { position });
    }
    let mode = if token.starts_with(LIVE_PREFIX) {
        Mode::Live
    } else if token.starts_with(TEST_PREFIX) {
        Mode::Test
    } else {
        return Err(KeyError::UnknownPrefix);
    };
    let rest = &token[mode.prefix().len()..];
    if rest.is_empty() {
        return Err(KeyError::MissingToken);
    }
    let shown: String = rest.chars().take(HINT_CHARS).collect();
    let text = Zeroizing::new(format!("Bearer {token}"));
    let mut header =
        HeaderValue::from_str(&text).map_err(|_| KeyError::InvalidCharacter { position: 0 })?;
    header.set_sensitive(true);
    Ok(Checked {
        mode,
        hint: format!("{}{shown}…", mode.prefix()),
        header,
    })
}

impl FromStr for ApiKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<SecretString> for ApiKey {
    type Error = KeyError;

    fn try_from(secret: SecretString) -> Result<Self, Self::Error> {
        Self::from_secret(secret)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("hint", &self.hint)
            .field("mode", &self.mode)
            .finish()
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "pk_live_AbCdEfGhIjKlMnOpQrStUvWxYz012345";

    #[test]
    fn a_live_and_a_test_prefix_give_their_modes() {
        assert_eq!(ApiKey::new(TOKEN).map(|k| k.mode()), Ok(Mode::Live));
        assert_eq!(ApiKey::new("pk_test_x").map(|k| k.mode()), Ok(Mode::Test));
    }

    #[test]
    fn bad_inputs_get_their_own_errors_and_nothing_is_trimmed() {
        assert_eq!(ApiKey::new("").err(), Some(KeyError::Empty));
        assert_eq!(
            ApiKey::new(format!("{TOKEN}\n")).err(),
            Some(KeyError::InvalidCharacter {
                position: TOKEN.len()
            })
        );
        assert_eq!(
            ApiKey::new(format!(" {TOKEN}")).err(),
            Some(KeyError::InvalidCharacter { position: 0 })
        );
        assert_eq!(
            ApiKey::new("pk_live_Ab\u{7f}c").err(),
            Some(KeyError::InvalidCharacter { position: 10 })
        );
        assert_eq!(
            ApiKey::new("pk_live_Abé").err(),
            Some(KeyError::InvalidCharacter { position: 10 })
        );
        assert_eq!(
            ApiKey::new("sk_live_abc").err(),
            Some(KeyError::UnknownPrefix)
        );
        assert_eq!(
            ApiKey::new("PK_LIVE_abc").err(),
            Some(KeyError::UnknownPrefix)
        );
        assert_eq!(ApiKey::new("pk_test_").err(), Some(KeyError::MissingToken));
    }

    #[test]
    fn debug_and_display_show_only_the_dashboard_hint() {
        let key = ApiKey::new(TOKEN).expect("valid key");
        assert_eq!(key.to_string(), "pk_live_AbC…");
        assert_eq!(key.hint(), "pk_live_AbC…");
        let debug = format!("{key:?} {key:#?}");
        assert!(!debug.contains("AbCd"), "{debug}");
        let short = ApiKey::new("pk_test_x").expect("valid key");
        assert_eq!(short.to_string(), "pk_test_x…");
    }

    #[test]
    fn key_errors_never_echo_the_input() {
        for bad in [
            format!("{TOKEN} "),
            "sk_live_SECRETSECRET".to_owned(),
            "pk_live_SECRET\tSECRET".to_owned(),
        ] {
            let err = ApiKey::new(bad).expect_err("invalid");
            let text = format!("{err} {err:?}");
            assert!(!text.contains("SECRET") && !text.contains("AbCd"), "{text}");
        }
    }

    #[test]
    fn the_header_is_a_sensitive_bearer_value() {
        let key = ApiKey::new(TOKEN).expect("valid key");
        let header = key.authorization_header().expect("header");
        assert!(header.is_sensitive());
        assert_eq!(
            header.to_str().ok(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert!(!format!("{header:?}").contains("AbCd"));
    }
}
