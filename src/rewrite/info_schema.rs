//! `information_schema` as the application must see it: about the logical schemas only, each
//! logical table once. Every view the statement reads is replaced by a derived table over it
//! (`(SELECT * FROM information_schema.TABLES WHERE ...) AS TABLES`), whose WHERE keeps, on a
//! given shard, the rows of the objects that shard *owns*: a table is owned by the schema's
//! default shard when its rule includes it, else by the rule's first shard (every shard holding
//! it has the same definition), an unsharded table and a
//! schema-level object (the schema, its routines and events) by the schema's default shard,
//! `information_schema`'s own rows by one chosen shard. Run on each owning shard, the rows add
//! up to one row per logical object, and the statement's own WHERE, ORDER BY and aggregates
//! work on them as on one server. Views the proxy answers itself (PROCESSLIST, the privilege
//! views) become derived tables of literal rows the proxy writes. In `TABLES` and `STATISTICS`
//! the owner's statistics of a table spread over several shards are replaced by the numbers
//! combined over its shards ([`Combined`], [`TableStats`]). A split table is described by its
//! first physical table, renamed to the logical name in the derived table ([`SplitOwner`],
//! [`view_body`]); its other physical tables are left out.
//!
//! A derived table rather than an extra WHERE term: it keeps the meaning of outer joins and of
//! the statement's aliases, and MariaDB merges it into the outer query (its information_schema
//! optimisations on `TABLE_SCHEMA = '...'` still apply).

use crate::config::pattern::is_pattern;
pub use crate::sql::info_schema::{View, view};
use sqlparser::ast::{
    Ident, ObjectNamePart, Query, Statement, TableAlias, TableFactor, VisitMut, VisitorMut,
};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

/// The logical objects of one schema and the shard that owns each (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaOwners {
    pub name: String,
    pub default_shard: usize,
    /// Tables named exactly by a rule, with the rule's first shard.
    pub exact: Vec<(String, usize)>,
    /// Patterns (`t_*`) of rules, with the rule's first shard.
    pub patterns: Vec<(String, usize)>,
    /// Tables split into physical tables (see [`SplitOwner`]).
    pub split: Vec<SplitOwner>,
}

/// A logical table stored as several physical tables: information_schema describes it by its
/// first physical table (on that table's shard, its owner), renamed to the logical name; the
/// other physical tables are not listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitOwner {
    pub logical: String,
    /// Every physical table, the first one describing the logical table.
    pub physical: Vec<String>,
    pub owner: usize,
}

/// A physical table answered under its logical name: `(schema, physical, logical)`.
pub type Rename = (String, String, String);

impl SchemaOwners {
    /// `(name, first shard)` of each rule name or pattern, sorted into exact names and patterns.
    pub fn new(
        name: &str,
        default_shard: usize,
        rules: impl Iterator<Item = (String, usize)>,
    ) -> Self {
        let (patterns, exact) = rules.partition(|(n, _)| is_pattern(n));
        SchemaOwners {
            name: name.to_string(),
            default_shard,
            exact,
            patterns,
            split: Vec::new(),
        }
    }

    /// With the split tables `split` (not among the rules given to [`SchemaOwners::new`]).
    pub fn with_split(mut self, split: Vec<SplitOwner>) -> Self {
        self.split = split;
        self
    }
}

/// Who owns what, for the schemas a user may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owners {
    pub schemas: Vec<SchemaOwners>,
    /// The shard that answers for `information_schema`'s own rows (and for server-wide views).
    pub info_shard: usize,
    /// Whether `information_schema`'s own rows are read at all (not when the statement is
    /// restricted to other schemas).
    pub with_info: bool,
    /// Tables of the proxy's own that no client sees (`shardgate_sequences`).
    pub hidden: Vec<String>,
}

impl Owners {
    /// The shards that own something: where a schema-describing view must be read.
    pub fn shards(&self) -> BTreeSet<usize> {
        let mut s: BTreeSet<usize> = BTreeSet::new();
        if self.with_info {
            s.insert(self.info_shard);
        }
        for o in &self.schemas {
            s.insert(o.default_shard);
            s.extend(o.exact.iter().chain(&o.patterns).map(|(_, k)| *k));
            s.extend(o.split.iter().map(|t| t.owner));
        }
        s
    }

