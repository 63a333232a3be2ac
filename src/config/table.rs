//! Table rules: the common keys of `[[schemas.tables]]`, dispatch to the algorithm that
//! validates its own keys, and the point/range lookups the router calls.

use super::error::Diag;
use super::raw::RawTable;
use super::{Algorithm, KeyType, ShardId};
use crate::route::{Key, RouteError};
use mysql_common::value::Value;
use std::collections::HashMap;
use std::ops::{Bound, Range};
use std::sync::Arc;
use toml::Spanned;

/// Placement of one logical table.
#[derive(Clone, Debug)]
pub struct TableRule {
    /// Table name as written in the rules; for a table placed by a pattern rule, the name as
    /// the statement wrote it (the rule itself is named by its pattern, e.g. `t_*`).
    pub name: String,
    /// Algorithm and its parameters (shared by every table of the rule).
    pub algorithm: Arc<Algorithm>,
    /// Shard key column; None only for broadcast tables.
    pub key: Option<String>,
    /// Type of the key (meaningless for broadcast tables, where it is `Int`).
    pub key_type: KeyType,
    /// Every shard holding the table, sorted, unique.
    pub shards: Vec<ShardId>,
    /// Who numbers the table's AUTO_INCREMENT column (`auto_increment` in the rules).
    pub auto_increment: AutoIncrement,
    /// The `[[schemas.colocated]]` group of the table (its index in the schema): tables of one
    /// group place equal keys on the same shard.
    pub colocation: Option<usize>,
    /// Table splitting: the physical tables each shard stores the table in (None: one table
    /// of the logical name on each of `shards`).
    pub split: Option<Arc<super::split::Split>>,
}

/// Who numbers a sharded table's AUTO_INCREMENT column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AutoIncrement {
    /// No `auto_increment` key: the rule says nothing, so a CREATE TABLE through the proxy that
    /// gives the table an AUTO_INCREMENT column is refused (each shard would number its own
    /// rows and ids would repeat across shards).
    Undeclared,
    /// `auto_increment = false`: each shard numbers its own rows; the DBA accepts that ids
    /// repeat across shards.
    PerShard,
    /// `auto_increment = true` (the key column) or `= "column"`: the proxy numbers this column
    /// from a global sequence.
    Proxy(String),
}

impl TableRule {
    /// This rule applied to the table `name` (a table matched by a pattern rule).
    pub fn for_table(&self, name: &str) -> TableRule {
        TableRule {
            name: name.to_string(),
            ..self.clone()
        }
    }

    /// The column the proxy numbers from its global sequence, if any.
    pub fn numbered_column(&self) -> Option<&str> {
        match &self.auto_increment {
            AutoIncrement::Proxy(c) => Some(c),
            _ => None,
        }
    }

    /// Whether the proxy numbers the shard key column itself (then a generated id also
    /// decides the row's shard).
    pub fn numbers_key(&self) -> bool {
        match (self.numbered_column(), self.key.as_deref()) {
            (Some(c), Some(k)) => c.eq_ignore_ascii_case(k),
            _ => false,
        }
    }

    /// Shard holding the row whose key is `key`. Err when a range/list rule has no entry and
    /// no default_shard, or when the key is not of the table's key type. A broadcast table
    /// answers its first shard (every shard holds every row).
    pub fn shard_for_key(&self, key: &Key) -> Result<ShardId, RouteError> {
        if let Algorithm::Broadcast = *self.algorithm {
            return self
                .shards
                .first()
                .copied()
                .ok_or_else(|| self.no_shard(key));
        }
        if key.key_type() != self.key_type {
            return Err(RouteError::BadKey {
                column: Some(self.column()),
                value: key.to_string(),
                expected: self.key_type,
                reason: format!(
                    "a {} key given for a {} column",
                    key.key_type().name(),
                    self.key_type.name()
                ),
            });
        }
        let found = match self.algorithm.as_ref() {
            Algorithm::Hash(h) => h.shard_for_key(key),
            Algorithm::Range(r) => r.shard_for_key(key),
            Algorithm::List(l) => l.shard_for_key(key),
            Algorithm::ConsistentHash(c) => c.shard_for_key(key),
            Algorithm::Broadcast => None,
        };
        found.ok_or_else(|| self.no_shard(key))
    }

