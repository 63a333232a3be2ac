//! MariaDB 10.11's information_schema as the proxy knows it: how each view is answered
//! ([`view`]), and which schemas a statement on those views is restricted to by its own WHERE
//! ([`restricted_schemas`]), so that it can be read on the fewest shards.

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArguments, JoinConstraint, JoinOperator, ObjectNamePart, SetExpr,
    Statement, TableFactor, Value, visit_relations,
};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

/// How one view of `information_schema` is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Describes tables: the rows of the logical tables, by (schema column, table column).
    Tables {
        schema: &'static str,
        table: &'static str,
    },
    /// Describes schemas or schema-level objects (routines, events), by the schema column.
    Schemas { schema: &'static str },
    /// Facts about the server (engines, character sets, variables): one backend's, unchanged.
    Global,
    /// Answered from the proxy's own state: its sessions, its users' grants.
    Proxy,
    /// The backend's internals (InnoDB, thread pool, statistics): MySQL asks for PROCESS.
    Process,
    /// Kept by the proxy, not the backend, and not answered here: the reason.
    Refused(&'static str),
    /// Not known to this version of the proxy.
    Unknown,
}

/// How `name` (a view of MariaDB 10.11's information_schema, any case) is answered.
pub fn view(name: &str) -> View {
    let tables = |schema, table| View::Tables { schema, table };
    match name.to_ascii_uppercase().as_str() {
        "TABLES" | "COLUMNS" | "STATISTICS" | "KEY_COLUMN_USAGE" | "TABLE_CONSTRAINTS"
        | "VIEWS" | "PARTITIONS" | "FILES" => tables("TABLE_SCHEMA", "TABLE_NAME"),
        "REFERENTIAL_CONSTRAINTS" | "CHECK_CONSTRAINTS" => {
            tables("CONSTRAINT_SCHEMA", "TABLE_NAME")
        }
        "TRIGGERS" => tables("EVENT_OBJECT_SCHEMA", "EVENT_OBJECT_TABLE"),
        "GEOMETRY_COLUMNS" => tables("F_TABLE_SCHEMA", "F_TABLE_NAME"),
        "SCHEMATA" => View::Schemas {
            schema: "SCHEMA_NAME",
        },
        "ROUTINES" => View::Schemas {
            schema: "ROUTINE_SCHEMA",
        },
        "PARAMETERS" => View::Schemas {
            schema: "SPECIFIC_SCHEMA",
        },
        "EVENTS" => View::Schemas {
            schema: "EVENT_SCHEMA",
        },
        "ALL_PLUGINS"
        | "PLUGINS"
        | "CHARACTER_SETS"
        | "COLLATIONS"
        | "COLLATION_CHARACTER_SET_APPLICABILITY"
        | "ENGINES"
        | "KEYWORDS"
        | "SQL_FUNCTIONS"
        | "SPATIAL_REF_SYS"
        | "GLOBAL_STATUS"
        | "GLOBAL_VARIABLES"
        | "SESSION_STATUS"
        | "SESSION_VARIABLES"
        | "SYSTEM_VARIABLES"
        | "KEY_CACHES"
        | "TABLESPACES"
        | "PROFILING"
        | "OPTIMIZER_TRACE" => View::Global,
        "PROCESSLIST" | "USER_PRIVILEGES" | "SCHEMA_PRIVILEGES" | "TABLE_PRIVILEGES"
        | "COLUMN_PRIVILEGES" | "APPLICABLE_ROLES" | "ENABLED_ROLES" => View::Proxy,
        "CLIENT_STATISTICS" | "USER_STATISTICS" | "INDEX_STATISTICS" | "TABLE_STATISTICS" => {
            View::Process
        }
        "USER_VARIABLES" => View::Refused(
            "information_schema.USER_VARIABLES (shardgate keeps user variables itself: SELECT @name)",
        ),
        n if n.starts_with("INNODB_") || n.starts_with("THREAD_POOL_") => View::Process,
        _ => View::Unknown,
    }
}

/// The columns that name the schema of a row, in the views that describe schemas and tables
/// (`TRIGGER_SCHEMA` and `EVENT_OBJECT_SCHEMA`, `TABLE_SCHEMA` and `CONSTRAINT_SCHEMA` or
/// `INDEX_SCHEMA` are equal in every row of the views that have both).
const SCHEMA_COLUMNS: [&str; 10] = [
    "TABLE_SCHEMA",
    "CONSTRAINT_SCHEMA",
    "INDEX_SCHEMA",
    "TRIGGER_SCHEMA",
    "EVENT_OBJECT_SCHEMA",
    "SCHEMA_NAME",
    "ROUTINE_SCHEMA",
    "SPECIFIC_SCHEMA",
    "EVENT_SCHEMA",
    "F_TABLE_SCHEMA",
];

/// Whether `view` describes schemas or tables (its rows belong to one schema each).
fn describes(view_name: &str) -> bool {
    matches!(view(view_name), View::Tables { .. } | View::Schemas { .. })
}

/// The view a relation names: `information_schema.X`, or `X` alone under `USE
/// information_schema`.
fn view_of(name: &sqlparser::ast::ObjectName, current_is_info: bool) -> Option<String> {
    let parts: Vec<&str> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.as_str(),
            _ => "",
        })
        .collect();
    match parts.as_slice() {
        [s, v] if s.eq_ignore_ascii_case("information_schema") => Some(v.to_string()),
        [v] if current_is_info => Some(v.to_string()),
        _ => None,
    }
}

