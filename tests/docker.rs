//! The Docker deployment (docker/): the rules file the compose cluster mounts passes
//! `shardgate check`, the compose file validates (`docker compose config`, or Debian's
//! `docker-compose config`, installed here when neither is present: a validation that cannot
//! run fails, it is never skipped), the cluster has its services, and the Grafana dashboard
//! is valid JSON that queries shardgate's metrics only. No Docker daemon and no server needed.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn output_text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn docker_rules_pass_check() {
    let out = Command::new(env!("CARGO_BIN_EXE_shardgate"))
        .args(["check", "--config", "docker/rules.toml"])
        .current_dir(root())
        .output()
        .expect("run shardgate check");
    assert!(
        out.status.success(),
        "shardgate check --config docker/rules.toml failed:\n{}",
        output_text(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("OK"), "unexpected check output: {stdout}");
}

/// Runs `program args` and says whether it exited 0 (false when it cannot be started).
fn works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The command that validates a compose file: `docker compose` (the v2 plugin) when it
/// works, else `docker-compose`.
fn compose_command() -> Option<Vec<&'static str>> {
    if works("docker", &["compose", "version"]) {
        Some(vec!["docker", "compose"])
    } else if works("docker-compose", &["version"]) {
        Some(vec!["docker-compose"])
    } else {
        None
    }
}

/// Installs Debian's `docker-compose` package (apt-get update first only if the plain
/// install fails); returns what apt said, for the panic message if it still is not there.
fn install_docker_compose() -> String {
    let root_user = unsafe { libc::geteuid() } == 0;
    let apt = |args: &[&str]| -> Result<Output, String> {
        let mut cmd = if root_user {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("-n").arg("apt-get");
            c
        };
        cmd.args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .map_err(|e| {
                format!(
                    "cannot run apt-get{}: {e}",
                    if root_user { "" } else { " via sudo" }
                )
            })
    };
    let mut log = String::new();
    match apt(&["install", "-y", "docker-compose"]) {
        Ok(out) if out.status.success() => return log,
        Ok(out) => log.push_str(&format!(
            "apt-get install -y docker-compose:\n{}\n",
            output_text(&out)
        )),
        Err(e) => return e,
    }
    for args in [&["update"][..], &["install", "-y", "docker-compose"][..]] {
        match apt(args) {
            Ok(out) if out.status.success() => {}
            Ok(out) => log.push_str(&format!(
                "apt-get {}:\n{}\n",
                args.join(" "),
                output_text(&out)
            )),
            Err(e) => log.push_str(&e),
        }
    }
    log
}

#[test]
fn compose_file_validates() {
    let cmd = match compose_command() {
        Some(cmd) => cmd,
        None => {
            let log = install_docker_compose();
            compose_command().unwrap_or_else(|| {
                panic!(
                    "cannot validate docker/compose.yml: neither `docker compose` nor \
                     `docker-compose` works, and installing Debian's docker-compose failed:\n{log}"
                )
            })
        }
    };
    let out = Command::new(cmd[0])
        .args(&cmd[1..])
        .args(["-f", "docker/compose.yml", "config", "-q"])
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", cmd.join(" ")));
    assert!(
        out.status.success(),
        "{} -f docker/compose.yml config -q rejects the file:\n{}",
        cmd.join(" "),
        output_text(&out)
    );
}

/// The services of a compose file: the keys indented by two spaces under `services:`.
/// Returns each name with the lines of its block.
fn services(compose: &str) -> Vec<(String, Vec<String>)> {
    let mut found: Vec<(String, Vec<String>)> = Vec::new();
    let mut inside = false;
    for line in compose.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() && !line.starts_with('#') {
            inside = line.trim_end() == "services:";
            continue;
        }
        if !inside {
            continue;
        }
        let key = line
            .strip_prefix("  ")
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#'));
        match key.and_then(|k| k.trim_end().strip_suffix(':')) {
            Some(name) => found.push((name.to_string(), Vec::new())),
            None => {
                if let Some((_, block)) = found.last_mut() {
                    block.push(line.trim().to_string());
                }
            }
        }
    }
    found
}

