//! `hash`: modulo placement a DBA can recompute in SQL.
//!
//! Int keys: `shards[key mod N]` (Euclidean, so negative keys land in 0..N too); for
//! non-negative ids that is MySQL's `MOD(id, N)`. String keys: `CRC32(normalized) mod N`
//! (CRC-32/IEEE of the lowercase UTF-8 bytes, trailing spaces removed), MySQL's
//! `CRC32(LOWER(TRIM(TRAILING ' ' FROM k))) % N`. Date keys are refused: hashing dates scatters
//! consecutive days, which is what `range` is for.

use super::Key;
use crate::config::{KeyType, ShardId, TableCx};

/// Parameters of a hash table: its shards, in the order that numbers them 0..N.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashRule {
    shards: Vec<ShardId>,
}

impl HashRule {
    /// Validates the key type and takes the table's ordered shard list.
    pub fn build(cx: &mut TableCx<'_, '_>, shards: Vec<ShardId>) -> Option<HashRule> {
        match cx.key_type() {
            KeyType::Int | KeyType::String => HashRule::new(shards),
            kt => {
                cx.key_type_error(format!(
                    "algorithm hash does not take key_type = \"{}\": use algorithm = \"range\" for dates",
                    kt.name()
                ));
                None
            }
        }
    }

    /// A rule over `shards` (None when empty).
    pub fn new(shards: Vec<ShardId>) -> Option<HashRule> {
        (!shards.is_empty()).then_some(HashRule { shards })
    }

    /// The shards, in placement order.
    pub fn shards(&self) -> &[ShardId] {
        &self.shards
    }

    /// The shard of a key (None for a date key, which this rule never takes).
    pub fn shard_for_key(&self, key: &Key) -> Option<ShardId> {
        let n = self.shards.len() as u64;
        if n == 0 {
            return None;
        }
        let slot = match key {
            // rem_euclid of an i64 by a positive count is in 0..n.
            Key::Int(i) => i.rem_euclid(n as i64) as u64,
            Key::Str(s) => u64::from(crc32fast::hash(s.as_bytes())) % n,
            Key::Date(_) | Key::DateTime(_) => return None,
        };
        self.shards.get(slot as usize).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(n: usize) -> HashRule {
        HashRule {
            shards: (0..n).collect(),
        }
    }

    fn s(x: &str) -> Key {
        Key::Str(crate::route::key::normalize(x))
    }

    /// Golden vectors: placement must never change. Int keys: MOD(id, N) for id >= 0; for
    /// negative ids the Euclidean remainder (MySQL's MOD(-1, 2) is -1; ours maps it to 1).
    #[test]
    #[rustfmt::skip]
    fn golden_int() {
        let cases: &[(i64, usize, usize)] = &[
            (0, 2, 0),
            (1, 2, 1),
            (2, 2, 0),
            (3, 2, 1),
            (41, 2, 1),
            (42, 2, 0),
            (999_999, 2, 1),
            (1_000_000, 2, 0),
            (i64::MAX, 2, 1),
            (-1, 2, 1),
            (-2, 2, 0),
            (i64::MIN, 2, 0),
            (0, 3, 0),
            (1, 3, 1),
            (2, 3, 2),
            (3, 3, 0),
            (100, 3, 1),
            (-1, 3, 2),
            (-4, 3, 2),
            (7, 4, 3),
            (8, 4, 0),
            (12345, 4, 1),
            (-5, 4, 3),
            (1_000_003, 5, 3),
            (17, 7, 3),
            (i64::MAX, 3, 1),
            (i64::MIN, 3, 1),
            (10, 1, 0),
            (-10, 1, 0),
            (255, 16, 15),
        ];
        for &(k, n, want) in cases {
            assert_eq!(
                rule(n).shard_for_key(&Key::Int(k)),
                Some(want),
                "key {k} over {n}"
            );
        }
    }

    /// Golden vectors for string keys, computed independently with Python:
    /// `python3 -c 'import zlib; print(zlib.crc32("alice".encode()) % 2)'`
    /// (the key lowercased and right-trimmed first; MariaDB's CRC32(LOWER(k)) % N agrees).
    #[test]
    #[rustfmt::skip]
    fn golden_string() {
        // (key, N, crc32 of the normalized key, expected shard)
        let cases: &[(&str, usize, u32, usize)] = &[
            ("alice", 2, 663665735, 1),
            ("bob", 2, 4123767104, 0),
            ("carol", 2, 1782484163, 1),
            ("dave", 2, 2561168888, 0),
            ("eve", 2, 4125137790, 0),
            ("Alice", 2, 663665735, 1),
            ("ALICE  ", 2, 663665735, 1),
            ("paris", 2, 2519518178, 0),
            ("lyon", 2, 1140588367, 1),
            ("berlin", 2, 1004679469, 1),
            ("munich", 2, 2782688009, 1),
            ("", 2, 0, 0),
            ("0", 2, 4108050209, 1),
            ("42", 2, 841265288, 0),
            ("user@example.com", 2, 1634596257, 1),
            ("Zürich", 2, 481726626, 0),
            ("ZÜRICH", 2, 481726626, 0),
            ("münchen", 2, 1172628735, 1),
            ("東京", 2, 2451981039, 1),
            ("Москва", 2, 2869425579, 1),
            ("café", 2, 2561491637, 1),
            ("naïve ", 2, 3574563174, 0),
            ("😀", 2, 88978756, 0),
            ("alice", 3, 663665735, 2),
            ("bob", 3, 4123767104, 2),
            ("carol", 4, 1782484163, 3),
            ("dave", 5, 2561168888, 3),
            ("paris", 7, 2519518178, 2),
            ("Zürich", 3, 481726626, 0),
            ("東京", 4, 2451981039, 3),
            ("a b", 2, 2154585299, 1),
            (" leading", 2, 4156782995, 1),
        ];
        for &(k, n, crc, want) in cases {
            assert_eq!(
                crc32fast::hash(crate::route::key::normalize(k).as_bytes()),
                crc,
                "crc of {k:?}"
            );
            assert_eq!(
                rule(n).shard_for_key(&s(k)),
                Some(want),
                "key {k:?} over {n}"
            );
        }
    }

    #[test]
    fn case_and_trailing_space_do_not_move_a_key() {
        let r = rule(7);
        for k in ["Paris", "PARIS ", "paris  "] {
            assert_eq!(r.shard_for_key(&s(k)), r.shard_for_key(&s("paris")));
        }
    }

    #[test]
    fn follows_the_declared_order() {
        let r = HashRule { shards: vec![1, 0] };
        assert_eq!(r.shard_for_key(&Key::Int(0)), Some(1));
        assert_eq!(r.shard_for_key(&Key::Int(1)), Some(0));
    }
}
