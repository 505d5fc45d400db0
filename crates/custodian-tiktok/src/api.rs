//! Typed request builders, one module per TikTok resource; each sends through [`crate::client::Client`].

pub(crate) mod advertiser;
pub(crate) mod campaign;
pub(crate) mod oauth;
pub(crate) mod report;
