//! The page's sessions and one-time form tokens.
//!
//! * A **session** exists only with an admin token: it starts when the token is given in the
//!   sign-in form and ends at sign-out or after 12 hours. Only a sign-in makes one, so nobody
//!   without the token can fill the store or push a session out of it.
//! * A **form token** is signed with a key of this process (HMAC-SHA256) and bound to the
//!   session it was made for (or, without an admin token, to no session): a stranger can
//!   neither forge one nor make one for somebody else's session, and there is no store of
//!   issued tokens to evict. It is good for an hour, and once: a used token is remembered
//!   until it expires, so a reload or a resubmission refuses instead of acting twice.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a session lasts.
pub(crate) const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);
/// How long a form can wait before it is sent.
const FORM_TTL: Duration = Duration::from_secs(60 * 60);
/// The most sessions, and the most used form tokens, kept.
const MAX_KEPT: usize = 10_000;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// 128 bits from the operating system's random source, in hex.
fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The page's sessions and form tokens.
#[derive(Debug)]
pub(crate) struct Sessions {
    /// Signs form tokens (random, for this process only).
    key: [u8; 32],
    started: Instant,
    /// Signed-in sessions and when each began.
    live: Mutex<HashMap<String, Instant>>,
    /// Form tokens already used, until they would have expired.
    used: Mutex<HashMap<String, Instant>>,
}

impl Default for Sessions {
    fn default() -> Self {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        Self {
            key,
            started: Instant::now(),
            live: Mutex::new(HashMap::new()),
            used: Mutex::new(HashMap::new()),
        }
    }
}

impl Sessions {
    /// Starts a session (after a sign-in); its id, for the cookie.
    pub(crate) fn open(&self) -> String {
        let id = random_hex();
        let mut live = lock(&self.live);
        live.retain(|_, began| began.elapsed() < SESSION_TTL);
        if live.len() >= MAX_KEPT
            && let Some(oldest) = live
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(id, _)| id.clone())
        {
            live.remove(&oldest);
        }
        live.insert(id.clone(), Instant::now());
        id
    }

    /// Ends a session.
    pub(crate) fn close(&self, id: &str) {
        lock(&self.live).remove(id);
    }

    /// Whether a session is live.
    pub(crate) fn holds(&self, id: &str) -> bool {
        lock(&self.live)
            .get(id)
            .is_some_and(|began| began.elapsed() < SESSION_TTL)
    }

    fn mac(&self, session: &str, issued: u64, nonce: &str) -> Hmac<Sha256> {
        // A key of any length is accepted: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(session.as_bytes());
        mac.update(&[0]);
        mac.update(&issued.to_be_bytes());
        mac.update(nonce.as_bytes());
        mac
    }

    /// A form token for `session` (empty: no session).
    pub(crate) fn form_token(&self, session: &str) -> String {
        let issued = self.started.elapsed().as_secs();
        let nonce = random_hex();
        let signature = self.mac(session, issued, &nonce).finalize().into_bytes();
        let hex: String = signature.iter().map(|b| format!("{b:02x}")).collect();
        format!("{issued:x}.{nonce}.{hex}")
    }

    /// Uses up a form token: true once, for a token this process made for `session` within
    /// the hour.
    pub(crate) fn redeem(&self, token: Option<&str>, session: &str) -> bool {
        let Some(token) = token else {
            return false;
        };
        let mut parts = token.split('.');
        let (Some(issued), Some(nonce), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Ok(issued) = u64::from_str_radix(issued, 16) else {
            return false;
        };
        let Some(signature) = from_hex(signature) else {
            return false;
        };
        if self
            .mac(session, issued, nonce)
            .verify_slice(&signature)
            .is_err()
        {
            return false;
        }
        let age = self
            .started
            .elapsed()
            .saturating_sub(Duration::from_secs(issued));
        if age >= FORM_TTL {
            return false;
        }
        let mut used = lock(&self.used);
        used.retain(|_, at| at.elapsed() < FORM_TTL);
        if used.len() >= MAX_KEPT || used.contains_key(nonce) {
            // Full only if ten thousand forms were sent within the hour by someone who could
            // send them: refuse rather than forget a used token.
            return false;
        }
        used.insert(nonce.to_owned(), Instant::now());
        true
    }
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_token_is_good_once_and_only_for_its_session() {
        let sessions = Sessions::default();
        let token = sessions.form_token("s1");
        assert!(!sessions.redeem(Some(&token), "s2"), "another session");
        assert!(!sessions.redeem(Some(&token.replace('.', "x")), "s1"));
        // The signature's last digit changed (to another digit, whatever it was).
        let last = if token.ends_with('0') { '1' } else { '0' };
        let forged = format!("{}{last}", &token[..token.len() - 1]);
        assert!(!sessions.redeem(Some(&forged), "s1"), "altered");
        assert!(sessions.redeem(Some(&token), "s1"));
        assert!(!sessions.redeem(Some(&token), "s1"), "used");
        let other = Sessions::default();
        assert!(
            !other.redeem(Some(&sessions.form_token("s1")), "s1"),
            "another process"
        );
    }

    #[test]
    fn thousands_of_strangers_tokens_do_not_touch_a_users_form() {
        let sessions = Sessions::default();
        let mine = sessions.form_token("mine");
        for _ in 0..20_000 {
            let _ = sessions.form_token("");
        }
        assert!(sessions.redeem(Some(&mine), "mine"));
    }
}
