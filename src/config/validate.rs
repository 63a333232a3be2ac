//! From TOML text to [`Rules`]: syntax, unknown keys, then every rule of the format, collecting
//! all problems before answering.

use super::build::build_table;
use super::error::{ConfigErrors, Diag};
use super::keys::check_unknown_keys;
use super::pattern::{NameAt, Patterns, check_overlaps, is_pattern};
use super::raw::{RawProxy, RawRules, RawSchema};
use super::url::check_mysql_url;
use super::{Causal, ProxySettings, ReadFrom, Rules, Schema, Shard, TxnMode, User};
use std::collections::HashMap;
use std::time::Duration;
use toml::Spanned;

/// Parses and validates; see [`Rules::from_toml`].
pub(super) fn rules_from_toml(text: &str, origin: &str) -> Result<Rules, ConfigErrors> {
    let mut diag = Diag::new(origin, text);
    let doc = match toml::de::DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            diag.err(e.span(), "", format!("TOML syntax: {}", e.message().trim()));
            return Err(diag.finish());
        }
    };
    check_unknown_keys(doc.get_ref(), &mut diag);
    let raw: RawRules = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            diag.err(e.span(), "", e.message().trim().to_string());
            return Err(diag.finish());
        }
    };
    let rules = validate(&raw, &mut diag);
    match rules {
        Some(rules) if diag.is_empty() => Ok(rules),
        _ => Err(diag.finish()),
    }
}

fn validate(raw: &RawRules, diag: &mut Diag<'_>) -> Option<Rules> {
    let listen = match &raw.listen {
        None => {
            diag.err(None, "listen", "missing key `listen` (the address clients connect to, e.g. listen = \"127.0.0.1:3307\")");
            String::new()
        }
        Some(l) => {
            if l.get_ref().parse::<std::net::SocketAddr>().is_err() {
                diag.err(Some(l.span()), "listen", format!("\"{}\" is not an IP address and port, e.g. \"127.0.0.1:3307\" or \"[::]:3307\"", l.get_ref()));
            }
            l.get_ref().clone()
        }
    };
    let proxy = raw
        .proxy
        .as_ref()
        .map_or_else(ProxySettings::default, |p| proxy_settings(p, diag));
    let shards = shards(raw, diag);
    let shard_names: Vec<String> = shards.iter().map(|s| s.name.clone()).collect();
    let schemas: Vec<Schema> = raw
        .schemas
        .iter()
        .enumerate()
        .filter_map(|(i, s)| schema(s, &format!("schemas[{i}]"), &shard_names, diag))
        .collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, s) in raw.schemas.iter().enumerate() {
        if let Some(n) = &s.get_ref().name
            && let Some(first) = seen.insert(n.get_ref(), i)
        {
            diag.err(
                Some(n.span()),
                &format!("schemas[{i}].name"),
                format!(
                    "schema \"{}\" is declared twice (first as schemas[{first}])",
                    n.get_ref()
                ),
            );
        }
    }
    let schema_names: Vec<&str> = raw
        .schemas
        .iter()
        .filter_map(|s| s.get_ref().name.as_ref())
        .map(|n| n.get_ref().as_str())
        .collect();
    let users = users(raw, &schema_names, diag);
    Some(Rules {
        listen,
        proxy,
        users,
        shards,
        schemas,
    })
}

