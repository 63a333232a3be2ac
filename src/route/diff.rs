//! What a change of the rules file moves: `shardgate rules diff OLD NEW [--count]`.
//!
//! [`diff`] compares two validated rules files without connecting anywhere. For each logical
//! table (`schema.table`) named by a rule in either file it says whether the placement
//! changes, and which keys change shard:
//!
//! - range rules (and a table becoming, or ceasing to be, unsharded next to a range rule): the
//!   exact key intervals whose shard changes, e.g. `['2026-01-01', '2026-07-01'): s0 -> s1`;
//! - list rules: the values that change shard, and the shard of every other value;
//! - hash and consistent-hash rules, and any change of algorithm or key type between them: an
//!   estimate, by routing a fixed sample of 10,000 keys of the key type through both rules;
//! - a change of key column: every row is placed by another column, so no estimate is given;
//! - broadcast tables: the shards that gain a copy (the table must be copied there) or lose one.
//!
//! Tables added or removed, schemas whose default shard changes (every table the rules do not
//! name moves), and shards added, removed or whose URLs change are reported too. Unchanged
//! tables are not listed: a summary line counts them.
//!
//! Every key is placed by the proxy's own code ([`TableRule::shard_for_key`],
//! [`TableRule::shards_for_range`]), so the diff cannot disagree with the proxy.
//!
//! [`count_moving_rows`] connects to the shards of the OLD rules and counts the stored rows
//! that the NEW rules place elsewhere.

use crate::backend::Backends;
use crate::backend::wire::WireConn;
use crate::config::pattern::is_pattern;
use crate::config::{Algorithm, KeyType, Rules, ShardId, TableRule};
use crate::error::ProxyError;
use crate::route::Key;
use mysql_async::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

/// How a key that no shard takes is shown.
const NO_SHARD: &str = "(no shard)";

/// Keys routed through both rules to estimate what a hash-like change moves.
const SAMPLE_SIZE: usize = 10_000;

/// At most this many list values are named per line; the rest are counted.
const MAX_VALUES_SHOWN: usize = 20;

/// What changes between two rules files (see the module documentation). Its `Display` is the
/// text `shardgate rules diff` prints.
#[derive(Clone, Debug, Default)]
pub struct Diff {
    /// One line per shard added, removed, or whose primary or replica URLs changed (passwords
    /// masked).
    pub shards: Vec<String>,
    /// One line per schema added, removed, or whose default shard changed.
    pub schemas: Vec<String>,
    /// Every table whose placement changes, or that is added or removed.
    pub tables: Vec<TableDiff>,
    /// Tables named in both files whose placement is the same.
    pub unchanged: usize,
    /// Whether a schema's default shard changes (its unsharded tables move).
    default_moves: bool,
}

/// The change of one logical table.
#[derive(Clone, Debug)]
pub struct TableDiff {
    /// The logical schema.
    pub schema: String,
    /// The table, as the rules name it (a pattern rule by its pattern).
    pub table: String,
    /// The placement before and after, e.g. `hash on id (int) over s0, s1 -> ...`.
    pub summary: String,
    /// The keys or intervals that change shard, or the estimate; one line each.
    pub details: Vec<String>,
    /// Whether some stored row of the table would have to move or be copied.
    pub moves_keys: bool,
}

impl Diff {
    /// True when an existing table's placement of some key changes (including unsharded
    /// tables whose default shard changes), or a broadcast table gains shards: applying the
    /// new rules without moving rows first would lose sight of rows.
    pub fn moves_keys(&self) -> bool {
        self.default_moves || self.tables.iter().any(|t| t.moves_keys)
    }

    /// Whether some table's split into physical tables changes (its rows move between
    /// physical tables).
    pub fn splits_change(&self) -> bool {
        self.tables
            .iter()
            .any(|t| t.summary.ends_with(SPLIT_CHANGE))
    }
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in self.shards.iter().chain(&self.schemas) {
            writeln!(f, "{line}")?;
        }
        for t in &self.tables {
            writeln!(f, "{}.{}: {}", t.schema, t.table, t.summary)?;
            for d in &t.details {
                writeln!(f, "  {d}")?;
            }
        }
        let s = if self.unchanged == 1 { "" } else { "s" };
        writeln!(f, "{} table{s} unchanged (not listed)", self.unchanged)?;
        if self.moves_keys() && self.splits_change() {
            writeln!(f, "keys change shard or physical table: yes")
        } else if self.moves_keys() {
            writeln!(f, "keys change shard: yes")
        } else {
            writeln!(f, "keys change shard: no")
        }
    }
}

/// Where a logical table's rows are under one rules file.
#[derive(Clone)]
enum Place<'a> {
    /// The schema is not in the file.
    Absent,
    /// No rule names the table: every row is on the schema's default shard.
    Unsharded(String),
    /// A full copy on each of these shards.
    Broadcast(Vec<String>),
    /// Placed by its key.
    Sharded(Arc<TableRule>, &'a Rules),
}

