//! Table splitting: one logical table stored as several physical tables on each shard, e.g.
//! `orders` hashed into `orders_0 .. orders_7` over 2 shards, or range-split by month into
//! `orders_202611`, `orders_202612`.
//!
//! A split rule places a key in two steps that never disagree. The table's algorithm gives the
//! shard exactly as it would without splitting (so splitting a table moves no row to another
//! shard), and the same algorithm over *units* gives the physical table. A unit is one physical
//! table: its shard and its name template, where `{table}` stands for the logical name.
//! - hash with `tables_per_shard = T` over N shards: unit `g = key mod (N*T)` (the CRC32 of a
//!   string key's weights mod N*T), named by `table_template` with `{n}` = g; since
//!   `(key mod N*T) mod N = key mod N`, unit g is on `shards[g mod N]`, the key's own shard.
//! - range and list: each entry names its physical table (`table = "{table}_202611"`); keys
//!   outside every entry go to `default_table` on `default_shard`.

use super::error::Diag;
use super::raw::RawTable;
use super::{Algorithm, KeyType, ShardId, TableCx, TableRule};
use crate::route::hash::HashRule;
use crate::route::list::ListRule;
use crate::route::range::RangeRule;
use std::ops::Range;
use std::sync::Arc;

/// The default `table_template` of a hash split.
pub const DEFAULT_TEMPLATE: &str = "{table}_{n}";

/// Longest table name MySQL accepts.
const MAX_NAME: usize = 64;

/// Most physical tables one hash rule may create per shard.
const MAX_PER_SHARD: i64 = 1024;

/// How a split table's rows are spread over physical tables.
#[derive(Debug)]
pub struct Split {
    units: Vec<Unit>,
    /// The table's algorithm with unit numbers in place of shard ids.
    algorithm: Arc<Algorithm>,
}

/// One physical table of a split table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// The shard holding it.
    pub shard: ShardId,
    /// Its name, `{table}` standing for the logical table's name.
    pub template: String,
}

impl Split {
    /// Every physical table, numbered by unit.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// The shard of a unit.
    pub fn shard_of(&self, unit: usize) -> ShardId {
        self.units.get(unit).map(|u| u.shard).unwrap_or(0)
    }

    /// The physical name of `unit` for the logical table `logical`.
    pub fn physical(&self, unit: usize, logical: &str) -> String {
        self.units
            .get(unit)
            .map(|u| u.template.replace("{table}", logical))
            .unwrap_or_else(|| logical.to_string())
    }

    /// Every physical name of the logical table `logical`, by unit.
    pub fn physical_names(&self, logical: &str) -> Vec<String> {
        (0..self.units.len())
            .map(|u| self.physical(u, logical))
            .collect()
    }

    /// `base` placing keys on units instead of shards: its "shards" are unit numbers, so the
    /// router's key and range lookups answer units.
    pub fn unit_rule(&self, base: &TableRule) -> TableRule {
        TableRule {
            algorithm: self.algorithm.clone(),
            shards: (0..self.units.len()).collect(),
            split: None,
            ..base.clone()
        }
    }

    /// Whether two split tables place equal keys in units of the same number on the same
    /// shards (co-located split tables can then be joined unit by unit).
    pub fn same_layout(&self, other: &Split) -> bool {
        let same_algorithm = match (self.algorithm.as_ref(), other.algorithm.as_ref()) {
            (Algorithm::Hash(a), Algorithm::Hash(b)) => a == b,
            (Algorithm::Range(a), Algorithm::Range(b)) => a == b,
            (Algorithm::List(a), Algorithm::List(b)) => a == b,
            _ => false,
        };
        same_algorithm
            && self.units.len() == other.units.len()
            && self
                .units
                .iter()
                .zip(&other.units)
                .all(|(a, b)| a.shard == b.shard)
    }
}

