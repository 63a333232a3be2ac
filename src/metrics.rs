//! Prometheus metrics: counters the sessions move, gauges read from the backends when scraped,
//! and the `/metrics` endpoint (`serve --metrics-listen ADDR`, or `metrics_listen` in the
//! rules' `[proxy]`).
//!
//! Labels have bounded values only (statement kind, route type, outcome, shard and server
//! names of the rules): never SQL text or user input.

use crate::engine::Shared;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Every metric of one proxy.
pub struct Metrics {
    registry: Registry,
    /// `shardgate_client_connections`: client sessions open now.
    pub connections: IntGauge,
    /// `shardgate_client_connections_total`: client sessions accepted (after the handshake).
    pub connections_total: IntCounter,
    /// `shardgate_statements_total{kind,route,outcome}`.
    pub statements: IntCounterVec,
    /// `shardgate_statement_duration_seconds{route}`: from the statement's arrival to its
    /// result (streamed results: to the start of the stream).
    pub duration: HistogramVec,
    /// `shardgate_shard_statement_duration_seconds{shard}`: statements of one shard only.
    pub shard_duration: HistogramVec,
    /// `shardgate_refusals_total`: statements refused with 1235 (not supported).
    pub refusals: IntCounter,
    /// `shardgate_rule_reloads_total{outcome}`: applied, refused (invalid, would move rows,
    /// needs a restart) or unchanged.
    pub reloads: IntCounterVec,
    /// `shardgate_plan_cache_hits_total` / `_misses_total`.
    pub plan_cache_hits: IntCounter,
    pub plan_cache_misses: IntCounter,
    /// `shardgate_xa_transactions_total{outcome}`: two-phase commits (committed, failed,
    /// rolled_back).
    pub xa: IntCounterVec,
    /// `shardgate_table_statements_total{schema,table,outcome}` and
    /// `shardgate_table_statement_duration_seconds{schema,table}`: statements by the first
    /// logical table they name. Labels come from the rules only (see [`table_label`]).
    pub table_statements: IntCounterVec,
    pub table_duration: HistogramVec,
    /// `shardgate_xa_recovered_branches_total{outcome}`: in-doubt XA branches that recovery
    /// finished (committed, rolled_back).
    pub xa_recovered: IntCounterVec,
    /// The children of `statements` and `duration` for every label value, looked up once (a
    /// labelled lookup hashes and locks on each statement): index [`slot`].
    counted: Vec<IntCounter>,
    timed: Vec<prometheus::Histogram>,
    /// The children of `shard_duration`, by shard number (made at the first statement: the
    /// shards of the rules cannot change while the proxy runs).
    shard_timed: std::sync::OnceLock<Vec<(String, prometheus::Histogram)>>,
    /// `shardgate_backend_pool_connections{shard,server,state}`, set when scraped.
    pool: IntGaugeVec,
    /// `shardgate_backend_up{shard,server}`, set when scraped (shards with replicas: the
    /// health checker's view; others: 1, since nothing checks them between statements).
    up: IntGaugeVec,
    /// `shardgate_replica_lag_seconds{shard,server}`, set when scraped.
    lag: IntGaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// The values of the `kind` label.
pub const KINDS: [&str; 6] = ["select", "insert", "update", "delete", "ddl", "other"];
/// The values of the `route` label.
pub const ROUTES: [&str; 4] = ["single", "scatter", "broadcast", "local"];
/// The values of the `outcome` label.
pub const OUTCOMES: [&str; 3] = ["ok", "error", "refused"];

fn index(list: &[&str], v: &str) -> usize {
    list.iter().position(|x| *x == v).unwrap_or(list.len() - 1)
}

/// Buckets from 100 µs to 10 s: a proxy's statements are mostly sub-millisecond.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

impl Metrics {
    /// A fresh set, registered in its own registry.
    #[allow(
        clippy::expect_used,
        reason = "constant, valid and distinct names and labels: construction cannot fail (the unit test builds it)"
    )]
    pub fn new() -> Metrics {
        let registry = Registry::new();
        // The names and labels are constants: registering them cannot fail.
        fn reg<T: prometheus::core::Collector + Clone + 'static>(r: &Registry, m: T) -> T {
            r.register(Box::new(m.clone()))
                .expect("metric names are unique");
            m
        }
        let counter = |name: &str, help: &str| {
            reg(
                &registry,
                IntCounter::new(name, help).expect("valid metric"),
            )
        };
        let counters = |name: &str, help: &str, labels: &[&str]| {
            reg(
                &registry,
                IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"),
            )
        };
        let gauges = |name: &str, help: &str, labels: &[&str]| {
            reg(
                &registry,
                IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric"),
            )
        };
        let histograms = |name: &str, help: &str, labels: &[&str]| {
            reg(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new(name, help).buckets(BUCKETS.to_vec()),
                    labels,
                )
                .expect("valid metric"),
            )
        };
        let statements = counters(
            "shardgate_statements_total",
            "Statements by kind, route type (single, scatter, broadcast, local) and outcome (ok, error, refused)",
            &["kind", "route", "outcome"],
        );
        let duration = histograms(
            "shardgate_statement_duration_seconds",
            "Statement latency in the proxy, by route type",
            &["route"],
        );
        let mut counted = Vec::new();
        for kind in KINDS {
            for route in ROUTES {
                for outcome in OUTCOMES {
                    counted.push(statements.with_label_values(&[kind, route, outcome]));
                }
            }
        }
        let timed = ROUTES
            .iter()
            .map(|r| duration.with_label_values(&[r]))
            .collect();
        Metrics {
            counted,
            timed,
            shard_timed: std::sync::OnceLock::new(),
            statements,
            duration,
            connections: reg(
                &registry,
                IntGauge::new("shardgate_client_connections", "Client sessions open now")
                    .expect("valid metric"),
            ),
            connections_total: counter(
                "shardgate_client_connections_total",
                "Client sessions accepted (after authentication)",
            ),
            shard_duration: histograms(
                "shardgate_shard_statement_duration_seconds",
                "Latency of statements that ran on one shard, by shard",
                &["shard"],
            ),
            refusals: counter(
                "shardgate_refusals_total",
                "Statements refused as not supported (error 1235)",
            ),
            reloads: counters(
                "shardgate_rule_reloads_total",
                "Rule reloads by outcome (applied, unchanged, refused)",
                &["outcome"],
            ),
            plan_cache_hits: counter(
                "shardgate_plan_cache_hits_total",
                "Statements whose analysis came from the plan cache",
            ),
            plan_cache_misses: counter(
                "shardgate_plan_cache_misses_total",
                "Statements analysed afresh",
            ),
            xa: counters(
                "shardgate_xa_transactions_total",
                "Transactions over several shards (two-phase commit) by outcome: committed, failed (the error says whether anything was committed), rolled_back",
                &["outcome"],
            ),
            table_statements: counters(
                "shardgate_table_statements_total",
                "Statements by the first logical table they name (tables the rules name; others as (unsharded)) and outcome",
                &["schema", "table", "outcome"],
            ),
            table_duration: histograms(
                "shardgate_table_statement_duration_seconds",
                "Statement latency by the first logical table they name",
                &["schema", "table"],
            ),
            xa_recovered: counters(
                "shardgate_xa_recovered_branches_total",
                "In-doubt XA branches finished by recovery, by outcome",
                &["outcome"],
            ),
            pool: gauges(
                "shardgate_backend_pool_connections",
                "Backend pool connections by state (in_use, idle)",
                &["shard", "server", "state"],
            ),
            up: gauges(
                "shardgate_backend_up",
                "Whether a backend server answers (1) or not (0)",
                &["shard", "server"],
            ),
            lag: gauges(
                "shardgate_replica_lag_seconds",
                "Replication lag of a replica, as the health checker last saw it",
                &["shard", "server"],
            ),
            registry,
        }
    }

    /// Counts one statement (labels of [`KINDS`], [`ROUTES`], [`OUTCOMES`]; another value
    /// counts as the last of its list).
    pub fn statement(&self, kind: &str, route: &str, outcome: &str, took: Duration) {
        let k = index(&KINDS, kind);
        let r = index(&ROUTES, route);
        let o = index(&OUTCOMES, outcome);
        if let Some(c) = self
            .counted
            .get((k * ROUTES.len() + r) * OUTCOMES.len() + o)
        {
            c.inc();
        }
        if let Some(h) = self.timed.get(r) {
            h.observe(took.as_secs_f64());
        }
    }

    /// Counts and times a statement by its first logical table (`table`: see [`table_label`]).
    pub fn table_statement(&self, schema: &str, table: &str, outcome: &str, took: Duration) {
        self.table_statements
            .with_label_values(&[schema, table, outcome])
            .inc();
        self.table_duration
            .with_label_values(&[schema, table])
            .observe(took.as_secs_f64());
    }

    /// Times a statement that ran on shard `shard` only (of `shards`, the rules' shards).
    pub fn shard_statement(&self, shards: &[crate::config::Shard], shard: usize, took: Duration) {
        let timed = self.shard_timed.get_or_init(|| {
            shards
                .iter()
                .map(|s| {
                    let h = self.shard_duration.with_label_values(&[s.name.as_str()]);
                    (s.name.clone(), h)
                })
                .collect()
        });
        if let Some((_, h)) = timed.get(shard) {
            h.observe(took.as_secs_f64());
        }
    }

    /// What `SHOW STATS` shows: per route type, then per shard (statements that ran on that
    /// shard alone), the statements, errors, refusals and latency percentiles.
    pub fn stats(&self) -> Vec<StatRow> {
        let mut out = Vec::new();
        for (r, route) in ROUTES.iter().enumerate() {
            let mut by_outcome = [0u64; 3];
            for k in 0..KINDS.len() {
                for (o, n) in by_outcome.iter_mut().enumerate() {
                    if let Some(c) = self
                        .counted
                        .get((k * ROUTES.len() + r) * OUTCOMES.len() + o)
                    {
                        *n += c.get();
                    }
                }
            }
            let h = self.timed.get(r);
            out.push(StatRow {
                scope: "route",
                name: (*route).to_string(),
                statements: by_outcome.iter().sum(),
                errors: Some(by_outcome[1]),
                refused: Some(by_outcome[2]),
                quantiles_ms: h.map(quantiles_ms).unwrap_or_default(),
            });
        }
        out.extend(self.table_stats());
        for (name, h) in self.shard_timed.get().into_iter().flatten() {
            out.push(StatRow {
                scope: "shard",
                name: name.clone(),
                statements: h.get_sample_count(),
                errors: None,
                refused: None,
                quantiles_ms: quantiles_ms(h),
            });
        }
        out
    }

    /// Per logical table: statements, errors, refusals, percentiles (from the table metrics).
    fn table_stats(&self) -> Vec<StatRow> {
        use prometheus::core::Collector;
        // (schema, table) -> [ok, error, refused]
        let mut counts: std::collections::BTreeMap<(String, String), [u64; 3]> = Default::default();
        for family in self.table_statements.collect() {
            for m in family.get_metric() {
                let label = |n: &str| {
                    m.get_label()
                        .iter()
                        .find(|l| l.name() == n)
                        .map(|l| l.value().to_string())
                        .unwrap_or_default()
                };
                let o = index(&OUTCOMES, &label("outcome")).min(2);
                let n = m.get_counter().get_value() as u64;
                counts.entry((label("schema"), label("table"))).or_default()[o] += n;
            }
        }
        counts
            .into_iter()
            .map(|((schema, table), c)| {
                let h = self.table_duration.with_label_values(&[&schema, &table]);
                StatRow {
                    scope: "table",
                    name: format!("{schema}.{table}"),
                    statements: c.iter().sum(),
                    errors: Some(c[1]),
                    refused: Some(c[2]),
                    quantiles_ms: quantiles_ms(&h),
                }
            })
            .collect()
    }

    /// The exposition text of every metric, with the backend gauges read now from `sh`.
    pub fn render(&self, sh: &Shared) -> String {
        self.pool.reset();
        self.up.reset();
        self.lag.reset();
        for (i, shard) in sh.rules.shards.iter().enumerate() {
            let health = sh.health.shard(i);
            let checked = !shard.replicas.is_empty();
            for v in sh.backends.servers(i) {
                let server = sh.backends.server_name(v.server);
                let labels = [shard.name.as_str(), server.as_str()];
                for (state, n) in [("in_use", v.in_use), ("idle", v.idle)] {
                    self.pool
                        .with_label_values(&[labels[0], labels[1], state])
                        .set(n as i64);
                }
                let h = health.clone().unwrap_or_default();
                let up = match v.server.replica {
                    None => !checked || h.primary_up,
                    Some(r) => {
                        let rs = h.replicas.get(r).cloned().unwrap_or_default();
                        if let Some(lag) = rs.lag_s {
                            self.lag.with_label_values(&labels).set(lag as i64);
                        }
                        rs.reachable
                    }
                };
                self.up.with_label_values(&labels).set(i64::from(up));
            }
        }
        let mut out = Vec::new();
        // Encoding gathered families into a Vec cannot fail but for invalid families, which
        // this registry cannot hold; an empty answer is the fallback.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// One row of `SHOW STATS`.
#[derive(Clone, Debug, PartialEq)]
pub struct StatRow {
    /// `route`, `table` or `shard`.
    pub scope: &'static str,
    pub name: String,
    pub statements: u64,
    /// Per route only (a shard's errors are not told apart).
    pub errors: Option<u64>,
    pub refused: Option<u64>,
    /// p50, p95, p99 in milliseconds (None without statements).
    pub quantiles_ms: [Option<f64>; 3],
}

/// The label of a statement's table in the per-table metrics (the first table the rules
/// place, else the first table): the table as the rules
/// name it, a pattern rule's pattern for the tables it places, `(unsharded)` for every table
/// no rule names (names from statements never become labels, so the label set is bounded by
/// the rules file).
pub fn table_label(schema: &crate::config::Schema, table: &str) -> String {
    match schema.rule_name(table) {
        Some(name) => name.to_string(),
        None => "(unsharded)".to_string(),
    }
}

fn quantiles_ms(h: &prometheus::Histogram) -> [Option<f64>; 3] {
    use prometheus::core::Collector;
    h.collect()
        .first()
        .and_then(|m| m.get_metric().first())
        .map(|m| quantiles_of(m.get_histogram()))
        .unwrap_or_default()
}

/// p50, p95 and p99 of a histogram, interpolated within buckets as Prometheus's
/// `histogram_quantile` does.
fn quantiles_of(h: &prometheus::proto::Histogram) -> [Option<f64>; 3] {
    let total = h.get_sample_count();
    let buckets: Vec<(f64, u64)> = h
        .get_bucket()
        .iter()
        .map(|b| (b.upper_bound(), b.cumulative_count()))
        .collect();
    [0.5, 0.95, 0.99].map(|q| {
        if total == 0 {
            return None;
        }
        let rank = q * total as f64;
        let mut lower = (0.0, 0u64);
        for &(bound, count) in &buckets {
            if count as f64 >= rank {
                let within = (count - lower.1) as f64;
                let frac = if within > 0.0 {
                    (rank - lower.1 as f64) / within
                } else {
                    1.0
                };
                return Some((lower.0 + (bound - lower.0) * frac) * 1000.0);
            }
            lower = (bound, count);
        }
        // Past the last bucket: its bound is all that is known.
        Some(lower.0 * 1000.0)
    })
}

/// The route type label of a plan: one shard, a write to every shard of a broadcast table, or
/// several shards.
pub fn route_of(plan: &crate::plan::Plan) -> &'static str {
    match (&plan.merge, plan.targets.len()) {
        (
            crate::plan::Merge::Affected {
                broadcast: true, ..
            },
            _,
        ) => "broadcast",
        (_, 0 | 1) => "single",
        _ => "scatter",
    }
}