    /// The physical tables shard `k` answers for under their logical names.
    pub fn renames(&self, k: usize) -> Vec<Rename> {
        self.schemas
            .iter()
            .flat_map(|o| {
                o.split
                    .iter()
                    .filter(move |t| t.owner == k)
                    .filter_map(|t| {
                        let first = t.physical.first()?;
                        Some((o.name.clone(), first.clone(), t.logical.clone()))
                    })
            })
            .collect()
    }

    /// The WHERE that keeps, on shard `k`, the rows of the tables `k` owns, for a view whose
    /// schema and table columns are `sc` and `tc`.
    pub fn tables_predicate(&self, k: usize, sc: &str, tc: &str) -> String {
        let mut any = Vec::new();
        if self.with_info && k == self.info_shard {
            any.push(format!("{sc} = 'information_schema'"));
        }
        for o in &self.schemas {
            if let Some(p) = owned_tables(o, k, tc) {
                any.push(format!("({sc} = {} AND {p})", lit(&o.name)));
            }
        }
        let mut pred = or(any);
        if !self.hidden.is_empty() {
            let hidden: Vec<String> = self.hidden.iter().map(|h| lit(h)).collect();
            pred = format!("({pred}) AND {tc} NOT IN ({})", hidden.join(", "));
        }
        pred
    }

    /// The WHERE that keeps, on shard `k`, the rows of the schemas `k` owns (schema-level
    /// objects live with the schema's unsharded tables, on its default shard).
    pub fn schemas_predicate(&self, k: usize, col: &str) -> String {
        let mut names: Vec<String> = self
            .schemas
            .iter()
            .filter(|o| o.default_shard == k)
            .map(|o| lit(&o.name))
            .collect();
        if self.with_info && k == self.info_shard {
            names.push("'information_schema'".into());
        }
        if names.is_empty() {
            return "1 = 0".into();
        }
        format!("{col} IN ({})", names.join(", "))
    }
}

/// The tables of `o` that shard `k` owns, as a condition on column `tc`; `None` for none.
/// A name is owned by its exact rule's shard, else by its pattern rule's, else (unsharded) by
/// the default shard; names compare case-insensitively, as information_schema's columns do.
fn owned_tables(o: &SchemaOwners, k: usize, tc: &str) -> Option<String> {
    let list = |v: Vec<&String>| v.iter().map(|n| lit(n)).collect::<Vec<_>>().join(", ");
    let exact_k: Vec<&String> = o
        .exact
        .iter()
        .filter(|(_, s)| *s == k)
        .map(|x| &x.0)
        .collect();
    // A split table is listed by its first physical table only; its logical name and its
    // other physical tables are nothing else's.
    let split_k: Vec<&String> = o
        .split
        .iter()
        .filter(|t| t.owner == k)
        .filter_map(|t| t.physical.first())
        .collect();
    let exact_all: Vec<&String> = o
        .exact
        .iter()
        .map(|x| &x.0)
        .chain(
            o.split
                .iter()
                .flat_map(|t| std::iter::once(&t.logical).chain(&t.physical)),
        )
        .collect();
    let like = |p: &String| format!("{tc} LIKE {} ESCAPE '!'", lit(&glob_to_like(p)));
    let mut rest: Vec<String> = o
        .patterns
        .iter()
        .filter(|(_, s)| *s == k)
        .map(|(p, _)| like(p))
        .collect();
    if o.default_shard == k {
        let all: Vec<String> = o.patterns.iter().map(|(p, _)| like(p)).collect();
        rest.push(if all.is_empty() {
            "1 = 1".into()
        } else {
            format!("NOT ({})", all.join(" OR "))
        });
    }
    let mut any = Vec::new();
    if !exact_k.is_empty() {
        any.push(format!("{tc} IN ({})", list(exact_k)));
    }
    if !split_k.is_empty() {
        any.push(format!("{tc} IN ({})", list(split_k)));
    }
    if !rest.is_empty() {
        let rest = or(rest);
        any.push(if exact_all.is_empty() {
            rest
        } else {
            format!("({tc} NOT IN ({}) AND ({rest}))", list(exact_all))
        });
    }
    (!any.is_empty()).then(|| or(any))
}

