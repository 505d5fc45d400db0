//! Errors: TikTok's return codes classified one by one ([`RETURN_CODES`]), the adapter's own error
//! ([`TikTokError`]) keeping the platform's evidence (style rule 22), and the mapping onto
//! [`PlatformError`] that decides whether a grant is revoked, needs review, or the call was just refused.
//!
//! TikTok answers almost everything with HTTP 200 and puts the verdict in the body's `code` (0 = OK), so a
//! non-zero code is an error whatever the HTTP status (ads-apis.md §0, §2.5, §2.7).
//!
//! How the authorization codes are decided (AUTH-5, AUTH-6):
//! - **Revoked** (the grant's revocation flow runs): 40105 invalid token (revoked, or the advertiser
//!   cancelled the authorization), 40102 expired token (an advertiser token is long-term and "cannot be
//!   renewed or refreshed", §2.2: only a new authorization helps), 40103/40107 refresh token expired or
//!   invalid (advertiser tokens have none), 40114 advertiser deregistered.
//! - **Forbidden** (re-validate; the review flow runs when accounts or scopes shrank): 40001 no permission
//!   (a scope or the advertiser is no longer covered), 40106 token not valid for this advertiser, 40130/40131
//!   scope not authorized, 40301 role on the advertiser changed, 41000 blocked, and the app-level refusals
//!   40003, 40113, 40117, 40118, 40119, 40121, 40122, 40124–40129.
//! - **Unauthorized** (the request's own credentials were unusable, not proof that the grant is gone):
//!   40104 no token sent, 40101 wrong app id or secret, 40108, 40109, 40112, 40115, 40116, 40120, 40309.
//! - **Invalid**: 40110 used, expired or unknown auth code (the port's contract for `exchange`), parameter
//!   errors (40000, 40002, …) and everything not listed.
//! - **RateLimited**: 40100, 40016, 40132, 40133, 61000. **NotFound**: 40007, 40013, 40300, 40302, 40905.
//!   **Unavailable** (transient, fail closed): 40200–40202, 40700, 50000–59999, 60001.

use std::time::Duration;

use custodian_core::ports::PlatformError;
use custodian_http::{DecodeError, Evidence, Failure, HttpError};

/// What a return code means for Custodian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeClass {
    Success,
    /// 20001: some items of a batch failed; the caller inspects the result.
    PartialSuccess,
    RateLimited,
    Revoked,
    Unauthorized,
    Forbidden,
    NotFound,
    Invalid,
    Transient,
}

use CodeClass::{
    Forbidden, Invalid, NotFound, PartialSuccess, RateLimited, Revoked, Success, Transient, Unauthorized,
};

