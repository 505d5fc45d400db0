//! Unit tests of the simulated TikTok platform's pure parts: ids, generation, number formatting, scopes.

use std::collections::HashSet;

use super::data::{self, DataLevel, Delivery};
use super::{AdvertiserConfig, Grant};

#[test]
fn campaign_ids_tell_their_advertiser_and_index() {
    for (adv, index) in [(0, 0), (1, 7), (999, 999_999)] {
        let id = data::campaign_id(adv, index);
        assert_eq!(id.to_string().len(), 19, "19 digits like TikTok's ids");
        assert_eq!(data::split_campaign_id(id), Some((adv, index)));
    }
    assert_eq!(data::split_campaign_id(42), None);
}

#[test]
fn object_ids_are_unique_per_level_and_campaigns_match() {
    let adv = AdvertiserConfig {
        adgroups_per_campaign: 3,
        ads_per_adgroup: 4,
        ..AdvertiserConfig::new("7", "A", "USD", 5)
    };
    for level in [DataLevel::Campaign, DataLevel::AdGroup, DataLevel::Ad] {
        let n = data::objects(&adv, level);
        let ids: HashSet<u64> = (0..n).map(|k| data::object_id(2, &adv, level, k)).collect();
        assert_eq!(ids.len() as u64, n, "{level:?}");
    }
    assert_eq!(data::objects(&adv, DataLevel::Ad), 60);
    assert_eq!(data::campaign_of(&adv, DataLevel::Ad, 59), 4);
    assert_eq!(data::campaign_of(&adv, DataLevel::AdGroup, 3), 1);
    assert_eq!(data::object_id(2, &adv, DataLevel::Campaign, 4), data::campaign_id(2, 4));
}

#[test]
fn generation_is_deterministic_and_plausible() {
    let a = Delivery::generate(9, 0, DataLevel::Campaign, 3, 2_460_000, None);
    assert_eq!(a, Delivery::generate(9, 0, DataLevel::Campaign, 3, 2_460_000, None));
    assert_ne!(a, Delivery::generate(9, 0, DataLevel::Campaign, 3, 2_460_001, None));
    assert!(a.clicks <= a.impressions && a.reach <= a.impressions + 1 && a.conversions <= a.clicks);
    let c = data::generate_campaign(9, 1, "7000000000000000002", 4);
    assert_eq!(c, data::generate_campaign(9, 1, "7000000000000000002", 4));
    assert_eq!(c.budget_mode, "BUDGET_MODE_TOTAL");
}

#[test]
fn numbers_are_written_as_tiktok_strings() {
    let mut out = String::new();
    data::write_cents(&mut out, 2000);
    out.push(' ');
    data::write_ratio(&mut out, 51 * 100, 4696);
    out.push(' ');
    data::write_ratio(&mut out, 1, 0);
    assert_eq!(out, "20.00 1.09 -");
    let mut out = String::new();
    for n in [0, 7, 10, 4696, u64::MAX] {
        data::push_u64(&mut out, n);
        out.push(' ');
    }
    assert_eq!(out, "0 7 10 4696 18446744073709551615 ");
    let mut out = String::new();
    data::write_cents(&mut out, 5);
    assert_eq!(out, "0.05");
}

#[test]
fn days_parse_and_print() {
    let day = data::parse_day("2024-01-31").unwrap();
    let mut out = String::new();
    data::write_day_hour(&mut out, day + 1, 9);
    assert_eq!(out, "2024-02-01 09:00:00");
    for bad in ["2024-1-31", "2024-02-30", "20240131", "abcd-ef-gh"] {
        assert_eq!(data::parse_day(bad), None, "{bad}");
    }
    assert_eq!(data::datetime(1_704_067_200), "2024-01-01 00:00:00");
    assert_eq!(data::julian_of(1_704_067_200), data::parse_day("2024-01-01").unwrap());
}

#[test]
fn a_scope_covers_its_descendants() {
    let grant = Grant { advertisers: vec![], scopes: vec![4, 20, 100] };
    for (needed, held) in
        [(44, true), (4, true), (200, true), (20, true), (100, true), (2, false), (210, false), (1, false)]
    {
        assert_eq!(grant.has_scope(needed), held, "{needed}");
    }
    assert!(
        !Grant { advertisers: vec![], scopes: vec![200] }.has_scope(20),
        "reading campaigns is not managing them"
    );
}