fn or(terms: Vec<String>) -> String {
    match terms.len() {
        0 => "1 = 0".into(),
        1 => terms.into_iter().next().unwrap_or_default(),
        _ => format!("({})", terms.join(" OR ")),
    }
}

/// A rule pattern (`*`, `?`) as a LIKE pattern with `!` as its escape character (no
/// backslash: its meaning in a string literal depends on the session's sql_mode).
fn glob_to_like(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 4);
    for c in p.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '!' => {
                out.push('!');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A string literal the server reads the same way in any connection character set and
/// sql_mode: plain when it is simple ASCII, else utf8mb4 bytes in hex.
pub fn lit(s: &str) -> String {
    let plain = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" _$%!@.:-*/#,()=<>".contains(&b));
    if plain {
        return format!("'{s}'");
    }
    let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
    format!("_utf8mb4 X'{hex}'")
}

/// The statistics of `information_schema.TABLES` that describe a table's contents rather than
/// its definition, in the view's column order; `SHOW TABLE STATUS` names them as
/// [`STATUS_STAT_COLUMNS`]. For a sharded table each is combined over the shards that hold it
/// (see [`TableStats`]); every other column is the owning shard's.
pub const TABLE_STAT_COLUMNS: [&str; 7] = [
    "TABLE_ROWS",
    "AVG_ROW_LENGTH",
    "DATA_LENGTH",
    "MAX_DATA_LENGTH",
    "INDEX_LENGTH",
    "DATA_FREE",
    "AUTO_INCREMENT",
];

/// [`TABLE_STAT_COLUMNS`] as `SHOW TABLE STATUS` names them.
pub const STATUS_STAT_COLUMNS: [&str; 7] = [
    "Rows",
    "Avg_row_length",
    "Data_length",
    "Max_data_length",
    "Index_length",
    "Data_free",
    "Auto_increment",
];

/// The statistics of one sharded table, combined over the shards holding it: what one server
/// holding all its rows would report, as far as the shards' own numbers allow.
///
/// - `TABLE_ROWS` (`Rows`): the sum of the shards' counts (each an estimate for InnoDB, exact
///   for MyISAM and Aria, as on one server);
/// - `DATA_LENGTH`, `MAX_DATA_LENGTH`, `INDEX_LENGTH`, `DATA_FREE`: sums (bytes used, the
///   capacity, the index bytes and the free bytes of all the copies that hold a part of it);
/// - `AVG_ROW_LENGTH`: recomputed as the summed data length over the summed rows (0 with no
///   rows), never an average of averages;
/// - `AUTO_INCREMENT`: the largest over the shards: the next value no shard has used. Where the
///   proxy numbers the column from its sequence, ids go to rows in the proxy's order and each
///   shard's counter follows the largest id it stored, so that is one past the largest id
///   given (the proxy's next id while a single proxy hands out dense ids).
///
/// A column NULL on every shard stays NULL; a NULL on some shards only counts as nothing.
/// Broadcast tables are not combined: every shard holds a whole copy, one copy's numbers are
/// the table's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableStats {
    pub rows: Option<u64>,
    pub data_length: Option<u64>,
    pub max_data_length: Option<u64>,
    pub index_length: Option<u64>,
    pub data_free: Option<u64>,
    pub auto_increment: Option<u64>,
}

impl TableStats {
    /// One shard's numbers, in the order of [`TABLE_STAT_COLUMNS`] (its `AVG_ROW_LENGTH` is
    /// not used: it is recomputed).
    pub fn from_shard(v: [Option<u64>; 7]) -> Self {
        TableStats {
            rows: v[0],
            data_length: v[2],
            max_data_length: v[3],
            index_length: v[4],
            data_free: v[5],
            auto_increment: v[6],
        }
    }