/// The logical table of each physical table of a schema's split tables, keyed by the
/// physical name in lowercase (for listings that must show logical tables only).
pub fn logical_names(schema: &super::Schema) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    for rule in schema.tables() {
        if let Some(split) = &rule.split {
            for name in split.physical_names(&rule.name) {
                out.insert(name.to_lowercase(), rule.name.clone());
            }
        }
    }
    out
}

/// Where a table entry stands in the file, for messages.
pub(super) struct At<'a> {
    pub path: &'a str,
    pub span: Range<usize>,
    pub shard_names: &'a [String],
    pub key_type: KeyType,
}

/// Validates the splitting keys of a table entry whose `algorithm` was built: `None` when the
/// table is not split, `Some(Err(()))` after a problem (reported).
pub(super) fn build(
    t: &RawTable,
    algorithm: &Algorithm,
    names: &[String],
    at: &At<'_>,
    diag: &mut Diag<'_>,
) -> Option<Result<Arc<Split>, ()>> {
    let entries = entries(t, algorithm);
    let entry_tables: Vec<&Option<toml::Spanned<String>>> =
        entries.iter().map(|(table, _)| table).collect();
    let splits = t.tables_per_shard.is_some()
        || t.table_template.is_some()
        || t.default_table.is_some()
        || entry_tables.iter().any(|t| t.is_some());
    if !splits {
        return None;
    }
    let mut fail = |span: Option<Range<usize>>, sub: &str, msg: String| {
        diag.err(
            Some(span.unwrap_or(at.span.clone())),
            &format!("{}{sub}", at.path),
            msg,
        );
        Some(Err(()))
    };
    if let Some(p) = names.iter().find(|n| n.contains(['*', '?'])) {
        return fail(
            None,
            ".names",
            format!("\"{p}\": a pattern rule cannot split tables (list the split tables by name)"),
        );
    }
    let several = names.len() > 1;
    match algorithm {
        Algorithm::Hash(h) => {
            if let Some(d) = &t.default_table {
                return fail(
                    Some(d.span()),
                    ".default_table",
                    "`default_table` is for range and list tables; a hash table has no keys outside its tables: remove it".into(),
                );
            }
            let Some(per) = &t.tables_per_shard else {
                let span = t.table_template.as_ref().map(|x| x.span());
                return fail(
                    span,
                    ".table_template",
                    "`table_template` without `tables_per_shard`: say how many physical tables each shard holds, e.g. tables_per_shard = 4".into(),
                );
            };
            let n = *per.get_ref();
            if !(1..=MAX_PER_SHARD).contains(&n) {
                return fail(
                    Some(per.span()),
                    ".tables_per_shard",
                    format!("tables_per_shard = {n}: give a number from 1 to {MAX_PER_SHARD}"),
                );
            }
            let (tpl, tpl_span) = match &t.table_template {
                Some(x) => (x.get_ref().clone(), Some(x.span())),
                None => (DEFAULT_TEMPLATE.to_string(), None),
            };
            if !tpl.contains("{n}") {
                return fail(
                    tpl_span,
                    ".table_template",
                    format!(
                        "table_template = \"{tpl}\" has no `{{n}}`: each physical table needs its own number, e.g. \"{DEFAULT_TEMPLATE}\""
                    ),
                );
            }
            let shards = h.shards();
            let total = shards.len() * n as usize;
            let widest = (total - 1).to_string();
            if let Some(msg) = template_problem(&tpl.replace("{n}", &widest), names, several) {
                return fail(tpl_span, ".table_template", msg);
            }
            let units = (0..total)
                .map(|g| Unit {
                    shard: shards[g % shards.len()],
                    template: tpl.replace("{n}", &g.to_string()),
                })
                .collect();
            let Some(rule) = HashRule::new((0..total).collect()) else {
                return fail(None, "", "a hash table without shards".into());
            };
            Some(Ok(Arc::new(Split {
                units,
                algorithm: Arc::new(Algorithm::Hash(rule)),
            })))
        }
        Algorithm::Range(_) | Algorithm::List(_) => {
            let list = if matches!(algorithm, Algorithm::Range(_)) {
                "ranges"
            } else {
                "lists"
            };
            for (key, span) in [
                (
                    "tables_per_shard",
                    t.tables_per_shard.as_ref().map(|x| x.span()),
                ),
                (
                    "table_template",
                    t.table_template.as_ref().map(|x| x.span()),
                ),
            ] {
                if let Some(span) = span {
                    return fail(
                        Some(span),
                        &format!(".{key}"),
                        format!(
                            "`{key}` splits hash tables; a {} table names the physical table of each entry: {list} = [{{ shard = \"s0\", ..., table = \"{{table}}_1\" }}]",
                            algorithm.name()
                        ),
                    );
                }
            }
            if let Some(i) = entry_tables.iter().position(|t| t.is_none()) {
                return fail(
                    None,
                    &format!(".{list}[{i}]"),
                    format!(
                        "missing key `table`: once one entry of `{list}` names its physical table, every entry must"
                    ),
                );
            }
            match (&t.default_shard, &t.default_table) {
                (Some(d), None) => {
                    return fail(
                        Some(d.span()),
                        ".default_shard",
                        "a split table's default_shard needs `default_table`: the physical table holding the keys outside every entry".into(),
                    );
                }
                (None, Some(d)) => {
                    return fail(
                        Some(d.span()),
                        ".default_table",
                        "`default_table` without `default_shard`: say which shard holds it".into(),
                    );
                }
                _ => {}
            }
            // The units: each distinct table, in order of first mention, then the default.
            let shard_of = |name: &str| at.shard_names.iter().position(|s| s == name);
            let entries: Vec<(toml::Spanned<String>, Option<ShardId>)> = entries
                .into_iter()
                .map(|(table, shard)| {
                    (
                        table.unwrap_or_else(spanned_empty),
                        shard.and_then(|s| shard_of(s.get_ref())),
                    )
                })
                .collect();
            let default = t.default_table.as_ref().map(|d| {
                (
                    d.clone(),
                    t.default_shard.as_ref().and_then(|s| shard_of(s.get_ref())),
                )
            });
            let mut units: Vec<Unit> = Vec::new();
            for (i, (name, shard)) in entries.iter().chain(default.iter()).enumerate() {
                let sub = if i < entries.len() {
                    format!(".{list}[{i}].table")
                } else {
                    ".default_table".to_string()
                };
                if let Some(msg) = template_problem(name.get_ref(), names, several) {
                    return fail(Some(name.span()), &sub, msg);
                }
                let shard = shard.unwrap_or(0);
                match units.iter().find(|u| u.template == *name.get_ref()) {
                    Some(u) if u.shard != shard => {
                        return fail(
                            Some(name.span()),
                            &sub,
                            format!(
                                "table \"{}\" is named on shard \"{}\" and on shard \"{}\": a physical table lives on one shard",
                                name.get_ref(),
                                at.shard_names
                                    .get(u.shard)
                                    .map(String::as_str)
                                    .unwrap_or("?"),
                                at.shard_names.get(shard).map(String::as_str).unwrap_or("?"),
                            ),
                        );
                    }
                    Some(_) => {}
                    None => units.push(Unit {
                        shard,
                        template: name.get_ref().clone(),
                    }),
                }
            }
            // The same algorithm over units: the raw entries with each shard replaced by its
            // table, validated again (it cannot fail where the shard rule passed).
            let mut raw = t.clone();
            if let Some(l) = raw.ranges.as_mut() {
                for r in l.get_mut() {
                    let r = r.get_mut();
                    r.shard = r.table.clone();
                }
            }
            if let Some(l) = raw.lists.as_mut() {
                for r in l.get_mut() {
                    let r = r.get_mut();
                    r.shard = r.table.clone();
                }
            }
            raw.default_shard = t.default_table.clone();
            let unit_names: Vec<String> = units.iter().map(|u| u.template.clone()).collect();
            let mut cx = TableCx::new(
                diag,
                at.path.to_string(),
                at.span.clone(),
                &unit_names,
                (at.key_type, None),
            );
            let algorithm = match list {
                "ranges" => RangeRule::build(&mut cx, &raw).map(Algorithm::Range),
                _ => ListRule::build(&mut cx, &raw).map(Algorithm::List),
            };
            match algorithm {
                Some(a) if !cx.failed() => Some(Ok(Arc::new(Split {
                    units,
                    algorithm: Arc::new(a),
                }))),
                _ => Some(Err(())),
            }
        }
        other => {
            let span = t
                .tables_per_shard
                .as_ref()
                .map(|x| x.span())
                .or(t.table_template.as_ref().map(|x| x.span()))
                .or(t.default_table.as_ref().map(|x| x.span()));
            fail(
                span,
                "",
                format!(
                    "algorithm {} cannot split tables (hash, range and list can)",
                    other.name()
                ),
            )
        }
    }
}

