//! `hash`: modulo placement a DBA can recompute in SQL.
//!
//! Int keys: `shards[key mod N]` (Euclidean, so negative keys land in 0..N too); for
//! non-negative ids that is MySQL's `MOD(id, N)`. String keys: `CRC32(weights) mod N`, the
//! CRC-32/IEEE of the key's weight string under the column's collation with trailing space
//! weights removed (see [`crate::route::collation`]), which MariaDB computes as
//! `CRC32(WEIGHT_STRING(TRIM(TRAILING ' ' FROM k) COLLATE utf8mb4_general_ci)) % N`. So keys the
//! column calls equal (`'Émile'`, `'emile '`) share a shard. Date keys are refused: hashing
//! dates scatters consecutive days, which is what `range` is for.

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
            KeyType::Int | KeyType::String(_) => HashRule::new(shards),
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
            Key::Str(s) => u64::from(crc32fast::hash(s.weights())) % n,
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
        Key::Str(crate::route::key::StrKey::of_str(Default::default(), x))
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

    /// Golden vectors for string keys, computed by MariaDB 10.11 itself:
    /// `SELECT CRC32(WEIGHT_STRING(TRIM(TRAILING ' ' FROM k) COLLATE utf8mb4_general_ci)) % N`.
    /// (Placement before the collation change was CRC32 of the lowercase text: every string
    /// key moved once, see rules/README.md.)
    #[test]
    #[rustfmt::skip]
    fn golden_string() {
        // (key, N, crc32 of the weight string, expected shard)
        let cases: &[(&str, usize, u32, usize)] = &[
            ("alice", 2, 2286017665, 1),
            ("bob", 2, 1894072523, 1),
            ("carol", 2, 2694214292, 0),
            ("dave", 2, 3732019431, 1),
            ("eve", 2, 1331073415, 1),
            ("Alice", 2, 2286017665, 1),
            ("ALICE  ", 2, 2286017665, 1),
            ("paris", 2, 3160309095, 1),
            ("lyon", 2, 958974900, 0),
            ("berlin", 2, 2794632967, 1),
            ("munich", 2, 364927129, 1),
            ("", 2, 0, 0),
            ("0", 2, 1728062035, 1),
            ("42", 2, 3404841936, 0),
            ("user@example.com", 2, 856088979, 1),
            ("Zürich", 2, 846430059, 1),
            ("ZÜRICH", 2, 846430059, 1),
            ("münchen", 2, 3472260657, 1),
            ("東京", 2, 1662820233, 1),
            ("Москва", 2, 76305995, 1),
            ("café", 2, 133399833, 1),
            ("naïve ", 2, 750916363, 1),
            ("😀", 2, 301031724, 0),
            ("alice", 3, 2286017665, 1),
            ("bob", 3, 1894072523, 2),
            ("carol", 4, 2694214292, 0),
            ("dave", 5, 3732019431, 1),
            ("paris", 7, 3160309095, 6),
            ("Zürich", 3, 846430059, 0),
            ("東京", 4, 1662820233, 1),
            ("a b", 2, 1959704070, 0),
            (" leading", 2, 1520754905, 1),
            ("Émile", 2, 2022097156, 0),
            ("emile", 2, 2022097156, 0),
            ("EMILE ", 2, 2022097156, 0),
            ("Straße", 2, 211992993, 1),
            ("strasse", 2, 79366926, 0),
            ("strase", 2, 211992993, 1),
            ("São Paulo", 2, 4006171705, 1),
            ("sao paulo", 2, 4006171705, 1),
        ];
        for &(k, n, crc, want) in cases {
            assert_eq!(
                crc32fast::hash(
                    &crate::route::collation::Collation::GeneralCi.weights_of_str(k)
                ),
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
        for k in ["Paris", "PARIS ", "paris  ", "pàris", "PÂRIS "] {
            assert_eq!(r.shard_for_key(&s(k)), r.shard_for_key(&s("paris")));
        }
    }

    #[test]
    fn keys_equal_under_the_collation_share_a_shard() {
        let r = rule(7);
        for (a, b) in [
            ("Émile", "emile"),
            ("straße", "STRASE"),
            ("São Paulo ", "sao paulo"),
        ] {
            assert_eq!(
                r.shard_for_key(&s(a)),
                r.shard_for_key(&s(b)),
                "{a:?} {b:?}"
            );
        }
        let bin = |x: &str| {
            Key::Str(crate::route::key::StrKey::of_str(
                crate::route::collation::Collation::Bin,
                x,
            ))
        };
        // utf8mb4_bin weighs code points (3 bytes each), trailing spaces ignored; MariaDB:
        // CRC32(WEIGHT_STRING(_utf8mb4'Émile' COLLATE utf8mb4_bin)) % 7 = 0.
        assert_eq!(r.shard_for_key(&bin("Émile  ")), Some(0));
        assert_eq!(r.shard_for_key(&bin("Émile")), Some(0));
        assert_ne!(bin("Émile"), bin("emile"));
    }

    #[test]
    fn follows_the_declared_order() {
        let r = HashRule { shards: vec![1, 0] };
        assert_eq!(r.shard_for_key(&Key::Int(0)), Some(1));
        assert_eq!(r.shard_for_key(&Key::Int(1)), Some(0));
    }
}
