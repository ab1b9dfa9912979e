//! Prometheus metrics, hand-written because we need two families: counters
//! of login outcomes and request-latency histograms per route. A metrics
//! crate would pull a registry and exporter for the same forty lines.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Latency bucket upper bounds in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The process's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    outcomes: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
}

impl Metrics {
    /// Counts one login step outcome, e.g. `("password", "rejected")`.
    pub fn login(&self, step: &'static str, outcome: &'static str) {
        if let Ok(mut map) = self.outcomes.lock() {
            *map.entry((step, outcome)).or_default() += 1;
        }
    }

    fn observe(&self, route: String, method: String, seconds: f64) {
        if let Ok(mut map) = self.latency.lock() {
            let histogram = map.entry((route, method)).or_default();
            for (bound, count) in BUCKETS.iter().zip(histogram.counts.iter_mut()) {
                if seconds <= *bound {
                    *count += 1;
                }
            }
            histogram.count += 1;
            histogram.sum += seconds;
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP twofactor_login_outcomes_total Login steps by outcome.\n");
        out.push_str("# TYPE twofactor_login_outcomes_total counter\n");
        if let Ok(map) = self.outcomes.lock() {
            for ((step, outcome), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "twofactor_login_outcomes_total{{step=\"{step}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP twofactor_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE twofactor_http_request_duration_seconds histogram\n");
        if let Ok(map) = self.latency.lock() {
            for ((route, method), h) in map.iter() {
                let labels = format!("route=\"{route}\",method=\"{method}\"");
                for (bound, count) in BUCKETS.iter().zip(h.counts.iter()) {
                    let _ = writeln!(
                        out,
                        "twofactor_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "twofactor_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "twofactor_http_request_duration_seconds_sum{{{labels}}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "twofactor_http_request_duration_seconds_count{{{labels}}} {}",
                    h.count
                );
            }
        }
        out
    }
}

/// Times every request under its route pattern (not the raw path, so ids
/// and tokens in paths never become labels).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .observe(route, method, started.elapsed().as_secs_f64());
    response
}

/// The outbox gauges: messages waiting, given up, and the age of the
/// oldest waiting one (0 when none waits).
pub fn render_outbox(counts: &domain::OutboxCounts, now: u64) -> String {
    let age = counts
        .oldest_pending_at
        .map_or(0, |at| now.saturating_sub(at));
    format!(
        "# HELP twofactor_outbox_pending Messages waiting to be sent (or being sent).\n\
         # TYPE twofactor_outbox_pending gauge\n\
         twofactor_outbox_pending {}\n\
         # HELP twofactor_outbox_failed Messages given up (see `twofactor outbox list`).\n\
         # TYPE twofactor_outbox_failed gauge\n\
         twofactor_outbox_failed {}\n\
         # HELP twofactor_outbox_oldest_pending_seconds Age of the oldest waiting message.\n\
         # TYPE twofactor_outbox_oldest_pending_seconds gauge\n\
         twofactor_outbox_oldest_pending_seconds {age}\n",
        counts.pending, counts.failed
    )
}

/// A metric family of the batch lanes: name, type, help, each lane's value.
type LaneFamily = (
    &'static str,
    &'static str,
    &'static str,
    fn(&domain::BatchLane) -> String,
);

/// The hot path's batch lanes: batches, checks and busy seconds, each a
/// counter per lane. Busy seconds growing by nearly `workers` a second
/// means checks queue for that lane (see docs/benchmarks-log.md).
pub fn render_batch_lanes(lanes: &[domain::BatchLane]) -> String {
    if lanes.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let families: [LaneFamily; 4] = [
        (
            "twofactor_batch_workers",
            "gauge",
            "Workers serving the second-factor hot path's batch lane.",
            |l| l.workers.to_string(),
        ),
        (
            "twofactor_batches_total",
            "counter",
            "Batches (one statement or transaction each) the lane has run.",
            |l| l.batches.to_string(),
        ),
        (
            "twofactor_batch_rows_total",
            "counter",
            "Checks the lane's batches held.",
            |l| l.rows.to_string(),
        ),
        (
            "twofactor_batch_busy_seconds_total",
            "counter",
            "Time the lane's workers spent running batches, summed.",
            |l| format!("{:.6}", l.busy_micros as f64 / 1e6),
        ),
    ];
    for (name, kind, help, value) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for lane in lanes {
            let _ = writeln!(out, "{name}{{lane=\"{}\"}} {}", lane.name, value(lane));
        }
    }
    out
}

/// `GET /metrics`.
pub async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match scrape_allowed(state.config.metrics_token.as_deref(), &headers) {
        Scrape::Allowed => {}
        Scrape::NotServed => {
            return (
                StatusCode::NOT_FOUND,
                "Metrics are served only with a bearer token: set TWOFACTOR_METRICS_TOKEN (see docs/operations.md).\n",
            )
                .into_response();
        }
        Scrape::Refused => {
            return (
                StatusCode::UNAUTHORIZED,
                [(WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
                "The metrics need the bearer token set in TWOFACTOR_METRICS_TOKEN.\n",
            )
                .into_response();
        }
    }
    let mut text = state.metrics.render();
    // A database that does not answer leaves the gauges out rather than
    // failing the scrape: the request counters still tell the story.
    if let Ok(counts) = state.login.outbox_counts().await {
        text.push_str(&render_outbox(&counts, state.now()));
    }
    text.push_str(&render_batch_lanes(&state.login.batch_lanes()));
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response()
}

/// Whether a scrape may read the metrics.
#[derive(Debug, PartialEq, Eq)]
enum Scrape {
    Allowed,
    /// No token configured: not served to anyone.
    NotServed,
    /// A token is configured and the request does not carry it.
    Refused,
}

/// `Authorization: Bearer <token>` against the configured token, compared
/// in constant time.
fn scrape_allowed(token: Option<&str>, headers: &HeaderMap) -> Scrape {
    let Some(token) = token else {
        return Scrape::NotServed;
    };
    let presented = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    if domain::token::equal(presented, token) {
        Scrape::Allowed
    } else {
        Scrape::Refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_needs_the_configured_bearer_token() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, value.parse().unwrap());
            headers
        };
        let token = Some("a-long-metrics-token");
        assert_eq!(scrape_allowed(None, &HeaderMap::new()), Scrape::NotServed);
        assert_eq!(
            scrape_allowed(None, &with("Bearer anything")),
            Scrape::NotServed
        );
        assert_eq!(scrape_allowed(token, &HeaderMap::new()), Scrape::Refused);
        for wrong in [
            "Bearer a-long-metrics-toke",
            "Bearer a-long-metrics-token2",
            "bearer a-long-metrics-token",
            "Basic a-long-metrics-token",
            "Bearer ",
            "a-long-metrics-token",
        ] {
            assert_eq!(
                scrape_allowed(token, &with(wrong)),
                Scrape::Refused,
                "{wrong}"
            );
        }
        assert_eq!(
            scrape_allowed(token, &with("Bearer a-long-metrics-token")),
            Scrape::Allowed
        );
    }

