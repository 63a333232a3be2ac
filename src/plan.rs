//! The plan: what will run where, as data. Route and rewrite build it, execute runs it, and its
//! `Display` is what EXPLAIN-style previews and golden routing tests print.

use crate::config::{Rules, ShardId};
use crate::sql::analyze::{Agg, OrderRef};
use std::fmt;

/// One statement's plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Where the statement runs, one entry per shard.
    pub targets: Vec<Target>,
    /// How the targets' results become the client's result.
    pub merge: Merge,
    /// Whether the statement writes (a write in a transaction pins its shards).
    pub write: bool,
    /// Whether a replica may answer it (a read without locks or side effects): outside a
    /// transaction, execute then picks a replica of each target's shard, per the session's
    /// `read_from` and `causal` and the replicas' health.
    pub replica_ok: bool,
}

/// What one shard runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub shard: ShardId,
    /// `None`: the client's own text (and bound parameters) unchanged. `Some`: rewritten SQL,
    /// with every parameter inlined as a literal.
    pub sql: Option<String>,
    /// Split tables (see [`crate::config::split`]): the physical table that stands for each
    /// split logical table of the statement on this target; empty when none is split. The
    /// rewrite step puts the names into `sql`.
    pub tables: Vec<Physical>,
}

/// A split logical table and the physical table one target reads or writes for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Physical {
    /// The logical schema (also the database name on the shard).
    pub schema: String,
    pub logical: String,
    pub physical: String,
}

impl Target {
    /// The client's statement, unchanged, on `shard`.
    pub fn on(shard: ShardId) -> Target {
        Target {
            shard,
            sql: None,
            tables: Vec::new(),
        }
    }
}

/// How results are combined.
// A plan is built once per statement (or cached and cloned): the size of the Rows variant
// costs nothing worth a Box and the churn at every construction site.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Merge {
    /// A single target: its result goes to the client as it is.
    Pass,
    /// Rows from several shards.
    Rows(RowMerge),
    /// Writes: affected rows are added up (for broadcast tables, every shard holds the same rows,
    /// so the first shard's count is the answer); `first_id` is the first id the proxy assigned.
    /// `multi_row`: a multi-row INSERT, whose OK info (`Records: n  Duplicates: d  Warnings: w`)
    /// counts the rows of shards that received only one (and so reported no info).
    Affected {
        broadcast: bool,
        first_id: Option<u64>,
        multi_row: bool,
        /// `INSERT ... ON DUPLICATE KEY UPDATE`: a shard's one row counts as a duplicate when
        /// it was updated (2 affected), not when it was IGNOREd (0).
        upsert: bool,
    },
}

/// The merge of a scatter read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowMerge {
    /// Sort keys (resolved against result columns at merge time) and ascending flags.
    pub order_by: Vec<(OrderRef, bool)>,
    pub offset: u64,
    pub limit: Option<u64>,
    /// For aggregate-only SELECTs: each column's aggregate; rows fold into one.
    pub aggregates: Option<Vec<Agg>>,
    pub distinct: bool,
    /// Number of columns added after the SELECT list for the merge ([`OrderRef::Hidden`]): sort
    /// keys that are not selected, weight strings; dropped before the client sees the rows.
    pub hidden: usize,
    /// Text columns the merge compares by weight string: the column, and the hidden column `k`
    /// holding `WEIGHT_STRING(expr)` (`k + 1`: the weight of a space in its collation, see
    /// [`crate::merge::compare::weight_sql`]).
    pub weights: Vec<(OrderRef, usize)>,
    /// GROUP BY across shards: the hidden columns holding each group expression (text ones
    /// also have weights); rows with equal keys fold into one (by `aggregates`).
    pub group_keys: Option<Vec<usize>>,
    /// For each AVG column: the hidden column `k` with SUM of its argument (`k + 1`: COUNT).
    pub averages: Vec<(OrderRef, usize)>,
    /// Hidden columns folded by an aggregate like visible ones (the aggregates inside an
    /// expression, a HAVING or an ORDER BY): hidden column `k` and its aggregate.
    pub hidden_aggs: Vec<(usize, Agg)>,
    /// For each VARIANCE/STDDEV column: the hidden column `k` with COUNT of its argument
    /// (`k + 1`: SUM, `k + 2`: the sum of its squares, `k + 3`: VAR_POP).
    pub variances: Vec<(OrderRef, usize)>,
    /// For each COUNT/SUM/AVG(DISTINCT ...) column: the hidden columns holding its arguments
    /// (the shards also group by them, so each shard returns each distinct value once per group).
    pub distincts: Vec<(OrderRef, Vec<usize>)>,
    /// Columns computed after the fold from merged aggregates and group keys
    /// (`SUM(a) / COUNT(*)`): a backend evaluates each expression with the merged values put in
    /// as literals of their own types, so the arithmetic is the server's.
    pub computed: Vec<(OrderRef, Template)>,
    /// HAVING across shards: evaluated like `computed` on the merged groups, which are kept when
    /// it is true.
    pub having: Option<Template>,
    /// For each GROUP_CONCAT column: where its pieces, keys and counts are.
    pub concats: Vec<(OrderRef, Concat)>,
}