/// The kind label of a statement, from its first keyword.
pub fn kind_of(sql: &str) -> &'static str {
    let word: String = sql
        .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .take(9)
        .collect::<String>()
        .to_ascii_lowercase();
    match word.as_str() {
        "select" | "with" => "select",
        "insert" | "replace" => "insert",
        "update" => "update",
        "delete" => "delete",
        "create" | "alter" | "drop" | "truncate" | "rename" => "ddl",
        _ => "other",
    }
}

/// Serves `GET /metrics` on `listener` until the task is dropped. Each scrape reads the rules
/// in force now from `sh`'s reloader.
///
/// Hand-written HTTP/1.0-style responder: one GET path, answered and closed, needs no HTTP
/// framework (hyper and a server crate would add more code to the build than this replaces).
pub async fn serve(listener: TcpListener, sh: Arc<Shared>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let sh = sh.reload.current().unwrap_or_else(|| sh.clone());
        tokio::spawn(async move {
            let mut req = Vec::with_capacity(1024);
            let mut buf = [0u8; 1024];
            // Read the request head (bounded: 16 KiB, 5 s).
            let read = tokio::time::timeout(Duration::from_secs(5), async {
                while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16 * 1024 {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return false,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                true
            })
            .await;
            if !matches!(read, Ok(true)) {
                return;
            }
            let line = req.split(|&b| b == b'\n').next().unwrap_or_default();
            let line = String::from_utf8_lossy(line);
            let mut parts = line.split_whitespace();
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let (status, ctype, body) = match (method, path.split('?').next().unwrap_or("")) {
                ("GET", "/metrics") => (
                    "200 OK",
                    "text/plain; version=0.0.4; charset=utf-8",
                    sh.metrics.render(&sh),
                ),
                ("GET", "/") => (
                    "200 OK",
                    "text/plain; charset=utf-8",
                    "shardgate: metrics at /metrics\n".to_string(),
                ),
                ("GET", _) => (
                    "404 Not Found",
                    "text/plain; charset=utf-8",
                    "not found: try /metrics\n".to_string(),
                ),
                _ => (
                    "405 Method Not Allowed",
                    "text/plain; charset=utf-8",
                    "only GET\n".to_string(),
                ),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            // A scraper that went away needs no answer.
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(body.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_renders_names() {
        let m = Metrics::new();
        m.statement("select", "single", "ok", Duration::from_millis(2));
        let text = {
            let mut out = Vec::new();
            TextEncoder::new()
                .encode(&m.registry.gather(), &mut out)
                .expect("encodes");
            String::from_utf8(out).expect("utf-8")
        };
        assert!(text.contains(
            "shardgate_statements_total{kind=\"select\",outcome=\"ok\",route=\"single\"} 1"
        ));
        assert!(text.contains(
            "shardgate_statement_duration_seconds_bucket{route=\"single\",le=\"0.0025\"} 1"
        ));
    }

    #[test]
    fn kinds() {
        assert_eq!(kind_of("  SELECT 1"), "select");
        assert_eq!(kind_of("(select 1) union (select 2)"), "select");
        assert_eq!(kind_of("insert into t values (1)"), "insert");
        assert_eq!(kind_of("Create table t (a int)"), "ddl");
        assert_eq!(kind_of("SET @a = 1"), "other");
        assert_eq!(kind_of(""), "other");
    }
}