impl Place<'_> {
    /// The shard holding `key` (of the rule's key type), None when no shard takes it.
    fn shard_of(&self, key: &Key) -> Option<String> {
        match self {
            Place::Unsharded(d) => Some(d.clone()),
            Place::Sharded(rule, rules) => rule
                .shard_for_key(key)
                .ok()
                .map(|s| shard_name(rules, s).to_string()),
            Place::Absent | Place::Broadcast(_) => None,
        }
    }

    /// The shard of a statement value (as stored or sampled), None when it is not a key of
    /// the rule's type or no shard takes it.
    fn shard_of_value(&self, v: &Value) -> Option<String> {
        match self {
            Place::Sharded(rule, _) => rule.key_of(v).ok().and_then(|k| self.shard_of(&k)),
            _ => self.shard_of(&Key::Int(0)),
        }
    }

    /// The shard of every key in `[lo, hi)` (None: unbounded), for an interval on which the
    /// placement is constant; None when no shard takes them.
    fn shard_in(&self, lo: Option<&Key>, hi: Option<&Key>) -> Option<String> {
        match (self, lo) {
            (Place::Sharded(..), Some(lo)) => self.shard_of(lo),
            (Place::Sharded(rule, rules), None) => {
                let hi = hi.map_or(Bound::Unbounded, Bound::Excluded);
                match rule.shards_for_range(Bound::Unbounded, hi).as_slice() {
                    [one] => Some(shard_name(rules, *one).to_string()),
                    _ => None,
                }
            }
            _ => self.shard_of(&Key::Int(0)),
        }
    }

    /// Every shard that may hold rows of the table.
    fn shards(&self) -> BTreeSet<String> {
        match self {
            Place::Absent => BTreeSet::new(),
            Place::Unsharded(d) => BTreeSet::from([d.clone()]),
            Place::Broadcast(b) => b.iter().cloned().collect(),
            Place::Sharded(rule, rules) => rule
                .shards
                .iter()
                .map(|s| shard_name(rules, *s).to_string())
                .collect(),
        }
    }

    fn rule(&self) -> Option<&TableRule> {
        match self {
            Place::Sharded(r, _) => Some(r),
            _ => None,
        }
    }

    /// For a person: `range on created (date) over s0, s1`, `unsharded on s0`, ...
    fn describe(&self) -> String {
        match self {
            Place::Absent => "not in the rules (no such schema)".to_string(),
            Place::Unsharded(d) => format!("unsharded on {d}"),
            Place::Broadcast(b) => format!("broadcast to {}", b.join(", ")),
            Place::Sharded(rule, rules) => {
                let shards: Vec<&str> = match rule.algorithm.as_ref() {
                    // Hash placement depends on the order of the shards: show it.
                    Algorithm::Hash(h) => {
                        h.shards().iter().map(|s| shard_name(rules, *s)).collect()
                    }
                    _ => rule.shards.iter().map(|s| shard_name(rules, *s)).collect(),
                };
                let extra = match rule.algorithm.as_ref() {
                    Algorithm::ConsistentHash(c) => {
                        format!(", {} virtual nodes", c.virtual_nodes())
                    }
                    _ => String::new(),
                };
                let extra = match &rule.split {
                    Some(split) => format!("{extra}, in {} physical tables", split.units().len()),
                    None => extra,
                };
                format!(
                    "{} on {} ({}) over {}{extra}",
                    rule.algorithm.name(),
                    rule.key.as_deref().unwrap_or("?"),
                    key_type_text(rule.key_type),
                    shards.join(", ")
                )
            }
        }
    }
}

fn key_type_text(kt: KeyType) -> String {
    match kt {
        KeyType::String(c) => format!("string, {}", c.name()),
        other => other.name().to_string(),
    }
}

fn shard_name(rules: &Rules, shard: ShardId) -> &str {
    rules
        .shards
        .get(shard)
        .map(|s| s.name.as_str())
        .unwrap_or("?")
}

/// The placement of table `table` of schema `schema`: a rule named exactly so (a pattern rule
/// by its pattern), else the rule the proxy would apply to a table of that name.
fn place_of<'a>(rules: &'a Rules, schema: &str, table: &str) -> Place<'a> {
    let Some(s) = rules.schema(schema) else {
        return Place::Absent;
    };
    let named = s
        .tables()
        .find(|r| r.name.eq_ignore_ascii_case(table))
        .cloned();
    match named.or_else(|| s.table(table)) {
        None => Place::Unsharded(shard_name(rules, s.default_shard).to_string()),
        Some(r) if matches!(*r.algorithm, Algorithm::Broadcast) => Place::Broadcast(
            r.shards
                .iter()
                .map(|x| shard_name(rules, *x).to_string())
                .collect(),
        ),
        Some(r) => Place::Sharded(r, rules),
    }
}

