//! Reloading the rules while serving (`RELOAD RULES [FORCE]` from an admin, or SIGHUP).
//!
//! A reload reads the rules file again, validates it, and swaps a new [`Shared`] in: the new
//! rules, a fresh plan cache and privilege gate, around the same runtime (backends, health,
//! sessions, counters). Nothing is torn down: a statement already running finishes on the
//! rules it started with, a session inside a transaction keeps its rules until the
//! transaction ends, and every session takes the new rules before its next statement outside
//! a transaction. Connections stay open.
//!
//! Refused, leaving the running rules in force: a file with errors; a change of what only a
//! restart can apply (`listen`, the shards and their servers, `max_connections`, `max_backend_connections`, `worker_threads`,
//! `health_check_interval_ms`); and, unless forced, a change that would move stored rows
//! between shards (counted on the backends, see [`crate::route::diff`]).
//!
//! Several proxies: an applied reload records the file's digest in
//! `shardgate.rules_version` on the first shard; every proxy polls it every
//! [`POLL_EVERY`] and, when it changed, reloads its own copy of the file if that copy has the
//! recorded digest (and logs a warning naming both digests if not). So proxies given the same
//! file switch within one poll interval of each other; in between, statements through
//! different proxies route by different rules.

use super::Shared;
use crate::config::Rules;
use crate::error::{ProxyError, Result};
use sha1::{Digest, Sha1};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::watch;

/// How often a proxy reads the cluster's rules version.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// The table holding the rules version every proxy follows (on the first shard's primary).
pub const VERSION_TABLE: &str = "shardgate.rules_version";

const CREATE_VERSION: &str = "CREATE DATABASE IF NOT EXISTS shardgate; \
    CREATE TABLE IF NOT EXISTS shardgate.rules_version (\
    id TINYINT UNSIGNED NOT NULL PRIMARY KEY, \
    digest CHAR(40) NOT NULL, \
    applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), \
    applied_by VARCHAR(255) NOT NULL) ENGINE=InnoDB";

/// The rules in force and how to replace them.
#[derive(Default)]
pub struct Reloader {
    /// The rules file; unset when the proxy was given rules without a file (tests).
    config: OnceLock<PathBuf>,
    /// The state sessions take their rules from.
    current: OnceLock<watch::Sender<Arc<Shared>>>,
    /// One reload at a time.
    busy: tokio::sync::Mutex<()>,
    /// The rules file text in force (empty digest: not read from a file).
    in_force: Mutex<InForce>,
    /// The last cluster version this proxy warned about (to warn once per version).
    warned: Mutex<String>,
}

/// The rules file text in force, as `SHOW RULES` shows it.
#[derive(Clone, Default)]
pub struct InForce {
    /// Hex SHA-1 of `text`.
    pub digest: String,
    pub text: Arc<str>,
    /// When it was put in force.
    pub at: Option<std::time::SystemTime>,
}

