//! Typed Graph requests, one module per resource (style rule 18), and the paging rule they share.

pub(crate) mod accounts;
pub(crate) mod campaigns;
pub(crate) mod insights;
pub(crate) mod oauth;

use custodian_http::Url;

use crate::error::MetaError;
use crate::wire::Paging;

/// The `after` cursor of the next page: present only while `paging.next` is (§1.7: "stop paging when the
/// `next` link no longer appears"; a page "may be empty but contain a `next` paging link"). Taken from
/// `paging.cursors.after`, else from the `after` parameter of the `next` link.
pub(crate) fn next_after(paging: &Paging) -> Result<Option<String>, MetaError> {
    let Some(next) = paging.next.as_deref() else {
        return Ok(None);
    };
    if let Some(after) = paging.cursors.as_ref().and_then(|c| c.after.clone()).filter(|a| !a.is_empty()) {
        return Ok(Some(after));
    }
    Url::parse(next)
        .ok()
        .and_then(|url| url.query_pairs().find(|(k, _)| k == "after").map(|(_, v)| v.into_owned()))
        .filter(|a| !a.is_empty())
        .map(Some)
        .ok_or_else(|| MetaError::Protocol("a page links a next page without an `after` cursor".to_owned()))
}