/// Every code of the official SDK's table (`shared/specs/tiktok-ads/return-codes.md`, in its order) plus
/// 40133 (advertiser QPS, ads-apis.md §2.7), with its SDK name and its class.
pub(crate) const RETURN_CODES: &[(i64, &str, CodeClass)] = &[
    (0, "ok", Success),
    (20001, "partial_ok", PartialSuccess),
    (40000, "invalid_params", Invalid),
    (40001, "permission_error", Forbidden),
    (40002, "param_error", Invalid),
    (40003, "forbidden", Forbidden),
    (40006, "version_error", Invalid),
    (40007, "not_exist", NotFound),
    (40008, "not_impl", Invalid),
    (40009, "unsupported_in_sandbox", Invalid),
    (40010, "unsupported_domain", Invalid),
    (40011, "id_limit_exceed", Invalid),
    (40012, "no_update", Invalid),
    (40013, "sandbox_adv_not_exist", NotFound),
    (40014, "invalid_cluster", Invalid),
    (40016, "biz_fc_error", RateLimited),
    (40050, "duplicated_request", Invalid),
    (40051, "invalid_api_version", Invalid),
    (40052, "aco_material_exist", Invalid),
    (40053, "video_id_invalid_error", Invalid),
    (40061, "invalid_batch_size", Invalid),
    (40062, "pii_not_hashed", Invalid),
    (40063, "invalid_partner_name", Invalid),
    (40100, "request_too_frequent", RateLimited),
    (40101, "invalid_partner", Unauthorized),
    (40102, "access_token_expire", Revoked),
    (40103, "refresh_token_expire", Revoked),
    (40104, "empty_access_token", Unauthorized),
    (40105, "invalid_access_token", Revoked),
    (40106, "invalid_core_user", Forbidden),
    (40107, "invalid_refresh_token", Revoked),
    (40108, "invalid_grant_type", Unauthorized),
    (40109, "error_aes_decipher", Unauthorized),
    (40110, "auth_code_error", Invalid),
    (40112, "password_error", Unauthorized),
    (40113, "app_forbidden", Forbidden),
    (40114, "advertiser_logout", Revoked),
    (40115, "auth_timestamp_expire", Unauthorized),
    (40116, "auth_sig_error", Unauthorized),
    (40117, "app_method_forbidden", Forbidden),
    (40118, "not_in_whitelist", Forbidden),
    (40119, "not_same_identity", Forbidden),
    (40120, "tiktok_user_not_logged_in", Unauthorized),
    (40121, "not_a_tcm_creator", Forbidden),
    (40122, "tcm_creator_invalid_country", Forbidden),
    (40124, "developer_rejected", Forbidden),
    (40125, "developer_no_permission", Forbidden),
    (40126, "garm_single_auth_failed", Forbidden),
    (40127, "garm_double_auth_failed", Forbidden),
    (40128, "garm_single_validate_error", Forbidden),
    (40129, "garm_double_validate_error", Forbidden),
    (40130, "scope_not_authorized", Forbidden),
    (40131, "scope_tt_user_oauth_failed", Forbidden),
    (40132, "request_frequency_limited", RateLimited),
    (41001, "interface_offline", Invalid),
    (41002, "fields_offline", Invalid),
    (41013, "site_to_video_service_error", Invalid),
    (40200, "general_task_error", Transient),
    (40201, "task_not_ready", Transient),
    (40202, "write_conflict", Transient),
    (40300, "advertiser_not_exist", NotFound),
    (40301, "advertiser_role_error", Forbidden),
    (40302, "customer_advertiser_not_exist", NotFound),
    (40309, "require_login", Unauthorized),
    (40400, "route_not_found", Invalid),
    (40502, "ad_number_limit", Invalid),
    (40700, "rpc_validation_error", Transient),
    (40900, "signature_error", Invalid),
    (40901, "video_transcoding", Invalid),
    (40902, "url_fetch_timeout", Invalid),
    (40903, "url_unavailable", Invalid),
    (40904, "image_illegal_content", Invalid),
    (40905, "file_not_exist", NotFound),
    (40906, "file_empty", Invalid),
    (40907, "file_too_large", Invalid),
    (40908, "file_type_error", Invalid),
    (40909, "file_calculate_type_error", Invalid),
    (40910, "file_expired", Invalid),
    (40911, "duplicated_material_name", Invalid),
    (40912, "image_unavailable", Invalid),
    (40913, "image_fetch_timeout", Invalid),
    (40914, "url_fetch_error", Invalid),
    (40915, "file_upload_invalid", Invalid),
    (40916, "video_illegal_content", Invalid),
    (41000, "blocked", Forbidden),
    (50000, "sys_error", Transient),
    (50002, "sys_timeout", Transient),
    (51000, "rpc_error", Transient),
    (51001, "statistics_error", Transient),
    (51002, "build_stone_error", Transient),
    (51003, "dmp_error", Transient),
    (51004, "lego_service_error", Transient),
    (51005, "smart_player_error", Transient),
    (51006, "jupiter_error", Transient),
    (51007, "overture_stat_central_error", Transient),
    (51008, "advertiser_error", Transient),
    (51009, "dpa_error", Transient),
    (51010, "internal_time_out", Transient),
    (51011, "search_error", Transient),
    (51012, "pixel_error", Transient),
    (51014, "lego_service_sync_error", Transient),
    (51015, "granting_service_error", Transient),
    (51016, "account_error", Transient),
    (51017, "video_transcode_service_error", Transient),
    (51018, "agent_service_error", Transient),
    (51019, "image_cut_error", Transient),
    (51020, "order_center_service_error", Transient),
    (51030, "user_passport_service_error", Transient),
    (51031, "platform_account_service_error", Transient),
    (51032, "playable_service_error", Transient),
    (51033, "toolbox_error", Transient),
    (51034, "ad_machine_audit_zephyr", Transient),
    (51035, "satellite_error", Transient),
    (51036, "tetris_error", Transient),
    (51037, "async_task_error", Transient),
    (51038, "union_treasure_box_error", Transient),
    (51039, "auth_service_error", Transient),
    (51040, "advertiser_info_error", Transient),
    (51041, "ad_garm_service_error", Transient),
    (51042, "lego_business_service_error", Transient),
    (51043, "creative_platform_service_error", Transient),
    (51044, "dpa_platform_error", Transient),
    (51045, "ad_file_service_error", Transient),
    (51046, "sirius_service_error", Transient),
    (51047, "subscription_error", Transient),
    (51048, "ads_preview_error", Transient),
    (51049, "dpa_render_gateway_error", Transient),
    (51050, "measurement_stone_error", Transient),
    (51051, "manual_review_error", Transient),
    (51052, "optimizer_error", Transient),
    (51053, "dpa_catalog_business_error", Transient),
    (51054, "crm_error", Transient),
    (51055, "gcrm_error", Transient),
    (51056, "advertiser_account_service_error", Transient),
    (51057, "app_error", Transient),
    (51058, "poster_service_error", Transient),
    (51059, "config_service_error", Transient),
    (51060, "bc_rpc_error", Transient),
    (51061, "bm_service_error", Transient),
    (51062, "imagex_service_error", Transient),
    (51063, "segment_gateway_service_error", Transient),
    (51064, "eco_game_manager_service_error", Transient),
    (51065, "ttop_service_error", Transient),
    (51066, "suggestion_engine_service_error", Transient),
    (51067, "videoarch_service_error", Transient),
    (51099, "statistics_new_error", Transient),
    (52000, "db_error", Transient),
    (52001, "db_read_error", Transient),
    (52002, "db_write_error", Transient),
    (52003, "db_partition_error", Transient),
    (52100, "rds_error", Transient),
    (52101, "rds_read_error", Transient),
    (52102, "rds_write_error", Transient),
    (52103, "rds_timeout_error", Transient),
    (52201, "tos_error", Transient),
    (52202, "tos_upload_timeout", Transient),
    (52203, "tos_head_object", Transient),
    (52204, "tos_put_object", Transient),
    (53102, "deserialization_error", Transient),
    (53103, "serialization_error", Transient),
    (60001, "maintenance", Transient),
    (61000, "too_many_requests_bl", RateLimited),
    (70001, "invalid_biz_auth_type", Invalid),
    (40133, "advertiser_qps_limit", RateLimited),
];

