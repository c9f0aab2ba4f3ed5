//! Random one-time tokens with a lifetime, in a bounded store: the page's sessions and its
//! forms' tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a session lasts.
pub(crate) const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);
/// How long a form can wait before it is sent.
const FORM_TTL: Duration = Duration::from_secs(60 * 60);
/// The most tokens kept; past it, the oldest go first.
const MAX_TOKENS: usize = 10_000;

/// Tokens and when each was issued.
#[derive(Debug, Default)]
pub(crate) struct Tokens(Mutex<HashMap<String, Instant>>);

impl Tokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A fresh token: 244 bits from the operating system's random source, in hex.
    pub(crate) fn issue(&self) -> String {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let mut tokens = self.lock();
        let now = Instant::now();
        tokens.retain(|_, issued| now.duration_since(*issued) < SESSION_TTL);
        while tokens.len() >= MAX_TOKENS {
            let Some(oldest) = tokens
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(t, _)| t.clone())
            else {
                break;
            };
            tokens.remove(&oldest);
        }
        tokens.insert(token.clone(), now);
        token
    }

    /// Whether a session token is live.
    pub(crate) fn holds(&self, token: &str) -> bool {
        self.lock()
            .get(token)
            .is_some_and(|issued| issued.elapsed() < SESSION_TTL)
    }

    /// Uses up a form's token: true once, for a token issued within the hour.
    pub(crate) fn redeem(&self, token: Option<&str>) -> bool {
        token
            .and_then(|token| self.lock().remove(token))
            .is_some_and(|issued| issued.elapsed() < FORM_TTL)
    }
}