/// Compares two rules files: what their difference moves. See the module documentation.
pub fn diff(old: &Rules, new: &Rules) -> Diff {
    let mut out = Diff {
        shards: shard_changes(old, new),
        ..Diff::default()
    };
    let mut schema_names: Vec<&str> = old.schemas.iter().map(|s| s.name.as_str()).collect();
    for s in &new.schemas {
        if !schema_names.contains(&s.name.as_str()) {
            schema_names.push(&s.name);
        }
    }
    for name in schema_names {
        match (old.schema(name), new.schema(name)) {
            (Some(_), None) => out.schemas.push(format!(
                "schema {name}: removed (its rows stay on the shards, no longer served)"
            )),
            (None, Some(_)) => out.schemas.push(format!("schema {name}: added")),
            (Some(a), Some(b)) => {
                let (da, db) = (
                    shard_name(old, a.default_shard),
                    shard_name(new, b.default_shard),
                );
                if da != db {
                    out.default_moves = true;
                    out.schemas.push(format!(
                        "schema {name}: default shard {da} -> {db}: every table no rule names moves"
                    ));
                }
            }
            (None, None) => {}
        }
        // Tables named by a rule in either file, by lowercase name, in name order.
        let mut tables: BTreeMap<String, String> = BTreeMap::new();
        for rules in [old, new] {
            if let Some(s) = rules.schema(name) {
                for r in s.tables() {
                    tables
                        .entry(r.name.to_lowercase())
                        .or_insert_with(|| r.name.clone());
                }
            }
        }
        for table in tables.values() {
            let (a, b) = (place_of(old, name, table), place_of(new, name, table));
            match compare(&a, &b) {
                Some((summary, details, moves_keys)) => out.tables.push(TableDiff {
                    schema: name.to_string(),
                    table: table.clone(),
                    summary,
                    details,
                    moves_keys,
                }),
                None => out.unchanged += 1,
            }
        }
    }
    out
}

