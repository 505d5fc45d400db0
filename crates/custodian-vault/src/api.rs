//! Typed requests of the Vault API, one file per resource: [`auth`] (AppRole login, token renewal and
//! lookup), [`kv`] (KV v2 reads, check-and-set writes, metadata, lists, destroy) and [`transit`] (keys,
//! data keys, decrypt, rotate, rewrap, trim, delete).

pub(crate) mod auth;
pub(crate) mod kv;
pub(crate) mod transit;
