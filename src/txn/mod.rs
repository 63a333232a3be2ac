//! A session's transaction: which shards it has touched, each with its pinned backend
//! connection. One shard: MySQL's own transaction. Several shards: under `txn_mode = "xa"`
//! a two-phase commit ([`xa`]); under `best_effort` committed shard by shard, which is NOT
//! atomic (a commit that fails part-way says exactly which shards committed); under `single`
//! a write to a second shard is refused.

pub mod fault;
pub mod xa;

use crate::backend::wire::pool::PooledWire;
use crate::backend::{Backends, Server};
use crate::config::{ShardId, TxnMode};
use crate::error::{ProxyError, Result};
use crate::sql::command::TxChars;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// The state of a session's transaction.
#[derive(Default)]
pub struct Txn {
    conns: BTreeMap<ShardId, PooledWire>,
    /// Shards whose pinned connection is out with a running statement ([`Txn::take`]) and has not
    /// been given back ([`Txn::put`]) yet.
    lent: BTreeSet<ShardId>,
    /// Shards whose part of the transaction is gone: the connection was lost, or never came
    /// back from a statement (a connection dropped with its transaction open is rolled back,
    /// see [`Txn::join`]). Such a transaction can only be rolled back.
    lost: BTreeSet<ShardId>,
    started: Option<Instant>,
    /// Isolation level, access mode and snapshot asked for when it began.
    chars: TxChars,
    /// Under xa: the first shard that joined (it keeps a native transaction and records the
    /// decision), the global id once a second shard joins, and the shards that joined as XA
    /// branches of it.
    coordinator: Option<ShardId>,
    gtrid: Option<String>,
    branches: BTreeSet<ShardId>,
    /// Shards a write statement ran on.
    written: BTreeSet<ShardId>,
    /// Shards whose part runs on a replica (a `READ ONLY` transaction), by replica.
    on_replica: BTreeMap<ShardId, usize>,
}

impl Txn {
    /// Whether a transaction is open (explicitly, or implicitly under autocommit=0).
    pub fn is_open(&self) -> bool {
        self.started.is_some()
    }

    /// Whether the transaction commits in two phases (XA branches on other shards).
    pub fn is_xa(&self) -> bool {
        self.gtrid.is_some() && !self.branches.is_empty()
    }

    /// Whether the transaction has joined more than one shard.
    pub fn spans_shards(&self) -> bool {
        self.conns.len() + self.lent.len() + self.lost.len() > 1
    }

    /// When the open transaction started.
    pub fn started(&self) -> Option<Instant> {
        self.started
    }

    /// Opens a transaction with `chars`; shards join it on first use ([`Txn::take`] /
    /// [`Txn::put`], after [`Txn::join`]).
    pub fn begin(&mut self, chars: TxChars) {
        self.started = Some(Instant::now());
        self.chars = chars;
        self.reset_parts();
    }

    /// Forgets how shards joined: XA ids, branches, writes, replicas.
    fn reset_parts(&mut self) {
        self.coordinator = None;
        self.gtrid = None;
        self.branches.clear();
        self.written.clear();
        self.on_replica.clear();
    }

    /// Whether `shard` has joined the transaction (its connection pinned, lent out, or lost).
    pub fn has_joined(&self, shard: ShardId) -> bool {
        self.conns.contains_key(&shard) || self.lent.contains(&shard) || self.lost.contains(&shard)
    }

    /// Whether the transaction was opened `READ ONLY`: its parts may run on replicas, and need
    /// no two-phase commit (they write nothing).
    pub fn is_read_only(&self) -> bool {
        self.chars.read_only == Some(true)
    }

    /// Records the server a shard joined on (a replica, for a `READ ONLY` transaction).
    pub fn joined_on(&mut self, server: Server) {
        if let Some(r) = server.replica {
            self.on_replica.insert(server.shard, r);
        }
    }

    /// The server `shard`'s part of the transaction runs on.
    pub fn server(&self, shard: ShardId) -> Server {
        Server {
            shard,
            replica: self.on_replica.get(&shard).copied(),
        }
    }

