//! The rules file: a serde model of the TOML (`raw`), validated into the domain types below.
//!
//! Validation collects every problem, each with its file, line and path, so a DBA fixes a file
//! in one pass. `rules/example.toml` is the format; `rules/README.md` explains every key.

// No unwrap/expect on the request path (tests may use them).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod build;
mod colocate;
mod error;
mod keys;
pub mod pattern;
pub mod raw;
pub mod split;
mod table;
pub mod topology;
pub(crate) mod url;
mod validate;

pub use error::{ConfigError, ConfigErrors};
pub use table::TableCx;

pub use crate::route::collation::Collation;

use crate::route::consistent_hash::ConsistentHashRule;
use crate::route::hash::HashRule;
use crate::route::list::ListRule;
use crate::route::range::RangeRule;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A shard, as an index into [`Rules::shards`].
pub type ShardId = usize;

/// Validated rules: everything the proxy needs to know about users, shards and placement.
#[derive(Clone, Debug)]
pub struct Rules {
    /// Address clients connect to (a socket address, e.g. `127.0.0.1:3307`).
    pub listen: String,
    /// Tunables of the proxy.
    pub proxy: ProxySettings,
    /// Users the proxy accepts.
    pub users: Vec<User>,
    /// Shards, in declared order ([`ShardId`] indexes this).
    pub shards: Vec<Shard>,
    /// Logical schemas.
    pub schemas: Vec<Schema>,
}

impl Rules {
    /// Parses and validates a rules file; `origin` names it in messages.
    pub fn from_toml(text: &str, origin: &str) -> Result<Rules, ConfigErrors> {
        validate::rules_from_toml(text, origin)
    }

    /// Reads, parses and validates a rules file; an unreadable file is a [`ConfigError`] too.
    pub fn load(path: &std::path::Path) -> Result<Rules, ConfigErrors> {
        let origin = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Rules::from_toml(&text, &origin),
            Err(e) => Err(ConfigErrors(vec![ConfigError {
                location: origin,
                message: format!("cannot read the rules file: {e}"),
            }])),
        }
    }

    /// The schema named exactly `name`.
    pub fn schema(&self, name: &str) -> Option<&Schema> {
        self.schemas.iter().find(|s| s.name == name)
    }

    /// The user named exactly `name`.
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }
}

/// `[proxy]` tunables.
/// Where metrics are served unless the rules or the command line say otherwise: loopback
/// only, so that nothing is exposed without a decision.
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9104";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxySettings {
    /// Each wait for a backend: connecting, a statement's first answer, each following row
    /// (`backend_timeout_ms`).
    pub backend_timeout: Duration,
    /// Age at which an open transaction is rolled back (`transaction_timeout_ms`).
    pub transaction_timeout: Duration,
    /// Client connections served at once.
    pub max_connections: usize,
    /// Connections one pool keeps to one backend server at most (`max_backend_connections`):
    /// sessions with the same database and settings share a pool, and hold a connection only
    /// while a statement runs or a transaction is open; past the bound a statement waits for a
    /// free connection (up to the backend timeout). The proxy's own work (sequences, column
    /// lookups, replica positions, XA recovery) has pools of its own under this bound.
    pub max_backend_connections: usize,
    /// Distinct statement texts whose analysis is cached (0 disables the cache).
    pub plan_cache_size: usize,
    /// Ids reserved at a time for `auto_increment` tables.
    pub id_block_size: u64,
    /// Megabytes of rows a buffered cross-shard result may hold in the proxy while it waits
    /// for its merge (`merge_memory_limit_mb`); past it the statement fails with 1038.
    pub merge_memory_limit_mb: u64,
    /// How a transaction that writes several shards commits (`txn_mode`).
    pub txn_mode: TxnMode,
    /// The lock wait bound, in seconds, of every statement of a transaction that spans several
    /// shards (`cross_shard_lock_wait_s`): a deadlock across shards is a wait no server sees,
    /// so such a wait ends after this long and the client gets deadlock error 1213. Capped
    /// below the backend timeout (see [`ProxySettings::cross_shard_lock_wait`]).
    pub cross_shard_lock_wait_s: u64,
    /// Where reads outside a transaction go by default (`read_from`).
    pub read_from: ReadFrom,
    /// What a read from a replica must have seen (`causal`).
    pub causal: Causal,
    /// A replica further behind its primary than this (`Seconds_Behind_Master`) leaves the
    /// read rotation (`max_replica_lag_s`).
    pub max_replica_lag_s: u64,
    /// How often the health checker looks at every backend (`health_check_interval_ms`).
    pub health_check_interval: Duration,
    /// In `causal = "global"`, how long a replica may take to apply the primary's latest
    /// transaction before the read goes to the primary instead (`causal_wait_ms`).
    pub causal_wait: Duration,
    /// Whether the primary also takes reads beside its healthy replicas (`primary_reads`); it
    /// always takes them when no replica is healthy.
    pub primary_reads: bool,
    /// Where promotions are recorded (`topology_file`), read at start-up over `[[shards]]`;
    /// `None`: a promotion holds until the proxy restarts.
    pub topology_file: Option<std::path::PathBuf>,
    /// Statements taking longer than this are logged at `warn` with their fingerprint, route
    /// and shards (`slow_statement_ms`; 0: never).
    pub slow_statement: Duration,
    /// Threads running client sessions (`worker_threads`; 0: one per CPU core). Read at
    /// start-up only.
    pub worker_threads: usize,
    /// Where Prometheus metrics are served (`metrics_listen`, default `127.0.0.1:9104`;
    /// `"off"`: nowhere). `serve --metrics-listen` overrides it.
    pub metrics_listen: String,
}