    /// Shards that may hold keys within the bounds: every shard of the table for hash,
    /// consistent_hash, list and broadcast; for range, the overlapping ranges plus the default
    /// shard when part of the interval falls outside every range. Bounds of another key type
    /// than the table's give every shard. Sorted, unique; empty when no shard can hold such keys.
    pub fn shards_for_range(&self, lo: Bound<&Key>, hi: Bound<&Key>) -> Vec<ShardId> {
        let typed = |b: Bound<&Key>| match b {
            Bound::Included(k) | Bound::Excluded(k) => k.key_type() == self.key_type,
            Bound::Unbounded => true,
        };
        match self.algorithm.as_ref() {
            Algorithm::Range(r) if typed(lo) && typed(hi) => r.shards_for_range(lo, hi),
            _ => self.shards.clone(),
        }
    }

    /// Coerces a statement value to this table's key, naming the column in errors.
    pub fn key_of(&self, v: &Value) -> Result<Key, RouteError> {
        Key::coerce(self.key_type, v)
            .map_err(|e| e.in_column(&self.name, self.key.as_deref().unwrap_or("")))
    }

    fn column(&self) -> String {
        format!("{}.{}", self.name, self.key.as_deref().unwrap_or(""))
    }

    fn no_shard(&self, key: &Key) -> RouteError {
        RouteError::NoShardForKey {
            table: self.name.clone(),
            key: key.to_string(),
        }
    }
}

/// What an algorithm needs while it validates its keys: the error sink positioned at the
/// table, the key type, and the shard names.
pub struct TableCx<'d, 'a> {
    diag: &'d mut Diag<'a>,
    path: String,
    span: Range<usize>,
    shard_names: &'d [String],
    shard_ids: HashMap<&'d str, ShardId>,
    key_type: KeyType,
    key_type_span: Option<Range<usize>>,
    failed: bool,
}

impl<'d, 'a> TableCx<'d, 'a> {
    /// A context for the table at `path`/`span` of a file whose shards are `shard_names`;
    /// `key_type` comes with the span of the `key_type` key when written.
    pub(super) fn new(
        diag: &'d mut Diag<'a>,
        path: String,
        span: Range<usize>,
        shard_names: &'d [String],
        (key_type, key_type_span): (KeyType, Option<Range<usize>>),
    ) -> Self {
        let shard_ids = shard_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        TableCx {
            diag,
            path,
            span,
            shard_names,
            shard_ids,
            key_type,
            key_type_span,
            failed: false,
        }
    }

    /// 1-based line of a byte offset of the file, to point at a second place in a message.
    pub fn line(&self, offset: usize) -> usize {
        self.diag.line_of(offset)
    }

    /// True once any problem was recorded for this table.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// The table's key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// Records a problem with the table's `key_type` (an algorithm refusing it), at its line.
    pub fn key_type_error(&mut self, message: impl Into<String>) {
        self.error(self.key_type_span.clone(), ".key_type", message);
    }

    /// Records a problem at `span` (the table's own line when None); `sub` extends the
    /// table's path, e.g. `.ranges[1]`.
    pub fn error(&mut self, span: Option<Range<usize>>, sub: &str, message: impl Into<String>) {
        let span = span.unwrap_or_else(|| self.span.clone());
        self.diag
            .err(Some(span), &format!("{}{sub}", self.path), message);
        self.failed = true;
    }

    /// Resolves a shard name, reporting an unknown one.
    pub fn shard(&mut self, name: &Spanned<String>, sub: &str, key: &str) -> Option<ShardId> {
        let found = self.shard_ids.get(name.get_ref().as_str()).copied();
        if found.is_none() {
            let known = self.shard_names.join(", ");
            let msg = format!(
                "{key} = \"{}\" is not a declared shard (shards: {known})",
                name.get_ref()
            );
            self.error(Some(name.span()), sub, msg);
        }
        found
    }

    /// Name of a shard.
    pub fn shard_name(&self, id: ShardId) -> &str {
        self.shard_names.get(id).map(String::as_str).unwrap_or("?")
    }

    /// The `shards` key of a hash, consistent_hash or broadcast table, in order; every shard
    /// in declared order when absent.
    pub fn ordered_shards(&mut self, raw: &RawTable) -> Option<Vec<ShardId>> {
        let Some(list) = &raw.shards else {
            return Some((0..self.shard_names.len()).collect());
        };
        if list.get_ref().is_empty() {
            self.error(
                Some(list.span()),
                ".shards",
                "empty shard list: name at least one shard, or remove `shards` to use every shard",
            );
            return None;
        }
        let mut out = Vec::new();
        for (i, name) in list.get_ref().iter().enumerate() {
            let sub = format!(".shards[{i}]");
            if let Some(id) = self.shard(name, &sub, "shard") {
                if out.contains(&id) {
                    self.error(
                        Some(name.span()),
                        &sub,
                        format!("shard \"{}\" is listed twice", name.get_ref()),
                    );
                }
                out.push(id);
            }
        }
        (!self.failed).then_some(out)
    }
}
