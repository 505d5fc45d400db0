//! TLS-1 in code: which addresses are allowed, and the rustls configuration (ring provider, TLS 1.3 and 1.2
//! only, platform roots or configured CAs) every request uses.

use std::net::IpAddr;
use std::sync::Arc;

use reqwest::Url;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use rustls::{ClientConfig, RootCertStore};
use rustls_platform_verifier::BuilderVerifierExt as _;

use crate::config::TlsRoots;
use crate::error::VaultError;

/// The protocol versions offered: TLS 1.3 and TLS 1.2, nothing older.
pub(crate) static VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Parses the Vault address and checks it against TLS-1: `https` anywhere; `http` only to a literal
/// loopback address and only when `allow_plain_loopback` is set. Returns the `/v1/` base URL.
pub(crate) fn base_url(address: &str, allow_plain_loopback: bool) -> Result<Url, VaultError> {
    let mut url = Url::parse(address).map_err(|_| VaultError::Address("not an absolute url"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(VaultError::Address("it must not carry credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(VaultError::Address("it must not have a query or fragment"));
    }
    let host = url.host_str().ok_or(VaultError::Address("it has no host"))?.to_owned();
    match url.scheme() {
        "https" => {}
        "http" => {
            if !allow_plain_loopback {
                return Err(VaultError::PlainHttpNotAllowed(host));
            }
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = literal.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                return Err(VaultError::PlainHttpNotLoopback(host));
            }
        }
        other => return Err(VaultError::Scheme(other.to_owned())),
    }
    let path = format!("{}/v1/", url.path().trim_end_matches('/'));
    url.set_path(&path);
    Ok(url)
}

/// The rustls client configuration: ring, TLS 1.3 and 1.2 only, and the configured roots.
pub(crate) fn client_config(roots: &TlsRoots) -> Result<ClientConfig, VaultError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(VERSIONS)
        .map_err(VaultError::Tls)?;
    let config = match roots {
        TlsRoots::Platform => {
            builder.with_platform_verifier().map_err(VaultError::Tls)?.with_no_client_auth()
        }
        TlsRoots::Pem(pem) => {
            let mut store = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|_| VaultError::Config("a ca certificate is not valid pem"))?;
                store.add(cert).map_err(VaultError::Tls)?;
            }
            if store.is_empty() {
                return Err(VaultError::Config("no ca certificate in the configured pem"));
            }
            builder.with_root_certificates(store).with_no_client_auth()
        }
    };
    Ok(config)
}