/// Where a read outside a transaction goes (`read_from`, `SET shardgate_read_from`, and the
/// `/* shardgate:primary */` / `/* shardgate:replica */` hints per statement).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadFrom {
    /// A healthy replica of the shard, when its consistency mode allows. The default.
    #[default]
    Replica,
    /// The shard's primary.
    Primary,
}

impl ReadFrom {
    /// The value named `s` (`replica`, `primary`, any case).
    pub fn parse(s: &str) -> Option<ReadFrom> {
        match s.to_ascii_lowercase().as_str() {
            "replica" => Some(ReadFrom::Replica),
            "primary" => Some(ReadFrom::Primary),
            _ => None,
        }
    }

    /// The name as `read_from` spells it.
    pub fn name(self) -> &'static str {
        match self {
            ReadFrom::Replica => "replica",
            ReadFrom::Primary => "primary",
        }
    }
}

/// What a read from a replica is guaranteed to see (`causal`, `SET shardgate_causal`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Causal {
    /// Read-your-writes: everything this session committed (the default). After a session
    /// writes a shard, its reads there go to the primary until the health checker has seen a
    /// replica apply everything the primary had at a moment after that write.
    #[default]
    Session,
    /// Everything any client committed anywhere before the read began (through any proxy, or
    /// straight to the primary): the read asks the primary for its GTID position and the
    /// replica waits for it (`causal_wait_ms`), else the primary answers.
    Global,
    /// No guarantee beyond `max_replica_lag_s`: a replica in rotation answers.
    None,
}

impl Causal {
    /// The mode named `s` (`session`, `global`, `none`, any case).
    pub fn parse(s: &str) -> Option<Causal> {
        match s.to_ascii_lowercase().as_str() {
            "session" => Some(Causal::Session),
            "global" => Some(Causal::Global),
            "none" => Some(Causal::None),
            _ => None,
        }
    }

    /// The mode's name as `causal` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Causal::Session => "session",
            Causal::Global => "global",
            Causal::None => "none",
        }
    }
}

/// How a transaction that writes several shards commits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TxnMode {
    /// Two-phase commit over XA, the decision recorded on the transaction's first shard
    /// (see [`crate::txn`]): all shards commit or none. The default.
    #[default]
    Xa,
    /// Shard by shard, each with its own COMMIT: a failure between two commits leaves some
    /// shards committed (the error says which).
    BestEffort,
    /// A transaction may write one shard only: a write to a second shard is refused.
    Single,
}

impl TxnMode {
    /// The mode named `s` (`xa`, `best_effort`, `single`, any case).
    pub fn parse(s: &str) -> Option<TxnMode> {
        match s.to_ascii_lowercase().as_str() {
            "xa" => Some(TxnMode::Xa),
            "best_effort" => Some(TxnMode::BestEffort),
            "single" => Some(TxnMode::Single),
            _ => None,
        }
    }

    /// The mode's name as `txn_mode` spells it.
    pub fn name(self) -> &'static str {
        match self {
            TxnMode::Xa => "xa",
            TxnMode::BestEffort => "best_effort",
            TxnMode::Single => "single",
        }
    }
}

impl ProxySettings {
    /// The lock wait bound actually applied, in whole seconds (what `innodb_lock_wait_timeout`
    /// takes): `cross_shard_lock_wait_s`, but at least 1 s below the backend timeout, so that a
    /// lock wait ends as a deadlock error before the proxy gives the backend up as lost.
    pub fn cross_shard_lock_wait(&self) -> u64 {
        let below_backend = self.backend_timeout.as_secs().saturating_sub(1).max(1);
        self.cross_shard_lock_wait_s.min(below_backend).max(1)
    }
}

impl Default for ProxySettings {
    /// The defaults documented in `rules/example.toml`.
    fn default() -> Self {
        ProxySettings {
            backend_timeout: Duration::from_millis(10_000),
            transaction_timeout: Duration::from_millis(60_000),
            max_connections: 1000,
            max_backend_connections: 200,
            plan_cache_size: 4096,
            id_block_size: 1000,
            merge_memory_limit_mb: 256,
            txn_mode: TxnMode::default(),
            cross_shard_lock_wait_s: 5,
            read_from: ReadFrom::default(),
            causal: Causal::default(),
            max_replica_lag_s: 10,
            health_check_interval: Duration::from_millis(1000),
            causal_wait: Duration::from_millis(500),
            primary_reads: false,
            topology_file: None,
            slow_statement: Duration::from_millis(1000),
            metrics_listen: DEFAULT_METRICS_LISTEN.to_string(),
            worker_threads: 0,
        }
    }
}