impl InForce {
    fn new(text: &str) -> InForce {
        InForce {
            digest: digest(text),
            text: text.into(),
            at: Some(std::time::SystemTime::now()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain strings: usable after a panic elsewhere.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The hex SHA-1 of a rules file's text.
pub fn digest(text: &str) -> String {
    Sha1::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Reloader {
    /// Makes `sh` the state in force; `config` is the file later reloads read. Called once,
    /// when the server is built.
    pub fn install(sh: &Arc<Shared>, config: Option<&Path>) {
        let _ = sh.reload.current.set(watch::Sender::new(sh.clone()));
        if let Some(path) = config {
            let _ = sh.reload.config.set(path.to_path_buf());
            if let Ok(text) = std::fs::read_to_string(path) {
                *lock(&sh.reload.in_force) = InForce::new(&text);
            }
        }
    }

    /// The state in force now (None before [`Reloader::install`]).
    pub fn current(&self) -> Option<Arc<Shared>> {
        self.current.get().map(|tx| tx.borrow().clone())
    }

    /// A receiver that sees each state put in force.
    pub fn subscribe(&self) -> Option<watch::Receiver<Arc<Shared>>> {
        self.current.get().map(|tx| tx.subscribe())
    }

    /// The rules file, if the proxy has one.
    pub fn config(&self) -> Option<&Path> {
        self.config.get().map(PathBuf::as_path)
    }

    /// The digest of the rules file text in force.
    pub fn digest(&self) -> String {
        lock(&self.in_force).digest.clone()
    }

    /// The rules file text in force.
    pub fn in_force(&self) -> InForce {
        lock(&self.in_force).clone()
    }
}

fn refused(message: String) -> ProxyError {
    ProxyError::Sql {
        code: 1105,
        state: "HY000",
        message,
    }
}

/// What a restart would have to apply: the differences between `old` and `new` that a
/// reload cannot take.
fn restart_only(old: &Rules, new: &Rules) -> Vec<String> {
    let mut out = Vec::new();
    if old.listen != new.listen {
        out.push(format!("listen ({} -> {})", old.listen, new.listen));
    }
    if old.shards != new.shards {
        out.push("the shards or their servers".into());
    }
    if old.proxy.max_connections != new.proxy.max_connections {
        out.push("max_connections".into());
    }
    if old.proxy.max_backend_connections != new.proxy.max_backend_connections {
        out.push("max_backend_connections".into());
    }
    if old.proxy.health_check_interval != new.proxy.health_check_interval {
        out.push("health_check_interval_ms".into());
    }
    if old.proxy.worker_threads != new.proxy.worker_threads {
        out.push("worker_threads".into());
    }
    out
}

/// Reloads the rules file into the proxy of `sh` (see the module documentation). `force`
/// applies a change that moves stored rows. Answers what changed, as lines of text.
pub async fn reload(sh: &Shared, force: bool) -> Result<Vec<String>> {
    let _one = sh.reload.busy.lock().await;
    let outcome = apply(sh, force, None).await;
    let label = match &outcome {
        Ok(Some(_)) => "applied",
        Ok(None) => "unchanged",
        Err(_) => "refused",
    };
    sh.metrics.reloads.with_label_values(&[label]).inc();
    match outcome {
        Ok(Some((lines, digest))) => {
            record_version(sh, &digest).await;
            Ok(lines)
        }
        Ok(None) => Ok(vec![
            "the rules file is unchanged: nothing to reload".into(),
        ]),
        Err(e) => {
            tracing::error!("rules reload refused: {e}");
            Err(e)
        }
    }
}

/// Reads, checks and swaps in the rules file; `Ok(None)`: the file is the one in force.
/// `want`: apply only a file with this digest (a reload another proxy recorded).
async fn apply(
    sh: &Shared,
    force: bool,
    want: Option<&str>,
) -> Result<Option<(Vec<String>, String)>> {
    let Some(path) = sh.reload.config() else {
        return Err(refused(
            "RELOAD RULES: this proxy was not started from a rules file".into(),
        ));
    };
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| refused(format!("RELOAD RULES: cannot read {origin}: {e}")))?;
    let new_digest = digest(&text);
    if want.is_some_and(|w| w != new_digest) {
        return Ok(None);
    }
    if new_digest == sh.reload.digest() {
        return Ok(None);
    }
    let mut rules = Rules::from_toml(&text, &origin).map_err(|errs| {
        refused(format!(
            "RELOAD RULES: {origin} has problems; the running rules are unchanged:\n{errs}"
        ))
    })?;
    crate::config::topology::apply(&mut rules).map_err(|e| {
        refused(format!(
            "RELOAD RULES: the recorded topology cannot be applied: {e}"
        ))
    })?;
    // Installed whenever a rules file is known (`Reloader::install`).
    let old = sh
        .reload
        .current()
        .ok_or_else(|| refused("RELOAD RULES: no rules in force to replace".into()))?;
    let restart = restart_only(&old.rules, &rules);
    if !restart.is_empty() {
        return Err(refused(format!(
            "RELOAD RULES: {origin} changes {}, which only a restart applies; the running rules are unchanged",
            restart.join(", ")
        )));
    }
    let diff = crate::route::diff::diff(&old.rules, &rules);
    let mut lines: Vec<String> = diff.to_string().lines().map(str::to_string).collect();
    if diff.splits_change() {
        if !force {
            return Err(refused(format!(
                "RELOAD RULES: {origin} changes how split tables are stored in physical tables, and a reload moves no row between tables; create the new tables and move the rows first, then RELOAD RULES FORCE. The running rules are unchanged."
            )));
        }
        lines.push("FORCE: split tables now use the new physical tables".into());
    }
    if diff.moves_keys() && want.is_none() {
        // Bounded: a backend that does not answer refuses the reload instead of hanging it.
        let limit = old.rules.proxy.backend_timeout.max(Duration::from_secs(1)) * 10;
        let counted = tokio::time::timeout(
            limit,
            crate::route::diff::count_moving_rows(&old.rules, &rules),
        )
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", limit.as_secs())));
        match counted {
            Ok(counts) if counts.total() == 0 => {
                lines.push("no stored row changes shard".into());
            }
            Ok(counts) if force => {
                lines.push(format!(
                    "FORCE: {} stored rows are now on the wrong shard until moved:",
                    counts.total()
                ));
                lines.extend(counts.to_string().lines().map(str::to_string));
            }
            Ok(counts) => {
                return Err(refused(format!(
                    "RELOAD RULES: {origin} would move {} stored rows to other shards, which a reload does not do; move them first, or use RELOAD RULES FORCE to route by the new rules anyway. The running rules are unchanged.\n{counts}",
                    counts.total()
                )));
            }
            Err(e) if force => lines.push(format!(
                "FORCE: the rows that move could not be counted: {e}"
            )),
            Err(e) => {
                return Err(refused(format!(
                    "RELOAD RULES: {origin} moves keys between shards and the stored rows could not be counted ({e}); use RELOAD RULES FORCE to apply it anyway. The running rules are unchanged."
                )));
            }
        }
    }
    let next = Arc::new(Shared::with_runtime(
        rules,
        old.rt.clone(),
        old.admin.sessions.clone(),
    ));
    if let Some(tx) = sh.reload.current.get() {
        tx.send_replace(next);
    }
    *lock(&sh.reload.in_force) = InForce::new(&text);
    lines.insert(
        0,
        format!(
            "rules reloaded from {origin} (digest {})",
            &new_digest[..12]
        ),
    );
    tracing::info!("{}", lines.join("\n"));
    Ok(Some((lines, new_digest)))
}

/// Records `digest` as the version every proxy should run (best effort: a proxy that cannot
/// write it logs a warning; the reload itself stands).
async fn record_version(sh: &Shared, digest: &str) {
    let who = format!(
        "{}:{}",
        hostname(),
        sh.rules.listen.rsplit(':').next().unwrap_or("")
    );
    let r = async {
        let mut c = sh.backends.wire(0, None, false).await?;
        c.query_drop(CREATE_VERSION).await?;
        c.exec_drop(
            "REPLACE INTO shardgate.rules_version (id, digest, applied_at, applied_by) \
             VALUES (1, ?, CURRENT_TIMESTAMP(3), ?)",
            &[
                mysql_async::Value::from(digest),
                mysql_async::Value::from(who),
            ],
        )
        .await
        .map(drop)
    };
    if let Err(e) = tokio::time::timeout(sh.backends.timeout(), r)
        .await
        .unwrap_or_else(|_| Err(refused("timed out".into())))
    {
        tracing::warn!(
            "the rules version could not be recorded in {VERSION_TABLE}: other proxies will not follow this reload ({e})"
        );
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "proxy".into())
}

/// Follows the cluster's rules version until the task is dropped (see the module
/// documentation): idle for a proxy without a rules file.
pub async fn follow_loop(sh: Arc<Shared>) {
    if sh.reload.config().is_none() {
        return;
    }
    loop {
        tokio::time::sleep(POLL_EVERY).await;
        let Some(now) = sh.reload.current() else {
            continue;
        };
        let Some(wanted) = cluster_version(&now).await else {
            continue;
        };
        if wanted == now.reload.digest() {
            continue;
        }
        let _one = now.reload.busy.lock().await;
        match apply(&now, true, Some(&wanted)).await {
            Ok(Some(_)) => {
                now.metrics.reloads.with_label_values(&["applied"]).inc();
                tracing::info!("followed the cluster's rules version {wanted}");
            }
            Ok(None) => {
                let mut warned = lock(&now.reload.warned);
                if *warned != wanted {
                    tracing::warn!(
                        "another proxy runs rules version {wanted}, but {} has digest {}: copy the same file here and reload",
                        now.reload
                            .config()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                        now.reload.digest()
                    );
                    *warned = wanted;
                }
            }
            Err(e) => tracing::error!("could not follow the cluster's rules version: {e}"),
        }
    }
}

/// The digest recorded in [`VERSION_TABLE`], if any.
async fn cluster_version(sh: &Shared) -> Option<String> {
    let r = async {
        let mut c = sh.backends.wire(0, None, false).await.ok()?;
        c.query_first("SELECT digest FROM shardgate.rules_version WHERE id = 1")
            .await
            .ok()
            .flatten()
            .and_then(|d| String::from_utf8(d).ok())
    };
    tokio::time::timeout(sh.backends.timeout(), r)
        .await
        .ok()
        .flatten()
}
