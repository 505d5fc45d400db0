//! TikTok API for Business: the body `code` as a retry [`Failure`] (reference: ads-apis.md §2.7 return
//! codes, §2.8 rate limits). TikTok answers almost everything with HTTP 200 and puts the verdict in `code`
//! (0 = OK), so the class does not depend on the status; its temporary codes are reported as
//! `Server { status: 200 }`. It sends no rate-limit headers and no `Retry-After`, so throttles carry no
//! wait hint (backoff applies). An HTTP 4xx/5xx without a TikTok body is read with
//! [`crate::failure_from_status`].

use super::Failure;

/// The retry class of a TikTok return code; `None` for success (0) and partial success (20001: the caller
/// inspects the result).
///
/// | code | meaning | class |
/// |---|---|---|
/// | 0, 20001 | OK, partial success | `None` |
/// | 40016, 40100, 40132, 40133, 61000 | requests too frequent (app, endpoint, request frequency, advertiser), blocklisted for frequency | `Throttled` |
/// | 40001 | no permission for the operation | `Auth` |
/// | 40101–40199 except 40132/40133 (40101 bad app credentials, 40102 token expired, 40103/40107 refresh token, 40104 empty token, 40105 invalid token, 40106 token not valid for the advertiser, 40110 auth code, 40113/40117/40118/40125/40130 app or scope not allowed) | authorization | `Auth` |
/// | 40301 | advertiser role error | `Auth` |
/// | 41000 | blocked | `Auth` (stop; never retried) |
/// | 40200, 40201, 40202 | async task error, task not ready, write conflict | `Server` |
/// | 40700 | RPC validation (retried by connectors) | `Server` |
/// | 50000–59999 (50000 system error, 50002 timeout, 51xxx/52xxx internal) | server | `Server` |
/// | 60001 | maintenance | `Server` |
/// | anything else (40000/40002 invalid parameters, 40006/40051 API version, 40007 object missing, 40011 too many ids, 40300 advertiser missing, …) | invalid | `Invalid` |
pub fn failure(code: i64) -> Option<Failure> {
    let server = Failure::Server { status: 200 };
    match code {
        0 | 20_001 => None,
        40_016 | 40_100 | 40_132 | 40_133 | 61_000 => Some(Failure::Throttled { wait: None }),
        40_001 | 40_101..=40_199 | 40_301 | 41_000 => Some(Failure::Auth),
        40_200..=40_202 | 40_700 | 50_000..=59_999 | 60_001 => Some(server),
        _ => Some(Failure::Invalid),
    }
}

#[cfg(test)]
mod tests;
