//! Typed request builders, one module per eBay resource.

pub(crate) mod inventory;
pub(crate) mod notification;
pub(crate) mod oauth;
pub(crate) mod orders;
