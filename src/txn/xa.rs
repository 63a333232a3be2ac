//! Two-phase commit over XA for a transaction that wrote several shards.
//!
//! The first shard a transaction touches is its *coordinator*: it keeps a native transaction.
//! Every other shard joins as an XA branch (`XA START`) of one global transaction id (gtrid).
//! At COMMIT, with writes on several shards:
//!
//! 1. **Prepare**: `XA END` + `XA PREPARE` on every written branch, concurrently. Branches that
//!    were only read are ended and rolled back (nothing to vote on). A failure rolls back all.
//! 2. **Decide**: on the coordinator, `INSERT` the decision row into [`DECISIONS`] inside its
//!    own transaction, then `COMMIT`. That one commit makes the coordinator's writes and the
//!    decision durable together: the decision costs no extra round trip and lives in the
//!    database tier, where any proxy instance finds it.
//! 3. **Finish**: `XA COMMIT` on every prepared branch, concurrently. A branch that does not
//!    answer is finished by [`recover`] (this proxy's, or any other instance's).
//!
//! A transaction that wrote one shard commits natively: the coordinator with `COMMIT`, a
//! branch with `XA COMMIT ... ONE PHASE`.
//!
//! Recovery and the committing proxy can race on a prepared branch whose decision is not yet
//! written: recovery settles it by inserting a *rollback* decision under the same primary key.
//! Whichever insert commits first wins and the other fails on the duplicate key (or waits on
//! the row lock, then fails), so a transaction is never committed on some shards and rolled
//! back on others.

use crate::backend::Backends;
use crate::backend::wire::pool::PooledWire;
use crate::config::ShardId;
use crate::error::{ProxyError, Result};
use crate::txn::fault;
use mysql_async::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The table, on every shard, where coordinators record decisions.
pub const DECISIONS: &str = "shardgate.xa_decisions";

/// Prefix (and format version) of every gtrid shardgate writes: recovery touches nothing else.
pub const PREFIX: &str = "sg1:";

/// The statements that create the decision table (idempotent).
pub const CREATE_LOG: &str = "CREATE DATABASE IF NOT EXISTS shardgate; \
     CREATE TABLE IF NOT EXISTS shardgate.xa_decisions (\
     gtrid VARBINARY(64) NOT NULL PRIMARY KEY, \
     decision ENUM('commit','rollback') NOT NULL, \
     created TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB";

/// This process's name in its gtrids: its pid and start time, so that two instances (or two
/// runs of one) never issue the same id.
fn instance() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{:x}.{:x}", std::process::id(), (nanos >> 10) & 0xff_ffff)
    })
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A new gtrid: `sg1:<instance>:<unix ms>:<sequence>:<coordinator shard>`. It names the
/// coordinator, where the decision is, and its start time, which recovery's timeout reads.
pub fn new_gtrid(coordinator: &str) -> Result<String> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let g = format!("{PREFIX}{}:{}:{seq}:{coordinator}", instance(), now_ms());
    if g.len() > 64 {
        return Err(ProxyError::Transaction(format!(
            "shard name `{coordinator}` is too long for an XA transaction id (gtrids hold 64 bytes): shorten it, or set txn_mode = \"best_effort\""
        )));
    }
    Ok(g)
}

/// What a gtrid of ours says: its coordinator shard's name and its start time (unix ms).
pub fn parse_gtrid(g: &str) -> Option<(&str, u64)> {
    let rest = g.strip_prefix(PREFIX)?;
    let mut parts = rest.splitn(4, ':');
    let _instance = parts.next()?;
    let ms = parts.next()?.parse().ok()?;
    let _seq = parts.next()?;
    Some((parts.next()?, ms))
}

/// A SQL string literal of `s`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// The xid of `shard`'s branch, as XA statements write it: `'gtrid','bqual'`.
pub fn xid(gtrid: &str, bqual: &str) -> String {
    format!("{},{}", quote(gtrid), quote(bqual))
}