/// The schemas every row a SELECT reads from the schema-describing views must belong to, by
/// its own conditions: `col = 'name'`, `col IN ('a', 'b')`, `col = DATABASE()` on a schema
/// column of each such view in the top-level FROM (inner joins' ON included), also through
/// `a.col = b.col`. `None` when any such view is not restricted that way (or sits in a
/// subquery or on the nullable side of an outer join), so that every schema must be read.
/// `database` is what `DATABASE()` answers.
pub fn restricted_schemas(
    stmt: &Statement,
    database: Option<&str>,
    current_is_info: bool,
) -> Option<BTreeSet<String>> {
    let Statement::Query(q) = stmt else {
        return None;
    };
    let SetExpr::Select(sel) = q.body.as_ref() else {
        return None;
    };
    // The describing views of the top-level FROM, by the qualifier their columns use.
    let mut rels: Vec<String> = Vec::new();
    let mut conds: Vec<&Expr> = Vec::new();
    let add = |f: &TableFactor, rels: &mut Vec<String>| -> bool {
        if let TableFactor::Table { name, alias, .. } = f
            && let Some(v) = view_of(name, current_is_info)
            && describes(&v)
        {
            let q = alias.as_ref().map_or(v, |a| a.name.value.clone());
            rels.push(q.to_ascii_lowercase());
            return true;
        }
        false
    };
    for t in &sel.from {
        add(&t.relation, &mut rels);
        for j in &t.joins {
            let describing = add(&j.relation, &mut rels);
            let (inner, constraint) = match &j.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) | JoinOperator::CrossJoin(c) => {
                    (true, Some(c))
                }
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (false, Some(c)),
                _ => (false, None),
            };
            if describing && !inner {
                return None;
            }
            if inner && let Some(JoinConstraint::On(e)) = constraint {
                conjuncts(e, &mut conds);
            }
        }
    }
    // Every describing view must be one of those (none in a subquery).
    let mut total = 0;
    let _ = visit_relations(stmt, |name| {
        if view_of(name, current_is_info).is_some_and(|v| describes(&v)) {
            total += 1;
        }
        ControlFlow::<()>::Continue(())
    });
    if total != rels.len() || rels.is_empty() {
        return None;
    }
    if let Some(w) = &sel.selection {
        conjuncts(w, &mut conds);
    }
    // (relation, column) -> allowed schemas; equalities between such columns.
    let mut sets: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut links: Vec<((String, String), (String, String))> = Vec::new();
    let column = |e: &Expr| -> Option<(String, String)> {
        let (q, c) = match e {
            Expr::Identifier(c) if rels.len() == 1 => (rels[0].clone(), &c.value),
            Expr::CompoundIdentifier(p) if p.len() >= 2 => (
                p[p.len() - 2].value.to_ascii_lowercase(),
                &p[p.len() - 1].value,
            ),
            _ => return None,
        };
        let c = c.to_ascii_uppercase();
        (rels.contains(&q) && SCHEMA_COLUMNS.contains(&c.as_str())).then_some((q, c))
    };
    let names = |e: &Expr| -> Option<BTreeSet<String>> {
        match e {
            Expr::Value(v) => match &v.value {
                // Kept as written (the parser does not unescape): escapes are not worth reading.
                Value::SingleQuotedString(s) | Value::DoubleQuotedString(s)
                    if !s.contains(['\\', '\'', '"']) =>
                {
                    Some([s.clone()].into())
                }
                _ => None,
            },
            Expr::Function(f)
                if matches!(
                    f.name.to_string().to_ascii_uppercase().as_str(),
                    "DATABASE" | "SCHEMA"
                ) && (matches!(&f.args, FunctionArguments::List(l) if l.args.is_empty())
                    || matches!(&f.args, FunctionArguments::None)) =>
            {
                Some(database.map(str::to_string).into_iter().collect())
            }
            _ => None,
        }
    };
    for c in conds {
        match c {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } => match (column(left), column(right)) {
                (Some(a), Some(b)) => links.push((a, b)),
                (Some(a), None) => {
                    if let Some(n) = names(right) {
                        narrow(&mut sets, a, n);
                    }
                }
                (None, Some(b)) => {
                    if let Some(n) = names(left) {
                        narrow(&mut sets, b, n);
                    }
                }
                _ => {}
            },
            Expr::InList {
                expr,
                list,
                negated: false,
            } => {
                if let Some(a) = column(expr) {
                    let mut all = BTreeSet::new();
                    for e in list {
                        match names(e) {
                            Some(n) => all.extend(n),
                            None => {
                                all.clear();
                                break;
                            }
                        }
                    }
                    if !all.is_empty() {
                        narrow(&mut sets, a, all);
                    }
                }
            }
            _ => {}
        }
    }
    // `a.TABLE_SCHEMA = b.TABLE_SCHEMA`: a restriction of one side holds for the other.
    for _ in 0..links.len() {
        for (a, b) in &links {
            for (from, to) in [(a, b), (b, a)] {
                if let Some(s) = sets.get(from).cloned() {
                    narrow(&mut sets, to.clone(), s);
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    for r in &rels {
        // A relation is restricted by a condition on any of its schema columns (they agree).
        let mut mine: Option<BTreeSet<String>> = None;
        for ((q, _), s) in &sets {
            if q == r {
                mine = Some(match mine {
                    None => s.clone(),
                    Some(m) => m.intersection(s).cloned().collect(),
                });
            }
        }
        out.extend(mine?);
    }
    Some(out)
}

/// Intersects the schemas allowed for `col` with `names`.
fn narrow(
    sets: &mut BTreeMap<(String, String), BTreeSet<String>>,
    col: (String, String),
    names: BTreeSet<String>,
) {
    let e = sets.entry(col).or_insert_with(|| names.clone());
    *e = e.intersection(&names).cloned().collect();
}

/// The terms of an AND chain.
fn conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        Expr::Nested(inner) => conjuncts(inner, out),
        other => out.push(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::analyze::parse;

    fn restricted(sql: &str) -> Option<Vec<String>> {
        let stmt = parse(sql).unwrap().remove(0);
        restricted_schemas(&stmt, Some("shop"), false).map(|s| s.into_iter().collect())
    }

    #[test]
    fn finds_the_schemas_a_statement_reads() {
        let one = Some(vec!["shop".to_string()]);
        assert_eq!(
            restricted("SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop'"),
            one
        );
        assert_eq!(
            restricted(
                "SELECT * FROM information_schema.columns WHERE table_schema = database() AND table_name = 'x'"
            ),
            one
        );
        assert_eq!(
            restricted(
                "SELECT * FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA IN ('a', 'b')"
            ),
            Some(vec!["a".into(), "b".into()])
        );
        // Through a join's equality (Django's constraint query).
        assert_eq!(
            restricted(
                "SELECT kc.constraint_name FROM information_schema.key_column_usage AS kc, information_schema.table_constraints AS c WHERE kc.table_schema = DATABASE() AND c.table_schema = kc.table_schema AND c.constraint_name = kc.constraint_name"
            ),
            one
        );
        assert_eq!(
            restricted(
                "SELECT * FROM information_schema.TABLES t JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA WHERE t.TABLE_SCHEMA = 'shop'"
            ),
            one
        );
        // Views of the server, not of schemas, need no restriction.
        assert_eq!(
            restricted(
                "SELECT * FROM information_schema.TABLES t JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE WHERE t.TABLE_SCHEMA = 'shop'"
            ),
            one
        );
        for sql in [
            "SELECT * FROM information_schema.TABLES",
            "SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE 'shop%'",
            "SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' OR TABLE_NAME = 'x'",
            "SELECT * FROM information_schema.TABLES t JOIN information_schema.COLUMNS c ON c.TABLE_NAME = t.TABLE_NAME WHERE t.TABLE_SCHEMA = 'shop'",
            "SELECT * FROM information_schema.TABLES t LEFT JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA WHERE t.TABLE_SCHEMA = 'shop'",
            "SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME IN (SELECT TABLE_NAME FROM information_schema.COLUMNS)",
            "SELECT * FROM information_schema.ENGINES",
        ] {
            assert_eq!(restricted(sql), None, "{sql}");
        }
    }
}