    /// Records that a write statement is about to run on `shards`. Under `single`, refused
    /// when the transaction would then have written two shards.
    pub fn note_writes(&mut self, mode: TxnMode, shards: &[ShardId]) -> Result<()> {
        if mode == TxnMode::Single {
            let mut all = self.written.clone();
            all.extend(shards.iter().copied());
            if all.len() > 1 {
                return Err(ProxyError::Transaction(
                    "this statement would make the transaction write a second shard, which txn_mode = 'single' refuses (commit first, or SET shardgate_txn_mode = 'xa')".into(),
                ));
            }
        }
        self.written.extend(shards.iter().copied());
        Ok(())
    }

    /// `shard` could not join: it is neither the coordinator nor a branch.
    pub fn join_failed(&mut self, shard: ShardId) {
        if self.coordinator == Some(shard) && self.gtrid.is_none() {
            self.coordinator = None;
        }
        self.branches.remove(&shard);
    }

    /// How `shard`, about to join, joins: natively (None: the first shard, or outside xa) or
    /// as an XA branch with the returned xid.
    pub fn branch_for(
        &mut self,
        backends: &Backends,
        mode: TxnMode,
        shard: ShardId,
    ) -> Result<Option<String>> {
        if mode != TxnMode::Xa || self.is_read_only() {
            return Ok(None);
        }
        let coordinator = *self.coordinator.get_or_insert(shard);
        if coordinator == shard || !self.is_open() {
            return Ok(None);
        }
        let gtrid = match &self.gtrid {
            Some(g) => g.clone(),
            None => {
                let g = xa::new_gtrid(backends.shard_name(coordinator))?;
                self.gtrid = Some(g.clone());
                g
            }
        };
        self.branches.insert(shard);
        Ok(Some(xa::xid(&gtrid, backends.shard_name(shard))))
    }

    /// The characteristics every shard's part of the transaction starts with.
    pub fn chars(&self) -> &TxChars {
        &self.chars
    }

    /// Shards pinned so far.
    pub fn pinned(&self) -> Vec<ShardId> {
        self.conns.keys().copied().collect()
    }

    /// Takes the pinned connection of `shard`, if it joined already. Until it is given back
    /// with [`Txn::put`] the shard counts as lent; a shard still lent when a later statement
    /// asks for it again was lost by the statement that took it, and so was its part of the
    /// transaction: the caller then joins a fresh connection, but COMMIT will refuse.
    pub fn take(&mut self, shard: ShardId) -> Option<PooledWire> {
        if let Some(c) = self.conns.remove(&shard) {
            self.lent.insert(shard);
            return Some(c);
        }
        if self.lent.remove(&shard) {
            self.lost.insert(shard);
        }
        None
    }

    /// Pins (or re-pins) `conn` for `shard`.
    pub fn put(&mut self, shard: ShardId, conn: PooledWire) {
        self.lent.remove(&shard);
        self.conns.insert(shard, conn);
    }

    /// Opens a backend transaction on a fresh connection joining this transaction: natively
    /// (`SET TRANSACTION ...; START TRANSACTION ...`, one round trip), or as the XA branch
    /// `branch` (its xid).
    ///
    /// The connection is first marked to be closed rather than returned to its pool if it is
    /// dropped before its COMMIT or ROLLBACK succeeded ([`PooledWire::set_discard`]). That is
    /// the safety net for every path that drops a pinned connection without ending its
    /// transaction (a statement that fails part-way, a client that leaves mid-result, a session
    /// task aborted at shutdown): the server rolls back the transaction of a connection that
    /// goes away (a prepared XA branch stays, for recovery), and nobody else ever borrows it.
    /// Without it the pool could hand the transaction, locks and uncommitted rows included, to
    /// another client, whose autocommit writes would then silently never commit. The
    /// transaction's own COMMIT or ROLLBACK clears the mark ([`settled`]), so a transaction
    /// that ends normally costs no extra statement and keeps its connection.
    pub async fn join(
        backends: &Backends,
        shard: ShardId,
        mut conn: PooledWire,
        chars: &TxChars,
        branch: Option<&str>,
    ) -> Result<PooledWire> {
        conn.set_discard(true);
        tokio::time::timeout(
            backends.timeout(),
            conn.query_drop(begin_sql(chars, branch)),
        )
        .await
        .map_err(|_| lost(backends, shard, "BEGIN timed out"))??;
        Ok(conn)
    }

