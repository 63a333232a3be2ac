//! `consistent_hash`: a hash ring (consistent_hash_ring) with `virtual_nodes` points per shard.
//!
//! The crate hashes nodes and keys through Rust's `Hash` trait, whose output std does not
//! promise across releases or platforms (and `42u64`, `42u32` and `"42"` hash differently).
//! So everything the ring hashes is a `u64` we computed ourselves, and the ring's hasher is
//! [`StableHasher`], whose every write is defined byte-exactly (little-endian): placement then
//! depends only on this file, pinned by golden vectors.
//!
//! Ring nodes are the shards' *names* (not their indices), so reordering `[[shards]]` or the
//! table's `shards` list moves no key, and adding a shard moves about 1/N of the keys.

use super::Key;
use crate::config::raw::RawTable;
use crate::config::{KeyType, ShardId, TableCx};
use consistent_hash_ring::{Ring, RingBuilder};
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};

/// Default `virtual_nodes` (10, the crate's default, splits 4 shards 16%..32%).
pub const DEFAULT_VIRTUAL_NODES: usize = 160;
/// Upper limit of `virtual_nodes`, to keep a ring's memory small.
pub const MAX_VIRTUAL_NODES: usize = 10_000;

/// FNV-1a 64 over the bytes written (integers as little-endian bytes), finished with the
/// splitmix64 mixer so the ring's points spread over the whole u64 space.
///
/// Hand-written instead of a hashing crate: it is a dozen lines fully specified here, and a
/// crate's output could change with its version, which would move rows.
#[derive(Clone, Copy, Debug)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325) // FNV-1a 64 offset basis
    }
}

impl Hasher for StableHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3); // FNV-1a 64 prime
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write(&[i]);
    }
    fn write_u16(&mut self, i: u16) {
        self.write(&i.to_le_bytes());
    }
    fn write_u32(&mut self, i: u32) {
        self.write(&i.to_le_bytes());
    }
    fn write_u64(&mut self, i: u64) {
        self.write(&i.to_le_bytes());
    }
    fn write_u128(&mut self, i: u128) {
        self.write(&i.to_le_bytes());
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64); // same bytes on 32- and 64-bit platforms
    }
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Builds [`StableHasher`]s for the ring.
#[derive(Clone, Copy, Debug, Default)]
pub struct StableBuildHasher;

impl BuildHasher for StableBuildHasher {
    type Hasher = StableHasher;
    fn build_hasher(&self) -> StableHasher {
        StableHasher::default()
    }
}

/// [`StableHasher`] of a byte string.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h = StableHasher::default();
    h.write(bytes);
    h.finish()
}

/// The canonical bytes of a key for its type: an int as its 8 little-endian bytes, a string
/// as its weight string under the column's collation (so equal strings share a point). Date keys are refused by [`ConsistentHashRule::build`].
fn key_point(key: &Key) -> Option<Point> {
    match key {
        Key::Int(i) => Some(Point(stable_hash(&i.to_le_bytes()))),
        Key::Str(s) => Some(Point(stable_hash(s.weights()))),
        Key::Date(_) | Key::DateTime(_) => None,
    }
}

/// A u64 that hashes as exactly one `write_u64`, whatever std's `Hash` impls do.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Point(u64);

impl Hash for Point {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0);
    }
}

/// A ring node: a shard, placed by the stable hash of its name.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Node {
    point: Point,
    shard: ShardId,
}

impl Hash for Node {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.point.hash(state);
    }
}

/// Parameters of a consistent_hash table.
#[derive(Clone)]
pub struct ConsistentHashRule {
    shards: Vec<ShardId>,
    virtual_nodes: usize,
    ring: Ring<Node, StableBuildHasher>,
}

impl fmt::Debug for ConsistentHashRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsistentHashRule")
            .field("shards", &self.shards)
            .field("virtual_nodes", &self.virtual_nodes)
            .finish()
    }
}

impl ConsistentHashRule {
    /// Validates the key type and `virtual_nodes` (1..=10000, default 160) and builds the ring
    /// over the table's shards.
    pub fn build(cx: &mut TableCx<'_, '_>, raw: &RawTable, shards: Vec<ShardId>) -> Option<Self> {
        if !matches!(cx.key_type(), KeyType::Int | KeyType::String(_)) {
            let msg = format!(
                "algorithm consistent_hash does not take key_type = \"{}\": use algorithm = \"range\" for dates",
                cx.key_type().name()
            );
            cx.key_type_error(msg);
            return None;
        }
        let virtual_nodes = match &raw.virtual_nodes {
            None => DEFAULT_VIRTUAL_NODES,
            Some(v) => match usize::try_from(*v.get_ref()) {
                Ok(n) if (1..=MAX_VIRTUAL_NODES).contains(&n) => n,
                _ => {
                    let msg = format!(
                        "virtual_nodes must be between 1 and {MAX_VIRTUAL_NODES} (160 is a good default), not {}",
                        v.get_ref()
                    );
                    cx.error(Some(v.span()), ".virtual_nodes", msg);
                    return None;
                }
            },
        };
        let names: Vec<(ShardId, String)> = shards
            .iter()
            .map(|s| (*s, cx.shard_name(*s).to_string()))
            .collect();
        let rule = ConsistentHashRule::new(&names, virtual_nodes);
        if rule.is_none() {
            cx.error(
                None,
                ".shards",
                "two shard names hash to the same ring point; rename one shard",
            );
        }
        rule
    }

    /// A ring over `(shard, name)` pairs; None when empty or when two names collide.
    pub fn new(shards: &[(ShardId, String)], virtual_nodes: usize) -> Option<Self> {
        let nodes: Vec<Node> = shards
            .iter()
            .map(|(shard, name)| Node {
                point: Point(stable_hash(name.as_bytes())),
                shard: *shard,
            })
            .collect();
        let distinct = nodes
            .iter()
            .all(|a| nodes.iter().filter(|b| b.point == a.point).count() == 1);
        if nodes.is_empty() || !distinct {
            return None;
        }
        let ring = RingBuilder::new(StableBuildHasher)
            .vnodes(virtual_nodes)
            .nodes_iter(nodes)
            .build();
        Some(ConsistentHashRule {
            shards: shards.iter().map(|s| s.0).collect(),
            virtual_nodes,
            ring,
        })
    }

    /// The table's shards.
    pub fn shards(&self) -> Vec<ShardId> {
        self.shards.clone()
    }

    /// Points per shard on the ring.
    pub fn virtual_nodes(&self) -> usize {
        self.virtual_nodes
    }

    /// The shard owning the first ring point at or after the key's point.
    pub fn shard_for_key(&self, key: &Key) -> Option<ShardId> {
        self.ring.try_get(key_point(key)?).map(|n| n.shard)
    }
}

#[cfg(test)]
#[path = "consistent_hash_tests.rs"]
mod tests;
