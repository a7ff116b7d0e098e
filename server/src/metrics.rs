//! Prometheus metrics: requests and latency by route and status class, protected conversations
//! per organization, recordings deleted by the sweep, and legal holds not yet settled.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Latency bucket bounds, in seconds.
const BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; 9],
}

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), Series>>,
    pub sweep_deleted: AtomicU64,
    /// Requests whose legal holds the bucket did not take (committed, answered 503).
    pub hold_failures: AtomicU64,
    /// Arriving interactions a legal hold's query matched but the cap kept out (per hold).
    pub hold_cap_misses: AtomicU64,
}

impl Metrics {
    /// Counts one request of `route` that answered `status` after `elapsed`.
    pub fn observe(&self, route: &'static str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let s = map.entry((route, status / 100)).or_default();
        s.count += 1;
        s.sum += secs;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    pub fn add_sweep(&self, n: usize) {
        self.sweep_deleted.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn add_hold_cap_misses(&self, n: usize) {
        self.hold_cap_misses.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn add_hold_failure(&self) {
        self.hold_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition format, with the protected counts given per organization id.
    /// `broken` names the organizations whose audit chain was found broken; `holds_pending`
    /// is how many conversations' legal holds wait to be settled, where storage keeps holds.
    pub fn render(
        &self,
        protected: &[(String, u32, u32)],
        broken: &[String],
        holds_pending: Option<usize>,
    ) -> String {
        let mut out = String::new();
        let map = self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let _ = writeln!(
            out,
            "# HELP holdfast_http_requests_total Requests answered, by route and status class."
        );
        let _ = writeln!(out, "# TYPE holdfast_http_requests_total counter");
        for ((route, class), s) in &map {
            let _ = writeln!(
                out,
                "holdfast_http_requests_total{{route=\"{route}\",status=\"{class}xx\"}} {}",
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP holdfast_http_request_duration_seconds Request latency, by route."
        );
        let _ = writeln!(
            out,
            "# TYPE holdfast_http_request_duration_seconds histogram"
        );
        for ((route, class), s) in &map {
            let labels = format!("route=\"{route}\",status=\"{class}xx\"");
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "holdfast_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "holdfast_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "holdfast_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "holdfast_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        let per_org = |out: &mut String,
                       name: &str,
                       help: &str,
                       value: &dyn Fn(&(String, u32, u32)) -> u64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            for row in protected {
                let _ = writeln!(
                    out,
                    "{name}{{org_id=\"{}\"}} {}",
                    escape(&row.0),
                    value(row)
                );
            }
        };
        per_org(
            &mut out,
            "holdfast_protected_conversations",
            "Protected conversations, by organization.",
            &|(_, n, _)| u64::from(*n),
        );
        per_org(
            &mut out,
            "holdfast_protection_cap",
            "The protection cap, by organization.",
            &|(_, _, cap)| u64::from(*cap),
        );
        per_org(
            &mut out,
            "holdfast_audit_chain_intact",
            "1 while the organization's audit chain verifies, 0 once a break is found.",
            &|(org, _, _)| u64::from(!broken.contains(org)),
        );
        let _ = writeln!(
            out,
            "# HELP holdfast_sweep_deleted_total Recordings deleted by the retention sweep."
        );
        let _ = writeln!(out, "# TYPE holdfast_sweep_deleted_total counter");
        let _ = writeln!(
            out,
            "holdfast_sweep_deleted_total {}",
            self.sweep_deleted.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP holdfast_hold_cap_misses_total Arriving interactions a legal hold's query matched but did not protect: the cap was reached."
        );
        let _ = writeln!(out, "# TYPE holdfast_hold_cap_misses_total counter");
        let _ = writeln!(
            out,
            "holdfast_hold_cap_misses_total {}",
            self.hold_cap_misses.load(Ordering::Relaxed)
        );
        if let Some(pending) = holds_pending {
            for (name, kind, help, value) in [
                (
                    "holdfast_media_holds_pending",
                    "gauge",
                    "Conversations whose objects' legal holds wait to be settled (counted up to 10,000).",
                    pending as u64,
                ),
                (
                    "holdfast_media_hold_failures_total",
                    "counter",
                    "Protects and releases committed whose legal holds the bucket did not take at once.",
                    self.hold_failures.load(Ordering::Relaxed),
                ),
            ] {
                let _ = writeln!(out, "# HELP {name} {help}");
                let _ = writeln!(out, "# TYPE {name} {kind}");
                let _ = writeln!(out, "{name} {value}");
            }
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
