//! Listings Items API 2021-08-01: `PATCH /listings/2021-08-01/items/{sellerId}/{sku}` (5/s, burst 5) with
//! one `merge` of `/attributes/fulfillment_availability` (`fulfillment_channel_code` `DEFAULT`, the
//! merchant-fulfilled quantity), which leaves restock date and handling time alone
//! (`commerce-apis.md` §2.4). Listings has no batch operation: one call per SKU.

use custodian_http::{Request, Url};
use secrecy::SecretString;

use crate::client::Client;
use crate::error::AmazonError;
use crate::rate::Operation;
use crate::wire::{
    FulfillmentAvailability, ListingsItemPatchRequest, ListingsItemSubmissionResponse, PatchOperation,
};

/// The generic product type (`productType` is required; the merge touches no type-specific attribute).
pub(crate) const PRODUCT_TYPE: &str = "PRODUCT";

pub(crate) async fn patch_quantity(
    client: &Client,
    base: &Url,
    seller: &str,
    token: &SecretString,
    marketplace: &str,
    sku: &str,
    quantity: u32,
) -> Result<ListingsItemSubmissionResponse, AmazonError> {
    let url = super::endpoint(base, &["listings", "2021-08-01", "items", seller, sku]);
    let body = ListingsItemPatchRequest {
        product_type: PRODUCT_TYPE,
        patches: [PatchOperation {
            op: "merge",
            path: "/attributes/fulfillment_availability",
            value: [FulfillmentAvailability { fulfillment_channel_code: "DEFAULT", quantity }],
        }],
    };
    // Setting an absolute quantity twice is the same as once: safe to retry.
    let request = Request::patch(url)
        .query(&[("marketplaceIds", marketplace), ("issueLocale", "en_US")])
        .secret_header(super::ACCESS_TOKEN_HEADER, token)
        .json(&body)
        .idempotent(true);
    client.sp(Operation::PatchListingsItem, seller, request).await
}