#[test]
fn compose_file_has_the_cluster() {
    let compose = read("docker/compose.yml");
    let services = services(&compose);
    let block = |name: &str| -> Vec<String> {
        services
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| {
                let names: Vec<&str> = services.iter().map(|(n, _)| n.as_str()).collect();
                panic!("docker/compose.yml has no service {name} (services: {names:?})")
            })
    };
    let has = |b: &[String], what: &str| b.iter().any(|l| l.contains(what));

    for shard in ["shard0", "shard1"] {
        let primary = block(&format!("{shard}-primary"));
        let replica = block(&format!("{shard}-replica"));
        for b in [&primary, &replica] {
            for arg in [
                "--server-id=",
                "--log-bin",
                "--binlog-format=ROW",
                "--gtid-domain-id=",
            ] {
                assert!(has(b, arg), "{shard}: a server lacks {arg}");
            }
            assert!(
                has(b, "/docker-entrypoint-initdb.d/01-accounts.sql"),
                "{shard}: accounts script not mounted"
            );
        }
        assert!(
            has(&replica, "/docker-entrypoint-initdb.d/02-replica.sh"),
            "{shard}-replica: replication script not mounted"
        );
        assert!(
            has(
                &replica,
                &format!("SHARDGATE_PRIMARY_HOST: {shard}-primary")
            ),
            "{shard}-replica: primary host not set"
        );
        assert!(
            has(&replica, "condition: service_healthy"),
            "{shard}-replica does not wait for its primary"
        );
    }
    for f in [
        "docker/mariadb/01-accounts.sql",
        "docker/mariadb/02-replica.sh",
    ] {
        assert!(root().join(f).is_file(), "{f} missing");
    }
    assert!(read("docker/mariadb/02-replica.sh").contains("MASTER_USE_GTID = slave_pos"));

    let proxy = block("proxy");
    assert!(
        has(&proxy, "dockerfile: docker/Dockerfile"),
        "proxy is not built from docker/Dockerfile"
    );
    assert!(
        has(&proxy, "./rules.toml:/etc/shardgate/rules.toml"),
        "proxy does not mount docker/rules.toml"
    );
    assert!(
        has(&proxy, "--metrics-listen"),
        "proxy does not serve metrics"
    );
    assert!(has(&proxy, "\"3307:3307\""), "proxy port not published");

    let prometheus = block("prometheus");
    assert!(has(
        &prometheus,
        "./prometheus.yml:/etc/prometheus/prometheus.yml"
    ));
    assert!(
        read("docker/prometheus.yml").contains("proxy:9104"),
        "Prometheus does not scrape proxy:9104"
    );

    let grafana = block("grafana");
    assert!(has(
        &grafana,
        "./grafana/provisioning:/etc/grafana/provisioning"
    ));
    assert!(has(
        &grafana,
        "./grafana/dashboards:/var/lib/grafana/dashboards"
    ));
    for f in [
        "docker/Dockerfile",
        "docker/grafana/provisioning/datasources/prometheus.yml",
        "docker/grafana/provisioning/dashboards/dashboards.yml",
    ] {
        assert!(root().join(f).is_file(), "{f} missing");
    }
    // The rules file's backends are the compose services.
    let rules = read("docker/rules.toml");
    for host in [
        "shard0-primary:3306",
        "shard0-replica:3306",
        "shard1-primary:3306",
        "shard1-replica:3306",
    ] {
        assert!(
            rules.contains(&format!("@{host}")),
            "docker/rules.toml does not name {host}"
        );
    }
}

