//! Sharding algorithms: one file per algorithm, plus the typed shard key they all work on and
//! the collations string keys are weighed by (`collation`: a key's placement is a function of
//! its weight string, so keys the column calls equal share a shard).
//!
//! The statement router (which turns an analysed statement into a plan) lives elsewhere; this
//! module only answers "which shard holds this key" for one table rule.

// No unwrap/expect on the request path (tests may use them).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod collation;
pub mod consistent_hash;
pub mod diff;
pub mod hash;
pub mod key;
pub mod list;
pub mod preview;
pub mod range;
pub mod router;

#[cfg(test)]
mod test_rules;

pub use key::Key;

use crate::config::KeyType;

/// Why a key could not be placed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// A range or list table has no entry for the key and no `default_shard`.
    #[error(
        "table {table}: no shard holds key {key} (no range/list entry matches and the table has no default_shard)"
    )]
    NoShardForKey {
        /// The logical table.
        table: String,
        /// The key, as MySQL would print it.
        key: String,
    },
    /// A value cannot be compared with the table's key as MySQL would (or is NULL).
    #[error("{}bad value {value} for a shard key of type {}: {reason}", column_prefix(.column), .expected.name())]
    BadKey {
        /// `table.column` when known (filled in by [`RouteError::in_column`]).
        column: Option<String>,
        /// The offending value, as received.
        value: String,
        /// The declared key type.
        expected: KeyType,
        /// Why it was refused.
        reason: String,
    },
}

fn column_prefix(column: &Option<String>) -> String {
    match column {
        Some(c) => format!("{c}: "),
        None => String::new(),
    }
}

impl RouteError {
    /// Names the column a [`RouteError::BadKey`] is about (other errors are returned as is).
    pub fn in_column(self, table: &str, column: &str) -> RouteError {
        match self {
            RouteError::BadKey {
                value,
                expected,
                reason,
                ..
            } => RouteError::BadKey {
                column: Some(format!("{table}.{column}")),
                value,
                expected,
                reason,
            },
            other => other,
        }
    }
}
