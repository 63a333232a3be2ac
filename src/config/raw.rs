//! The rules file as written: serde structs with every field optional and spanned, so that
//! validation can report each missing key and each bad value with its line. Each field is the
//! key of the same name, documented in `rules/README.md`.

use serde::Deserialize;
use toml::Spanned;

/// A spanned optional value, the shape of almost every field below.
pub type Opt<T> = Option<Spanned<T>>;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
pub struct RawRules {
    pub listen: Opt<String>,
    pub proxy: Opt<RawProxy>,
    #[serde(default)]
    pub users: Vec<Spanned<RawUser>>,
    #[serde(default)]
    pub shards: Vec<Spanned<RawShard>>,
    #[serde(default)]
    pub schemas: Vec<Spanned<RawSchema>>,
}

/// `[proxy]`.
#[derive(Debug, Default, Deserialize)]
pub struct RawProxy {
    pub backend_timeout_ms: Opt<i64>,
    pub transaction_timeout_ms: Opt<i64>,
    pub max_connections: Opt<i64>,
    pub max_backend_connections: Opt<i64>,
    pub plan_cache_size: Opt<i64>,
    pub id_block_size: Opt<i64>,
    pub merge_memory_limit_mb: Opt<i64>,
    pub txn_mode: Opt<String>,
    pub cross_shard_lock_wait_s: Opt<i64>,
    pub read_from: Opt<String>,
    pub causal: Opt<String>,
    pub max_replica_lag_s: Opt<i64>,
    pub health_check_interval_ms: Opt<i64>,
    pub causal_wait_ms: Opt<i64>,
    pub primary_reads: Opt<bool>,
    pub slow_statement_ms: Opt<i64>,
    pub metrics_listen: Opt<String>,
    pub topology_file: Opt<String>,
    pub worker_threads: Opt<i64>,
}

/// One `[[users]]`.
#[derive(Debug, Deserialize)]
pub struct RawUser {
    pub name: Opt<String>,
    pub password: Opt<String>,
    pub schemas: Opt<Vec<Spanned<String>>>,
    pub admin: Opt<bool>,
}

/// One `[[shards]]`.
#[derive(Debug, Deserialize)]
pub struct RawShard {
    pub name: Opt<String>,
    pub primary: Opt<String>,
    pub replicas: Opt<Vec<Spanned<String>>>,
    pub replica_weights: Opt<Vec<Spanned<i64>>>,
}

/// One `[[schemas]]`.
#[derive(Debug, Deserialize)]
pub struct RawSchema {
    pub name: Opt<String>,
    pub default_shard: Opt<String>,
    #[serde(default)]
    pub tables: Vec<Spanned<RawTable>>,
    #[serde(default)]
    pub colocated: Vec<Spanned<RawColocated>>,
}

/// One `[[schemas.colocated]]`: tables placed alike, each as `"table.key_column"`.
#[derive(Debug, Deserialize)]
pub struct RawColocated {
    pub tables: Opt<Vec<Spanned<String>>>,
}

/// One `[[schemas.tables]]`: common keys plus every algorithm's own keys (each algorithm
/// checks that the keys of the others are absent).
#[derive(Clone, Debug, Deserialize)]
pub struct RawTable {
    pub names: Opt<Vec<Spanned<String>>>,
    pub algorithm: Opt<String>,
    pub key: Opt<String>,
    pub key_type: Opt<String>,
    /// The string key column's collation (`utf8mb4_general_ci` when absent).
    pub collation: Opt<String>,
    /// `true` (the key column), a column name, or `false`: checked in `build`.
    pub auto_increment: Opt<toml::Value>,
    pub shards: Opt<Vec<Spanned<String>>>,
    pub default_shard: Opt<String>,
    pub ranges: Opt<Vec<Spanned<RawRange>>>,
    pub lists: Opt<Vec<Spanned<RawList>>>,
    pub virtual_nodes: Opt<i64>,
    /// Table splitting (hash): physical tables per shard, and their names' template.
    pub tables_per_shard: Opt<i64>,
    pub table_template: Opt<String>,
    /// Table splitting (range, list): the physical table of keys outside every entry.
    pub default_table: Opt<String>,
}

/// One entry of `ranges`.
#[derive(Clone, Debug, Deserialize)]
pub struct RawRange {
    pub shard: Opt<String>,
    /// Table splitting: the physical table holding the entry's keys (a name template).
    pub table: Opt<String>,
    pub from: Opt<toml::Value>,
    pub to: Opt<toml::Value>,
}

/// One entry of `lists`.
#[derive(Clone, Debug, Deserialize)]
pub struct RawList {
    pub shard: Opt<String>,
    /// Table splitting: the physical table holding the entry's values (a name template).
    pub table: Opt<String>,
    pub values: Opt<Vec<Spanned<toml::Value>>>,
}
