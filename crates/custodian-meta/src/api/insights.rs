//! Insights (§1.7): synchronous pages, and async report runs (create, poll, read).

use custodian_core::data::ReportLevel;
use secrecy::SecretString;
use time::Date;

use crate::client::{Auth, Call};
use crate::convert::{format_date, level_id_field, level_param};

/// The metrics asked for, after the level's id: spend and delivery metrics and conversion aggregates only
/// (MIN-1, MIN-4). `date_start` names the day (with `time_increment=1` it equals `date_stop`).
const METRIC_FIELDS: &str = "date_start,account_currency,spend,impressions,clicks,actions,action_values";

/// The `fields` of a level.
pub(crate) fn fields(level: ReportLevel) -> String {
    format!("{},{METRIC_FIELDS}", level_id_field(level))
}

/// The query parameters shared by sync calls and run creation: level, fields, the day range and one row
/// per day.
fn query<'a>(call: Call<'a>, level: ReportLevel, from: Date, to: Date) -> Call<'a> {
    call.param("level", level_param(level))
        .param("fields", fields(level))
        .param("time_range", format!(r#"{{"since":"{}","until":"{}"}}"#, format_date(from), format_date(to)))
        .param("time_increment", "1")
}

fn page<'a>(call: Call<'a>, limit: u32, after: Option<&str>) -> Call<'a> {
    let call = call.param("limit", limit.to_string());
    match after {
        Some(after) => call.param("after", after),
        None => call,
    }
}

/// `GET act_{id}/insights` (synchronous).
pub(crate) fn sync<'a>(
    token: &'a SecretString,
    account: &str,
    level: ReportLevel,
    from: Date,
    to: Date,
    limit: u32,
    after: Option<&str>,
) -> Call<'a> {
    let call = Call::get(format!("act_{account}/insights"), Auth::User(token)).account(account);
    page(query(call, level, from, to), limit, after)
}

/// `POST act_{id}/insights` → `{"report_run_id"}`. Retried only when throttled (a second run would be
/// harmless but wasteful).
pub(crate) fn create_run<'a>(
    token: &'a SecretString,
    account: &str,
    level: ReportLevel,
    from: Date,
    to: Date,
) -> Call<'a> {
    query(Call::post(format!("act_{account}/insights"), Auth::User(token)).account(account), level, from, to)
}

/// `GET /{report_run_id}?fields=async_status,async_percent_completion`.
pub(crate) fn run_status<'a>(token: &'a SecretString, account: &str, run: &str) -> Call<'a> {
    Call::get(run.to_owned(), Auth::User(token))
        .param("fields", "id,async_status,async_percent_completion")
        .account(account)
}

/// `GET /{report_run_id}/insights?limit=…&after=…`.
pub(crate) fn run_results<'a>(
    token: &'a SecretString,
    account: &str,
    run: &str,
    limit: u32,
    after: Option<&str>,
) -> Call<'a> {
    page(Call::get(format!("{run}/insights"), Auth::User(token)).account(account), limit, after)
}
