//! The ad account node and the token's ad accounts.

use secrecy::SecretString;

use crate::client::{Auth, Call};

/// `GET act_{id}?fields=currency`: the currency budgets are expressed in.
pub(crate) fn currency<'a>(token: &'a SecretString, account: &str) -> Call<'a> {
    Call::get(format!("act_{account}"), Auth::User(token)).param("fields", "currency").account(account)
}

/// `GET me/adaccounts?fields=account_id`: the ad accounts a token reaches, when `debug_token` lists no
/// `target_ids` (§1.4: absent target ids mean every target).
pub(crate) fn mine<'a>(token: &'a SecretString, after: Option<&str>) -> Call<'a> {
    let call =
        Call::get("me/adaccounts", Auth::User(token)).param("fields", "account_id").param("limit", "100");
    match after {
        Some(after) => call.param("after", after),
        None => call,
    }
}
