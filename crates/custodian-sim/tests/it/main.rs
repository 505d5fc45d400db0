//! Integration tests of the simulator: the server starts on loopback and each platform answers under its
//! prefix as the real API does.

mod amazon;
mod ebay;
mod meta;
mod server;
mod tiktok;
mod tiktok_shop;