fn proxy_settings(p: &Spanned<RawProxy>, diag: &mut Diag<'_>) -> ProxySettings {
    let d = ProxySettings::default();
    let p = p.get_ref();
    let mut get = |v: &Option<Spanned<i64>>, name: &str, min: i64, default: u64| -> u64 {
        match v {
            None => default,
            Some(v) if *v.get_ref() >= min => *v.get_ref() as u64,
            Some(v) => {
                diag.err(
                    Some(v.span()),
                    &format!("proxy.{name}"),
                    format!("{name} must be at least {min}, not {}", v.get_ref()),
                );
                default
            }
        }
    };
    ProxySettings {
        backend_timeout: Duration::from_millis(get(
            &p.backend_timeout_ms,
            "backend_timeout_ms",
            1,
            10_000,
        )),
        transaction_timeout: Duration::from_millis(get(
            &p.transaction_timeout_ms,
            "transaction_timeout_ms",
            1,
            60_000,
        )),
        max_connections: get(
            &p.max_connections,
            "max_connections",
            1,
            d.max_connections as u64,
        ) as usize,
        max_backend_connections: get(
            &p.max_backend_connections,
            "max_backend_connections",
            1,
            d.max_backend_connections as u64,
        ) as usize,
        plan_cache_size: get(
            &p.plan_cache_size,
            "plan_cache_size",
            0,
            d.plan_cache_size as u64,
        ) as usize,
        id_block_size: get(&p.id_block_size, "id_block_size", 1, d.id_block_size),
        merge_memory_limit_mb: get(
            &p.merge_memory_limit_mb,
            "merge_memory_limit_mb",
            1,
            d.merge_memory_limit_mb,
        ),
        cross_shard_lock_wait_s: get(
            &p.cross_shard_lock_wait_s,
            "cross_shard_lock_wait_s",
            1,
            d.cross_shard_lock_wait_s,
        ),
        max_replica_lag_s: get(
            &p.max_replica_lag_s,
            "max_replica_lag_s",
            0,
            d.max_replica_lag_s,
        ),
        health_check_interval: Duration::from_millis(get(
            &p.health_check_interval_ms,
            "health_check_interval_ms",
            50,
            d.health_check_interval.as_millis() as u64,
        )),
        causal_wait: Duration::from_millis(get(
            &p.causal_wait_ms,
            "causal_wait_ms",
            0,
            d.causal_wait.as_millis() as u64,
        )),
        slow_statement: Duration::from_millis(get(
            &p.slow_statement_ms,
            "slow_statement_ms",
            0,
            d.slow_statement.as_millis() as u64,
        )),
        worker_threads: get(&p.worker_threads, "worker_threads", 0, 0) as usize,
        primary_reads: p
            .primary_reads
            .as_ref()
            .map(|v| *v.get_ref())
            .unwrap_or(d.primary_reads),
        metrics_listen: p
            .metrics_listen
            .as_ref()
            .map_or_else(|| d.metrics_listen.clone(), |v| v.get_ref().clone()),
        topology_file: p
            .topology_file
            .as_ref()
            .map(|v| std::path::PathBuf::from(v.get_ref())),
        read_from: match &p.read_from {
            None => d.read_from,
            Some(v) => ReadFrom::parse(v.get_ref()).unwrap_or_else(|| {
                diag.err(
                    Some(v.span()),
                    "proxy.read_from",
                    format!(
                        "read_from must be \"replica\" or \"primary\", not \"{}\"",
                        v.get_ref()
                    ),
                );
                d.read_from
            }),
        },
        causal: match &p.causal {
            None => d.causal,
            Some(v) => Causal::parse(v.get_ref()).unwrap_or_else(|| {
                diag.err(
                    Some(v.span()),
                    "proxy.causal",
                    format!(
                        "causal must be \"session\", \"global\" or \"none\", not \"{}\"",
                        v.get_ref()
                    ),
                );
                d.causal
            }),
        },
        txn_mode: match &p.txn_mode {
            None => d.txn_mode,
            Some(v) => TxnMode::parse(v.get_ref()).unwrap_or_else(|| {
                diag.err(
                    Some(v.span()),
                    "proxy.txn_mode",
                    format!(
                        "txn_mode must be \"xa\", \"best_effort\" or \"single\", not \"{}\"",
                        v.get_ref()
                    ),
                );
                d.txn_mode
            }),
        },
    }
}