/// The metric names a PromQL expression reads: identifiers outside label matchers `{...}`,
/// ranges `[...]` and strings, not followed by `(` (functions and aggregations), not a
/// keyword, and not the labels of `by (...)` / `without (...)` / `on (...)` / `ignoring (...)`.
fn metric_names(expr: &str) -> Vec<String> {
    let mut plain = String::new();
    let (mut braces, mut brackets, mut quote) = (0, 0, None);
    for c in expr.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') if braces == 0 => quote = Some(c),
            (None, '{') => braces += 1,
            (None, '}') => braces -= 1,
            (None, '[') => brackets += 1,
            (None, ']') => brackets -= 1,
            (None, c) if braces == 0 && brackets == 0 => plain.push(c),
            _ => {}
        }
    }
    let chars: Vec<char> = plain.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || c == '.' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            continue;
        }
        if !(c.is_ascii_alphabetic() || c == '_' || c == ':') {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len()
            && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
        {
            i += 1;
        }
        let ident: String = chars[start..i].iter().collect();
        let mut j = i;
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        let call = j < chars.len() && chars[j] == '(';
        let grouping = [
            "by",
            "without",
            "on",
            "ignoring",
            "group_left",
            "group_right",
        ];
        if grouping.contains(&ident.as_str()) {
            if call {
                // Skip the label list.
                while j < chars.len() && chars[j] != ')' {
                    j += 1;
                }
                i = j + 1;
            }
            continue;
        }
        // Operators, and aggregations written `sum by (x) (...)` (not followed by `(`).
        let keywords = [
            "and",
            "or",
            "unless",
            "bool",
            "offset",
            "inf",
            "nan",
            "sum",
            "min",
            "max",
            "avg",
            "group",
            "stddev",
            "stdvar",
            "count",
            "count_values",
            "bottomk",
            "topk",
            "quantile",
            "limitk",
            "limit_ratio",
        ];
        if !call && !keywords.contains(&ident.to_ascii_lowercase().as_str()) {
            names.push(ident);
        }
    }
    names
}

fn collect_exprs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr", serde_json::Value::String(s)) => out.push(s.clone()),
                    _ => collect_exprs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

#[test]
fn metric_name_extraction() {
    assert_eq!(
        metric_names(
            "histogram_quantile(0.99, sum by (le, route) (rate(shardgate_statement_duration_seconds_bucket{route=\"single\"}[$__rate_interval])))"
        ),
        vec!["shardgate_statement_duration_seconds_bucket"]
    );
    assert_eq!(
        metric_names("sum(rate(a_total[5m])) / (sum(rate(a_total[5m])) + sum(b) without (x))"),
        vec!["a_total", "a_total", "b"]
    );
}

#[test]
fn dashboard_queries_shardgate_metrics() {
    let path = "docker/grafana/dashboards/shardgate.json";
    let dashboard: serde_json::Value =
        serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"));
    assert!(
        dashboard["panels"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{path} has no panels"
    );
    let mut exprs = Vec::new();
    collect_exprs(&dashboard, &mut exprs);
    assert!(!exprs.is_empty(), "{path} has no queries");

    let mut used = BTreeSet::new();
    for expr in &exprs {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "query reads no metric: {expr}");
        for name in names {
            assert!(
                name.starts_with("shardgate_"),
                "query reads {name}, not a shardgate metric: {expr}"
            );
            used.insert(name);
        }
    }
    // Every metric the proxy exports has a panel.
    for metric in [
        "shardgate_client_connections",
        "shardgate_statements_total",
        "shardgate_statement_duration_seconds_bucket",
        "shardgate_backend_pool_connections",
        "shardgate_backend_up",
        "shardgate_replica_lag_seconds",
        "shardgate_refusals_total",
        "shardgate_rule_reloads_total",
        "shardgate_plan_cache_hits_total",
        "shardgate_plan_cache_misses_total",
    ] {
        assert!(
            used.contains(metric),
            "{path} has no panel for {metric} (it reads {used:?})"
        );
    }
    // Its queries go to the provisioned data source.
    let uid = dashboard["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|p| p["datasource"]["uid"].as_str())
        .unwrap_or_default();
    let datasources = read("docker/grafana/provisioning/datasources/prometheus.yml");
    assert!(
        !uid.is_empty() && datasources.contains(&format!("uid: {uid}")),
        "the dashboard's data source uid {uid:?} is not provisioned"
    );
    assert!(
        read("docker/grafana/provisioning/dashboards/dashboards.yml")
            .contains("/var/lib/grafana/dashboards")
    );
}
