//! `range`: half-open key ranges `[from, to)`, each on one shard, plus an optional
//! `default_shard` for keys outside every range. A missing `from`/`to` is unbounded.

use super::Key;
use crate::config::raw::RawTable;
use crate::config::{ShardId, TableCx};
use std::ops::{Bound, Range};

/// One range: keys in `[from, to)` (None: unbounded on that side) live on `shard`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    from: Option<Key>,
    to: Option<Key>,
    shard: ShardId,
}

/// Parameters of a range table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeRule {
    /// Sorted by `from` (unbounded first), never overlapping.
    entries: Vec<Entry>,
    /// Key intervals `[from, to)` covered by no entry, in order.
    gaps: Vec<(Option<Key>, Option<Key>)>,
    default_shard: Option<ShardId>,
}

impl RangeRule {
    /// Validates `ranges` and `default_shard`: bounds of the key type, `from < to`, shards that
    /// exist, no two ranges overlapping (both named in the message).
    pub fn build(cx: &mut TableCx<'_, '_>, raw: &RawTable) -> Option<RangeRule> {
        let default_shard = match &raw.default_shard {
            Some(d) => Some(cx.shard(d, ".default_shard", "default_shard")?),
            None => None,
        };
        let Some(list) = &raw.ranges else {
            cx.error(None, "", "missing key `ranges` for algorithm range, e.g. ranges = [{ shard = \"s0\", to = 1000 }]");
            return None;
        };
        if list.get_ref().is_empty() {
            cx.error(
                Some(list.span()),
                ".ranges",
                "empty `ranges`: give at least one { shard, from, to }",
            );
            return None;
        }
        let kt = cx.key_type();
        let mut entries: Vec<(Entry, usize, Range<usize>)> = Vec::new();
        for (i, item) in list.get_ref().iter().enumerate() {
            let sub = format!(".ranges[{i}]");
            let r = item.get_ref();
            let shard = match &r.shard {
                Some(s) => cx.shard(s, &sub, "shard"),
                None => {
                    cx.error(Some(item.span()), &sub, "missing key `shard`");
                    None
                }
            };
            let mut bound = |b: &Option<toml::Spanned<toml::Value>>, name: &str| match b {
                None => Some(None),
                Some(v) => match Key::from_config(kt, v.get_ref()) {
                    Ok(k) => Some(Some(k)),
                    Err(msg) => {
                        cx.error(
                            Some(v.span()),
                            &format!("{sub}.{name}"),
                            format!("bad `{name}`: {msg}"),
                        );
                        None
                    }
                },
            };
            let (from, to) = (bound(&r.from, "from"), bound(&r.to, "to"));
            let (Some(shard), Some(from), Some(to)) = (shard, from, to) else {
                continue;
            };
            if let (Some(f), Some(t)) = (&from, &to)
                && f >= t
            {
                cx.error(Some(item.span()), &sub, format!("empty range: from {f} must be below to {t} (ranges are half-open [from, to))"));
                continue;
            }
            entries.push((Entry { from, to, shard }, i, item.span()));
        }
        if cx.failed() {
            return None;
        }
        // None (unbounded below) sorts first, as Option's order says.
        entries.sort_by(|a, b| a.0.from.cmp(&b.0.from));
        // Compare each range with the one reaching furthest so far, so every range that
        // overlaps an earlier one is reported.
        let mut reach: Option<usize> = None;
        for j in 0..entries.len() {
            if let Some(r) = reach {
                let (a, b) = (&entries[r], &entries[j]);
                let overlap = match (&a.0.to, &b.0.from) {
                    (None, _) | (_, None) => true,
                    (Some(t), Some(f)) => t > f,
                };
                if overlap {
                    let msg = format!(
                        "range {} overlaps ranges[{}] {} (line {}); a key may be in one range only",
                        show(&b.0),
                        a.1,
                        show(&a.0),
                        cx.line(a.2.start)
                    );
                    cx.error(Some(b.2.clone()), &format!(".ranges[{}]", b.1), msg);
                }
            }
            let further = match reach {
                None => true,
                Some(r) => match (&entries[r].0.to, &entries[j].0.to) {
                    (None, _) => false,
                    (_, None) => true,
                    (Some(x), Some(y)) => y > x,
                },
            };
            if further {
                reach = Some(j);
            }
        }
        if cx.failed() {
            return None;
        }
        let entries: Vec<Entry> = entries.into_iter().map(|e| e.0).collect();
        let gaps = gaps_of(&entries);
        Some(RangeRule {
            entries,
            gaps,
            default_shard,
        })
    }

