//! Deterministic ad objects: ids that encode (account, kind, index), and campaigns generated from the seed.
//!
//! Object ids are 18-digit numbers like Meta's newer ids: `120200000000000000 + account × 10^12 + kind ×
//! 10^11 + index`, kind 1 = campaign, 2 = ad set, 3 = ad, so any id maps back to its object without a table.

use super::{MetaAccount, SimCampaign};
use crate::seed;

const ID_BASE: u64 = 120_200_000_000_000_000;
const ACCOUNT_STRIDE: u64 = 1_000_000_000_000;
const KIND_STRIDE: u64 = 100_000_000_000;

/// What an object id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Campaign = 1,
    AdSet = 2,
    Ad = 3,
}

/// The id of object `index` of `kind` in account `account` (index in the configured order).
pub(super) fn object_id(account: usize, kind: Kind, index: u64) -> u64 {
    ID_BASE + account as u64 * ACCOUNT_STRIDE + kind as u64 * KIND_STRIDE + index
}

/// The (account, kind, index) an id names, if it is one of ours.
pub(super) fn parse_object_id(id: &str) -> Option<(usize, Kind, u64)> {
    if id.len() != 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = id.parse::<u64>().ok()?.checked_sub(ID_BASE)?;
    let account = usize::try_from(rest / ACCOUNT_STRIDE).ok()?;
    let within = rest % ACCOUNT_STRIDE;
    let kind = match within / KIND_STRIDE {
        1 => Kind::Campaign,
        2 => Kind::AdSet,
        3 => Kind::Ad,
        _ => return None,
    };
    Some((account, kind, within % KIND_STRIDE))
}

/// The (account, index) of a campaign id.
pub(super) fn campaign_ref(id: &str) -> Option<(usize, u64)> {
    match parse_object_id(id)? {
        (account, Kind::Campaign, index) => Some((account, index)),
        _ => None,
    }
}

const ADJECTIVES: [&str; 8] =
    ["Summer", "Winter", "Spring", "Autumn", "Evergreen", "Launch", "Holiday", "Flash"];
const NOUNS: [&str; 6] = ["Sale", "Awareness", "Retargeting", "Prospecting", "Leads", "Catalog"];
/// Meta's ODAX objectives.
const OBJECTIVES: [&str; 6] = [
    "OUTCOME_SALES",
    "OUTCOME_TRAFFIC",
    "OUTCOME_AWARENESS",
    "OUTCOME_LEADS",
    "OUTCOME_ENGAGEMENT",
    "OUTCOME_APP_PROMOTION",
];
/// 2024-01-01T00:00:00Z: campaigns are created after it.
const CREATED_BASE: i64 = 1_704_067_200;

fn pick<'a>(list: &[&'a str], value: u64) -> &'a str {
    list.get(usize::try_from(value % list.len() as u64).unwrap_or(0)).copied().unwrap_or("")
}

fn coords(account: usize, kind: Kind, index: u64) -> [u64; 3] {
    [account as u64, kind as u64, index]
}

/// Whether generated campaign `index` is ACTIVE (three in four are).
pub(super) fn generated_active(seed: u64, account: usize, index: u64) -> bool {
    seed::below(seed, &[seed::text("status"), account as u64, index], 4) != 0
}

/// The ads under ACTIVE generated campaigns, which size the business-use-case quotas.
pub(super) fn active_ads(seed: u64, account: usize, config: &MetaAccount) -> u64 {
    let per_campaign = u64::from(config.adsets_per_campaign) * u64::from(config.ads_per_adset);
    (0..u64::from(config.campaigns)).filter(|i| generated_active(seed, account, *i)).count() as u64
        * per_campaign
}

/// The campaign `index` of `account`: its change if any, else generated.
pub(super) fn campaign(
    seed: u64,
    account: usize,
    config: &MetaAccount,
    index: u64,
    changed: Option<&SimCampaign>,
) -> SimCampaign {
    if let Some(changed) = changed {
        return changed.clone();
    }
    let c = coords(account, Kind::Campaign, index);
    let v = seed::value(seed, &c);
    let name = format!("{} {} {}", pick(&ADJECTIVES, v), pick(&NOUNS, v >> 8), index + 1);
    let created = CREATED_BASE + i64::try_from(v % (300 * 86_400)).unwrap_or(0);
    let updated = created + i64::try_from((v >> 20) % (30 * 86_400)).unwrap_or(0);
    let budget_units = i64::try_from((v >> 32) % 50 + 1).unwrap_or(1);
    let offset = minor_units_per_unit(&config.currency);
    SimCampaign {
        id: object_id(account, Kind::Campaign, index).to_string(),
        account_id: config.id.clone(),
        name,
        status: if generated_active(seed, account, index) { "ACTIVE" } else { "PAUSED" }.to_owned(),
        objective: pick(&OBJECTIVES, v >> 16).to_owned(),
        daily_budget: Some(budget_units * 10 * offset),
        lifetime_budget: None,
        start_time: Some(created),
        stop_time: None,
        created_time: created,
        updated_time: updated,
    }
}

/// Meta's currency offset: minor units per unit (1 for the zero-decimal currencies, else 100).
pub(super) fn minor_units_per_unit(currency: &str) -> i64 {
    match currency {
        "CLP" | "COP" | "CRC" | "HUF" | "ISK" | "IDR" | "JPY" | "KRW" | "PYG" | "TWD" | "VND" => 1,
        _ => 100,
    }
}

/// The name of an ad set or ad.
pub(super) fn object_name(kind: Kind, index: u64) -> String {
    match kind {
        Kind::Campaign => format!("Campaign {}", index + 1),
        Kind::AdSet => format!("Ad set {}", index + 1),
        Kind::Ad => format!("Ad {}", index + 1),
    }
}