/// A user the proxy accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Password (mysql_native_password), as written.
    pub password: String,
    /// Schemas this user may use; `None` allows every schema.
    pub schemas: Option<Vec<String>>,
    /// `admin = true`: statements that administer a server (accounts, grants, KILL of other
    /// users' sessions, global settings, file access, replication control, the backends'
    /// system schemas) are let through; for everyone else the proxy refuses them.
    pub admin: bool,
}

impl User {
    /// True when this user may use the schema named exactly `schema`.
    pub fn may_use(&self, schema: &str) -> bool {
        match &self.schemas {
            None => true,
            Some(list) => list.iter().any(|s| s == schema),
        }
    }
}

/// A shard: one primary and its replicas, as `mysql://user[:pass]@host:port` URLs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Name used in the rules (`s0`).
    pub name: String,
    /// URL of the primary, as written.
    pub primary: String,
    /// URLs of the replicas, as written.
    pub replicas: Vec<String>,
    /// Each replica's share of the shard's reads (`replica_weights`; 1 each by default).
    pub replica_weights: Vec<u32>,
}

/// A logical schema: its sharded tables and where everything else lives.
#[derive(Clone, Debug)]
pub struct Schema {
    /// Name, as clients use it (case-sensitive, like MySQL database names on Linux).
    pub name: String,
    /// Shard holding every table not listed in the rules.
    pub default_shard: ShardId,
    /// Rules of tables named exactly, keyed by lowercase table name.
    tables: HashMap<String, Arc<TableRule>>,
    /// Rules named by a pattern (`t_*`), tried when no exact name matches.
    patterns: pattern::Patterns,
}

impl Schema {
    /// The rule of table `name` (case-insensitive), or None for an unsharded table: the rule
    /// naming it exactly (one hash lookup), else the rule whose pattern matches it, applied to
    /// this table (see [`TableRule::for_table`]).
    pub fn table(&self, name: &str) -> Option<Arc<TableRule>> {
        let lower = name.to_lowercase();
        if let Some(rule) = self.tables.get(&lower) {
            return Some(rule.clone());
        }
        self.patterns
            .find(&lower)
            .map(|rule| Arc::new(rule.for_table(name)))
    }

    /// The name of the rule placing table `name`: the table as the rules write it, or the
    /// pattern of the pattern rule matching it; None for an unsharded table.
    pub fn rule_name(&self, name: &str) -> Option<&str> {
        let lower = name.to_lowercase();
        if let Some(rule) = self.tables.get(&lower) {
            return Some(&rule.name);
        }
        self.patterns.find(&lower).map(|r| r.name.as_str())
    }

    /// Every table rule of the schema (in no particular order); a pattern rule is named by its
    /// pattern.
    pub fn tables(&self) -> impl Iterator<Item = &Arc<TableRule>> {
        self.tables.values().chain(self.patterns.rules())
    }
}

/// The type of a table's shard key, which decides how values compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `key_type = "int"`: a signed 64-bit integer.
    Int,
    /// `key_type = "string"`: text compared under a collation (`collation` in the rules,
    /// `utf8mb4_general_ci` when absent).
    String(Collation),
    /// `key_type = "date"`: a DATE.
    Date,
    /// `key_type = "datetime"`: a DATETIME (microseconds kept).
    DateTime,
}

impl KeyType {
    /// The name used in the rules file.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Int => "int",
            KeyType::String(_) => "string",
            KeyType::Date => "date",
            KeyType::DateTime => "datetime",
        }
    }
}

/// How a table's rows are placed, with the algorithm's own parameters.
#[derive(Clone, Debug)]
pub enum Algorithm {
    /// `hash`: modulo over the table's shards.
    Hash(HashRule),
    /// `range`: half-open key ranges.
    Range(RangeRule),
    /// `list`: explicit values per shard.
    List(ListRule),
    /// `consistent_hash`: a hash ring with virtual nodes.
    ConsistentHash(ConsistentHashRule),
    /// `broadcast`: a full copy on every shard of the table.
    Broadcast,
}

impl Algorithm {
    /// Its name in the rules file (`algorithm = "..."`).
    pub fn name(&self) -> &'static str {
        match self {
            Algorithm::Hash(_) => "hash",
            Algorithm::Range(_) => "range",
            Algorithm::List(_) => "list",
            Algorithm::ConsistentHash(_) => "consistent_hash",
            Algorithm::Broadcast => "broadcast",
        }
    }
}

pub use table::{AutoIncrement, TableRule};