/// A GROUP_CONCAT across shards. Each shard groups its rows finer, by the piece's bytes
/// (`CONCAT(args)`) and its ORDER BY keys, and returns per sub-group the piece, the keys and
/// `COUNT(*)`; the merge sorts the pieces of a group, repeats each by its count (once for
/// DISTINCT) and joins them with the separator.
#[derive(Clone, Debug, PartialEq)]
pub struct Concat {
    /// Hidden column of `CONCAT(args)` (NULL when an argument is NULL: the row is skipped).
    pub piece: usize,
    /// Hidden columns of the arguments (weighed when text): DISTINCT compares these.
    pub args: Vec<usize>,
    /// Hidden columns of the ORDER BY keys, ascending flags.
    pub keys: Vec<(usize, bool)>,
    /// Hidden column of `COUNT(*)` of the sub-group.
    pub count: usize,
    /// Hidden column of `@@group_concat_max_len`.
    pub max_len: usize,
    pub distinct: bool,
    pub separator: Vec<u8>,
    /// `LIMIT [offset,] count` inside the call (a MariaDB extension).
    pub limit: Option<(u64, u64)>,
}

/// An expression whose inputs are columns of a merged row: SQL text with holes.
pub type Template = Vec<Part>;

/// One piece of a [`Template`].
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// SQL text, as written.
    Sql(String),
    /// The value of a column of the merged row, as a literal of its type.
    Col(OrderRef),
}

impl Plan {
    /// Prints the plan with shard names, one target per line.
    pub fn describe(&self, rules: &Rules) -> String {
        let mut s = String::new();
        for t in &self.targets {
            let name = rules
                .shards
                .get(t.shard)
                .map(|s| s.name.as_str())
                .unwrap_or("?");
            match &t.sql {
                None => s.push_str(&format!("{name}: <original>\n")),
                Some(sql) => s.push_str(&format!("{name}: {sql}\n")),
            }
        }
        s.push_str(&format!("merge: {}\n", self.merge));
        s
    }
}

impl fmt::Display for Merge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Merge::Pass => write!(f, "pass"),
            Merge::Affected {
                broadcast: true, ..
            } => write!(
                f,
                "affected rows of the first shard (the same statement on every copy)"
            ),
            Merge::Affected { first_id, .. } => match first_id {
                Some(id) => write!(f, "sum of affected rows, first id {id}"),
                None => write!(f, "sum of affected rows"),
            },
            Merge::Rows(m) => {
                let mut parts = vec![
                    if m.order_by.is_empty() {
                        "concat"
                    } else {
                        "k-way merge"
                    }
                    .to_string(),
                ];
                if m.distinct {
                    parts.push("distinct".into());
                }
                if !m.order_by.is_empty() {
                    let keys: Vec<String> = m
                        .order_by
                        .iter()
                        .map(|(r, asc)| {
                            let dir = if *asc { "asc" } else { "desc" };
                            match r {
                                OrderRef::Position(p) => format!("column {} {dir}", p + 1),
                                OrderRef::Name(n) => format!("`{n}` {dir}"),
                                OrderRef::Unresolved(e) => format!("{e} {dir}"),
                                OrderRef::Hidden(k) => format!("hidden column {} {dir}", k + 1),
                            }
                        })
                        .collect();
                    parts.push(format!("order by {}", keys.join(", ")));
                }
                if m.offset > 0 {
                    parts.push(format!("offset {}", m.offset));
                }
                if let Some(l) = m.limit {
                    parts.push(format!("limit {l}"));
                }
                if !m.weights.is_empty() {
                    parts.push(format!(
                        "text compared by weight string ({} key{})",
                        m.weights.len(),
                        if m.weights.len() == 1 { "" } else { "s" }
                    ));
                }
                match m.hidden {
                    0 => {}
                    1 => parts.push("drop the hidden column".into()),
                    n => parts.push(format!("drop the {n} hidden columns")),
                }
                if let Some(a) = &m.aggregates {
                    let names: Vec<&str> = a
                        .iter()
                        .map(|g| match g {
                            Agg::Count => "sum of COUNT",
                            Agg::Sum => "SUM",
                            Agg::Min => "MIN",
                            Agg::Max => "MAX",
                            Agg::Avg => "AVG of SUM and COUNT",
                            Agg::First => "group value",
                            Agg::BitAnd => "BIT_AND",
                            Agg::BitOr => "BIT_OR",
                            Agg::BitXor => "BIT_XOR",
                            Agg::Var { .. } => "variance of COUNT, SUM and sum of squares",
                            Agg::CountDistinct => "count of distinct values",
                            Agg::SumDistinct => "sum of distinct values",
                            Agg::AvgDistinct => "average of distinct values",
                            Agg::GroupConcat => "concatenation of counted pieces",
                        })
                        .collect();
                    if !m.computed.is_empty() {
                        parts.push(format!(
                            "{} expression{} of the merged aggregates evaluated by a backend",
                            m.computed.len(),
                            if m.computed.len() == 1 { "" } else { "s" }
                        ));
                    }
                    if m.having.is_some() {
                        parts.push("HAVING on the merged groups".into());
                    }
                    parts[0] = match &m.group_keys {
                        Some(k) => format!(
                            "group by {} hidden key column{} ({})",
                            k.len(),
                            if k.len() == 1 { "" } else { "s" },
                            names.join(", ")
                        ),
                        None => format!("aggregate ({})", names.join(", ")),
                    };
                }
                write!(f, "{}", parts.join(", "))
            }
        }
    }
}