    /// Adds another shard's numbers.
    pub fn add(&mut self, o: &TableStats) {
        let sum = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.saturating_add(y)),
            (x, None) | (None, x) => x,
        };
        self.rows = sum(self.rows, o.rows);
        self.data_length = sum(self.data_length, o.data_length);
        self.max_data_length = sum(self.max_data_length, o.max_data_length);
        self.index_length = sum(self.index_length, o.index_length);
        self.data_free = sum(self.data_free, o.data_free);
        self.auto_increment = match (self.auto_increment, o.auto_increment) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, None) | (None, x) => x,
        };
    }

    /// The summed data length over the summed rows (MariaDB's own definition), 0 with no rows.
    pub fn avg_row_length(&self) -> Option<u64> {
        match (self.rows, self.data_length) {
            (Some(0), _) => Some(0),
            (Some(r), Some(d)) => Some(d / r),
            (Some(_), None) => Some(0),
            (None, _) => None,
        }
    }

    /// The combined values, in the order of [`TABLE_STAT_COLUMNS`].
    pub fn values(&self) -> [Option<u64>; 7] {
        [
            self.rows,
            self.avg_row_length(),
            self.data_length,
            self.max_data_length,
            self.index_length,
            self.data_free,
            self.auto_increment,
        ]
    }
}

/// One column of an index: `(schema, table, index, seq_in_index)`.
pub type IndexColumn = (String, String, String, u64);

/// The statistics of the sharded tables a statement may read, combined over their shards,
/// each with the shard that owns its row (answers for it in information_schema).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Combined {
    /// `(schema, table)` → (owner, statistics); a split table by its first physical table.
    pub tables: BTreeMap<(String, String), (usize, TableStats)>,
    /// `(schema, table, index, seq_in_index)` → (owner, summed CARDINALITY: an estimate of
    /// the distinct values of the index prefix on each shard; NULL where no shard knows).
    pub cardinality: BTreeMap<IndexColumn, (usize, Option<i64>)>,
}

/// Sums two optional cardinalities (NULL only where both are).
pub fn add_cardinality(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.saturating_add(y)),
        (x, None) | (None, x) => x,
    }
}

impl Combined {
    /// The expression standing for column `c` of `TABLES` on shard `k`, when `c` is a
    /// statistic of a sharded table `k` owns (see [`TableStats`]). Rows are matched by the
    /// name the backend gives the table (a split table's first physical table).
    pub fn tables_case(&self, k: usize, c: &str) -> Option<String> {
        let i = TABLE_STAT_COLUMNS
            .iter()
            .position(|s| s.eq_ignore_ascii_case(c))?;
        let whens: Vec<String> = self
            .tables
            .iter()
            .filter(|(_, (o, _))| *o == k)
            .map(|((s, t), (_, st))| {
                let v =
                    st.values()[i].map_or("NULL".to_string(), |n| format!("CAST({n} AS UNSIGNED)"));
                format!(
                    "WHEN `TABLE_SCHEMA` = {} AND `TABLE_NAME` = {} THEN {v}",
                    lit(s),
                    lit(t)
                )
            })
            .collect();
        (!whens.is_empty()).then(|| format!("CASE {} ELSE {} END", whens.join(" "), quote(c)))
    }

    /// The expression standing for column `c` of `STATISTICS` on shard `k`: for
    /// `CARDINALITY`, the indexes of the sharded tables `k` owns carry their summed numbers.
    pub fn statistics_case(&self, k: usize, c: &str) -> Option<String> {
        if !c.eq_ignore_ascii_case("CARDINALITY") {
            return None;
        }
        let whens: Vec<String> = self
            .cardinality
            .iter()
            .filter(|(_, (o, _))| *o == k)
            .map(|((s, t, i, q), (_, c))| {
                let v = c.map_or("NULL".to_string(), |n| format!("CAST({n} AS SIGNED)"));
                format!(
                    "WHEN `TABLE_SCHEMA` = {} AND `TABLE_NAME` = {} AND `INDEX_NAME` = {} AND `SEQ_IN_INDEX` = {q} THEN {v}",
                    lit(s),
                    lit(t),
                    lit(i)
                )
            })
            .collect();
        (!whens.is_empty()).then(|| format!("CASE {} ELSE {} END", whens.join(" "), quote(c)))
    }

