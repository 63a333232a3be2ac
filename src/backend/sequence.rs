//! Global id sequences for the column a sharded table's rule numbers (`auto_increment`, the
//! shard key or another column). Blocks of ids are reserved from the table
//! `shardgate_sequences` in the schema's database on its default shard, so ids never repeat
//! across proxy restarts; with one proxy, ids are dense (1, 2, 3, ...) until it restarts, when
//! the rest of its last block is skipped.

use super::Backends;
use crate::config::{Schema, ShardId, TableRule};
use crate::error::{ProxyError, Result};
use mysql_async::Value;
use std::collections::HashMap;
use tokio::sync::Mutex;

/// The table that holds the next free id of each sequence.
pub const SEQUENCE_TABLE: &str = "shardgate_sequences";

/// Reserved blocks, per `schema.table`: (next id, end of block).
#[derive(Default)]
pub struct Sequences {
    blocks: Mutex<HashMap<String, (u64, u64)>>,
}

impl Sequences {
    /// `n` fresh ids for `rule` in `schema`, reserving `block` (or more) at a time.
    pub async fn next_ids(
        &self,
        backends: &Backends,
        schema: &Schema,
        rule: &TableRule,
        n: usize,
        block: u64,
    ) -> Result<Vec<u64>> {
        let name = format!("{}.{}", schema.name, rule.name.to_ascii_lowercase());
        let mut blocks = self.blocks.lock().await;
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let (next, end) = blocks.get(&name).copied().unwrap_or((0, 0));
            if next < end {
                let take = ((end - next) as usize).min(n - out.len());
                out.extend(next..next + take as u64);
                blocks.insert(name.clone(), (next + take as u64, end));
                continue;
            }
            let want = block.max((n - out.len()) as u64);
            let start = reserve(backends, schema, rule, want).await?;
            blocks.insert(name.clone(), (start, start + want));
        }
        Ok(out)
    }

    /// Moves `rule`'s sequence past `id`, an id a statement gave explicitly (MySQL's
    /// AUTO_INCREMENT counter does the same), so later generated ids never collide with it.
    pub async fn observe(
        &self,
        backends: &Backends,
        schema: &Schema,
        rule: &TableRule,
        id: u64,
    ) -> Result<()> {
        let name = format!("{}.{}", schema.name, rule.name.to_ascii_lowercase());
        let mut blocks = self.blocks.lock().await;
        match blocks.get_mut(&name) {
            Some((next, _)) if id < *next => return Ok(()),
            Some((next, end)) if id + 1 < *end => {
                *next = id + 1;
                return Ok(());
            }
            _ => {}
        }
        // Past this proxy's block (or none reserved yet): the stored next id moves on, and the
        // next reservation starts after it.
        blocks.remove(&name);
        let shard = schema.default_shard;
        let mut conn = backends.wire(shard, Some(&schema.name), false).await?;
        let r = conn
            .exec_drop(
                format!(
                    "UPDATE {SEQUENCE_TABLE} SET next_id = GREATEST(next_id, ?) WHERE name = ?"
                ),
                &[
                    Value::from(id.saturating_add(1)),
                    Value::from(rule.name.to_ascii_lowercase()),
                ],
            )
            .await;
        match r {
            Ok(_) => Ok(()),
            // No sequence yet: the first reservation starts after the largest stored id.
            Err(ProxyError::Backend { code: 1146, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Forgets `rule`'s sequence (after DROP/TRUNCATE/CREATE TABLE), so ids start again after
    /// the largest id present.
    pub async fn reset(
        &self,
        backends: &Backends,
        schema: &Schema,
        rule: &TableRule,
    ) -> Result<()> {
        let name = format!("{}.{}", schema.name, rule.name.to_ascii_lowercase());
        self.blocks.lock().await.remove(&name);
        let shard = schema.default_shard;
        let mut conn = backends.wire(shard, Some(&schema.name), false).await?;
        let r = conn
            .exec_drop(
                format!("DELETE FROM {SEQUENCE_TABLE} WHERE name = ?"),
                &[Value::from(rule.name.to_ascii_lowercase())],
            )
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(ProxyError::Backend { code: 1146, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Reserves `count` ids and returns the first.
async fn reserve(
    backends: &Backends,
    schema: &Schema,
    rule: &TableRule,
    count: u64,
) -> Result<u64> {
    let shard = schema.default_shard;
    let key = rule.name.to_ascii_lowercase();
    let mut conn = backends.wire(shard, Some(&schema.name), false).await?;
    conn.query_drop(format!(
        "CREATE TABLE IF NOT EXISTS {SEQUENCE_TABLE} (name VARCHAR(191) PRIMARY KEY, next_id BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB"
    ))
    .await?;
    let existing = conn
        .exec_rows(
            format!("SELECT next_id FROM {SEQUENCE_TABLE} WHERE name = ?"),
            &[Value::from(key.clone())],
        )
        .await?;
    if existing.is_empty() {
        // First use: continue after the largest id already stored on any shard.
        let col = rule.numbered_column().unwrap_or("id");
        let mut max = 0u64;
        // Every table holding rows: a split table's physical tables, else one per shard.
        let tables: Vec<(ShardId, String)> = match &rule.split {
            Some(split) => (0..split.units().len())
                .map(|u| (split.shard_of(u), split.physical(u, &rule.name)))
                .collect(),
            None => rule
                .shards
                .iter()
                .map(|&s| (s, rule.name.clone()))
                .collect(),
        };
        for (s, table) in tables {
            let mut c = backends.wire(s, Some(&schema.name), false).await?;
            let q = format!(
                "SELECT COALESCE(MAX(`{}`), 0) FROM `{}`",
                col.replace('`', "``"),
                table.replace('`', "``")
            );
            match c.query_first(q).await {
                Ok(v) => max = max.max(number(v.as_deref())),
                Err(ProxyError::Backend { code: 1146, .. }) => {}
                Err(e) => return Err(e),
            }
        }
        conn.exec_drop(
            format!("INSERT IGNORE INTO {SEQUENCE_TABLE} (name, next_id) VALUES (?, ?)"),
            &[Value::from(key.clone()), Value::from(max + 1)],
        )
        .await?;
    }
    conn.exec_drop(
        format!("UPDATE {SEQUENCE_TABLE} SET next_id = LAST_INSERT_ID(next_id + ?) WHERE name = ?"),
        &[Value::from(count), Value::from(key)],
    )
    .await?;
    let end = conn
        .query_first("SELECT LAST_INSERT_ID()")
        .await?
        .ok_or_else(|| ProxyError::Transaction("id sequence row vanished".into()))?;
    Ok(number(Some(&end)).saturating_sub(count))
}

/// An unsigned number in a text-protocol value (0 for NULL or anything else).
fn number(v: Option<&[u8]>) -> u64 {
    v.and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