/// Runs `sql` on `conn` within the backend timeout. A text that ends the connection's part of
/// the transaction (its last statement a `COMMIT`, `ROLLBACK`, `XA COMMIT` or `XA ROLLBACK`)
/// and succeeds marks the connection settled (see [`super::Txn::join`]), so that it goes back
/// to its pool; a prepared branch's connection (`XA PREPARE` last) stays marked until then.
pub(super) async fn run(
    backends: &Backends,
    shard: ShardId,
    conn: &mut PooledWire,
    sql: &str,
) -> Result<()> {
    match tokio::time::timeout(backends.timeout(), conn.query_drop(sql)).await {
        Ok(Ok(_)) => {
            if ends_transaction(sql) {
                super::settled(conn);
            }
            Ok(())
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(ProxyError::BackendLost {
            shard: backends.shard_name(shard).to_string(),
            detail: format!("no answer to `{sql}`"),
        }),
    }
}

/// Whether the last statement of `sql` ends a transaction or an XA branch.
fn ends_transaction(sql: &str) -> bool {
    let last = sql.rsplit(';').next().unwrap_or(sql).trim_start();
    ["COMMIT", "ROLLBACK", "XA COMMIT", "XA ROLLBACK"]
        .iter()
        .any(|p| last.starts_with(p))
}

/// Creates the decision table on every shard; a shard where that fails is logged (its
/// transactions then cannot coordinate: their COMMIT fails and rolls back).
pub async fn ensure_log(backends: &Backends, shards: usize) {
    for shard in 0..shards {
        let r = match backends.wire(shard, None, false).await {
            Ok(mut c) => run(backends, shard, &mut c, CREATE_LOG).await,
            Err(e) => Err(e),
        };
        if let Err(e) = r {
            tracing::warn!(
                "the XA decision table {DECISIONS} could not be created on shard {}: {e}",
                backends.shard_name(shard)
            );
        }
    }
}

/// The participants of a transaction at COMMIT.
pub struct Participants {
    pub conns: BTreeMap<ShardId, PooledWire>,
    pub coordinator: ShardId,
    pub gtrid: String,
    pub branches: BTreeSet<ShardId>,
    pub written: BTreeSet<ShardId>,
}

/// How a COMMIT ended when it did not fail: fully, or with branches left for recovery.
pub type Finished = Option<String>;

/// Commits a transaction with XA branches (see the module documentation).
pub async fn commit(backends: &Backends, p: Participants) -> Result<Finished> {
    let Participants {
        conns,
        coordinator,
        gtrid,
        branches,
        written,
    } = p;
    let name = |s: ShardId| backends.shard_name(s).to_string();
    let mut coord_conn = None;
    let mut voters = Vec::new();
    let mut readers = Vec::new();
    for (shard, conn) in conns {
        if !branches.contains(&shard) {
            coord_conn = Some((shard, conn));
        } else if written.contains(&shard) {
            voters.push((shard, conn));
        } else {
            readers.push((shard, conn));
        }
    }
    let bq = |s: ShardId| xid(&gtrid, backends.shard_name(s));
    // Branches that only read: ended and rolled back, nothing to vote on.
    let released = futures_util::future::join_all(readers.into_iter().map(|(s, mut c)| {
        let sql = format!("XA END {x}; XA ROLLBACK {x}", x = bq(s));
        async move {
            if let Err(e) = run(backends, s, &mut c, &sql).await {
                tracing::warn!("releasing a read-only XA branch: {e}");
            }
        }
    }));
    let coordinator_wrote = written.contains(&coordinator);
    if voters.is_empty() || (voters.len() == 1 && !coordinator_wrote) {
        released.await;
        // One shard wrote: it commits alone, natively.
        if let Some((s, mut c)) = voters.pop() {
            let sql = format!("XA END {x}; XA COMMIT {x} ONE PHASE", x = bq(s));
            if let Err(e) = run(backends, s, &mut c, &sql).await {
                if let Some((cs, mut cc)) = coord_conn {
                    let _ = run(backends, cs, &mut cc, "ROLLBACK").await;
                }
                return Err(e);
            }
        }
        if let Some((s, mut c)) = coord_conn {
            run(backends, s, &mut c, "COMMIT").await?;
        }
        return Ok(None);
    }
    // Phase one: every written branch votes.
    fault::crash_point("xa::before_prepare");
    let prepares = futures_util::future::join_all(voters.into_iter().map(|(s, mut c)| {
        let sql = format!("XA END {x}; XA PREPARE {x}", x = bq(s));
        async move {
            let r = run(backends, s, &mut c, &sql).await;
            if r.is_ok() {
                fault::crash_point("xa::prepared_one");
            }
            (s, c, r)
        }
    }));
    let (_, votes) = futures_util::future::join(released, prepares).await;
    let mut prepared = Vec::new();
    let mut failed = None;
    let mut unsure = false;
    for (s, c, r) in votes {
        match r {
            Ok(()) => prepared.push((s, c)),
            Err(e) => {
                // Not prepared: its branch is rolled back. A connection that broke or hangs is
                // not asked again (another timeout): its server ends the branch with the
                // session, or, if it prepared before the break, recovery rolls it back, as
                // there is no commit decision.
                if e.is_connection_loss() {
                    unsure = true;
                } else {
                    let mut c = c;
                    let _ = run(backends, s, &mut c, &format!("XA ROLLBACK {}", bq(s))).await;
                }
                failed.get_or_insert((s, e));
            }
        }
    }
    let Some((cs, mut cc)) = coord_conn else {
        return Err(abort(
            backends,
            &gtrid,
            prepared,
            None,
            (coordinator, unsure),
            "the coordinator shard's connection is gone",
        )
        .await);
    };
    if let Some((s, e)) = failed {
        return Err(abort(
            backends,
            &gtrid,
            prepared,
            Some((cs, cc)),
            (cs, unsure),
            &format!("shard {} could not prepare: {e}", name(s)),
        )
        .await);
    }
    // The decision, durable with the coordinator's own commit. `@@in_transaction` guards
    // against a coordinator transaction the server already rolled back (a deadlock): then the
    // insert would commit on its own and the coordinator's writes would be missing.
    fault::crash_point("xa::before_decision");
    let decide = format!(
        "INSERT INTO {DECISIONS} (gtrid, decision) SELECT {}, 'commit' FROM DUAL WHERE @@in_transaction = 1",
        quote(&gtrid)
    );
    // One round trip: the insert and the COMMIT as one multi-statement (a failed insert stops
    // it before the COMMIT; an insert of no row leaves nothing open to commit).
    let decided = match tokio::time::timeout(backends.timeout(), async {
        let inserted = match cc.query(format!("{decide}; COMMIT")).await? {
            crate::backend::wire::Answer::Done(ok) => ok.affected_rows,
            crate::backend::wire::Answer::Rows(_) => 0,
        };
        cc.drain().await?;
        Ok::<u64, ProxyError>(inserted)
    })
    .await
    {
        Ok(Ok(1)) => Ok(()),
        Ok(Ok(_)) => Err(Decision::RolledBack(format!(
            "shard {}'s part of the transaction had already been rolled back by the server (a deadlock or lock wait timeout earlier in the transaction)",
            name(cs)
        ))),
        Ok(Err(ProxyError::Backend { code: 1062, .. })) => Err(Decision::RolledBack(
            "recovery decided to roll it back while it was waiting to commit".into(),
        )),
        Ok(Err(e)) if !e.is_connection_loss() => Err(Decision::RolledBack(format!(
            "recording the commit decision on shard {} failed: {e}",
            name(cs)
        ))),
        Ok(Err(e)) => Err(Decision::Unknown(e.to_string())),
        Err(_) => Err(Decision::Unknown("no answer to COMMIT".into())),
    };
    match decided {
        Ok(()) => super::settled(&mut cc),
        Err(Decision::RolledBack(why)) => {
            return Err(abort(
                backends,
                &gtrid,
                prepared,
                Some((cs, cc)),
                (cs, false),
                &why,
            )
            .await);
        }
        Err(Decision::Unknown(why)) => {
            drop(cc);
            // Ask again on a fresh connection: the decision row says what happened.
            match settle(backends, cs, &gtrid).await {
                Ok(true) => {}
                Ok(false) => {
                    return Err(abort(
                        backends,
                        &gtrid,
                        prepared,
                        None,
                        (cs, false),
                        &format!("the coordinator shard {} lost its connection before committing ({why})", name(cs)),
                    )
                    .await);
                }
                Err(e) => {
                    drop(prepared);
                    return Err(ProxyError::Transaction(format!(
                        "the outcome of the transaction is IN DOUBT: the coordinator shard {} did not answer its COMMIT ({why}) and cannot be asked ({e}); the prepared shards keep their locks until shardgate's recovery reaches it, then all commit or all roll back",
                        name(cs)
                    )));
                }
            }
        }
    }
    // Phase two: the decision is durable; every prepared branch commits.
    fault::crash_point("xa::after_decision");
    let commits = futures_util::future::join_all(prepared.into_iter().map(|(s, mut c)| {
        let sql = format!("XA COMMIT {}", bq(s));
        async move {
            let r = run(backends, s, &mut c, &sql).await;
            if r.is_ok() {
                fault::crash_point("xa::committed_one");
            }
            (s, r)
        }
    }))
    .await;
    let pending: Vec<String> = commits
        .into_iter()
        .filter_map(|(s, r)| match r {
            Ok(()) => None,
            Err(e) => {
                tracing::warn!("XA COMMIT on shard {}: {e}; recovery finishes it", name(s));
                Some(name(s))
            }
        })
        .collect();
    Ok((!pending.is_empty()).then(|| {
        format!(
            "the transaction is committed; shard {} has not confirmed yet and is finished by recovery",
            pending.join(", ")
        )
    }))
}

enum Decision {
    RolledBack(String),
    Unknown(String),
}

/// Rolls back the prepared branches and the coordinator, and says why. When a branch's state
/// is unknown (`unsure`: its prepare got no answer, or a rollback here fails), a rollback
/// decision is recorded on the coordinator `coord`, so that recovery rolls such a branch back on
/// its next pass instead of waiting for the in-doubt timeout while it holds its locks.
async fn abort(
    backends: &Backends,
    gtrid: &str,
    prepared: Vec<(ShardId, PooledWire)>,
    coordinator: Option<(ShardId, PooledWire)>,
    (coord, unsure): (ShardId, bool),
    why: &str,
) -> ProxyError {
    let rollbacks = prepared.into_iter().map(|(s, mut c)| {
        let sql = format!("XA ROLLBACK {}", xid(gtrid, backends.shard_name(s)));
        async move {
            let r = run(backends, s, &mut c, &sql).await;
            if let Err(e) = &r {
                tracing::warn!("XA ROLLBACK: {e}; recovery rolls it back");
            }
            r.is_ok()
        }
    });
    let coord_rollback = async {
        if let Some((s, mut c)) = coordinator {
            let _ = run(backends, s, &mut c, "ROLLBACK").await;
        }
    };
    let (done, _) =
        futures_util::future::join(futures_util::future::join_all(rollbacks), coord_rollback).await;
    if (unsure || done.contains(&false))
        && let Err(e) = settle(backends, coord, gtrid).await
    {
        tracing::warn!("recording the rollback decision of {gtrid}: {e}");
    }
    ProxyError::Transaction(format!(
        "the transaction was rolled back on every shard and nothing was committed: {why}"
    ))
}

/// The decision for `gtrid`, settled: true to commit. Without a decision row, a rollback
/// decision is inserted first, so that a late commit of the coordinator cannot win afterwards.
async fn settle(backends: &Backends, coordinator: ShardId, gtrid: &str) -> Result<bool> {
    let mut c = backends.wire(coordinator, None, false).await?;
    for _ in 0..3 {
        if let Some(d) = decision_of(backends, &mut c, coordinator, gtrid).await? {
            return Ok(d == "commit");
        }
        let ins = format!(
            "INSERT INTO {DECISIONS} (gtrid, decision) VALUES ({}, 'rollback')",
            quote(gtrid)
        );
        match tokio::time::timeout(backends.timeout(), c.query_drop(ins)).await {
            Ok(Ok(_)) => return Ok(false),
            Ok(Err(ProxyError::Backend { code: 1062, .. })) => continue,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(lost(backends, coordinator)),
        }
    }
    Err(ProxyError::Transaction(
        "the decision row kept changing".into(),
    ))
}

fn lost(backends: &Backends, shard: ShardId) -> ProxyError {
    ProxyError::BackendLost {
        shard: backends.shard_name(shard).to_string(),
        detail: "no answer".into(),
    }
}

/// Rolls back an open transaction's branches (`XA END` + `XA ROLLBACK`) and its coordinator.
pub async fn rollback(
    backends: &Backends,
    gtrid: &str,
    conns: BTreeMap<ShardId, PooledWire>,
    branches: &BTreeSet<ShardId>,
) -> Vec<Result<()>> {
    let futs = conns.into_iter().map(|(s, mut c)| {
        let x = xid(gtrid, backends.shard_name(s));
        let sql = if branches.contains(&s) {
            format!("XA END {x}; XA ROLLBACK {x}")
        } else {
            "ROLLBACK".to_string()
        };
        let branch = branches.contains(&s);
        async move {
            match run(backends, s, &mut c, &sql).await {
                // A branch the server already rolled back (a deadlock) is in the ROLLBACK ONLY
                // state, where XA END fails (1399): XA ROLLBACK alone ends it.
                Err(ProxyError::Backend { code: 1399, .. }) if branch => {
                    run(backends, s, &mut c, &format!("XA ROLLBACK {x}")).await
                }
                r => r,
            }
        }
    });
    futures_util::future::join_all(futs).await
}

/// What one recovery pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    pub committed: usize,
    pub rolled_back: usize,
    /// In-doubt branches left (their transaction is younger than the timeout, or a shard
    /// could not be reached).
    pub left: usize,
    pub decisions_removed: u64,
}