    /// Whether shard `k` owns a table or index whose numbers this replaces.
    pub fn owns_any(&self, k: usize) -> bool {
        self.tables.values().any(|(o, _)| *o == k)
            || self.cardinality.values().any(|(o, _)| *o == k)
    }
}

/// The columns of a table-describing view that name a table: its table column and the table a
/// foreign key references.
pub fn names_table(view_table_column: &str, c: &str) -> bool {
    c.eq_ignore_ascii_case(view_table_column) || c.eq_ignore_ascii_case("REFERENCED_TABLE_NAME")
}

/// `CASE` giving each renamed physical table its logical name in column `c` (schema column
/// `sc`). The names are utf8mb3 literals, the character set of information_schema's columns,
/// so that the column's metadata stays the server's.
fn rename_case(sc: &str, c: &str, renames: &[Rename]) -> String {
    let whens: Vec<String> = renames
        .iter()
        .map(|(s, p, l)| {
            format!(
                "WHEN {} = {} AND {} = {} THEN {}",
                quote(sc),
                lit(s),
                quote(c),
                lit(p),
                utf8mb3(l)
            )
        })
        .collect();
    format!("CASE {} ELSE {} END", whens.join(" "), quote(c))
}

/// A name as a utf8mb3 string literal (names of split tables are plain identifiers).
fn utf8mb3(s: &str) -> String {
    let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
    format!("_utf8mb3 X'{hex}'")
}

/// The body of the derived table standing for the table-describing view `upper` (schema and
/// table columns `sc`, `tc`; its columns in order `columns`) on shard `k`, its rows kept by
/// `pred`: split tables' first physical tables renamed to their logical names (`renames`), a
/// sharded table's statistics combined over its shards (`combined`). `SELECT *` when nothing
/// is replaced.
pub fn view_body(
    upper: &str,
    (sc, tc): (&str, &str),
    columns: &[String],
    pred: &str,
    k: usize,
    combined: &Combined,
    renames: &[Rename],
) -> String {
    let star = format!("SELECT * FROM information_schema.{upper} WHERE {pred}");
    if columns.is_empty() || (renames.is_empty() && !combined.owns_any(k)) {
        return star;
    }
    let mut changed = false;
    let cols: Vec<String> = columns
        .iter()
        .map(|c| {
            let e = if !renames.is_empty() && names_table(tc, c) {
                Some(rename_case(sc, c, renames))
            } else {
                match upper {
                    "TABLES" => combined.tables_case(k, c),
                    "STATISTICS" => combined.statistics_case(k, c),
                    _ => None,
                }
            };
            match e {
                Some(e) => {
                    changed = true;
                    format!("{e} AS {}", quote(c))
                }
                None => quote(c),
            }
        })
        .collect();
    if !changed {
        return star;
    }
    format!(
        "SELECT {} FROM information_schema.{upper} WHERE {pred}",
        cols.join(", ")
    )
}

/// A column name in back quotes.
fn quote(c: &str) -> String {
    format!("`{}`", c.replace('`', "``"))
}