    /// Commits shard by shard. With several shards every one is first checked to be alive, so a
    /// shard that died while the transaction was open makes the whole transaction roll back
    /// rather than commit part-way; if a shard still fails during COMMIT after others
    /// committed, the error names both.
    pub async fn commit(&mut self, backends: &Backends) -> Result<()> {
        self.commit_noting(backends).await.map(|_| ())
    }

    /// [`Txn::commit`], also returning a note when the commit is decided but a shard is still
    /// being finished by recovery.
    pub async fn commit_noting(&mut self, backends: &Backends) -> Result<xa::Finished> {
        self.started = None;
        self.chars = TxChars::default();
        let mut conns = std::mem::take(&mut self.conns);
        let mut gone = std::mem::take(&mut self.lost);
        gone.append(&mut self.lent);
        let coordinator = self.coordinator;
        let gtrid = self.gtrid.take();
        let branches = std::mem::take(&mut self.branches);
        let written = std::mem::take(&mut self.written);
        self.reset_parts();
        if let Some(gtrid) = gtrid
            && !branches.is_empty()
        {
            if !gone.is_empty() || coordinator.is_none_or(|c| !conns.contains_key(&c)) {
                let names: Vec<&str> = gone.iter().map(|s| backends.shard_name(*s)).collect();
                xa::rollback(backends, &gtrid, conns, &branches).await;
                return Err(ProxyError::Transaction(format!(
                    "the transaction was rolled back on every shard and nothing was committed: the connection to shard {} was lost during the transaction",
                    names.join(", ")
                )));
            }
            return xa::commit(
                backends,
                xa::Participants {
                    conns,
                    coordinator: coordinator.unwrap_or_default(),
                    gtrid,
                    branches,
                    written,
                },
            )
            .await;
        }
        if !gone.is_empty() {
            let names: Vec<&str> = gone.iter().map(|s| backends.shard_name(*s)).collect();
            rollback_all(backends, conns).await;
            return Err(ProxyError::Transaction(format!(
                "the transaction was rolled back on every shard and nothing was committed: \
                 the connection to shard {} was lost during the transaction",
                names.join(", ")
            )));
        }
        if conns.len() > 1
            && let Err(e) = check_alive(backends, &mut conns).await
        {
            rollback_all(backends, conns).await;
            return Err(ProxyError::Transaction(format!(
                "the transaction was rolled back on every shard and nothing was committed: {e}"
            )));
        }
        let mut committed = Vec::new();
        let mut failure: Option<(ShardId, ProxyError)> = None;
        let mut rest = Vec::new();
        for (shard, mut conn) in conns {
            if failure.is_some() {
                rest.push((shard, conn));
                continue;
            }
            match tokio::time::timeout(backends.timeout(), conn.query_drop("COMMIT")).await {
                Ok(Ok(_)) => {
                    settled(&mut conn);
                    committed.push(backends.shard_name(shard).to_string())
                }
                Ok(Err(e)) => failure = Some((shard, e)),
                Err(_) => failure = Some((shard, lost(backends, shard, "COMMIT timed out"))),
            }
        }
        rollback_all(backends, rest).await;
        match failure {
            None => Ok(None),
            Some((_, e)) if committed.is_empty() => Err(e),
            Some((shard, e)) => Err(ProxyError::Transaction(format!(
                "transaction PARTIALLY committed: shards {} committed, shard {} failed ({e}) and the rest were rolled back",
                committed.join(", "),
                backends.shard_name(shard)
            ))),
        }
    }