fn shards(raw: &RawRules, diag: &mut Diag<'_>) -> Vec<Shard> {
    if raw.shards.is_empty() {
        diag.err(
            None,
            "shards",
            "no shards: declare at least one [[shards]] with name and primary",
        );
    }
    let mut out = Vec::new();
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut servers: HashMap<String, String> = HashMap::new();
    for (i, s) in raw.shards.iter().enumerate() {
        let path = format!("shards[{i}]");
        let r = s.get_ref();
        let mut check_url = |u: &Spanned<String>, at: &str, diag: &mut Diag<'_>| {
            match check_mysql_url(u.get_ref()) {
                Err(msg) => diag.err(Some(u.span()), at, msg),
                Ok(server) => {
                    if let Some(first) = servers.insert(server.clone(), at.to_string()) {
                        diag.err(Some(u.span()), at, format!("server {server} is already used by {first}; each shard and replica needs its own server"));
                    }
                }
            }
        };
        if let Some(p) = &r.primary {
            check_url(p, &format!("{path}.primary"), diag);
        } else {
            diag.err(
                Some(s.span()),
                &path,
                "missing key `primary` (mysql://user[:password]@host:port)",
            );
        }
        for (j, u) in r
            .replicas
            .iter()
            .flat_map(|v| v.get_ref().iter())
            .enumerate()
        {
            check_url(u, &format!("{path}.replicas[{j}]"), diag);
        }
        let Some(name) = &r.name else {
            diag.err(Some(s.span()), &path, "missing key `name`");
            continue;
        };
        if name.get_ref().trim().is_empty() {
            diag.err(
                Some(name.span()),
                &format!("{path}.name"),
                "empty shard name",
            );
        }
        if let Some(first) = names.insert(name.get_ref(), i) {
            diag.err(
                Some(name.span()),
                &format!("{path}.name"),
                format!(
                    "shard \"{}\" is declared twice (first as shards[{first}])",
                    name.get_ref()
                ),
            );
            continue;
        }
        let n_replicas = r.replicas.as_ref().map_or(0, |v| v.get_ref().len());
        let replica_weights = match &r.replica_weights {
            None => vec![1; n_replicas],
            Some(w) => {
                let at = format!("{path}.replica_weights");
                if w.get_ref().len() != n_replicas {
                    diag.err(
                        Some(w.span()),
                        &at,
                        format!(
                            "replica_weights has {} entries for {n_replicas} replicas: give one weight per replica",
                            w.get_ref().len()
                        ),
                    );
                }
                w.get_ref()
                    .iter()
                    .map(|x| match u32::try_from(*x.get_ref()) {
                        Ok(v) if v <= 1000 => v,
                        _ => {
                            diag.err(
                                Some(x.span()),
                                &at,
                                format!(
                                    "a replica weight is from 0 (no reads) to 1000, not {}",
                                    x.get_ref()
                                ),
                            );
                            1
                        }
                    })
                    .collect()
            }
        };
        out.push(Shard {
            replica_weights,
            name: name.get_ref().clone(),
            primary: r
                .primary
                .as_ref()
                .map(|p| p.get_ref().clone())
                .unwrap_or_default(),
            replicas: r
                .replicas
                .iter()
                .flat_map(|v| v.get_ref().iter())
                .map(|u| u.get_ref().clone())
                .collect(),
        });
    }
    out
}

