//! Request metrics in the Prometheus text exposition format (version 0.0.4), written by hand: request
//! counts by route template, method and status class, and a latency histogram per route.
//!
//! Routes are the matched templates (`/v1/tenants/{id}`), never raw paths, so ids in paths neither leak
//! into metrics nor grow the label set; requests that matched no route count as `unmatched`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
pub(crate) const BUCKETS: [f64; 12] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Cumulative counts per bucket, as exposed.
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

#[derive(Debug, Default)]
struct State {
    /// (route, method, status class) → requests.
    requests: BTreeMap<(String, String, &'static str), u64>,
    /// route → latency.
    latency: BTreeMap<String, Histogram>,
}

/// The collected metrics.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    state: Mutex<State>,
}

/// `2xx`, `4xx`, …
fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Escapes a label value (backslash, double quote, newline).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

impl Metrics {
    /// Counts one request.
    pub(crate) fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *state.requests.entry((route.to_owned(), method.to_owned(), status_class(status))).or_insert(0) += 1;
        let histogram = state.latency.entry(route.to_owned()).or_default();
        for (bound, count) in BUCKETS.iter().zip(histogram.buckets.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        histogram.count += 1;
        histogram.sum_seconds += seconds;
    }

    /// The exposition text.
    pub(crate) fn render(&self) -> String {
        let state = {
            let guard = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            (guard.requests.clone(), guard.latency.clone())
        };
        let (requests, latency) = state;
        let mut out = String::with_capacity(256 + requests.len() * 96 + latency.len() * 1024);
        out.push_str(
            "# HELP custodian_http_requests_total HTTP requests by route, method and status class.\n",
        );
        out.push_str("# TYPE custodian_http_requests_total counter\n");
        for ((route, method, class), count) in &requests {
            let _ = writeln!(
                out,
                "custodian_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{class}\"}} {count}",
                escape(route),
                escape(method)
            );
        }
        out.push_str("# HELP custodian_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE custodian_http_request_duration_seconds histogram\n");
        for (route, histogram) in &latency {
            let route = escape(route);
            for (bound, count) in BUCKETS.iter().zip(histogram.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "custodian_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "custodian_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "custodian_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                histogram.sum_seconds
            );
            let _ = writeln!(
                out,
                "custodian_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count
            );
        }
        out
    }
}

#[cfg(test)]
mod tests;