    /// Every shard a row may be on: the ranges' shards and the default shard.
    pub fn shards(&self) -> Vec<ShardId> {
        let mut out: Vec<ShardId> = self
            .entries
            .iter()
            .map(|e| e.shard)
            .chain(self.default_shard)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every `from` and `to` bound of the ranges, in key order, unique: where the placement
    /// may change (for tools comparing two rules, e.g. `rules diff`).
    pub fn bounds(&self) -> Vec<Key> {
        let mut out: Vec<Key> = self
            .entries
            .iter()
            .flat_map(|e| [e.from.clone(), e.to.clone()])
            .flatten()
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The shard of the range holding `key`, else the default shard, else None.
    pub fn shard_for_key(&self, key: &Key) -> Option<ShardId> {
        let after = self
            .entries
            .partition_point(|e| e.from.as_ref().is_none_or(|f| f <= key));
        let hit = after
            .checked_sub(1)
            .and_then(|i| self.entries.get(i))
            .filter(|e| e.to.as_ref().is_none_or(|t| key < t));
        hit.map(|e| e.shard).or(self.default_shard)
    }

    /// Shards that may hold a key within the bounds (sorted, unique; empty if none can).
    pub fn shards_for_range(&self, lo: Bound<&Key>, hi: Bound<&Key>) -> Vec<ShardId> {
        let Some((lo, hi)) = closed_int_bounds(lo, hi) else {
            return Vec::new();
        };
        let (lo, hi) = (lo.as_ref(), hi.as_ref());
        if let (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) =
            (lo, hi)
        {
            let both_inclusive = matches!((lo, hi), (Bound::Included(_), Bound::Included(_)));
            if l > h || (l == h && !both_inclusive) {
                return Vec::new();
            }
        }
        let mut out: Vec<ShardId> = self
            .entries
            .iter()
            .filter(|e| overlaps(e.from.as_ref(), e.to.as_ref(), lo, hi))
            .map(|e| e.shard)
            .collect();
        if let Some(d) = self.default_shard
            && self
                .gaps
                .iter()
                .any(|(f, t)| overlaps(f.as_ref(), t.as_ref(), lo, hi))
        {
            out.push(d);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// `[from, to)` as written in messages.
fn show(e: &Entry) -> String {
    let side = |k: &Option<Key>, inf: &str| k.as_ref().map_or(inf.to_string(), Key::to_string);
    format!("[{}, {})", side(&e.from, "-inf"), side(&e.to, "+inf"))
}

/// The intervals between sorted, disjoint entries.
fn gaps_of(entries: &[Entry]) -> Vec<(Option<Key>, Option<Key>)> {
    let mut gaps = Vec::new();
    let mut cursor: Option<Option<Key>> = Some(None); // Some(None): uncovered from -inf
    for e in entries {
        let Some(start) = cursor.take() else { break };
        let before = match (&start, &e.from) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(s), Some(f)) => s < f,
        };
        if before {
            gaps.push((start, e.from.clone()));
        }
        cursor = e.to.clone().map(Some); // None: covered up to +inf
    }
    if let Some(start) = cursor {
        gaps.push((start, None));
    }
    gaps
}

/// Does `[from, to)` contain a key within the bounds?
fn overlaps(from: Option<&Key>, to: Option<&Key>, lo: Bound<&Key>, hi: Bound<&Key>) -> bool {
    let below_to = match (to, lo) {
        (None, _) | (_, Bound::Unbounded) => true,
        (Some(t), Bound::Included(l) | Bound::Excluded(l)) => l < t,
    };
    let above_from = match (from, hi) {
        (None, _) | (_, Bound::Unbounded) => true,
        (Some(f), Bound::Included(h)) => f <= h,
        (Some(f), Bound::Excluded(h)) => f < h,
    };
    below_to && above_from
}

/// Integer bounds made inclusive (`id > 5` is `id >= 6`), so the overlap test is exact for
/// ints; None when no integer satisfies a bound (`id > i64::MAX`).
fn closed_int_bounds(lo: Bound<&Key>, hi: Bound<&Key>) -> Option<(Bound<Key>, Bound<Key>)> {
    let lo = match lo {
        Bound::Excluded(Key::Int(l)) => Bound::Included(Key::Int(l.checked_add(1)?)),
        other => other.cloned(),
    };
    let hi = match hi {
        Bound::Excluded(Key::Int(h)) => Bound::Included(Key::Int(h.checked_sub(1)?)),
        other => other.cloned(),
    };
    Some((lo, hi))
}

#[cfg(test)]
#[path = "range_tests.rs"]
mod tests;