fn schema(
    s: &Spanned<RawSchema>,
    path: &str,
    shard_names: &[String],
    diag: &mut Diag<'_>,
) -> Option<Schema> {
    let r = s.get_ref();
    let name = match &r.name {
        Some(n) if !n.get_ref().trim().is_empty() => Some(n.get_ref().clone()),
        Some(n) => {
            diag.err(Some(n.span()), &format!("{path}.name"), "empty schema name");
            None
        }
        None => {
            diag.err(Some(s.span()), path, "missing key `name`");
            None
        }
    };
    let default_shard = match &r.default_shard {
        None => {
            diag.err(
                Some(s.span()),
                path,
                "missing key `default_shard` (the shard holding the schema's unsharded tables)",
            );
            None
        }
        Some(d) => {
            let found = shard_names.iter().position(|n| n == d.get_ref());
            if found.is_none() {
                let msg = format!(
                    "default_shard = \"{}\" is not a declared shard (shards: {})",
                    d.get_ref(),
                    shard_names.join(", ")
                );
                diag.err(Some(d.span()), &format!("{path}.default_shard"), msg);
            }
            found
        }
    };
    let mut tables = HashMap::new();
    let mut patterns = Vec::new();
    let mut first_at: HashMap<String, String> = HashMap::new();
    let mut names = Vec::new();
    let mut built = Vec::new();
    for (i, t) in r.tables.iter().enumerate() {
        let tpath = format!("{path}.tables[{i}]");
        for (j, n) in t
            .get_ref()
            .names
            .iter()
            .flat_map(|l| l.get_ref().iter())
            .enumerate()
        {
            let at = format!("{tpath}.names[{j}]");
            if let Some(first) = first_at.insert(n.get_ref().to_lowercase(), at.clone()) {
                diag.err(
                    Some(n.span()),
                    &at,
                    format!(
                        "table \"{}\" already has a rule at {first} (names are case-insensitive)",
                        n.get_ref()
                    ),
                );
            }
            names.push(NameAt {
                rule: i,
                name: n.get_ref(),
                path: at,
                span: n.span(),
            });
        }
        built.extend(
            build_table(t, &tpath, diag, shard_names)
                .into_iter()
                .map(|rule| (i, rule)),
        );
    }
    check_overlaps(&names, diag);
    super::colocate::apply(&r.colocated, &r.tables, &mut built, path, shard_names, diag);
    for (_, rule) in built {
        let rule = std::sync::Arc::new(rule);
        if is_pattern(&rule.name) {
            patterns.push(rule);
        } else {
            tables.insert(rule.name.to_lowercase(), rule);
        }
    }
    Some(Schema {
        name: name?,
        default_shard: default_shard?,
        tables,
        patterns: Patterns::new(patterns),
    })
}

fn users(raw: &RawRules, schema_names: &[&str], diag: &mut Diag<'_>) -> Vec<User> {
    if raw.users.is_empty() {
        diag.err(
            None,
            "users",
            "no users: declare at least one [[users]] with name and password",
        );
    }
    let mut out = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, u) in raw.users.iter().enumerate() {
        let path = format!("users[{i}]");
        let r = u.get_ref();
        if r.password.is_none() {
            diag.err(
                Some(u.span()),
                &path,
                "missing key `password` (write password = \"\" for none)",
            );
        }
        if let Some(list) = &r.schemas {
            if list.get_ref().is_empty() {
                diag.err(Some(list.span()), &format!("{path}.schemas"), "empty `schemas`: list the schemas this user may use, or remove the key to allow all");
            }
            for (j, s) in list.get_ref().iter().enumerate() {
                if !schema_names.contains(&s.get_ref().as_str()) {
                    let msg = format!(
                        "schema \"{}\" is not declared (schemas: {})",
                        s.get_ref(),
                        schema_names.join(", ")
                    );
                    diag.err(Some(s.span()), &format!("{path}.schemas[{j}]"), msg);
                }
            }
        }
        let Some(name) = &r.name else {
            diag.err(Some(u.span()), &path, "missing key `name`");
            continue;
        };
        if let Some(first) = seen.insert(name.get_ref(), i) {
            diag.err(
                Some(name.span()),
                &format!("{path}.name"),
                format!(
                    "user \"{}\" is declared twice (first as users[{first}])",
                    name.get_ref()
                ),
            );
            continue;
        }
        out.push(User {
            name: name.get_ref().clone(),
            password: r
                .password
                .as_ref()
                .map(|p| p.get_ref().clone())
                .unwrap_or_default(),
            schemas: r
                .schemas
                .as_ref()
                .map(|l| l.get_ref().iter().map(|s| s.get_ref().clone()).collect()),
            admin: r.admin.as_ref().is_some_and(|a| *a.get_ref()),
        });
    }
    out
}
