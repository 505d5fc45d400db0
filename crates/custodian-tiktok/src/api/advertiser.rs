//! `advertiser/info/` (advertiser_info.yml): only the advertiser's currency is asked for (MIN-4).

use custodian_http::Request;
use secrecy::SecretString;

use crate::client::Client;
use crate::error::TikTokError;
use crate::wire::{AdvertiserInfo, List};

/// The currency code of `advertiser_id`, if TikTok lists it.
pub(crate) async fn currency(
    client: &Client,
    token: &SecretString,
    advertiser_id: &str,
) -> Result<Option<String>, TikTokError> {
    let url = client.endpoint("advertiser/info/")?;
    let ids = serde_json::json!([advertiser_id]).to_string();
    let request = Request::get(url)
        .query(&[("advertiser_ids", &ids), ("fields", r#"["advertiser_id","currency"]"#)])
        .secret_header("Access-Token", token);
    let list = client.call::<List<AdvertiserInfo>>(request).await?.data.list;
    Ok(list.into_iter().find(|a| a.advertiser_id.0 == advertiser_id).map(|a| a.currency))
}
