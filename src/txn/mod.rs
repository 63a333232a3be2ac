//! A session's transaction: which shards it has touched, each with its pinned backend
//! connection. One shard: MySQL's own transaction. Several shards: committed shard by shard,
//! which is NOT atomic (a coordinator with XA two-phase commit replaces this in a later issue);
//! a commit that fails part-way says exactly which shards committed.

use crate::backend::Backends;
use crate::config::ShardId;
use crate::error::{ProxyError, Result};
use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use std::collections::BTreeMap;
use std::time::Instant;

/// The state of a session's transaction.
#[derive(Default)]
pub struct Txn {
    conns: BTreeMap<ShardId, Conn>,
    started: Option<Instant>,
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

    /// Opens a transaction; shards join it on first use ([`Txn::take`] / [`Txn::put`]).
    pub fn begin(&mut self) {
        self.started = Some(Instant::now());
    }

    /// Shards pinned so far.
    pub fn pinned(&self) -> Vec<ShardId> {
        self.conns.keys().copied().collect()
    }

    /// Takes the pinned connection of `shard`, if it joined already.
    pub fn take(&mut self, shard: ShardId) -> Option<Conn> {
        self.conns.remove(&shard)
    }

    /// Pins (or re-pins) `conn` for `shard`.
    pub fn put(&mut self, shard: ShardId, conn: Conn) {
        self.conns.insert(shard, conn);
    }

    /// Opens a backend transaction on a fresh connection joining this transaction.
    pub async fn join(backends: &Backends, shard: ShardId, mut conn: Conn) -> Result<Conn> {
        tokio::time::timeout(backends.timeout(), conn.query_drop("BEGIN"))
            .await
            .map_err(|_| lost(backends, shard, "BEGIN timed out"))?
            .map_err(|e| ProxyError::from_backend(backends.shard_name(shard), e))?;
        Ok(conn)
    }

    /// Commits shard by shard. If a shard fails after others committed, the error names both.
    pub async fn commit(&mut self, backends: &Backends) -> Result<()> {
        self.started = None;
        let conns = std::mem::take(&mut self.conns);
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
        for (shard, mut conn) in rest {
            let _ = rollback_one(backends, shard, &mut conn).await;
        }
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

    /// Rolls back every pinned shard. Connections whose rollback fails are dropped.
    pub async fn rollback(&mut self, backends: &Backends) -> Result<()> {
        self.started = None;
        let conns = std::mem::take(&mut self.conns);
        let mut first_err = None;
        for (shard, mut conn) in conns {
            if let Err(e) = rollback_one(backends, shard, &mut conn).await {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Drops the pinned connection of `shard` (after it was lost).
    pub fn forget(&mut self, shard: ShardId) {
        self.conns.remove(&shard);
    }

    /// Runs `sql` (e.g. `USE db`) on every pinned connection.
    pub async fn each(&mut self, backends: &Backends, sql: &str) -> Result<()> {
        for (shard, conn) in self.conns.iter_mut() {
            tokio::time::timeout(backends.timeout(), conn.query_drop(sql))
                .await
                .map_err(|_| lost(backends, *shard, "timed out"))?
                .map_err(|e| ProxyError::from_backend(backends.shard_name(*shard), e))?;
        }
        Ok(())
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