/// One recovery pass over every shard: each prepared branch of ours (`XA RECOVER`, gtrid
/// starting with [`PREFIX`]) is committed when its coordinator recorded a commit, rolled back
/// when it recorded a rollback, and, when there is no decision and the transaction started more
/// than `timeout` ago, settled as rolled back. Branches of other tools are never touched. When
/// every shard answered, decision rows older than `keep` whose transactions have no branch left
/// are deleted.
pub async fn recover(
    backends: &Backends,
    shards: usize,
    timeout: Duration,
    keep: Duration,
) -> Recovered {
    let mut out = Recovered::default();
    let names: HashMap<String, ShardId> = (0..shards)
        .map(|s| (backends.shard_name(s).to_string(), s))
        .collect();
    let mut all_answered = true;
    let mut in_doubt: BTreeSet<String> = BTreeSet::new();
    let mut decisions: HashMap<String, Option<bool>> = HashMap::new();
    for shard in 0..shards {
        let mut c = match backends.wire(shard, None, false).await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!("XA recovery: shard {}: {e}", backends.shard_name(shard));
                all_answered = false;
                continue;
            }
        };
        let rows = match tokio::time::timeout(backends.timeout(), c.query_rows("XA RECOVER")).await
        {
            Ok(Ok(r)) => r,
            _ => {
                all_answered = false;
                continue;
            }
        };
        for row in rows {
            // formatID, gtrid_length, bqual_length, data.
            let [_, glen, blen, Value::Bytes(data)] = row.as_slice() else {
                continue;
            };
            let (Some(glen), Some(blen)) = (text_number(glen), text_number(blen)) else {
                continue;
            };
            if data.len() < glen + blen {
                continue;
            }
            let (Ok(gtrid), Ok(bqual)) = (
                std::str::from_utf8(&data[..glen]),
                std::str::from_utf8(&data[glen..glen + blen]),
            ) else {
                continue;
            };
            let Some((coord, started)) = parse_gtrid(gtrid) else {
                continue; // not ours
            };
            let decision = match decisions.get(gtrid) {
                Some(d) => *d,
                None => {
                    let old = now_ms().saturating_sub(started) > timeout.as_millis() as u64;
                    let d = match names.get(coord) {
                        Some(&cs) => lookup(backends, cs, gtrid, old).await,
                        None => None,
                    };
                    decisions.insert(gtrid.to_string(), d);
                    d
                }
            };
            let sql = match decision {
                Some(true) => format!("XA COMMIT {}", xid(gtrid, bqual)),
                Some(false) => format!("XA ROLLBACK {}", xid(gtrid, bqual)),
                None => {
                    out.left += 1;
                    in_doubt.insert(gtrid.to_string());
                    continue;
                }
            };
            fault::crash_point("xa::recover_before_finish");
            match run(backends, shard, &mut c, &sql).await {
                Ok(()) if decision == Some(true) => out.committed += 1,
                Ok(()) => out.rolled_back += 1,
                Err(e) => {
                    // Still attached to a live session (it is finishing it), or the shard broke.
                    tracing::debug!("XA recovery: {sql}: {e}");
                    out.left += 1;
                    in_doubt.insert(gtrid.to_string());
                }
            }
        }
    }
    if all_answered {
        for shard in 0..shards {
            let Ok(mut c) = backends.wire(shard, None, false).await else {
                continue;
            };
            let mut sql = format!(
                "DELETE FROM {DECISIONS} WHERE created < NOW(3) - INTERVAL {} SECOND",
                keep.as_secs().max(1)
            );
            if !in_doubt.is_empty() {
                let list: Vec<String> = in_doubt.iter().map(|g| quote(g)).collect();
                sql.push_str(&format!(" AND gtrid NOT IN ({})", list.join(", ")));
            }
            if let Ok(Ok(ok)) = tokio::time::timeout(backends.timeout(), c.query_drop(&sql)).await {
                out.decisions_removed += ok.affected_rows;
            }
        }
    }
    out
}