    #[test]
    fn outbox_gauges_show_counts_and_the_oldest_age() {
        let text = render_outbox(
            &domain::OutboxCounts {
                pending: 3,
                failed: 1,
                oldest_pending_at: Some(100),
            },
            160,
        );
        assert!(text.contains("twofactor_outbox_pending 3\n"));
        assert!(text.contains("twofactor_outbox_failed 1\n"));
        assert!(text.contains("twofactor_outbox_oldest_pending_seconds 60\n"));
        let idle = render_outbox(&domain::OutboxCounts::default(), 160);
        assert!(idle.contains("twofactor_outbox_oldest_pending_seconds 0\n"));
    }

    #[test]
    fn batch_lanes_render_one_sample_per_lane_and_family() {
        assert_eq!(render_batch_lanes(&[]), "");
        let text = render_batch_lanes(&[
            domain::BatchLane {
                name: "pg_read",
                workers: 2,
                batches: 10,
                rows: 55,
                busy_micros: 1_250_000,
            },
            domain::BatchLane {
                name: "pg_write",
                workers: 1,
                batches: 3,
                rows: 40,
                busy_micros: 7,
            },
        ]);
        for line in [
            "# TYPE twofactor_batch_busy_seconds_total counter\n",
            "twofactor_batch_workers{lane=\"pg_read\"} 2\n",
            "twofactor_batches_total{lane=\"pg_read\"} 10\n",
            "twofactor_batch_rows_total{lane=\"pg_write\"} 40\n",
            "twofactor_batch_busy_seconds_total{lane=\"pg_read\"} 1.250000\n",
            "twofactor_batch_busy_seconds_total{lane=\"pg_write\"} 0.000007\n",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
        assert_eq!(text.matches("# TYPE").count(), 4);
    }

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.login("password", "rejected");
        metrics.login("password", "rejected");
        metrics.observe("/login".into(), "POST".into(), 0.003);
        metrics.observe("/login".into(), "POST".into(), 0.2);
        let text = metrics.render();
        assert!(
            text.contains(
                "twofactor_login_outcomes_total{step=\"password\",outcome=\"rejected\"} 2"
            )
        );
        assert!(text.contains("route=\"/login\",method=\"POST\",le=\"0.001\"} 0"));
        assert!(text.contains("route=\"/login\",method=\"POST\",le=\"0.005\"} 1"));
        assert!(text.contains("route=\"/login\",method=\"POST\",le=\"0.25\"} 2"));
        assert!(text.contains("_count{route=\"/login\",method=\"POST\"} 2"));
    }
}