/// Replaces every relation of `information_schema` in `stmt` (named `information_schema.X`, or
/// `X` alone when `current_is_info`: the session's schema is information_schema) by the derived
/// table `derived(X)` returns, aliased as the relation was (or as `X`). `derived` returns
/// `Ok(None)` to keep a relation as it is.
pub fn replace_views<E>(
    stmt: &mut Statement,
    current_is_info: bool,
    derived: &mut dyn FnMut(&str) -> Result<Option<Query>, E>,
) -> Result<(), E> {
    struct Replace<'a, E> {
        current_is_info: bool,
        derived: &'a mut dyn FnMut(&str) -> Result<Option<Query>, E>,
    }
    impl<E> VisitorMut for Replace<'_, E> {
        type Break = E;
        fn post_visit_table_factor(&mut self, f: &mut TableFactor) -> ControlFlow<E> {
            let TableFactor::Table { name, alias, .. } = f else {
                return ControlFlow::Continue(());
            };
            let parts: Vec<&str> = name
                .0
                .iter()
                .map(|p| match p {
                    ObjectNamePart::Identifier(i) => i.value.as_str(),
                    _ => "",
                })
                .collect();
            let view = match parts.as_slice() {
                [s, v] if s.eq_ignore_ascii_case("information_schema") => v.to_string(),
                [v] if self.current_is_info => v.to_string(),
                _ => return ControlFlow::Continue(()),
            };
            match (self.derived)(&view) {
                Err(e) => ControlFlow::Break(e),
                Ok(None) => ControlFlow::Continue(()),
                Ok(Some(q)) => {
                    let alias = alias.take().unwrap_or(TableAlias {
                        explicit: true,
                        name: Ident::with_quote('`', view),
                        columns: Vec::new(),
                        at: None,
                    });
                    *f = TableFactor::Derived {
                        lateral: false,
                        subquery: Box::new(q),
                        alias: Some(alias),
                        sample: None,
                    };
                    ControlFlow::Continue(())
                }
            }
        }
    }
    let mut v = Replace {
        current_is_info,
        derived,
    };
    match stmt.visit(&mut v) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::analyze::parse;

    fn owners() -> Owners {
        Owners {
            schemas: vec![
                SchemaOwners::new(
                    "shop",
                    0,
                    [
                        ("orders".to_string(), 0),
                        ("users".to_string(), 1),
                        ("t_*".to_string(), 1),
                    ]
                    .into_iter(),
                ),
                SchemaOwners::new("logs", 1, std::iter::empty()),
            ],
            info_shard: 0,
            with_info: true,
            hidden: vec!["shardgate_sequences".into()],
        }
    }

    #[test]
    fn each_table_is_kept_on_its_owner_only() {
        let o = owners();
        assert_eq!(o.shards(), [0, 1].into());
        let p0 = o.tables_predicate(0, "TABLE_SCHEMA", "TABLE_NAME");
        assert_eq!(
            p0,
            "((TABLE_SCHEMA = 'information_schema' OR (TABLE_SCHEMA = 'shop' AND (TABLE_NAME IN ('orders') OR (TABLE_NAME NOT IN ('orders', 'users') AND (NOT (TABLE_NAME LIKE 't!_%' ESCAPE '!'))))))) AND TABLE_NAME NOT IN ('shardgate_sequences')"
        );
        let p1 = o.tables_predicate(1, "TABLE_SCHEMA", "TABLE_NAME");
        assert_eq!(
            p1,
            "(((TABLE_SCHEMA = 'shop' AND (TABLE_NAME IN ('users') OR (TABLE_NAME NOT IN ('orders', 'users') AND (TABLE_NAME LIKE 't!_%' ESCAPE '!')))) OR (TABLE_SCHEMA = 'logs' AND 1 = 1))) AND TABLE_NAME NOT IN ('shardgate_sequences')"
        );
        assert_eq!(
            o.schemas_predicate(1, "SCHEMA_NAME"),
            "SCHEMA_NAME IN ('logs')"
        );
        assert_eq!(
            o.schemas_predicate(0, "SCHEMA_NAME"),
            "SCHEMA_NAME IN ('shop', 'information_schema')"
        );
        // The predicates are SQL the parser reads.
        for p in [p0, p1] {
            parse(&format!(
                "SELECT * FROM information_schema.TABLES WHERE {p}"
            ))
            .unwrap();
        }
    }

    #[test]
    fn statistics_add_up() {
        let mut t = TableStats::from_shard([
            Some(10),
            Some(999),
            Some(16384),
            Some(0),
            Some(0),
            Some(4096),
            Some(21),
        ]);
        t.add(&TableStats::from_shard([
            Some(30),
            Some(1),
            Some(32768),
            Some(0),
            Some(16384),
            None,
            Some(40),
        ]));
        assert_eq!(
            t.values(),
            [
                Some(40),
                Some(1228),
                Some(49152),
                Some(0),
                Some(16384),
                Some(4096),
                Some(40)
            ]
        );
        let empty = TableStats::from_shard([Some(0), Some(0), Some(16384), None, None, None, None]);
        assert_eq!(empty.values()[1], Some(0));
        assert_eq!(TableStats::default().values(), [None; 7]);
        assert_eq!(add_cardinality(None, Some(3)), Some(3));
        assert_eq!(add_cardinality(Some(2), Some(3)), Some(5));
        assert_eq!(add_cardinality(None, None), None);
    }

    #[test]
    fn combined_statistics_replace_the_owners_columns() {
        let mut c = Combined::default();
        let tables_columns: Vec<String> =
            ["TABLE_SCHEMA", "TABLE_NAME", "TABLE_ROWS", "AUTO_INCREMENT"]
                .map(String::from)
                .to_vec();
        let statistics_columns: Vec<String> =
            ["TABLE_SCHEMA", "TABLE_NAME", "INDEX_NAME", "CARDINALITY"]
                .map(String::from)
                .to_vec();
        let mut s = TableStats::default();
        s.add(&TableStats::from_shard([
            Some(5),
            None,
            Some(10),
            None,
            None,
            None,
            None,
        ]));
        c.tables.insert(("shop".into(), "orders".into()), (1, s));
        c.cardinality.insert(
            ("shop".into(), "orders".into(), "PRIMARY".into(), 1),
            (1, Some(7)),
        );
        let cols = ("TABLE_SCHEMA", "TABLE_NAME");
        let tables = |k, pred| view_body("TABLES", cols, &tables_columns, pred, k, &c, &[]);
        let statistics =
            |k, pred| view_body("STATISTICS", cols, &statistics_columns, pred, k, &c, &[]);
        assert_eq!(
            tables(0, "1 = 1"),
            "SELECT * FROM information_schema.TABLES WHERE 1 = 1"
        );
        assert_eq!(
            statistics(0, "1 = 1"),
            "SELECT * FROM information_schema.STATISTICS WHERE 1 = 1"
        );
        let body = tables(1, "TABLE_SCHEMA = 'shop'");
        assert_eq!(
            body,
            "SELECT `TABLE_SCHEMA`, `TABLE_NAME`, CASE WHEN `TABLE_SCHEMA` = 'shop' AND `TABLE_NAME` = 'orders' THEN CAST(5 AS UNSIGNED) ELSE `TABLE_ROWS` END AS `TABLE_ROWS`, CASE WHEN `TABLE_SCHEMA` = 'shop' AND `TABLE_NAME` = 'orders' THEN NULL ELSE `AUTO_INCREMENT` END AS `AUTO_INCREMENT` FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop'"
        );
        let stats = statistics(1, "1 = 1");
        assert!(
            stats.contains("CASE WHEN `TABLE_SCHEMA` = 'shop' AND `TABLE_NAME` = 'orders' AND `INDEX_NAME` = 'PRIMARY' AND `SEQ_IN_INDEX` = 1 THEN CAST(7 AS SIGNED) ELSE `CARDINALITY` END AS `CARDINALITY`"),
            "{stats}"
        );
        // Both are queries the parser reads back the same.
        for q in [body, stats] {
            let parsed = parse(&q).unwrap().remove(0);
            assert_eq!(parsed.to_string(), q);
        }
    }

    #[test]
    fn split_tables_are_listed_once_by_their_logical_name() {
        let o = Owners {
            schemas: vec![
                SchemaOwners::new("shop", 0, [("users".to_string(), 1)].into_iter()).with_split(
                    vec![SplitOwner {
                        logical: "lines".into(),
                        physical: vec!["lines_0".into(), "lines_1".into(), "lines_2".into()],
                        owner: 1,
                    }],
                ),
            ],
            info_shard: 0,
            with_info: false,
            hidden: vec![],
        };
        assert_eq!(o.shards(), [0, 1].into());
        // The default shard lists its unsharded tables, never a physical table nor the
        // logical name; the first physical table's shard lists that one.
        assert_eq!(
            o.tables_predicate(0, "TABLE_SCHEMA", "TABLE_NAME"),
            "(TABLE_SCHEMA = 'shop' AND (TABLE_NAME NOT IN ('users', 'lines', 'lines_0', 'lines_1', 'lines_2') AND (1 = 1)))"
        );
        assert_eq!(
            o.tables_predicate(1, "TABLE_SCHEMA", "TABLE_NAME"),
            "(TABLE_SCHEMA = 'shop' AND (TABLE_NAME IN ('users') OR TABLE_NAME IN ('lines_0')))"
        );
        assert!(o.renames(0).is_empty());
        let renames = o.renames(1);
        assert_eq!(
            renames,
            vec![("shop".into(), "lines_0".into(), "lines".into())]
        );
        let columns: Vec<String> = ["TABLE_SCHEMA", "TABLE_NAME", "REFERENCED_TABLE_NAME"]
            .map(String::from)
            .to_vec();
        let body = view_body(
            "KEY_COLUMN_USAGE",
            ("TABLE_SCHEMA", "TABLE_NAME"),
            &columns,
            "1 = 1",
            1,
            &Combined::default(),
            &renames,
        );
        assert_eq!(
            body,
            "SELECT `TABLE_SCHEMA`, CASE WHEN `TABLE_SCHEMA` = 'shop' AND `TABLE_NAME` = 'lines_0' THEN _utf8mb3 X'6c696e6573' ELSE `TABLE_NAME` END AS `TABLE_NAME`, CASE WHEN `TABLE_SCHEMA` = 'shop' AND `REFERENCED_TABLE_NAME` = 'lines_0' THEN _utf8mb3 X'6c696e6573' ELSE `REFERENCED_TABLE_NAME` END AS `REFERENCED_TABLE_NAME` FROM information_schema.KEY_COLUMN_USAGE WHERE 1 = 1"
        );
        parse(&body).unwrap();
    }

    #[test]
    fn literals_survive_any_charset() {
        assert_eq!(lit("shop_1"), "'shop_1'");
        assert_eq!(lit("it's"), "_utf8mb4 X'69742773'");
        assert_eq!(lit("café"), "_utf8mb4 X'636166c3a9'");
        assert_eq!(glob_to_like("a_b*?!"), "a!_b%_!!");
    }

    #[test]
    fn views_become_derived_tables() {
        let mut stmt = parse(
            "SELECT t.TABLE_NAME, c.COLUMN_NAME FROM information_schema.TABLES t LEFT JOIN INFORMATION_SCHEMA.columns c USING (TABLE_SCHEMA, TABLE_NAME) WHERE t.TABLE_NAME IN (SELECT TABLE_NAME FROM information_schema.VIEWS)",
        )
        .unwrap()
        .remove(0);
        let mut seen = Vec::new();
        replace_views::<()>(&mut stmt, false, &mut |v| {
            seen.push(v.to_string());
            let q = parse(&format!("SELECT * FROM information_schema.{v} WHERE 1 = 1"))
                .unwrap()
                .remove(0);
            let Statement::Query(q) = q else { panic!() };
            Ok(Some(*q))
        })
        .unwrap();
        assert_eq!(seen, vec!["TABLES", "columns", "VIEWS"]);
        let text = stmt.to_string();
        assert!(
            text.contains("FROM (SELECT * FROM information_schema.TABLES WHERE 1 = 1) t LEFT JOIN (SELECT * FROM information_schema.columns WHERE 1 = 1) c"),
            "{text}"
        );
        assert!(
            text.contains("(SELECT * FROM information_schema.VIEWS WHERE 1 = 1) AS `VIEWS`"),
            "{text}"
        );
        // Under USE information_schema, bare names are its views; others are left alone.
        let mut stmt = parse("SELECT * FROM TABLES").unwrap().remove(0);
        replace_views::<()>(&mut stmt, false, &mut |_| panic!("not a view here")).unwrap();
        let mut n = 0;
        replace_views::<()>(&mut stmt, true, &mut |_| {
            n += 1;
            Ok(None)
        })
        .unwrap();
        assert_eq!(n, 1);
    }
}
