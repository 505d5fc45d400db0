//! [`pages`]: a stream over a cursor-paged listing that stops when the cursor disappears or comes back, so
//! a platform that loops can never keep a sync running forever (style rule 20).

use std::collections::HashSet;
use std::future::Future;

use custodian_core::ports::{Cursor, Page};
use futures::Stream;

/// A page named a cursor already followed: the listing loops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the cursor came back: the pages loop")]
pub struct RepeatedCursor;

/// Where the stream is.
enum Step {
    /// Fetch with this cursor next.
    Fetch(Option<Cursor>),
    /// The last page named a cursor already followed: report it, then end.
    Repeated,
    Done,
}

/// Follows `next` cursors from `first` (`None`: the first page), yielding each page. Ends after a page
/// without `next`, and after the first error. If a page's `next` is a cursor already followed (`first`
/// included), that page is yielded, then `Err(E::from(RepeatedCursor))`, and the stream ends.
pub fn pages<T, E, F, Fut>(first: Option<Cursor>, fetch: F) -> impl Stream<Item = Result<Page<T>, E>>
where
    F: FnMut(Option<Cursor>) -> Fut,
    Fut: Future<Output = Result<Page<T>, E>>,
    E: From<RepeatedCursor>,
{
    let seen: HashSet<Cursor> = first.iter().cloned().collect();
    futures::stream::unfold((Step::Fetch(first), fetch, seen), |(step, mut fetch, mut seen)| async move {
        match step {
            Step::Done => None,
            Step::Repeated => Some((Err(E::from(RepeatedCursor)), (Step::Done, fetch, seen))),
            Step::Fetch(cursor) => {
                let item = fetch(cursor).await;
                let next = match &item {
                    Err(_) => Step::Done,
                    Ok(Page { next: None, .. }) => Step::Done,
                    Ok(Page { next: Some(cursor), .. }) => {
                        if seen.insert(cursor.clone()) {
                            Step::Fetch(Some(cursor.clone()))
                        } else {
                            Step::Repeated
                        }
                    }
                };
                Some((item, (next, fetch, seen)))
            }
        }
    })
}

#[cfg(test)]
mod tests;
