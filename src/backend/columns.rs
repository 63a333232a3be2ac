//! Column order of sharded tables, learned from the backends: an `INSERT INTO t VALUES (...)`
//! without a column list is routed by the position of the shard key, which only the table's
//! definition knows. Read from `information_schema.COLUMNS` of one shard holding the table
//! (every shard holds the same definition: DDL on a sharded table runs on all of them) and
//! cached until DDL through the proxy names the table again.

use super::Backends;
use crate::config::ShardId;
use crate::error::{ProxyError, Result};
use mysql_async::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Column lists by (schema, lower-cased table name).
type Cache = HashMap<(String, String), Arc<[String]>>;

/// The cached column lists, and each table's AUTO_INCREMENT column (if any).
#[derive(Default)]
pub struct Columns {
    cache: Mutex<Cache>,
    auto_increment: Mutex<HashMap<(String, String), Option<String>>>,
}

impl Columns {
    /// The columns of `schema`.`table` in their order (invisible columns left out, as an
    /// INSERT without a column list leaves them), read on `shard` unless cached. `fresh`: read
    /// them again even when cached. A table that does not exist is MySQL's 1146.
    pub async fn get(
        &self,
        backends: &Backends,
        shard: ShardId,
        schema: &str,
        table: &str,
        fresh: bool,
    ) -> Result<Arc<[String]>> {
        let key = (schema.to_string(), table.to_lowercase());
        if !fresh && let Some(found) = self.lock()?.get(&key) {
            return Ok(found.clone());
        }
        let name = backends.shard_name(shard).to_string();
        let mut conn = backends.wire(shard, Some(schema), false).await?;
        let found = tokio::time::timeout(
            backends.timeout(),
            conn.exec_rows(
                "SELECT TABLE_NAME, COLUMN_NAME, EXTRA FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 ORDER BY TABLE_NAME, ORDINAL_POSITION",
                &[Value::from(schema), Value::from(table)],
            ),
        )
        .await
        .map_err(|_| ProxyError::BackendLost {
            shard: name.clone(),
            detail: "reading the table's columns timed out".into(),
        })??;
        let all: Vec<(String, String, String)> = found
            .into_iter()
            .map(|row| {
                let mut row = row.into_iter().map(text);
                let mut next = || row.next().unwrap_or_default();
                (next(), next(), next())
            })
            .collect();
        let extra_has = |extra: &str, what: &str| extra.to_ascii_lowercase().contains(what);
        let auto_increment = all
            .iter()
            .filter(|(t, ..)| t == table || t.eq_ignore_ascii_case(table))
            .find(|(.., extra)| extra_has(extra, "auto_increment"))
            .map(|(_, c, _)| c.clone());
        let rows: Vec<(String, String)> = all
            .into_iter()
            .filter(|(.., extra)| !extra_has(extra, "invisible"))
            .map(|(t, c, _)| (t, c))
            .collect();
        // information_schema compares names case-insensitively: the table named exactly as
        // written when there is one, else the only match (lower_case_table_names servers).
        let exact: Vec<String> = rows
            .iter()
            .filter(|(t, _)| t == table)
            .map(|(_, c)| c.clone())
            .collect();
        let single = rows
            .first()
            .is_some_and(|(t0, _)| rows.iter().all(|(t, _)| t == t0));
        let columns: Arc<[String]> = if !exact.is_empty() {
            exact.into()
        } else if single && !rows.is_empty() {
            rows.into_iter().map(|(_, c)| c).collect()
        } else {
            return Err(ProxyError::UnknownTable {
                schema: schema.to_string(),
                table: table.to_string(),
            });
        };
        if let Ok(mut ai) = self.auto_increment.lock() {
            ai.insert(key.clone(), auto_increment);
        }
        self.lock()?.insert(key, columns.clone());
        Ok(columns)
    }

    /// The AUTO_INCREMENT column of `schema`.`table` (read with its columns, see [`Self::get`]).
    pub async fn auto_increment(
        &self,
        backends: &Backends,
        shard: ShardId,
        schema: &str,
        table: &str,
    ) -> Result<Option<String>> {
        let key = (schema.to_string(), table.to_lowercase());
        let cached = |c: &Self| c.auto_increment.lock().ok()?.get(&key).cloned();
        if let Some(found) = cached(self) {
            return Ok(found);
        }
        self.get(backends, shard, schema, table, true).await?;
        Ok(cached(self).flatten())
    }

    /// Forgets `schema`.`table` (after DDL that may change its columns).
    pub fn forget(&self, schema: &str, table: &str) {
        if let Ok(mut c) = self.cache.lock() {
            c.remove(&(schema.to_string(), table.to_lowercase()));
        }
        if let Ok(mut c) = self.auto_increment.lock() {
            c.remove(&(schema.to_string(), table.to_lowercase()));
        }
    }

    /// Forgets every table of `schema` (after CREATE/DROP DATABASE).
    pub fn forget_schema(&self, schema: &str) {
        if let Ok(mut c) = self.cache.lock() {
            c.retain(|(s, _), _| s != schema);
        }
        if let Ok(mut c) = self.auto_increment.lock() {
            c.retain(|(s, _), _| s != schema);
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Cache>> {
        self.cache
            .lock()
            .map_err(|_| ProxyError::Transaction("column cache lock poisoned".into()))
    }
}

/// A text value of one of the proxy's own queries ('' for NULL).
fn text(v: Value) -> String {
    match v {
        Value::Bytes(b) => String::from_utf8(b)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        _ => String::new(),
    }
}
