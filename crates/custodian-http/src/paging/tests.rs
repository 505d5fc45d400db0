//! Unit tests of the page stream (style rule 20).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt as _;

use super::*;

#[derive(Debug, PartialEq, Eq)]
enum TestError {
    Repeated,
    Fetch(String),
}

impl From<RepeatedCursor> for TestError {
    fn from(_: RepeatedCursor) -> Self {
        Self::Repeated
    }
}

fn cursor(c: &str) -> Cursor {
    Cursor(c.to_owned())
}

/// One scripted page: its items and next cursor, or a fetch error.
type Scripted<'a> = Result<(&'a [u32], Option<&'a str>), &'a str>;

/// A listing: cursor (or "" for the first page) → (items, next), or an error. Returns what the stream
/// yielded (items or error) and the cursors fetched.
async fn walk(
    first: Option<&str>,
    listing: &[(&str, Scripted<'_>)],
) -> (Vec<Result<Vec<u32>, TestError>>, Vec<Option<String>>) {
    let listing: HashMap<String, Result<Page<u32>, String>> = listing
        .iter()
        .map(|(key, page)| {
            let page = page
                .map(|(items, next)| Page { items: items.to_vec(), next: next.map(cursor) })
                .map_err(str::to_owned);
            ((*key).to_owned(), page)
        })
        .collect();
    let fetched = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&fetched);
    let stream = pages(first.map(cursor), move |at: Option<Cursor>| {
        log.lock().unwrap().push(at.as_ref().map(|c| c.0.clone()));
        let key = at.map(|c| c.0).unwrap_or_default();
        let page = listing.get(&key).cloned().unwrap_or_else(|| Err(format!("no page `{key}`")));
        async move { page.map_err(TestError::Fetch) }
    });
    let items = stream.map(|r| r.map(|page| page.items)).collect::<Vec<_>>().await;
    let fetched = fetched.lock().unwrap().clone();
    (items, fetched)
}

#[tokio::test]
async fn follows_cursors_and_stops_after_the_last_page() {
    let (items, fetched) = walk(
        None,
        &[("", Ok((&[1, 2], Some("c1")))), ("c1", Ok((&[], Some("c2")))), ("c2", Ok((&[3], None)))],
    )
    .await;
    // An empty page with a cursor keeps going (Meta M4); no cursor ends (M1).
    assert_eq!(items, vec![Ok(vec![1, 2]), Ok(vec![]), Ok(vec![3])]);
    assert_eq!(fetched, vec![None, Some("c1".to_owned()), Some("c2".to_owned())]);
}

#[tokio::test]
async fn passes_the_first_cursor() {
    let (items, fetched) = walk(Some("c5"), &[("", Ok((&[0], Some("c5")))), ("c5", Ok((&[5], None)))]).await;
    assert_eq!(items, vec![Ok(vec![5])]);
    assert_eq!(fetched, vec![Some("c5".to_owned())]);
}

#[tokio::test]
async fn a_repeated_cursor_yields_an_error_and_ends() {
    let (items, fetched) = walk(
        None,
        &[("", Ok((&[1], Some("a")))), ("a", Ok((&[2], Some("b")))), ("b", Ok((&[3], Some("a"))))],
    )
    .await;
    assert_eq!(items, vec![Ok(vec![1]), Ok(vec![2]), Ok(vec![3]), Err(TestError::Repeated)]);
    assert_eq!(fetched.len(), 3);
    // A page pointing at itself; the first cursor counts as followed.
    let (items, _) = walk(Some("s"), &[("s", Ok((&[1], Some("s"))))]).await;
    assert_eq!(items, vec![Ok(vec![1]), Err(TestError::Repeated)]);
}

#[tokio::test]
async fn an_error_ends_the_stream() {
    let (items, fetched) =
        walk(None, &[("", Ok((&[1], Some("a")))), ("a", Err("boom")), ("b", Ok((&[9], None)))]).await;
    assert_eq!(items, vec![Ok(vec![1]), Err(TestError::Fetch("boom".to_owned()))]);
    assert_eq!(fetched.len(), 2);
}
