//! Campaigns: the listing (§1.8), one campaign, and a change (`POST /{campaign_id}`).

use secrecy::SecretString;

use crate::client::{Auth, Call};

/// The fields the listing asks for: what [`custodian_core::data::Campaign`] holds, nothing else (MIN-4).
pub(crate) const LIST_FIELDS: &str = "id,name,status,objective,daily_budget,lifetime_budget,updated_time";
/// The fields a read-back asks for (CAM-2), with the account to check the campaign belongs to the target.
pub(crate) const READBACK_FIELDS: &str =
    "account_id,status,daily_budget,lifetime_budget,start_time,stop_time";

/// `GET act_{id}/campaigns?fields=…&limit=…&after=…` (ACTIVE and PAUSED campaigns: Meta's default).
pub(crate) fn list<'a>(token: &'a SecretString, account: &str, limit: u32, after: Option<&str>) -> Call<'a> {
    let call = Call::get(format!("act_{account}/campaigns"), Auth::User(token))
        .param("fields", LIST_FIELDS)
        .param("limit", limit.to_string())
        .account(account);
    match after {
        Some(after) => call.param("after", after),
        None => call,
    }
}

/// `GET /{campaign_id}?fields=…`.
pub(crate) fn get<'a>(token: &'a SecretString, account: &str, id: &str, fields: &str) -> Call<'a> {
    Call::get(id.to_owned(), Auth::User(token)).param("fields", fields).account(account)
}

/// `POST /{campaign_id}` with exactly the changed fields (MIN-4). Setting absolute values twice is
/// harmless, so the call may be retried.
pub(crate) fn update<'a>(
    token: &'a SecretString,
    account: &str,
    id: &str,
    changes: Vec<(&'static str, String)>,
) -> Call<'a> {
    let mut call = Call::post(id.to_owned(), Auth::User(token)).account(account).idempotent(true);
    call.params = changes;
    call
}
