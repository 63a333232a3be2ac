//! A session's transaction: which shards it has touched, each with its pinned backend
//! connection. One shard: MySQL's own transaction. Several shards: committed shard by shard,
//! which is NOT atomic (a coordinator with XA two-phase commit replaces this in a later issue);
//! a commit that fails part-way says exactly which shards committed.

use crate::backend::Backends;
use crate::config::ShardId;
use crate::error::{ProxyError, Result};
use crate::sql::command::TxChars;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, IsolationLevel, TxOpts};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// The state of a session's transaction.
#[derive(Default)]
pub struct Txn {
    conns: BTreeMap<ShardId, Conn>,
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
}

impl Txn {
    /// Whether a transaction is open (explicitly, or implicitly under autocommit=0).
    pub fn is_open(&self) -> bool {
        self.started.is_some()
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
    pub fn take(&mut self, shard: ShardId) -> Option<Conn> {
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
    pub fn put(&mut self, shard: ShardId, conn: Conn) {
        self.lent.remove(&shard);
        self.conns.insert(shard, conn);
    }

    /// Opens a backend transaction on a fresh connection joining this transaction.
    ///
    /// The transaction is opened through mysql_async's own `start_transaction` (the same
    /// `START TRANSACTION` on the wire) and its guard is forgotten, so that the connection
    /// itself remembers that it is inside a transaction. That is the safety net for every path
    /// that drops a pinned connection without COMMIT or ROLLBACK (a statement that fails
    /// part-way, a session task aborted at shutdown): the pool then rolls the connection back
    /// before anyone else borrows it. With a text `BEGIN` the pool cannot see the transaction
    /// and would hand it, locks and uncommitted rows included, to another client, whose
    /// autocommit writes would then silently never commit. The price is one `ROLLBACK` the pool
    /// sends in the background when a connection returns after our own COMMIT/ROLLBACK (a
    /// no-op on the server, off the client's path).
    pub async fn join(
        backends: &Backends,
        shard: ShardId,
        mut conn: Conn,
        chars: &TxChars,
    ) -> Result<Conn> {
        let mut opts = TxOpts::default();
        opts.with_consistent_snapshot(chars.snapshot)
            .with_readonly(chars.read_only)
            .with_isolation_level(chars.isolation.as_deref().and_then(|l| match l {
                "READ UNCOMMITTED" => Some(IsolationLevel::ReadUncommitted),
                "READ COMMITTED" => Some(IsolationLevel::ReadCommitted),
                "REPEATABLE READ" => Some(IsolationLevel::RepeatableRead),
                "SERIALIZABLE" => Some(IsolationLevel::Serializable),
                _ => None,
            }));
        let start = async {
            let tx = conn.start_transaction(opts).await?;
            // Not a leak: the guard only borrows `conn`; forgetting it skips its Drop, which
            // would otherwise mark the connection for a rollback before its next statement.
            std::mem::forget(tx);
            Ok::<(), mysql_async::Error>(())
        };
        tokio::time::timeout(backends.timeout(), start)
            .await
            .map_err(|_| lost(backends, shard, "BEGIN timed out"))?
            .map_err(|e| ProxyError::from_backend(backends.shard_name(shard), e))?;
        Ok(conn)
    }

    /// Commits shard by shard. With several shards every one is first checked to be alive, so a
    /// shard that died while the transaction was open makes the whole transaction roll back
    /// rather than commit part-way; if a shard still fails during COMMIT after others
    /// committed, the error names both.
    pub async fn commit(&mut self, backends: &Backends) -> Result<()> {
        self.started = None;
        self.chars = TxChars::default();
        let mut conns = std::mem::take(&mut self.conns);
        let mut gone = std::mem::take(&mut self.lost);
        gone.append(&mut self.lent);
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
                Ok(Ok(())) => committed.push(backends.shard_name(shard).to_string()),
                Ok(Err(e)) => {
                    failure = Some((
                        shard,
                        ProxyError::from_backend(backends.shard_name(shard), e),
                    ))
                }
                Err(_) => failure = Some((shard, lost(backends, shard, "COMMIT timed out"))),
            }
        }
        rollback_all(backends, rest).await;
        match failure {
            None => Ok(()),
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
        let mut first_err = None;
        for r in rollback_each(backends, conns).await {
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

    /// Runs `sql` (e.g. `USE db`) on every pinned connection.
    pub async fn each(&mut self, backends: &Backends, sql: &str) -> Result<()> {
        for (shard, conn) in self.conns.iter_mut() {
            tokio::time::timeout(
                backends.timeout(),
                conn.query_drop(&*crate::sql::text::encode(sql)),
            )
            .await
            .map_err(|_| lost(backends, *shard, "timed out"))?
            .map_err(|e| ProxyError::from_backend(backends.shard_name(*shard), e))?;
        }
        Ok(())
    }
}

/// Pings every pinned connection at once, each within the backend timeout. Connections that
/// fail are removed from `conns` (and dropped: the pool never reuses them); the first failure
/// is returned.
async fn check_alive(backends: &Backends, conns: &mut BTreeMap<ShardId, Conn>) -> Result<()> {
    let checks = conns.iter_mut().map(|(shard, conn)| async move {
        let r = match tokio::time::timeout(backends.timeout(), conn.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ProxyError::from_backend(backends.shard_name(*shard), e)),
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
    conns: impl IntoIterator<Item = (ShardId, Conn)>,
) -> Vec<Result<()>> {
    let futs = conns
        .into_iter()
        .map(|(shard, mut conn)| async move { rollback_one(backends, shard, &mut conn).await });
    futures_util::future::join_all(futs).await
}

/// Rolls back `conns`, best effort: the client is told about the failure that led here, and a
/// connection whose rollback fails is dropped (the pool discards or rolls back it).
async fn rollback_all(backends: &Backends, conns: impl IntoIterator<Item = (ShardId, Conn)>) {
    for r in rollback_each(backends, conns).await {
        if let Err(e) = r {
            tracing::warn!("ROLLBACK after a failed transaction: {e}");
        }
    }
}

async fn rollback_one(backends: &Backends, shard: ShardId, conn: &mut Conn) -> Result<()> {
    match tokio::time::timeout(backends.timeout(), conn.query_drop("ROLLBACK")).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(ProxyError::from_backend(backends.shard_name(shard), e)),
        Err(_) => Err(lost(backends, shard, "ROLLBACK timed out")),
    }
}

fn lost(backends: &Backends, shard: ShardId, what: &str) -> ProxyError {
    ProxyError::BackendLost {
        shard: backends.shard_name(shard).to_string(),
        detail: what.to_string(),
    }
}
