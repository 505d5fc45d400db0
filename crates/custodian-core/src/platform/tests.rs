//! Tests of the platform vocabulary and the task → scope table.

use super::*;

fn tasks(list: &[Task]) -> BTreeSet<Task> {
    list.iter().copied().collect()
}

fn names(scopes: &BTreeSet<Scope>) -> Vec<&str> {
    scopes.iter().map(Scope::as_str).collect()
}

#[track_caller]
fn check_consent(platform: Platform, enabled: &[Task], expect: &[&str]) {
    let got = consent_scopes(platform, &tasks(enabled)).expect("supported");
    assert_eq!(names(&got), expect, "{platform} {enabled:?}");
}

#[test]
fn consent_asks_only_for_enabled_tasks() {
    check_consent(Platform::Meta, &[Task::ReadReporting], &["ads_read"]);
    check_consent(Platform::Meta, &[Task::ReadReporting, Task::ChangeCampaign], &["ads_management"]);
    check_consent(Platform::TikTok, &[Task::ReadReporting], &["100", "4"]);
    check_consent(Platform::TikTok, &[Task::ReadReporting, Task::ReadCampaigns], &["100", "200", "4"]);
    check_consent(
        Platform::TikTokShop,
        &[Task::ReadOrders],
        &["seller.authorization.info", "seller.order.info"],
    );
    check_consent(Platform::Amazon, &[Task::ReadOrders], &["Inventory_and_Order_Tracking"]);
    check_consent(
        Platform::Amazon,
        &[Task::ReadOrders, Task::ReadBuyerPii],
        &["Direct_to_Consumer_Shipping", "Inventory_and_Order_Tracking"],
    );
    check_consent(Platform::Ebay, &[Task::ReadOrders], &[EBAY_FULFILLMENT_READONLY]);
    check_consent(
        Platform::Ebay,
        &[Task::ReadOrders, Task::UpdateStock],
        &[EBAY_FULFILLMENT_READONLY, EBAY_INVENTORY],
    );
}

#[test]
fn unsupported_tasks_are_errors() {
    let err = consent_scopes(Platform::Meta, &tasks(&[Task::ReadOrders])).unwrap_err();
    assert_eq!(err.to_string(), "task `read_orders` is not available on meta");
    assert!(required_scopes(Platform::Amazon, Task::ChangeCampaign).is_err());
    assert!(required_scopes(Platform::Ebay, Task::ReadReporting).is_err());
}

#[test]
fn every_supported_pair_has_a_scope() {
    for p in Platform::ALL {
        for t in Task::ALL {
            if let Ok(s) = required_scopes(p, t) {
                assert!(!s.is_empty(), "{p} {t}");
            }
        }
    }
}

#[test]
fn write_scopes_cover_read_scopes() {
    let ebay_write = Scope::new("https://api.ebay.com/oauth/api_scope/sell.inventory").unwrap();
    let ebay_read = Scope::new("https://api.ebay.com/oauth/api_scope/sell.inventory.readonly").unwrap();
    assert!(ebay_write.satisfies(&ebay_read));
    assert!(!ebay_read.satisfies(&ebay_write));
    let manage = Scope::new("ads_management").unwrap();
    let read = Scope::new("ads_read").unwrap();
    assert!(manage.satisfies(&read));
    assert!(!read.satisfies(&manage));
    let granted: BTreeSet<Scope> = [read].into_iter().collect();
    assert_eq!(missing_scopes(&granted, &["ads_read", "ads_management"]), vec!["ads_management"]);
}

#[test]
fn account_refs_round_trip_through_keys() {
    let refs = [
        AccountRef::MetaAdAccount(MetaAdAccountId::new("123").unwrap()),
        AccountRef::TikTokAdvertiser(TikTokAdvertiserId::new("7000000000000000001").unwrap()),
        AccountRef::TikTokShop(TikTokShopId::new("7494049642642441621").unwrap()),
        AccountRef::AmazonSeller {
            seller: AmazonSellerId::new("A2EUQ1WTGCTBG2").unwrap(),
            marketplace: AmazonMarketplaceId::new("ATVPDKIKX0DER").unwrap(),
        },
        AccountRef::EbayUser(EbayUserId::new("seller_one").unwrap()),
    ];
    for r in refs {
        assert_eq!(AccountRef::parse_key(&r.key()).unwrap(), r);
    }
    assert_eq!(MetaAdAccountId::new("act_42").unwrap().as_str(), "act_42");
    assert_eq!(MetaAdAccountId::new("42").unwrap().numeric(), "42");
    assert!(MetaAdAccountId::new("act_x1").is_err());
    assert!(AccountRef::parse_key("nowhere:1").is_err());
    assert!(AccountRef::parse_key("amazon:A1").is_err());
}

#[test]
fn platform_names_round_trip() {
    for p in Platform::ALL {
        assert_eq!(p.as_str().parse::<Platform>().unwrap(), p);
    }
    assert_eq!("x".parse::<Platform>().unwrap_err().to_string(), "unknown platform `x`");
    assert!(Platform::Amazon.is_commerce() && !Platform::Meta.is_commerce());
}

#[test]
fn auth_4_only_meta_and_ebay_consent_urls_name_scopes() {
    let naming: Vec<Platform> = Platform::ALL.into_iter().filter(|p| consent_url_names_scopes(*p)).collect();
    assert_eq!(naming, vec![Platform::Meta, Platform::Ebay]);
}