/// The URL with its password replaced by `***`.
fn mask(url: &str) -> String {
    let Some(rest) = url.strip_prefix("mysql://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("mysql://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

fn shard_changes(old: &Rules, new: &Rules) -> Vec<String> {
    let mut out = Vec::new();
    for a in &old.shards {
        match new.shards.iter().find(|b| b.name == a.name) {
            None => out.push(format!("shard {}: removed", a.name)),
            Some(b) => {
                if a.primary != b.primary {
                    out.push(format!(
                        "shard {}: primary {} -> {}",
                        a.name,
                        mask(&a.primary),
                        mask(&b.primary)
                    ));
                }
                if a.replicas != b.replicas {
                    let list = |r: &[String]| {
                        let v: Vec<String> = r.iter().map(|u| mask(u)).collect();
                        format!("[{}]", v.join(", "))
                    };
                    out.push(format!(
                        "shard {}: replicas {} -> {}",
                        a.name,
                        list(&a.replicas),
                        list(&b.replicas)
                    ));
                }
            }
        }
    }
    for b in &new.shards {
        if !old.shards.iter().any(|a| a.name == b.name) {
            out.push(format!("shard {}: added", b.name));
        }
    }
    out
}

/// `(summary, details, moves_keys)` when the placement changes, None when it is the same.
fn compare(old: &Place, new: &Place) -> Option<(String, Vec<String>, bool)> {
    let summary = format!("{} -> {}", old.describe(), new.describe());
    if let Some(moved) = compare_split(old, new, &summary) {
        return Some(moved);
    }
    match (old, new) {
        (Place::Absent, Place::Absent) => None,
        (Place::Absent, b) => Some((format!("added: {}", b.describe()), Vec::new(), false)),
        (a, Place::Absent) => Some((
            format!(
                "removed with its schema (was {}; rows stay, no longer served)",
                a.describe()
            ),
            Vec::new(),
            false,
        )),
        (Place::Broadcast(a), Place::Broadcast(b)) => {
            let (a, b): (BTreeSet<&String>, BTreeSet<&String>) =
                (a.iter().collect(), b.iter().collect());
            let gained: Vec<&str> = b.difference(&a).map(|s| s.as_str()).collect();
            let lost: Vec<&str> = a.difference(&b).map(|s| s.as_str()).collect();
            if gained.is_empty() && lost.is_empty() {
                return None;
            }
            let mut details = Vec::new();
            if !gained.is_empty() {
                details.push(format!(
                    "gains {}: copy the table there first",
                    gained.join(", ")
                ));
            }
            if !lost.is_empty() {
                details.push(format!(
                    "loses {}: the copy there is no longer used",
                    lost.join(", ")
                ));
            }
            Some((summary, details, !gained.is_empty()))
        }
        (Place::Broadcast(a), b) => {
            let missing: Vec<String> = b.shards().into_iter().filter(|s| !a.contains(s)).collect();
            let detail = if missing.is_empty() {
                "every shard of the new placement holds a full copy: no row moves (copies elsewhere are no longer used)".to_string()
            } else {
                format!(
                    "{} hold no copy: the rows the new rule places there must be copied",
                    missing.join(", ")
                )
            };
            Some((summary, vec![detail], !missing.is_empty()))
        }
        (a, Place::Broadcast(b)) => {
            let from = a.shards();
            let to: BTreeSet<String> = b.iter().cloned().collect();
            let moves = !(from.len() == 1 && from == to);
            let detail = if moves {
                format!("every row must be copied to each of {}", b.join(", "))
            } else {
                "every row already is on the only shard of the broadcast table".to_string()
            };
            Some((summary, vec![detail], moves))
        }
        (Place::Unsharded(a), Place::Unsharded(b)) => {
            (a != b).then(|| (summary, vec![format!("every row: {a} -> {b}")], true))
        }
        _ => compare_keyed(old, new, summary),
    }
}

/// Ends the summary of a table whose physical tables change (see [`Diff::splits_change`]).
const SPLIT_CHANGE: &str = " (physical tables change)";

/// A table whose split into physical tables changes (split, unsplit, or split otherwise):
/// its rows move between physical tables (`--count` counts them per physical table).
fn compare_split(old: &Place, new: &Place, summary: &str) -> Option<(String, Vec<String>, bool)> {
    if matches!(old, Place::Absent) || matches!(new, Place::Absent) {
        return None;
    }
    let (a, b) = (
        old.rule().and_then(|r| r.split.clone()),
        new.rule().and_then(|r| r.split.clone()),
    );
    let same = match (&a, &b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.same_layout(b) && a.units() == b.units(),
        _ => false,
    };
    if same {
        return None;
    }
    Some((
        format!("{summary}{SPLIT_CHANGE}"),
        vec!["rows move between physical tables (--count counts them per physical table): create the new tables and move the rows first".into()],
        true,
    ))
}

/// Two placements by key (at least one sharded, neither broadcast nor absent).
fn compare_keyed(old: &Place, new: &Place, summary: String) -> Option<(String, Vec<String>, bool)> {
    if let (Some(a), Some(b)) = (old.rule(), new.rule()) {
        let (ka, kb) = (
            a.key.as_deref().unwrap_or(""),
            b.key.as_deref().unwrap_or(""),
        );
        if !ka.eq_ignore_ascii_case(kb) {
            return Some((
                summary,
                vec![format!(
                    "the key column changes ({ka} -> {kb}): rows are placed by another column, so any row may move (no estimate)"
                )],
                true,
            ));
        }
    }
    let same_type = match (old.rule(), new.rule()) {
        (Some(a), Some(b)) => a.key_type == b.key_type,
        _ => true,
    };
    let ordered = |p: &Place| match p {
        Place::Unsharded(_) => true,
        Place::Sharded(r, _) => matches!(*r.algorithm, Algorithm::Range(_)),
        _ => false,
    };
    let listed = |p: &Place| match p {
        Place::Unsharded(_) => true,
        Place::Sharded(r, _) => matches!(*r.algorithm, Algorithm::List(_)),
        _ => false,
    };
    let (details, moves) = if same_type && ordered(old) && ordered(new) {
        ranges_diff(old, new)
    } else if same_type && listed(old) && listed(new) {
        lists_diff(old, new)
    } else if same_type && same_hash(old, new) {
        (Vec::new(), false)
    } else {
        sample_diff(old, new)
    };
    if details.is_empty() && old.describe() == new.describe() {
        return None;
    }
    let details = if details.is_empty() {
        vec!["no key changes shard".to_string()]
    } else {
        details
    };
    Some((summary, details, moves))
}

/// Whether two hash or consistent-hash rules place every key alike (same shards by name, in
/// the same order; the same virtual nodes).
fn same_hash(old: &Place, new: &Place) -> bool {
    let (Place::Sharded(a, ra), Place::Sharded(b, rb)) = (old, new) else {
        return false;
    };
    let names = |ids: &[ShardId], r: &Rules| -> Vec<String> {
        ids.iter().map(|s| shard_name(r, *s).to_string()).collect()
    };
    match (a.algorithm.as_ref(), b.algorithm.as_ref()) {
        (Algorithm::Hash(x), Algorithm::Hash(y)) => names(x.shards(), ra) == names(y.shards(), rb),
        (Algorithm::ConsistentHash(x), Algorithm::ConsistentHash(y)) => {
            x.virtual_nodes() == y.virtual_nodes()
                && names(&x.shards(), ra) == names(&y.shards(), rb)
        }
        _ => false,
    }
}

fn shown(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or(NO_SHARD)
}

/// Whether a key on `from` would be elsewhere under `to`: a move of stored rows (keys that no
/// shard takes today cannot be stored).
fn is_move(from: &Option<String>, to: &Option<String>) -> bool {
    from.is_some() && from != to
}

/// Keys `[lo, hi)` (None: unbounded) whose shard is `from` under the old rules and `to` under
/// the new ones.
struct Segment<'k> {
    lo: Option<&'k Key>,
    hi: Option<&'k Key>,
    from: Option<String>,
    to: Option<String>,
}

/// The exact key intervals whose shard changes, between placements that are constant between
/// the bounds of their ranges.
fn ranges_diff(old: &Place, new: &Place) -> (Vec<String>, bool) {
    let bounds = |p: &Place| match p {
        Place::Sharded(r, _) => match r.algorithm.as_ref() {
            Algorithm::Range(rr) => rr.bounds(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let mut cuts = bounds(old);
    cuts.extend(bounds(new));
    cuts.sort();
    cuts.dedup();
    // Intervals [lo, hi) between consecutive cuts; on each, both placements are constant.
    let mut segments: Vec<Segment> = Vec::new();
    let mut lo: Option<&Key> = None;
    for i in 0..=cuts.len() {
        let hi = cuts.get(i);
        let (from, to) = (old.shard_in(lo, hi), new.shard_in(lo, hi));
        if from != to {
            match segments.last_mut() {
                // Adjacent with the same change: one interval.
                Some(last) if last.hi == lo && last.from == from && last.to == to => last.hi = hi,
                _ => segments.push(Segment { lo, hi, from, to }),
            }
        }
        lo = hi;
    }
    let mut moves = false;
    let lines = segments
        .iter()
        .map(|s| {
            moves |= is_move(&s.from, &s.to);
            let lo = s.lo.map_or("-inf".to_string(), Key::to_string);
            let hi = s.hi.map_or("+inf".to_string(), Key::to_string);
            let note = if s.from.is_none() {
                " (no row can be there today)"
            } else {
                ""
            };
            format!("[{lo}, {hi}): {} -> {}{note}", shown(&s.from), shown(&s.to))
        })
        .collect();
    (lines, moves)
}

/// The listed values whose shard changes, and the shard of every other value.
fn lists_diff(old: &Place, new: &Place) -> (Vec<String>, bool) {
    let listed = |p: &Place| -> (Vec<Key>, Option<String>) {
        match p {
            Place::Sharded(r, rules) => match r.algorithm.as_ref() {
                Algorithm::List(l) => (
                    l.listed().into_iter().cloned().collect(),
                    l.default_shard().map(|s| shard_name(rules, s).to_string()),
                ),
                _ => (Vec::new(), None),
            },
            Place::Unsharded(d) => (Vec::new(), Some(d.clone())),
            _ => (Vec::new(), None),
        }
    };
    let (mut values, other_old) = listed(old);
    let (more, other_new) = listed(new);
    values.extend(more);
    values.sort();
    values.dedup();
    let mut groups: BTreeMap<(Option<String>, Option<String>), Vec<&Key>> = BTreeMap::new();
    for v in &values {
        let (a, b) = (old.shard_of(v), new.shard_of(v));
        if a != b {
            groups.entry((a, b)).or_default().push(v);
        }
    }
    let mut moves = false;
    let mut lines = Vec::new();
    for ((a, b), keys) in &groups {
        moves |= is_move(a, b);
        let mut text: Vec<String> = keys
            .iter()
            .take(MAX_VALUES_SHOWN)
            .map(|k| k.to_string())
            .collect();
        if keys.len() > MAX_VALUES_SHOWN {
            text.push(format!("and {} more", keys.len() - MAX_VALUES_SHOWN));
        }
        let word = if keys.len() == 1 { "value" } else { "values" };
        lines.push(format!(
            "{word} {}: {} -> {}",
            text.join(", "),
            shown(a),
            shown(b)
        ));
    }
    if other_old != other_new {
        moves |= is_move(&other_old, &other_new);
        lines.push(format!(
            "every other value: {} -> {}",
            shown(&other_old),
            shown(&other_new)
        ));
    }
    (lines, moves)
}

/// A fixed sample of keys of a key type, as statement values, and how to name it.
fn sample(kt: KeyType) -> (Vec<Value>, String) {
    let n = SAMPLE_SIZE;
    match kt {
        KeyType::Int => (
            (1..=n as i64).map(Value::Int).collect(),
            format!("the integers 1..{n}"),
        ),
        KeyType::String(_) => (
            (1..=n)
                .map(|i| Value::Bytes(format!("key{i}").into_bytes()))
                .collect(),
            format!("the strings 'key1'..'key{n}'"),
        ),
        KeyType::Date | KeyType::DateTime => {
            let time = if kt == KeyType::Date { "" } else { " 12:00:00" };
            let days = consecutive_days(2000, n);
            let first = days.first().cloned().unwrap_or_default();
            let last = days.last().cloned().unwrap_or_default();
            (
                days.iter()
                    .map(|d| Value::Bytes(format!("{d}{time}").into_bytes()))
                    .collect(),
                format!("{n} consecutive days {first}..{last}{time}"),
            )
        }
    }
}

/// `n` consecutive dates from January 1st of `year`, as `YYYY-MM-DD`.
fn consecutive_days(year: u32, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    let (mut y, mut m, mut d) = (year, 1u32, 1u32);
    while out.len() < n {
        out.push(format!("{y:04}-{m:02}-{d:02}"));
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let len = match m {
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => 31,
        };
        d += 1;
        if d > len {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
    out
}

/// An estimate: the share of a fixed sample of keys that changes shard.
fn sample_diff(old: &Place, new: &Place) -> (Vec<String>, bool) {
    let kt = old
        .rule()
        .or_else(|| new.rule())
        .map_or(KeyType::Int, |r| r.key_type);
    let mut lines = Vec::new();
    if let (Some(a), Some(b)) = (old.rule(), new.rule()) {
        if a.key_type != b.key_type {
            lines.push(format!(
                "the key type changes ({} -> {})",
                key_type_text(a.key_type),
                key_type_text(b.key_type)
            ));
        }
        if a.shards.len() != b.shards.len() {
            lines.push(format!(
                "the shard count changes ({} -> {})",
                a.shards.len(),
                b.shards.len()
            ));
        }
    }
    let (values, what) = sample(kt);
    let mut placed = 0usize;
    let mut flows: BTreeMap<(String, String), usize> = BTreeMap::new();
    for v in &values {
        let Some(a) = old.shard_of_value(v) else {
            continue;
        };
        placed += 1;
        let b = new.shard_of_value(v);
        if Some(&a) != b.as_ref() {
            *flows.entry((a, shown(&b).to_string())).or_default() += 1;
        }
    }
    if placed == 0 {
        lines.push(format!(
            "no key of the sample ({what}) has a shard under the old rules: no estimate; assume any row may move"
        ));
        return (lines, true);
    }
    let moved: usize = flows.values().sum();
    lines.push(format!(
        "about {:.1}% of keys change shard ({moved} of {placed} sample keys: {what})",
        moved as f64 * 100.0 / placed as f64
    ));
    for ((a, b), n) in &flows {
        lines.push(format!(
            "{a} -> {b}: {:.1}% of keys",
            *n as f64 * 100.0 / placed as f64
        ));
    }
    (lines, moved > 0)
}

/// Stored rows that would change shard, counted on the backends by [`count_moving_rows`].
#[derive(Clone, Debug, Default)]
pub struct Counts {
    /// One entry per table whose placement moves rows.
    pub tables: Vec<TableCount>,
    /// Tables or databases missing on a shard (counted 0), and other remarks.
    pub notes: Vec<String>,
}

/// The stored rows of one table that would move.
#[derive(Clone, Debug, Default)]
pub struct TableCount {
    /// The logical schema.
    pub schema: String,
    /// The table, as the backends name it.
    pub table: String,
    /// Rows read.
    pub scanned: u64,
    /// Rows (or copies of rows, for a broadcast table) per (from shard, to shard); for a table
    /// split into physical tables under either rules, per (`shard/table`, `shard/table`).
    pub moves: BTreeMap<(String, String), u64>,
}

impl TableCount {
    /// Rows of the table that would move (copies of a broadcast table's rows included).
    pub fn total(&self) -> u64 {
        self.moves.values().sum()
    }
}

impl Counts {
    /// Every stored row that would move, over all tables.
    pub fn total(&self) -> u64 {
        self.tables.iter().map(TableCount::total).sum()
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "stored rows (counted on the shards of the old rules):")?;
        for t in &self.tables {
            writeln!(
                f,
                "{}.{}: {} of {} rows move",
                t.schema,
                t.table,
                t.total(),
                t.scanned
            )?;
            for ((a, b), n) in &t.moves {
                writeln!(f, "  {a} -> {b}: {n}")?;
            }
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        writeln!(f, "rows to move: {}", self.total())
    }
}

fn quote(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

/// Connects to the primary of every shard of `old` and counts, for each table whose placement
/// changes, the stored rows that `new` places on another shard: it reads the key column of
/// each such table on every shard that holds it (`SELECT key FROM table`, in the database
/// named like the schema) and routes each key with the new rules. A row whose key no shard of
/// `new` takes counts as moving to `(no shard)`. A broadcast table gaining shards counts one
/// copy of each row per new shard. A table (or database) missing on a shard counts 0, with a
/// note. Err when a shard cannot be reached or a query fails.
pub async fn count_moving_rows(old: &Rules, new: &Rules) -> Result<Counts, String> {
    let d = diff(old, new);
    let backends = Backends::new(old);
    let result = count_with(&backends, old, new, &d).await;
    backends.close().await;
    result
}

async fn count_with(
    backends: &Backends,
    old: &Rules,
    new: &Rules,
    d: &Diff,
) -> Result<Counts, String> {
    let mut out = Counts::default();
    for schema in &old.schemas {
        if new.schema(&schema.name).is_none() {
            continue;
        }
        let default_moves = d
            .schemas
            .iter()
            .any(|l| l.starts_with(&format!("schema {}: default shard", schema.name)));
        let changed: Vec<&TableDiff> = d
            .tables
            .iter()
            .filter(|t| t.schema == schema.name && t.moves_keys)
            .collect();
        if !default_moves && changed.is_empty() {
            continue;
        }
        let db = &schema.name;
        // Per table (lowercase), its count; tables in shard order of discovery.
        let mut counts: BTreeMap<String, TableCount> = BTreeMap::new();
        // Tables split into physical tables under either rules: counted per physical table,
        // each the old rules' (shard, physical table) its rows are read from.
        let mut split_tables: Vec<(&TableDiff, Vec<Located>, Locator)> = Vec::new();
        let mut handled: BTreeSet<String> = BTreeSet::new();
        for t in &changed {
            let (a, b) = (place_of(old, db, &t.table), place_of(new, db, &t.table));
            let split = |p: &Place| p.rule().is_some_and(|r| r.split.is_some());
            if !(split(&a) || split(&b)) {
                continue;
            }
            let from = physical_tables(&a, &t.table);
            handled.insert(t.table.to_lowercase());
            for (_, p) in from.iter().chain(&physical_tables(&b, &t.table)) {
                handled.insert(p.to_lowercase());
            }
            split_tables.push((t, from, Locator::new(b, &t.table)));
        }
        for shard in 0..old.shards.len() {
            let here = shard_name(old, shard).to_string();
            let mut conn = backends
                .wire(shard, None, false)
                .await
                .map_err(|e| format!("shard {here}: {e}"))?;
            let listed = conn
                .query_rows(format!("SHOW FULL TABLES FROM {}", quote(db)))
                .await;
            let tables: Vec<String> = match listed {
                Ok(rows) => rows
                    .into_iter()
                    .filter_map(|row| match row.as_slice() {
                        [Value::Bytes(t), Value::Bytes(kind)] if kind == b"BASE TABLE" => {
                            Some(String::from_utf8_lossy(t).into_owned())
                        }
                        _ => None,
                    })
                    .collect(),
                Err(ProxyError::Backend { code: 1049, .. }) => {
                    out.notes.push(format!(
                        "database {db} does not exist on {here}: its tables count 0 there"
                    ));
                    Vec::new()
                }
                Err(e) => return Err(format!("shard {here}: SHOW TABLES FROM {db}: {e}")),
            };
            for (t, from, to) in &split_tables {
                let entry = count_of(&mut counts, db, &t.table);
                for (_, physical) in from.iter().filter(|(s, _)| *s == here) {
                    if !tables.iter().any(|x| x.eq_ignore_ascii_case(physical)) {
                        out.notes.push(format!(
                            "{db}.{physical} does not exist on {here}: counted 0 there"
                        ));
                        continue;
                    }
                    count_physical(&mut conn, db, &here, physical, to, entry)
                        .await
                        .map_err(|e| format!("shard {here}: {db}.{physical}: {e}"))?;
                }
            }
            // Tables the rules name whose rows the old rules put here, but that are missing.
            for t in &changed {
                if handled.contains(&t.table.to_lowercase()) {
                    continue;
                }
                let holds = place_of(old, db, &t.table).shards().contains(&here);
                if holds
                    && !is_pattern(&t.table)
                    && !tables.iter().any(|x| x.eq_ignore_ascii_case(&t.table))
                {
                    out.notes.push(format!(
                        "{db}.{} does not exist on {here}: counted 0 there",
                        t.table
                    ));
                    count_of(&mut counts, db, &t.table);
                }
            }
            for table in &tables {
                if handled.contains(&table.to_lowercase()) {
                    continue; // a physical table of a split table, counted above
                }
                let (a, b) = (place_of(old, db, table), place_of(new, db, table));
                if !a.shards().contains(&here) {
                    continue; // not a table the old rules put here
                }
                if let Place::Broadcast(copies) = &a
                    && copies.first() != Some(&here)
                {
                    continue; // each copy holds every row: count one
                }
                if !compare(&a, &b).is_some_and(|c| c.2) {
                    continue;
                }
                let entry = count_of(&mut counts, db, table);
                count_table(&mut conn, db, table, &here, &a, &b, entry)
                    .await
                    .map_err(|e| format!("shard {here}: {db}.{table}: {e}"))?;
            }
        }
        out.tables.extend(counts.into_values());
    }
    Ok(out)
}

/// The count of `table` (by its lowercase name) in `counts`, added when missing.
fn count_of<'a>(
    counts: &'a mut BTreeMap<String, TableCount>,
    db: &str,
    table: &str,
) -> &'a mut TableCount {
    counts
        .entry(table.to_lowercase())
        .or_insert_with(|| TableCount {
            schema: db.to_string(),
            table: table.to_string(),
            ..TableCount::default()
        })
}

/// Reads column `column` of every row of `from` (`db`.`table`, quoted), calling `each` with
/// its value; returns the rows read.
async fn scan_keys(
    conn: &mut WireConn,
    from: &str,
    column: &str,
    mut each: impl FnMut(Value),
) -> Result<u64, ProxyError> {
    let sql = format!("SELECT {} FROM {from}", quote(column));
    let crate::backend::wire::Answer::Rows(columns) = conn.query(sql).await? else {
        return Ok(0);
    };
    let mut scanned = 0u64;
    let mut rows = crate::backend::wire::RawRows::default();
    loop {
        rows.clear();
        let end = conn.read_rows(&mut rows, 1024).await?;
        for row in rows
            .text_values(columns.len())
            .map_err(ProxyError::Malformed)?
        {
            scanned += 1;
            each(row.into_iter().next().unwrap_or(Value::NULL));
        }
        if end.is_some() {
            break;
        }
    }
    conn.drain().await?;
    Ok(scanned)
}

/// The number `SELECT COUNT(*) FROM from` answers.
async fn count_rows(conn: &mut WireConn, from: &str) -> Result<u64, ProxyError> {
    let n = conn
        .query_first(format!("SELECT COUNT(*) FROM {from}"))
        .await?;
    Ok(n.and_then(|b| String::from_utf8(b).ok()?.parse().ok())
        .unwrap_or(0))
}

/// A shard and one of its tables: `(shard, table)`.
type Located = (String, String);

/// The tables a placement stores logical table `logical` in, as `(shard, table)`: each
/// physical table of a split one, else the logical table on each shard that may hold rows.
fn physical_tables(place: &Place, logical: &str) -> Vec<Located> {
    if let Place::Sharded(rule, rules) = place
        && let Some(split) = &rule.split
    {
        return (0..split.units().len())
            .map(|u| {
                (
                    shard_name(rules, split.shard_of(u)).to_string(),
                    split.physical(u, logical),
                )
            })
            .collect();
    }
    place
        .shards()
        .into_iter()
        .map(|s| (s, logical.to_string()))
        .collect()
}

/// Where a placement stores each row of a logical table: `(shard, physical table)`.
struct Locator<'a> {
    place: Place<'a>,
    logical: String,
    /// A split table's rule over its physical tables (see [`crate::config::split::Split::unit_rule`]).
    units: Option<TableRule>,
}

impl<'a> Locator<'a> {
    fn new(place: Place<'a>, logical: &str) -> Self {
        let units = match &place {
            Place::Sharded(rule, _) => rule.split.as_ref().map(|s| s.unit_rule(rule)),
            _ => None,
        };
        Locator {
            place,
            logical: logical.to_string(),
            units,
        }
    }

    /// The key column its rows are placed by, when they are placed by key.
    fn key(&self) -> Option<&str> {
        match &self.place {
            Place::Sharded(rule, _) => rule.key.as_deref(),
            _ => None,
        }
    }

    /// Where the row with key `v` goes (None: no shard takes it).
    fn of(&self, v: &Value) -> Option<Located> {
        let Place::Sharded(rule, rules) = &self.place else {
            return None;
        };
        match (&rule.split, &self.units) {
            (Some(split), Some(units)) => {
                let key = rule.key_of(v).ok()?;
                let u = units.shard_for_key(&key).ok()?;
                Some((
                    shard_name(rules, split.shard_of(u)).to_string(),
                    split.physical(u, &self.logical),
                ))
            }
            _ => Some((self.place.shard_of_value(v)?, self.logical.clone())),
        }
    }
}

/// Counts the rows of physical table `db.physical` on shard `here` that `to` stores in
/// another table or on another shard, as moves between `shard/table` places.
async fn count_physical(
    conn: &mut WireConn,
    db: &str,
    here: &str,
    physical: &str,
    to: &Locator<'_>,
    out: &mut TableCount,
) -> Result<(), ProxyError> {
    let from = format!("{}.{}", quote(db), quote(physical));
    let at = (here.to_string(), physical.to_string());
    let label = |(s, t): &(String, String)| format!("{s}/{t}");
    let mut moves: BTreeMap<String, u64> = BTreeMap::new();
    match to.key() {
        Some(column) => {
            out.scanned += scan_keys(conn, &from, column, |v| match to.of(&v) {
                Some(place) if place == at => {}
                Some(place) => *moves.entry(label(&place)).or_default() += 1,
                None => *moves.entry(NO_SHARD.to_string()).or_default() += 1,
            })
            .await?;
        }
        None => {
            let n = count_rows(conn, &from).await?;
            out.scanned += n;
            // Unsharded or broadcast: every row goes to each table of the placement.
            for place in physical_tables(&to.place, &to.logical) {
                if place != at && n > 0 {
                    *moves.entry(label(&place)).or_default() += n;
                }
            }
        }
    }
    for (dest, n) in moves {
        *out.moves.entry((label(&at), dest)).or_default() += n;
    }
    Ok(())
}

/// Counts the rows of `db.table` on shard `here` that `new` places elsewhere.
async fn count_table(
    conn: &mut WireConn,
    db: &str,
    table: &str,
    here: &str,
    old: &Place<'_>,
    new: &Place<'_>,
    out: &mut TableCount,
) -> Result<(), ProxyError> {
    let from = format!("{}.{}", quote(db), quote(table));
    let add = |out: &mut TableCount, to: &str, n: u64| {
        if n > 0 {
            *out.moves
                .entry((here.to_string(), to.to_string()))
                .or_default() += n;
        }
    };
    match new {
        Place::Sharded(rule, _) => {
            let column = rule.key.as_deref().unwrap_or("");
            let copies = match old {
                Place::Broadcast(c) => c.iter().cloned().collect(),
                _ => BTreeSet::from([here.to_string()]),
            };
            let mut moves: BTreeMap<String, u64> = BTreeMap::new();
            out.scanned += scan_keys(conn, &from, column, |v| {
                let to = new.shard_of_value(&v);
                if !to.as_ref().is_some_and(|t| copies.contains(t)) {
                    *moves.entry(shown(&to).to_string()).or_default() += 1;
                }
            })
            .await?;
            for (to, n) in moves {
                add(out, &to, n);
            }
        }
        Place::Unsharded(_) | Place::Broadcast(_) => {
            let n = count_rows(conn, &from).await?;
            out.scanned += n;
            // Rows already on a shard (a copy of a broadcast table, or this shard) stay.
            let holds = match old {
                Place::Broadcast(_) => old.shards(),
                _ => BTreeSet::from([here.to_string()]),
            };
            for to in new.shards() {
                if !holds.contains(&to) {
                    add(out, &to, n);
                }
            }
        }
        Place::Absent => {}
    }
    Ok(())
}

/// `shardgate rules diff OLD NEW [--count]`: prints the [`Diff`] (and the [`Counts`] with
/// `count`) and returns the exit code: 0 when no key changes shard, 2 when keys change shard,
/// 1 when a file is invalid or counting fails (errors on stderr).
pub fn cli(old: &Path, new: &Path, count: bool) -> u8 {
    let (a, b) = (Rules::load(old), Rules::load(new));
    for r in [&a, &b] {
        if let Err(errs) = r {
            eprintln!("{errs}");
        }
    }
    let (Ok(a), Ok(b)) = (a, b) else {
        return 1;
    };
    let d = diff(&a, &b);
    print!("{d}");
    if count {
        let rt = match tokio::runtime::Runtime::new() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("cannot start the runtime: {e}");
                return 1;
            }
        };
        match rt.block_on(count_moving_rows(&a, &b)) {
            Ok(c) => print!("{c}"),
            Err(e) => {
                eprintln!("rules diff --count: {e}");
                return 1;
            }
        }
    }
    if d.moves_keys() { 2 } else { 0 }
}