    /// Rolls back every pinned shard. A shard whose connection is lost counts as rolled back:
    /// a server rolls back the transaction of a connection that goes away (and the proxy never
    /// reuses that connection). Only an error the server itself returns is reported.
    pub async fn rollback(&mut self, backends: &Backends) -> Result<()> {
        self.started = None;
        self.chars = TxChars::default();
        self.lent.clear();
        self.lost.clear();
        let conns = std::mem::take(&mut self.conns);
        let gtrid = self.gtrid.take();
        let branches = std::mem::take(&mut self.branches);
        self.reset_parts();
        let results = match gtrid {
            Some(g) if !branches.is_empty() => xa::rollback(backends, &g, conns, &branches).await,
            _ => rollback_each(backends, conns).await,
        };
        let mut first_err = None;
        for r in results {
            match r {
                Ok(()) => {}
                Err(e) if e.is_connection_loss() => {
                    tracing::warn!("ROLLBACK: {e}; the server discards that transaction");
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Drops the pinned connection of `shard` (after it was lost): its part of the
    /// transaction is gone, so the transaction can no longer commit.
    pub fn forget(&mut self, shard: ShardId) {
        self.conns.remove(&shard);
        self.lent.remove(&shard);
        self.lost.insert(shard);
    }

    /// Runs `sql` (e.g. `USE db`) on every pinned connection. They then no longer match the
    /// pools they came from, and are closed rather than returned once the transaction ends.
    pub async fn each(&mut self, backends: &Backends, sql: &str) -> Result<()> {
        for (shard, conn) in self.conns.iter_mut() {
            conn.retire();
            tokio::time::timeout(
                backends.timeout(),
                conn.query_drop(&*crate::sql::text::encode(sql)),
            )
            .await
            .map_err(|_| lost(backends, *shard, "timed out"))??;
        }
        Ok(())
    }
}

/// Pings every pinned connection at once, each within the backend timeout. Connections that
/// fail are removed from `conns` (and dropped: the pool never reuses them); the first failure
/// is returned.
async fn check_alive(backends: &Backends, conns: &mut BTreeMap<ShardId, PooledWire>) -> Result<()> {
    let checks = conns.iter_mut().map(|(shard, conn)| async move {
        let r = match tokio::time::timeout(backends.timeout(), conn.ping()).await {
            Ok(r) => r,
            Err(_) => Err(lost(backends, *shard, "no answer before COMMIT")),
        };
        (*shard, r)
    });
    let mut first = None;
    for (shard, r) in futures_util::future::join_all(checks).await {
        if let Err(e) = r {
            conns.remove(&shard);
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

/// Rolls back `conns` concurrently (a hung shard costs one backend timeout, not one per shard)
/// and returns each shard's result.
async fn rollback_each(
    backends: &Backends,
    conns: impl IntoIterator<Item = (ShardId, PooledWire)>,
) -> Vec<Result<()>> {
    let futs = conns
        .into_iter()
        .map(|(shard, mut conn)| async move { rollback_one(backends, shard, &mut conn).await });
    futures_util::future::join_all(futs).await
}

/// Rolls back `conns`, best effort: the client is told about the failure that led here, and a
/// connection whose rollback fails is dropped (and closed: the server rolls it back).
async fn rollback_all(backends: &Backends, conns: impl IntoIterator<Item = (ShardId, PooledWire)>) {
    for r in rollback_each(backends, conns).await {
        if let Err(e) = r {
            tracing::warn!("ROLLBACK after a failed transaction: {e}");
        }
    }
}

async fn rollback_one(backends: &Backends, shard: ShardId, conn: &mut PooledWire) -> Result<()> {
    // `xa::run` marks the connection settled once its ROLLBACK succeeded.
    xa::run(backends, shard, conn, "ROLLBACK").await
}

/// The statements that open a shard's part of a transaction with `chars`: natively, or as the
/// XA branch `branch`. One text, sent as one multi-statement round trip.
fn begin_sql(chars: &TxChars, branch: Option<&str>) -> String {
    let mut sql = String::new();
    if let Some(level) = &chars.isolation {
        sql.push_str(&format!("SET TRANSACTION ISOLATION LEVEL {level}; "));
    }
    match chars.read_only {
        Some(true) => sql.push_str("SET TRANSACTION READ ONLY; "),
        Some(false) if branch.is_none() => sql.push_str("SET TRANSACTION READ WRITE; "),
        _ => {}
    }
    match branch {
        Some(xid) => sql.push_str(&format!("XA START {xid}")),
        None if chars.snapshot => sql.push_str("START TRANSACTION WITH CONSISTENT SNAPSHOT"),
        None => sql.push_str("START TRANSACTION"),
    }
    sql
}

/// Marks `conn` as back outside any transaction, after its COMMIT or ROLLBACK succeeded: its
/// pool takes it back when it is dropped (see [`Txn::join`]).
pub(crate) fn settled(conn: &mut PooledWire) {
    conn.set_discard(false);
}

fn lost(backends: &Backends, shard: ShardId, what: &str) -> ProxyError {
    ProxyError::BackendLost {
        shard: backends.shard_name(shard).to_string(),
        detail: what.to_string(),
    }
}
