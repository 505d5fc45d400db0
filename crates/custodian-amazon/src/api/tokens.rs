//! Tokens API 2021-03-01: `POST /tokens/2021-03-01/restrictedDataToken` (1/s, burst 10). Used only when
//! buyer PII is enabled (MIN-2), for the bulk `getOrders` resource with `buyerInfo` and `shippingAddress`.

use custodian_http::{Request, Url};
use secrecy::SecretString;

use crate::client::Client;
use crate::error::AmazonError;
use crate::rate::Operation;
use crate::wire::{CreateRestrictedDataTokenRequest, CreateRestrictedDataTokenResponse, RestrictedResource};

/// An RDT for `GET path` with `data_elements`.
pub(crate) async fn create_restricted_data_token(
    client: &Client,
    base: &Url,
    seller: &str,
    token: &SecretString,
    path: &str,
    data_elements: &[&str],
) -> Result<CreateRestrictedDataTokenResponse, AmazonError> {
    let url = super::endpoint(base, &["tokens", "2021-03-01", "restrictedDataToken"]);
    let body = CreateRestrictedDataTokenRequest {
        restricted_resources: [RestrictedResource { method: "GET", path, data_elements }],
    };
    // Asking again for a token changes nothing on Amazon's side: safe to retry.
    let request =
        Request::post(url).secret_header(super::ACCESS_TOKEN_HEADER, token).json(&body).idempotent(true);
    client.sp(Operation::CreateRestrictedDataToken, seller, request).await
}