/// The decision recorded for `gtrid` on its coordinator: Some(true) commit, Some(false)
/// rollback; without one, a rollback is settled when `old`, else None (still running).
async fn lookup(backends: &Backends, coordinator: ShardId, gtrid: &str, old: bool) -> Option<bool> {
    if old {
        return settle(backends, coordinator, gtrid).await.ok();
    }
    let mut c = backends.wire(coordinator, None, false).await.ok()?;
    decision_of(backends, &mut c, coordinator, gtrid)
        .await
        .ok()?
        .map(|d| d == "commit")
}

/// The decision row of `gtrid` on its coordinator, if there is one.
async fn decision_of(
    backends: &Backends,
    c: &mut PooledWire,
    coordinator: ShardId,
    gtrid: &str,
) -> Result<Option<String>> {
    let q = format!(
        "SELECT decision FROM {DECISIONS} WHERE gtrid = {}",
        quote(gtrid)
    );
    match tokio::time::timeout(backends.timeout(), c.query_first(q)).await {
        Ok(r) => Ok(r?.map(|d| String::from_utf8_lossy(&d).into_owned())),
        Err(_) => Err(lost(backends, coordinator)),
    }
}

/// A number of a text-protocol row (its digits as bytes).
fn text_number(v: &Value) -> Option<usize> {
    match v {
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtrids_name_their_coordinator_and_start() {
        let g = new_gtrid("shard:b").unwrap();
        assert!(g.starts_with(PREFIX) && g.len() <= 64, "{g}");
        let (coord, ms) = parse_gtrid(&g).unwrap();
        assert_eq!(coord, "shard:b");
        assert!(now_ms() - ms < 60_000);
        assert_ne!(g, new_gtrid("shard:b").unwrap());
        assert_eq!(parse_gtrid("other:1:2:3:x"), None);
        assert!(new_gtrid(&"x".repeat(60)).is_err());
        assert_eq!(xid("a'b", "c"), "'a''b','c'");
        assert!(ends_transaction(
            "XA END 'g','b'; XA COMMIT 'g','b' ONE PHASE"
        ));
        assert!(ends_transaction("XA END 'g','b'; XA ROLLBACK 'g','b'"));
        assert!(ends_transaction("COMMIT") && ends_transaction("ROLLBACK"));
        assert!(!ends_transaction("XA END 'g','b'; XA PREPARE 'g','b'"));
    }
}