/// The class of `code`; codes outside the table fall back by range (401xx authorization → Unauthorized,
/// 5xxxx → Transient, anything else → Invalid).
pub(crate) fn class_of(code: i64) -> CodeClass {
    match RETURN_CODES.iter().find(|(c, _, _)| *c == code) {
        Some((_, _, class)) => *class,
        None => match code {
            40_101..=40_199 => Unauthorized,
            50_000..=59_999 => Transient,
            _ => Invalid,
        },
    }
}

/// The retry class of `code`: [`custodian_http::tiktok::failure`], except 40132
/// (`request_frequency_limited`), which is a throttle although it sits among the 401xx authorization
/// codes.
pub(crate) fn failure_of(code: i64) -> Option<Failure> {
    match code {
        40_132 => Some(Failure::Throttled { wait: None }),
        other => custodian_http::tiktok::failure(other),
    }
}

/// A failed TikTok call. Messages carry the evidence (status, code, request id, the platform's message),
/// never a token, secret, code or body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TikTokError {
    /// The envelope's `code` is not 0.
    #[error("tiktok refused the call: {evidence}")]
    Api { code: i64, evidence: Box<Evidence> },
    /// HTTP 4xx/5xx: the request did not reach the API's logic (wrong path or method, server fault).
    #[error("tiktok answered with an error status: {evidence}")]
    Status { evidence: Box<Evidence> },
    /// The body is not the documented envelope (truncated, malformed, a field missing).
    #[error("tiktok response does not decode ({evidence})")]
    Decode {
        evidence: Box<Evidence>,
        #[source]
        error: Box<DecodeError>,
    },
    /// A field decoded but holds a value Custodian cannot read (an unknown status, an invalid id).
    #[error("tiktok response has an unreadable value at `{path}` ({evidence})")]
    Unreadable { path: String, evidence: Box<Evidence> },
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("tiktok adapter configuration is invalid: {0}")]
    Config(&'static str),
}

impl TikTokError {
    /// The platform code, for API errors.
    pub fn code(&self) -> Option<i64> {
        match self {
            TikTokError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<TikTokError> for PlatformError {
    fn from(error: TikTokError) -> Self {
        match &error {
            TikTokError::Api { code, evidence } => {
                let detail = evidence.to_string();
                match class_of(*code) {
                    Revoked => PlatformError::Revoked { detail },
                    Unauthorized => PlatformError::Unauthorized { detail },
                    Forbidden => PlatformError::Forbidden { detail },
                    NotFound => PlatformError::NotFound { detail },
                    RateLimited => PlatformError::RateLimited { retry_after: None },
                    Invalid => PlatformError::Invalid { detail },
                    Transient | Success | PartialSuccess => PlatformError::Unavailable(Box::new(error)),
                }
            }
            TikTokError::Status { evidence } => match evidence.status {
                429 => PlatformError::RateLimited { retry_after: None },
                500..=599 => PlatformError::Unavailable(Box::new(error)),
                _ => PlatformError::Invalid { detail: evidence.to_string() },
            },
            TikTokError::Http(_)
            | TikTokError::Decode { .. }
            | TikTokError::Unreadable { .. }
            | TikTokError::Config(_) => PlatformError::Unavailable(Box::new(error)),
        }
    }
}

/// How long the app's requests pause after a throttle: TikTok's guidance for QPS limits is to retry after
/// the current second (§2.8).
pub(crate) const THROTTLE_PAUSE: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests;