/// Each `ranges` or `lists` entry's `table` and `shard`, as written (none for other algorithms).
type Entry = (Option<toml::Spanned<String>>, Option<toml::Spanned<String>>);

fn entries(t: &RawTable, algorithm: &Algorithm) -> Vec<Entry> {
    match algorithm {
        Algorithm::Range(_) => t
            .ranges
            .iter()
            .flat_map(|l| l.get_ref())
            .map(|r| (r.get_ref().table.clone(), r.get_ref().shard.clone()))
            .collect(),
        Algorithm::List(_) => t
            .lists
            .iter()
            .flat_map(|l| l.get_ref())
            .map(|r| (r.get_ref().table.clone(), r.get_ref().shard.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

fn spanned_empty() -> toml::Spanned<String> {
    toml::Spanned::new(0..0, String::new())
}

/// Why a physical table name template is unusable, if it is: `{table}` is required when the
/// rule places several tables (each needs its own physical tables); the name, with the longest
/// logical name put in, must be a plain identifier MySQL accepts.
fn template_problem(tpl: &str, names: &[String], several: bool) -> Option<String> {
    if several && !tpl.contains("{table}") {
        return Some(format!(
            "table \"{tpl}\" has no `{{table}}` but the rule places several tables ({}): each needs its own physical tables, e.g. \"{{table}}_1\"",
            names.join(", ")
        ));
    }
    let longest = names.iter().map(String::as_str).max_by_key(|n| n.len())?;
    let name = tpl.replace("{table}", longest);
    if name.is_empty() || name.contains('{') || name.contains('}') {
        return Some(format!(
            "table \"{tpl}\": write the physical table's name, with `{{table}}` for the logical name (and `{{n}}` for the number of a hash table's physical table)"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || *c == '_' || *c == '$'))
    {
        return Some(format!(
            "table \"{tpl}\": `{c}` is not allowed in a physical table name (letters, digits, `_` and `$`)"
        ));
    }
    if names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
        return Some(format!(
            "table \"{tpl}\" names the logical table itself: a physical table needs another name"
        ));
    }
    (name.len() > MAX_NAME)
        .then(|| format!("table \"{name}\" is longer than {MAX_NAME} characters, MySQL's limit"))
}

#[cfg(test)]
mod tests {
    use crate::config::Rules;

    fn rules(tables: &str) -> Result<Rules, String> {
        let text = format!(
            r#"
listen = "127.0.0.1:0"
[[users]]
name = "app"
password = "app"
[[shards]]
name = "s0"
primary = "mysql://u@127.0.0.1:1"
[[shards]]
name = "s1"
primary = "mysql://u@127.0.0.1:2"
[[schemas]]
name = "shop"
default_shard = "s0"
{tables}
"#
        );
        Rules::from_toml(&text, "test").map_err(|e| e.to_string())
    }

    #[test]
    fn hash_split_keeps_the_shard_and_numbers_tables_globally() {
        let r = rules(
            r#"[[schemas.tables]]
names = ["orders"]
algorithm = "hash"
key = "id"
key_type = "int"
tables_per_shard = 4"#,
        )
        .unwrap();
        let rule = r.schema("shop").unwrap().table("orders").unwrap();
        let split = rule.split.clone().unwrap();
        assert_eq!(split.units().len(), 8);
        let units = split.unit_rule(&rule);
        for id in -20i64..40 {
            let k = crate::route::Key::Int(id);
            let u = units.shard_for_key(&k).unwrap();
            assert_eq!(u as i64, id.rem_euclid(8));
            assert_eq!(split.shard_of(u), rule.shard_for_key(&k).unwrap());
            assert_eq!(split.physical(u, "orders"), format!("orders_{u}"));
        }
    }

    #[test]
    fn range_split_names_a_table_per_entry() {
        let r = rules(
            r#"[[schemas.tables]]
names = ["orders"]
algorithm = "range"
key = "created"
key_type = "date"
ranges = [
  { shard = "s0", from = "2026-11-01", to = "2026-12-01", table = "orders_202611" },
  { shard = "s1", from = "2026-12-01", to = "2027-01-01", table = "orders_202612" },
  { shard = "s1", from = "2027-01-01", to = "2027-02-01", table = "orders_202701" },
]
default_shard = "s0"
default_table = "orders_old""#,
        )
        .unwrap();
        let rule = r.schema("shop").unwrap().table("orders").unwrap();
        let split = rule.split.clone().unwrap();
        let names = split.physical_names("orders");
        assert_eq!(
            names,
            [
                "orders_202611",
                "orders_202612",
                "orders_202701",
                "orders_old"
            ]
        );
        let units = split.unit_rule(&rule);
        let key = |s: &str| {
            crate::route::Key::coerce(
                crate::config::KeyType::Date,
                &mysql_common::value::Value::Bytes(s.as_bytes().to_vec()),
            )
            .unwrap()
        };
        assert_eq!(units.shard_for_key(&key("2026-12-24")).unwrap(), 1);
        assert_eq!(units.shard_for_key(&key("2020-01-01")).unwrap(), 3);
        assert_eq!(split.shard_of(3), 0);
    }

    #[test]
    fn bad_splits_are_refused_with_their_place() {
        let cases = [
            (
                "algorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\ntables_per_shard = 0",
                "tables_per_shard = 0",
            ),
            (
                "algorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\ntables_per_shard = 2\ntable_template = \"orders_x\"",
                "has no `{n}`",
            ),
            (
                "algorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\ntables_per_shard = 2\ntable_template = \"o-{n}\"",
                "`-` is not allowed",
            ),
            (
                "algorithm = \"consistent_hash\"\nkey = \"id\"\nkey_type = \"int\"\ntables_per_shard = 2",
                "cannot split tables",
            ),
            (
                "algorithm = \"list\"\nkey = \"c\"\nkey_type = \"int\"\nlists = [{ shard = \"s0\", values = [1], table = \"t1\" }, { shard = \"s1\", values = [2] }]",
                "missing key `table`",
            ),
            (
                "algorithm = \"list\"\nkey = \"c\"\nkey_type = \"int\"\nlists = [{ shard = \"s0\", values = [1], table = \"t1\" }, { shard = \"s1\", values = [2], table = \"t1\" }]",
                "a physical table lives on one shard",
            ),
            (
                "algorithm = \"list\"\nkey = \"c\"\nkey_type = \"int\"\ndefault_shard = \"s0\"\nlists = [{ shard = \"s0\", values = [1], table = \"t1\" }]",
                "needs `default_table`",
            ),
        ];
        for (body, want) in cases {
            let err =
                rules(&format!("[[schemas.tables]]\nnames = [\"orders\"]\n{body}")).unwrap_err();
            assert!(err.contains(want), "{body}: {err}");
        }
        let err = rules(
            "[[schemas.tables]]\nnames = [\"a\", \"b\"]\nalgorithm = \"hash\"\nkey = \"id\"\nkey_type = \"int\"\ntables_per_shard = 2\ntable_template = \"t_{n}\"",
        )
        .unwrap_err();
        assert!(err.contains("has no `{table}`"), "{err}");
    }
}
