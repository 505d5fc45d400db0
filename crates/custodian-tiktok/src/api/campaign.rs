//! `campaign/get/` (paged, with `fields` and `filtering`), `campaign/status/update/` and
//! `campaign/update/` (CampaignCreationApi.md; request and response shapes from the smart_plus models).

use custodian_http::Request;
use secrecy::SecretString;

use crate::client::{Client, Reply};
use crate::error::TikTokError;
use crate::wire::{
    BudgetUpdateBody, CAMPAIGN_FIELDS, Campaign, Ignored, PagedList, StatusUpdate, StatusUpdateBody,
};

/// One page of the advertiser's campaigns (deleted ones left out, TikTok's default), only the fields the
/// domain keeps.
pub(crate) async fn page(
    client: &Client,
    token: &SecretString,
    advertiser_id: &str,
    page: u64,
) -> Result<PagedList<Campaign>, TikTokError> {
    let url = client.endpoint("campaign/get/")?;
    let fields = serde_json::json!(CAMPAIGN_FIELDS).to_string();
    let (page, page_size) = (page.to_string(), client.page_size.to_string());
    let request = Request::get(url)
        .query(&[
            ("advertiser_id", advertiser_id),
            ("fields", &fields),
            ("page", &page),
            ("page_size", &page_size),
        ])
        .secret_header("Access-Token", token);
    Ok(client.call::<PagedList<Campaign>>(request).await?.data)
}

/// One campaign by id, deleted or not (`secondary_status: CAMPAIGN_STATUS_ALL`); `None` if TikTok does
/// not list it.
pub(crate) async fn one(
    client: &Client,
    token: &SecretString,
    advertiser_id: &str,
    campaign_id: &str,
) -> Result<Option<Campaign>, TikTokError> {
    let url = client.endpoint("campaign/get/")?;
    let fields = serde_json::json!(CAMPAIGN_FIELDS).to_string();
    let filtering =
        serde_json::json!({"campaign_ids": [campaign_id], "secondary_status": "CAMPAIGN_STATUS_ALL"})
            .to_string();
    let request = Request::get(url)
        .query(&[("advertiser_id", advertiser_id), ("fields", &fields), ("filtering", &filtering)])
        .secret_header("Access-Token", token);
    let list = client.call::<PagedList<Campaign>>(request).await?.data.list;
    Ok(list.into_iter().find(|c| c.campaign_id.0 == campaign_id))
}

/// Sets one campaign's `operation_status` (`ENABLE`, `DISABLE` or `DELETE`).
pub(crate) async fn set_status(
    client: &Client,
    token: &SecretString,
    advertiser_id: &str,
    campaign_id: &str,
    operation_status: &'static str,
) -> Result<Reply<StatusUpdate>, TikTokError> {
    let url = client.endpoint("campaign/status/update/")?;
    let body = StatusUpdateBody { advertiser_id, campaign_ids: [campaign_id], operation_status };
    client.call::<StatusUpdate>(Request::post(url).secret_header("Access-Token", token).json(&body)).await
}

/// Sets one campaign's budget, in currency units.
pub(crate) async fn set_budget(
    client: &Client,
    token: &SecretString,
    advertiser_id: &str,
    campaign_id: &str,
    budget: f64,
) -> Result<(), TikTokError> {
    let url = client.endpoint("campaign/update/")?;
    let body = BudgetUpdateBody { advertiser_id, campaign_id, budget };
    client.call::<Ignored>(Request::post(url).secret_header("Access-Token", token).json(&body)).await?;
    Ok(())
}
