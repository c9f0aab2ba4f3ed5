//! One page of results, and the lazy stream that follows cursors.

use std::collections::HashSet;
use std::future::Future;

use futures_util::{Stream, TryStreamExt, stream};
use serde::Deserialize;

use crate::client::Reply;
use crate::error::{Error, Result};
use crate::rate_limit::RateLimit;

/// The list envelope's inner object: `{"data":[...],"hasMore":..,"nextCursor":..}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WirePage<T> {
    data: Vec<T>,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    next_cursor: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items on this page, in the server's order.
    pub items: Vec<T>,
    /// Whether the server has more items after this page.
    pub has_more: bool,
    /// The cursor of the next page (`None` on the last page).
    pub next_cursor: Option<String>,
    /// The rate-limit headers of this response.
    pub rate_limit: Option<RateLimit>,
    /// The `X-Request-Id` of this response.
    pub request_id: Option<String>,
}

impl<T> Page<T> {
    /// A page, for fakes and tests: `has_more` is whether `next_cursor` is set.
    pub fn new(items: Vec<T>, next_cursor: Option<String>) -> Self {
        Self {
            items,
            has_more: next_cursor.is_some(),
            next_cursor,
            rate_limit: None,
            request_id: None,
        }
    }

    /// The cursor to send as `after` for the next page, when there is one.
    pub fn next(&self) -> Option<&str> {
        if self.has_more {
            self.next_cursor.as_deref()
        } else {
            None
        }
    }

    pub(crate) fn from_reply(reply: Reply<WirePage<T>>) -> Result<Self> {
        let Reply { data, meta } = reply;
        let Some(wire) = data else {
            return Err(meta.empty_body_error());
        };
        Ok(Self {
            items: wire.data,
            has_more: wire.has_more,
            next_cursor: wire.next_cursor,
            rate_limit: meta.rate_limit,
            request_id: meta.request_id,
        })
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// Empty pages in a row (each with another cursor) after which a stream stops with
/// [`Error::EmptyPages`].
pub const MAX_EMPTY_PAGES: u32 = 10;

/// Follows cursors lazily: a page is fetched only when the stream needs its first item.
/// `fetch(after)` fetches the page after a cursor (`first` for the first page); whatever the
/// list's other parameters are, the caller's closure keeps them.
pub(crate) fn stream<'a, T, F, Fut>(
    first: Option<String>,
    fetch: F,
) -> impl Stream<Item = Result<T>> + Send + 'a
where
    T: Send + 'a,
    F: Fn(Option<String>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Page<T>>> + Send + 'a,
{
    let mut seen = HashSet::new();
    if let Some(first) = &first {
        seen.insert(first.clone());
    }
    let state = (Some(first), fetch, seen, 0u32);
    stream::try_unfold(state, |(after, fetch, mut seen, empty)| async move {
        let Some(after) = after else {
            return Ok(None);
        };
        let page = fetch(after).await?;
        let empty = if page.items.is_empty() { empty + 1 } else { 0 };
        if let Some(cursor) = page.next().filter(|_| empty >= MAX_EMPTY_PAGES) {
            return Err(Error::EmptyPages {
                pages: empty,
                cursor: cursor.to_owned(),
            });
        }
        let next = match page.next() {
            Some(cursor) if !seen.insert(cursor.to_owned()) => {
                return Err(Error::CursorLoop {
                    cursor: cursor.to_owned(),
                });
            }
            Some(cursor) => Some(Some(cursor.to_owned())),
            None => None,
        };
        Ok(Some((page.items, (next, fetch, seen, empty))))
    })
    .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
    .try_flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::sync::{Arc, Mutex};

    async fn collect(pages: Vec<Page<u32>>) -> (Vec<Result<u32>>, Vec<Option<String>>) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let pages = Arc::new(pages);
        let items = stream(None, move |after: Option<String>| {
            let log = log.clone();
            let pages = pages.clone();
            async move {
                let mut log = log.lock().map_err(|_| Error::CursorLoop {
                    cursor: "poisoned".into(),
                })?;
                log.push(after);
                Ok(pages[log.len() - 1].clone())
            }
        })
        .collect::<Vec<_>>()
        .await;
        let asked = asked.lock().map(|a| a.clone()).unwrap_or_default();
        (items, asked)
    }

    #[tokio::test]
    async fn the_stream_follows_cursors_until_has_more_is_false() {
        let mut last = Page::new(vec![5], Some("c3".into()));
        last.has_more = false;
        let (items, asked) = collect(vec![
            Page::new(vec![1, 2], Some("c1".into())),
            Page::new(vec![3, 4], Some("c2".into())),
            last,
        ])
        .await;
        let items: Vec<u32> = items.into_iter().filter_map(Result::ok).collect();
        assert_eq!(items, [1, 2, 3, 4, 5]);
        assert_eq!(asked, [None, Some("c1".into()), Some("c2".into())]);
    }

    #[tokio::test]
    async fn a_null_cursor_ends_the_stream_even_if_has_more_is_true() {
        let mut page = Page::new(vec![1], None);
        page.has_more = true;
        let (items, asked) = collect(vec![page]).await;
        assert_eq!(items.len(), 1);
        assert_eq!(asked.len(), 1);
    }

    #[tokio::test]
    async fn a_repeated_cursor_ends_the_stream_with_an_error() {
        let (items, asked) = collect(vec![
            Page::new(vec![1], Some("c1".into())),
            Page::new(vec![2], Some("c2".into())),
            Page::new(vec![3], Some("c1".into())),
        ])
        .await;
        assert_eq!(asked.len(), 3);
        assert!(matches!(items.last(), Some(Err(Error::CursorLoop { cursor })) if cursor == "c1"));
        // The looping page's items are not yielded: they would be repeats.
        assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 2);
    }

    #[tokio::test]
    async fn empty_pages_with_new_cursors_end_the_stream_with_an_error() {
        let mut pages = vec![Page::new(vec![1], Some("c0".into()))];
        pages.extend((1..=100).map(|i| Page::new(Vec::new(), Some(format!("c{i}")))));
        let (items, asked) = collect(pages).await;
        assert_eq!(asked.len(), 1 + MAX_EMPTY_PAGES as usize);
        assert!(matches!(
            items.last(),
            Some(Err(Error::EmptyPages { pages, .. })) if *pages == MAX_EMPTY_PAGES
        ));
        assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 1);
        // Fewer empty pages than the bound, then items: the stream goes on.
        let mut pages = vec![Page::new(Vec::new(), Some("e1".into()))];
        pages.extend((2..MAX_EMPTY_PAGES).map(|i| Page::new(Vec::new(), Some(format!("e{i}")))));
        pages.push(Page::new(vec![7], None));
        let (items, _) = collect(pages).await;
        assert_eq!(
            items.into_iter().filter_map(Result::ok).collect::<Vec<_>>(),
            [7]
        );
    }
}
