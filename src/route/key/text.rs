//! A string shard key: the text as given, and its weight string under the column's collation.

use crate::route::collation::Collation;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A string key. Equality, order and hashing look only at the collation and the weight
/// string, so `'Émile'`, `'emile'` and `'EMILE '` are one key under `utf8mb4_general_ci`; the
/// text is kept for messages.
#[derive(Clone, Debug)]
pub struct StrKey {
    collation: Collation,
    text: Vec<u8>,
    weights: Vec<u8>,
}

impl StrKey {
    /// The key of `text` under `collation`; None when a `utf8mb4_*` collation is given bytes
    /// that are not UTF-8.
    pub fn new(collation: Collation, text: Vec<u8>) -> Option<StrKey> {
        let weights = collation.weights(&text)?;
        Some(StrKey {
            collation,
            text,
            weights,
        })
    }

    /// The key of UTF-8 `text` under `collation`.
    pub fn of_str(collation: Collation, text: &str) -> StrKey {
        StrKey {
            collation,
            text: text.as_bytes().to_vec(),
            weights: collation.weights_of_str(text),
        }
    }

    /// The column's collation.
    pub fn collation(&self) -> Collation {
        self.collation
    }

    /// The weight string (trailing pad weights removed): what placement hashes.
    pub fn weights(&self) -> &[u8] {
        &self.weights
    }

    /// The text as given.
    pub fn text(&self) -> &[u8] {
        &self.text
    }
}

impl PartialEq for StrKey {
    fn eq(&self, other: &Self) -> bool {
        self.collation == other.collation && self.weights == other.weights
    }
}

impl Eq for StrKey {}

impl Hash for StrKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.collation.hash(state);
        self.weights.hash(state);
    }
}

impl Ord for StrKey {
    /// The server's order under the collation (keys of two collations, which one table never
    /// mixes, are ordered by collation first).
    fn cmp(&self, other: &Self) -> Ordering {
        self.collation
            .cmp(&other.collation)
            .then_with(|| self.collation.cmp_weights(&self.weights, &other.weights))
    }
}

impl PartialOrd for StrKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for StrKey {
    /// As a SQL literal: `'Émile'`, or `X'FF00'` for bytes that are not UTF-8.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(&self.text) {
            Ok(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Err(_) => {
                f.write_str("X'")?;
                for b in &self.text {
                    write!(f, "{b:02X}")?;
                }
                f.write_str("'")
            }
        }
    }
}
