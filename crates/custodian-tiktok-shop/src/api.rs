//! Typed request builders, one module per resource: [`auth`] (token exchange and refresh), [`shops`]
//! (authorized shops), [`orders`] (order search), [`products`] (product search, inventory search and
//! update).

pub(crate) mod auth;
pub(crate) mod orders;
pub(crate) mod products;
pub(crate) mod shops;
