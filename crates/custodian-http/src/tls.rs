//! TLS-1 in code: which URLs may be requested, and the rustls configuration (ring provider, TLS 1.3 and 1.2
//! only, platform roots or configured CAs) every request uses.

use std::net::IpAddr;
use std::sync::Arc;

use reqwest::Url;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use rustls::{ClientConfig, RootCertStore};
use rustls_platform_verifier::BuilderVerifierExt as _;

use crate::client::TlsRoots;
use crate::error::HttpError;

/// The protocol versions offered: TLS 1.3 and TLS 1.2, nothing older (TLS-1).
pub(crate) static VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Checks a URL against TLS-1: `https` anywhere; `http` only to a loopback host (a literal address in
/// `127.0.0.0/8` or `::1`, or `localhost`) and only when `allow_plain_loopback`; never credentials in the
/// URL; no other scheme.
pub(crate) fn check_url(url: &Url, allow_plain_loopback: bool) -> Result<(), HttpError> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(HttpError::Url { reason: "it must not carry credentials" });
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or(HttpError::Url { reason: "it has no host" })?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_plain_loopback && is_loopback(host) => Ok(()),
        "http" => Err(HttpError::PlainHttpNotAllowed { host: host.to_owned() }),
        _ => Err(HttpError::Url { reason: "the scheme must be https" }),
    }
}

/// A literal loopback address, or `localhost`.
fn is_loopback(host: &str) -> bool {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || literal.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The rustls client configuration: ring, TLS 1.3 and 1.2 only, and the configured roots.
pub(crate) fn client_config(roots: &TlsRoots) -> Result<ClientConfig, HttpError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(VERSIONS)
        .map_err(HttpError::Tls)?;
    let config = match roots {
        TlsRoots::Platform => builder.with_platform_verifier().map_err(HttpError::Tls)?.with_no_client_auth(),
        TlsRoots::Pem(pem) => {
            let mut store = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|_| general("a ca certificate is not valid pem"))?;
                store.add(cert).map_err(HttpError::Tls)?;
            }
            if store.is_empty() {
                return Err(general("no ca certificate in the configured pem"));
            }
            builder.with_root_certificates(store).with_no_client_auth()
        }
    };
    Ok(config)
}

fn general(reason: &str) -> HttpError {
    HttpError::Tls(rustls::Error::General(reason.to_owned()))
}

#[cfg(test)]
mod tests;
