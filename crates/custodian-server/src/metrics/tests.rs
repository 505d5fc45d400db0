//! Unit tests of the Prometheus text rendering.

use expect_test::expect;

use super::*;

#[test]
fn renders_counters_and_cumulative_buckets() {
    let metrics = Metrics::default();
    metrics.record("/v1/me", "GET", 200, Duration::from_micros(800));
    metrics.record("/v1/me", "GET", 401, Duration::from_millis(30));
    metrics.record("/v1/me", "GET", 204, Duration::from_secs(20));
    metrics.record("we\"ird\\\n", "POST", 503, Duration::from_millis(2));
    expect![[r#"
        # HELP custodian_http_requests_total HTTP requests by route, method and status class.
        # TYPE custodian_http_requests_total counter
        custodian_http_requests_total{route="/v1/me",method="GET",status="2xx"} 2
        custodian_http_requests_total{route="/v1/me",method="GET",status="4xx"} 1
        custodian_http_requests_total{route="we\"ird\\\n",method="POST",status="5xx"} 1
        # HELP custodian_http_request_duration_seconds HTTP request latency by route.
        # TYPE custodian_http_request_duration_seconds histogram
        custodian_http_request_duration_seconds_bucket{route="/v1/me",le="0.001"} 1
        custodian_http_request_duration_seconds_bucket{route="/v1/me",le="0.0025"} 1
        custodian_http_request_duration_seconds_bucket{route="/v1/me",le="0.005"} 1
        custodian_http_request_duration_seconds_bucket{route="/v1/me",le="0.01"} 1
        custodian_http_request_duration_seconds_bucket{route="/v1/me",le="0.025"} 1
        custodian_http_request_duration_seconds_bucket{route="/v1/me",le="0.05"} 2
        custodian_http_request_duration_seconds_bucket{route="/v1/me",le="0.1"} 2
        custodian_http_request_duration_seconds_bucket{route="/v1/me",le="0.25"} 2
        custodian_http_request_duration_seconds_bucket{route="/v1/me",le="0.5"} 2
        custodian_http_request_duration_seconds_bucket{route="/v1/me",le="1"} 2
        custodian_http_request_duration_seconds_bucket{route="/v1/me",le="2.5"} 2
        custodian_http_request_duration_seconds_bucket{route="/v1/me",le="10"} 2
        custodian_http_request_duration_seconds_bucket{route="/v1/me",le="+Inf"} 3
        custodian_http_request_duration_seconds_sum{route="/v1/me"} 20.0308
        custodian_http_request_duration_seconds_count{route="/v1/me"} 3
        custodian_http_request_duration_seconds_bucket{route="we\"ird\\\n",le="0.001"} 0
        custodian_http_request_duration_seconds_bucket{route="we\"ird\\\n",le="0.0025"} 1
        custodian_http_request_duration_seconds_bucket{route="we\"ird\\\n",le="0.005"} 1
        custodian_http_request_duration_seconds_bucket{route="we\"ird\\\n",le="0.01"} 1
        custodian_http_request_duration_seconds_bucket{route="we\"ird\\\n",le="0.025"} 1
        custodian_http_request_duration_seconds_bucket{route="we\"ird\\\n",le="0.05"} 1
        custodian_http_request_duration_seconds_bucket{route="we\"ird\\\n",le="0.1"} 1
        custodian_http_request_duration_seconds_bucket{route="we\"ird\\\n",le="0.25"} 1
        custodian_http_request_duration_seconds_bucket{route="we\"ird\\\n",le="0.5"} 1
        custodian_http_request_duration_seconds_bucket{route="we\"ird\\\n",le="1"} 1
        custodian_http_request_duration_seconds_bucket{route="we\"ird\\\n",le="2.5"} 1
        custodian_http_request_duration_seconds_bucket{route="we\"ird\\\n",le="10"} 1
        custodian_http_request_duration_seconds_bucket{route="we\"ird\\\n",le="+Inf"} 1
        custodian_http_request_duration_seconds_sum{route="we\"ird\\\n"} 0.002
        custodian_http_request_duration_seconds_count{route="we\"ird\\\n"} 1
    "#]]
    .assert_eq(&metrics.render());
}
