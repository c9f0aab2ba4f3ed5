//! The record of each call: what a request leaves behind while it passes the steps (its id,
//! the key it authenticated with, where it stands against its rate limit, whether it was a
//! replay), the journal's line that `GET /__admin/requests` shows (bounded in lines and in
//! bytes), and the headers every answer gets.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use std::sync::Arc;

use crate::engine::idempotency;
use crate::engine::keys::KeyLabel;
use crate::engine::rate_limit::{self, RateStatus};
use crate::engine::request::{MockRequest, MockResponse};
use crate::model::millis;

/// One line of the request journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// The query string, without `?` (cursors, filters), when there was one.
    pub query: Option<String>,
    /// Status served.
    pub status: u16,
    /// The key's prefix (`pk_test_AbC`), when the request's token is a known key (revoked or
    /// not).
    pub key_prefix: Option<String>,
    /// That key's id.
    pub key_id: Option<Uuid>,
    /// That key's team.
    pub team: Option<String>,
    /// The `Idempotency-Key` a write sent (cut as paths are).
    pub idempotency_key: Option<String>,
    /// Whether the answer replayed a recorded one (`Idempotent-Replayed: true`).
    pub replayed: bool,
    /// Mock time of the request.
    #[serde(with = "millis")]
    pub time: OffsetDateTime,
    /// The `X-Request-Id` served.
    pub request_id: String,
}

/// The longest path (or query) a journal line keeps, in bytes; a longer one is cut and ends in
/// [`JOURNAL_CUT_MARKER`].
pub const JOURNAL_FIELD_MAX: usize = 1024;
/// What ends a path the journal cut.
pub const JOURNAL_CUT_MARKER: &str = "…[cut]";
/// The bytes the journal holds at most, counting each line's text and a fixed overhead per
/// line; past it the oldest lines go first, whatever the line capacity.
pub const JOURNAL_MAX_BYTES: usize = 16 * 1024 * 1024;
/// What a journal line costs besides its text.
const JOURNAL_LINE_OVERHEAD: usize = 128;

/// A path as the journal keeps it: at most [`JOURNAL_FIELD_MAX`] bytes.
pub(crate) fn journal_text(text: &str) -> String {
    if text.len() <= JOURNAL_FIELD_MAX {
        return text.to_owned();
    }
    let mut end = JOURNAL_FIELD_MAX - JOURNAL_CUT_MARKER.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{JOURNAL_CUT_MARKER}", &text[..end])
}

/// What one call leaves behind as it passes the steps.
#[derive(Debug)]
pub(crate) struct Call {
    /// A fresh request id (random, also with a seed: only ids and tokens are reproducible).
    pub(crate) request_id: Uuid,
    /// The method the journal records (`HEAD` for a `HEAD` handled as a `GET`).
    pub(crate) method: http::Method,
    /// The path and query as the journal keeps them (cut to length before the lock).
    path: String,
    query: Option<String>,
    /// The mock clock's time, read when the state is locked.
    pub(crate) now: OffsetDateTime,
    pub(crate) key: Option<Arc<KeyLabel>>,
    pub(crate) rate: Option<RateStatus>,
    /// The `Idempotency-Key` of a write, cut as paths are.
    idempotency_key: Option<String>,
    pub(crate) replayed: bool,
}

impl Call {
    pub(crate) fn new(request: &MockRequest, method: http::Method) -> Self {
        Self {
            request_id: uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes())
                .into_uuid(),
            method,
            path: journal_text(&request.path),
            query: request.query.as_deref().map(journal_text),
            now: OffsetDateTime::UNIX_EPOCH,
            key: None,
            rate: None,
            idempotency_key: idempotency::sent_key(request).map(journal_text),
            replayed: false,
        }
    }

    /// The journal's line for this call's answer. The line takes the call's texts: it is
    /// made once, after the answer.
    pub(crate) fn entry(&mut self, status: u16) -> JournalEntry {
        JournalEntry {
            method: self.method.clone(),
            path: std::mem::take(&mut self.path),
            query: self.query.take(),
            status,
            key: self.key.clone(),
            idempotency_key: self.idempotency_key.take(),
            replayed: self.replayed,
            time: self.now,
            request_id: self.request_id,
        }
    }

    /// Puts the request id and the rate-limit headers on the answer, and names the key for
    /// the front door's log.
    pub(crate) fn finish(self, response: &mut MockResponse) {
        let id = self
            .request_id
            .hyphenated()
            .encode_lower(&mut Uuid::encode_buffer())
            .to_owned();
        response.headers.push(("x-request-id", id.into()));
        rate_limit::add_headers(self.rate, response);
        response.key_prefix = self.key.map(|k| k.prefix.clone());
    }
}

/// A journal line as kept: no text is made until the journal is read.
#[derive(Debug, Clone)]
pub(crate) struct JournalEntry {
    pub(crate) method: http::Method,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) status: u16,
    pub(crate) key: Option<Arc<KeyLabel>>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) replayed: bool,
    pub(crate) time: OffsetDateTime,
    pub(crate) request_id: Uuid,
}

impl JournalEntry {
    fn cost(&self) -> usize {
        JOURNAL_LINE_OVERHEAD
            + self.path.len()
            + self.query.as_ref().map_or(0, String::len)
            + self
                .key
                .as_ref()
                .map_or(0, |k| k.prefix.len() + k.team.len())
            + self.idempotency_key.as_ref().map_or(0, String::len)
    }

    pub(crate) fn record(&self) -> RequestRecord {
        RequestRecord {
            method: self.method.as_str().to_owned(),
            path: self.path.clone(),
            query: self.query.clone(),
            status: self.status,
            key_prefix: self.key.as_ref().map(|k| k.prefix.clone()),
            key_id: self.key.as_ref().map(|k| k.id),
            team: self.key.as_ref().map(|k| k.team.clone()),
            idempotency_key: self.idempotency_key.clone(),
            replayed: self.replayed,
            time: self.time,
            request_id: self.request_id.to_string(),
        }
    }
}

/// The journal's lines, oldest first, and what they cost.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    entries: VecDeque<JournalEntry>,
    bytes: usize,
}

impl Journal {
    /// Adds a line, dropping the oldest while more than `capacity` lines or
    /// [`JOURNAL_MAX_BYTES`] would be held.
    pub(crate) fn push(&mut self, entry: JournalEntry, capacity: usize) {
        if capacity == 0 {
            return;
        }
        let cost = entry.cost();
        while self.entries.len() >= capacity
            || (!self.entries.is_empty() && self.bytes + cost > JOURNAL_MAX_BYTES)
        {
            if let Some(old) = self.entries.pop_front() {
                self.bytes -= old.cost();
            }
        }
        self.bytes += cost;
        self.entries.push_back(entry);
    }

    /// Corrects the status a request was journaled with (its answer changed after the
    /// state's lock was released).
    pub(crate) fn set_status(&mut self, request_id: Uuid, status: u16) {
        if let Some(entry) = self
            .entries
            .iter_mut()
            .rev()
            .find(|e| e.request_id == request_id)
        {
            entry.status = status;
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// The lines, oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &JournalEntry> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_is_a_ring() {
        let mut journal = Journal::default();
        for i in 0..5 {
            journal.push(
                JournalEntry {
                    method: http::Method::GET,
                    path: format!("/{i}"),
                    query: None,
                    status: 200,
                    key: None,
                    idempotency_key: None,
                    replayed: false,
                    time: OffsetDateTime::UNIX_EPOCH,
                    request_id: Uuid::from_u128(i),
                },
                3,
            );
        }
        let paths: Vec<_> = journal.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["/2", "/3", "/4"]);
    }
}
