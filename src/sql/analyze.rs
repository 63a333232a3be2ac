//! sqlparser's AST → [`Analysis`]: what a statement does, which tables it names, its
//! placeholders, and the shape a scatter read needs merged. Rules-independent, so one analysis
//! serves every execution of a statement text (see [`super::cache`]).

use super::ValueRef;
use mysql_async::Value as MyValue;
use sqlparser::ast::{
    Expr, FunctionArguments, GroupByExpr, LimitClause, ObjectName, ObjectNamePart, ObjectType,
    OrderByKind, OrderBySort, Query, SelectItem, SetExpr, Statement, TableFactor, TableObject,
    UnaryOperator, Value, visit_expressions, visit_expressions_mut, visit_relations,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::{Parser, ParserOptions};
use std::ops::ControlFlow;

/// A table as named in a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableName {
    /// `db` of `db.t`, when qualified.
    pub schema: Option<String>,
    /// The table name as written.
    pub name: String,
}

/// What kind of statement, with what each kind needs for routing.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Select,
    Insert,
    Update,
    Delete,
    /// CREATE/ALTER/DROP/TRUNCATE TABLE, CREATE/DROP INDEX: runs where the table lives.
    Ddl,
    /// CREATE DATABASE / DROP DATABASE of a logical schema: runs on every shard.
    Database {
        name: String,
    },
    /// Anything else sqlparser understood (SELECT without tables is `Select`).
    Other,
}

/// An aggregate of a projection item, merged across shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    Count,
    Sum,
    Min,
    Max,
    /// AVG: the shards also return SUM and COUNT of its argument, which the merge divides.
    Avg,
    /// Not an aggregate: a grouped query's plain column, the group's value (the first row's).
    First,
    /// BIT_AND, BIT_OR, BIT_XOR: the shards' partial results combined with the same operation.
    BitAnd,
    BitOr,
    BitXor,
    /// The variance family: `sample` divides by n - 1 (VAR_SAMP, STDDEV_SAMP), `root` takes the
    /// square root (STD, STDDEV, STDDEV_POP, STDDEV_SAMP). The shards return COUNT, SUM and the
    /// sum of squares of the argument, which the merge combines exactly.
    Var {
        sample: bool,
        root: bool,
    },
    /// COUNT(DISTINCT ...), SUM(DISTINCT x), AVG(DISTINCT x): the shards group by the
    /// arguments as well and return them; the merge keeps each distinct value once.
    CountDistinct,
    SumDistinct,
    AvgDistinct,
    /// GROUP_CONCAT: the shards also group by each concatenated piece (and its ORDER BY keys)
    /// and count its rows; the merge sorts the pieces, repeats each by its count and joins
    /// them (see [`crate::plan::Concat`]).
    GroupConcat,
}

/// One item of a SELECT list, as the merge sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A mergeable aggregate.
    Agg(Agg),
    /// An expression over aggregates and group keys (`SUM(a) / COUNT(*)`): the merge combines
    /// its aggregates, then has a backend evaluate the expression over the merged values.
    Computed,
    /// An aggregate the proxy cannot merge across shards (AVG, COUNT(DISTINCT), nested, ...).
    Unmergeable(String),
    /// A plain expression or column.
    Plain,
    /// `*` or `t.*`.
    Wildcard,
}

/// How an ORDER BY term refers to the result.
#[derive(Clone, Debug, PartialEq)]
pub enum OrderRef {
    /// A column name or alias, resolved against the result's column names.
    Name(String),
    /// A 0-based position in the SELECT list.
    Position(usize),
    /// An expression not in the SELECT list.
    Unresolved(String),
    /// The k-th (0-based) sort column a scatter read adds after the SELECT list: counted from
    /// the end of the result, whose width a `*` hides until the rows arrive.
    Hidden(usize),
}

/// The parts of a SELECT that a scatter read must merge.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SelectShape {
    pub items: Vec<Item>,
    pub distinct: bool,
    pub order_by: Vec<(OrderRef, bool)>,
    /// (offset, count) of the LIMIT clause.
    pub limit: Option<(ValueRef, ValueRef)>,
    pub group_by: bool,
    pub having: bool,
    /// More than one table, a join, a subquery in FROM, or a set operation (UNION).
    pub multi_table: bool,
    pub for_update: bool,
}

/// The analysis of one statement.
#[derive(Debug)]
pub struct Analysis {
    /// The AST, with placeholders renamed `?1`, `?2`, ... in textual order.
    pub stmt: Statement,
    pub kind: Kind,
    /// Every table the statement names, in order, without duplicates.
    pub tables: Vec<TableName>,
    /// Number of `?` placeholders.
    pub param_count: usize,
    /// For SELECT: the shape a scatter merge needs.
    pub select: Option<SelectShape>,
    /// Whether the statement refers to session state whose value the proxy puts in its place
    /// (`VERSION()`, `@v`, `@@autocommit`, MySQL variable names: see [`super::session`]).
    pub session_refs: bool,
    /// `SELECT ... INTO @a, @b`: the user variables (lower-cased) the row is stored in.
    pub into_vars: Vec<String>,
    /// Whether the statement assigns a user variable inside an expression (`@v := x`).
    pub assigns_vars: bool,
    /// Whether the statement calls `LAST_INSERT_ID(expr)`, which sets the session's value.
    pub sets_last_insert_id: bool,
    /// Whether a replica may answer it: a SELECT without locks, INTO or functions with side
    /// effects (see [`super::readonly`]).
    pub replica_safe: bool,
}

/// Why a statement could not be analysed.
#[derive(Debug)]
pub enum AnalyzeError {
    /// sqlparser refused it: the message says where.
    Parse(String),
    /// Several statements in one text where one was expected.
    Multiple,
}

/// Parses and analyses one statement.
pub fn analyze(sql: &str) -> Result<Analysis, AnalyzeError> {
    let mut stmts = parse(sql)?;
    if stmts.len() != 1 {
        return Err(AnalyzeError::Multiple);
    }
    let mut stmt = stmts.remove(0);
    let mut n = 0usize;
    let _ = visit_expressions_mut(&mut stmt, |e| {
        if let Expr::Value(v) = e {
            match &mut v.value {
                Value::Placeholder(p) if p == "?" => {
                    n += 1;
                    *p = format!("?{n}");
                }
                // `0xABC` is a valid MySQL literal but prints as `X'ABC'`, which is not: pad it.
                Value::HexStringLiteral(h) if h.len() % 2 == 1 => h.insert(0, '0'),
                _ => {}
            }
        }
        ControlFlow::<()>::Continue(())
    });
    let mut tables: Vec<TableName> = Vec::new();
    let mut push = |t: TableName| {
        if !tables.contains(&t) {
            tables.push(t);
        }
    };
    let kind = match &stmt {
        Statement::Query(_) => Kind::Select,
        Statement::Insert(ins) => {
            if let TableObject::TableName(name) = &ins.table {
                push(table_name(name));
            }
            Kind::Insert
        }
        Statement::Update(_) => Kind::Update,
        Statement::Delete(_) => Kind::Delete,
        Statement::CreateTable(ct) => {
            push(table_name(&ct.name));
            Kind::Ddl
        }
        Statement::AlterTable(at) => {
            push(table_name(&at.name));
            Kind::Ddl
        }
        Statement::CreateIndex(ci) => {
            push(table_name(&ci.table_name));
            Kind::Ddl
        }
        Statement::Truncate(t) => {
            for target in &t.table_names {
                push(table_name(&target.name));
            }
            Kind::Ddl
        }
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => {
            for name in names {
                push(table_name(name));
            }
            Kind::Ddl
        }
        Statement::Drop {
            object_type: ObjectType::Index,
            table: Some(t),
            ..
        } => {
            push(table_name(t));
            Kind::Ddl
        }
        Statement::Drop {
            object_type: ObjectType::Schema | ObjectType::Database,
            names,
            ..
        } => Kind::Database {
            name: names
                .first()
                .map(|n| table_name(n).name)
                .unwrap_or_default(),
        },
        Statement::CreateDatabase { db_name, .. } => Kind::Database {
            name: table_name(db_name).name,
        },
        Statement::CreateSchema { schema_name, .. } => Kind::Database {
            name: schema_name.to_string(),
        },
        _ => Kind::Other,
    };
    if matches!(
        kind,
        Kind::Select | Kind::Insert | Kind::Update | Kind::Delete | Kind::Other
    ) {
        let _ = visit_relations(&stmt, |name| {
            push(table_name(name));
            ControlFlow::<()>::Continue(())
        });
    }
    let select = match &stmt {
        Statement::Query(q) => Some(select_shape(q)),
        _ => None,
    };
    let mut session_refs = false;
    let mut assigns_vars = false;
    let mut sets_last_insert_id = false;
    let _ = visit_expressions(&stmt, |e| {
        if let Expr::Function(f) = e
            && f.name.to_string().eq_ignore_ascii_case("LAST_INSERT_ID")
            && matches!(&f.args, FunctionArguments::List(l) if !l.args.is_empty())
        {
            sets_last_insert_id = true;
        }
        session_refs |= super::session::session_ref(e).is_some_and(|r| r.needs_value());
        assigns_vars |= matches!(
            e,
            Expr::BinaryOp {
                op: sqlparser::ast::BinaryOperator::Assignment,
                ..
            }
        );
        ControlFlow::<()>::Continue(())
    });
    let into_vars = select_into(&stmt);
    let replica_safe = super::readonly::replica_safe(&stmt) && !assigns_vars;
    Ok(Analysis {
        replica_safe,
        stmt,
        kind,
        tables,
        param_count: n,
        select,
        session_refs,
        into_vars,
        assigns_vars,
        sets_last_insert_id,
    })
}

/// The user variables of `SELECT ... INTO @a, @b` (lower-cased).
fn select_into(stmt: &Statement) -> Vec<String> {
    let Statement::Query(q) = stmt else {
        return Vec::new();
    };
    let SetExpr::Select(s) = q.body.as_ref() else {
        return Vec::new();
    };
    let Some(into) = &s.into else {
        return Vec::new();
    };
    into.targets
        .iter()
        .filter_map(|t| match t {
            Expr::Identifier(i) => i.value.strip_prefix('@').map(str::to_ascii_lowercase),
            _ => None,
        })
        .collect()
}

/// Parses MySQL text (in the lossless form of [`super::text`]) with sqlparser's string
/// unescaping off: literals keep their text exactly as the client wrote it, so a statement
/// printed back from the AST carries every literal's bytes unchanged, and the values the router
/// needs are read with MySQL's own escaping rules ([`super::text::unescape`]).
pub fn parse(sql: &str) -> Result<Vec<Statement>, AnalyzeError> {
    let opts = ParserOptions::new().with_unescape(false);
    Parser::new(&MySqlDialect {})
        .with_options(opts)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| AnalyzeError::Parse(e.to_string()))
}

/// `db.t` / `t` as a [`TableName`] (identifiers unquoted).
pub fn table_name(name: &ObjectName) -> TableName {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.clone(),
            other => other.to_string(),
        })
        .collect();
    match parts.as_slice() {
        [schema, table] => TableName {
            schema: Some(schema.clone()),
            name: table.clone(),
        },
        [.., table] => TableName {
            schema: None,
            name: table.clone(),
        },
        [] => TableName {
            schema: None,
            name: String::new(),
        },
    }
}

/// A literal or placeholder expression as a [`ValueRef`].
pub fn value_ref(e: &Expr) -> ValueRef {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Placeholder(p) => p
                .strip_prefix('?')
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n >= 1)
                .map(|n| ValueRef::Param(n - 1))
                .unwrap_or(ValueRef::Expr),
            other => literal(other).map(ValueRef::Lit).unwrap_or(ValueRef::Expr),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match value_ref(expr) {
            ValueRef::Lit(MyValue::Int(i)) => ValueRef::Lit(MyValue::Int(-i)),
            ValueRef::Lit(MyValue::UInt(u)) if u <= i64::MAX as u64 + 1 => {
                ValueRef::Lit(MyValue::Int((u as i64).wrapping_neg()))
            }
            ValueRef::Lit(MyValue::Double(d)) => ValueRef::Lit(MyValue::Double(-d)),
            _ => ValueRef::Expr,
        },
        Expr::UnaryOp {
            op: UnaryOperator::Plus,
            expr,
        } => value_ref(expr),
        Expr::Nested(inner) => value_ref(inner),
        // `_binary'..'`, `_latin1'..'`: the literal's bytes.
        Expr::Prefixed { prefix, value } if prefix.value.starts_with('_') => value_ref(value),
        _ => ValueRef::Expr,
    }
}

fn literal(v: &Value) -> Option<MyValue> {
    Some(match v {
        Value::Number(s, _) => {
            if let Ok(i) = s.parse::<i64>() {
                MyValue::Int(i)
            } else if let Ok(u) = s.parse::<u64>() {
                MyValue::UInt(u)
            } else {
                MyValue::Double(s.parse().ok()?)
            }
        }
        Value::SingleQuotedString(s) | Value::NationalStringLiteral(s) => {
            MyValue::Bytes(super::text::unescape(s, '\''))
        }
        Value::DoubleQuotedString(s) => MyValue::Bytes(super::text::unescape(s, '"')),
        Value::HexStringLiteral(h) => MyValue::Bytes(hex(h)?),
        Value::Boolean(b) => MyValue::Int(i64::from(*b)),
        Value::Null => MyValue::NULL,
        _ => return None,
    })
}

fn hex(h: &str) -> Option<Vec<u8>> {
    let h = if h.len() % 2 == 1 {
        format!("0{h}")
    } else {
        h.to_string()
    };
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The aggregate a function call computes, as the merge combines it: None when `e` is not an
/// aggregate call; an error naming the construct for aggregates the proxy cannot combine.
pub fn agg_of(e: &Expr) -> Option<Result<Agg, String>> {
    let Expr::Function(f) = e else { return None };
    let name = f.name.to_string().to_ascii_uppercase();
    let distinct = matches!(&f.args, FunctionArguments::List(list) if list
        .duplicate_treatment
        .is_some_and(|d| d.to_string().eq_ignore_ascii_case("DISTINCT")));
    let agg = match (name.as_str(), distinct) {
        ("COUNT", false) => Agg::Count,
        ("COUNT", true) => Agg::CountDistinct,
        ("SUM", false) => Agg::Sum,
        ("SUM", true) => Agg::SumDistinct,
        ("AVG", false) => Agg::Avg,
        ("AVG", true) => Agg::AvgDistinct,
        // The smallest of the distinct values is the smallest value.
        ("MIN", _) => Agg::Min,
        ("MAX", _) => Agg::Max,
        ("BIT_AND", false) => Agg::BitAnd,
        ("BIT_OR", false) => Agg::BitOr,
        ("BIT_XOR", false) => Agg::BitXor,
        ("STD" | "STDDEV" | "STDDEV_POP", false) => Agg::Var {
            sample: false,
            root: true,
        },
        ("STDDEV_SAMP", false) => Agg::Var {
            sample: true,
            root: true,
        },
        ("VARIANCE" | "VAR_POP", false) => Agg::Var {
            sample: false,
            root: false,
        },
        ("VAR_SAMP", false) => Agg::Var {
            sample: true,
            root: false,
        },
        ("GROUP_CONCAT", _) => Agg::GroupConcat,
        ("JSON_ARRAYAGG" | "JSON_OBJECTAGG", _) => {
            return Some(Err(format!("{name}() across shards")));
        }
        (
            "BIT_AND" | "BIT_OR" | "BIT_XOR" | "STD" | "STDDEV" | "STDDEV_POP" | "STDDEV_SAMP"
            | "VARIANCE" | "VAR_POP" | "VAR_SAMP",
            true,
        ) => return Some(Err(format!("{name}(DISTINCT ...) across shards"))),
        _ => return None,
    };
    if f.over.is_some() {
        // A window function, not an aggregate (refused across shards elsewhere).
        return None;
    }
    Some(Ok(agg))
}

fn item_of(e: &Expr) -> Item {
    match agg_of(e) {
        Some(Ok(a)) => return Item::Agg(a),
        Some(Err(what)) => return Item::Unmergeable(what),
        None => {}
    }
    let mut nested: Option<Option<String>> = None;
    let _ = visit_expressions(e, |sub| {
        match agg_of(sub) {
            Some(Ok(_)) => nested = Some(nested.clone().flatten()),
            Some(Err(what)) => {
                nested = Some(Some(what));
                return ControlFlow::Break(());
            }
            None => {}
        }
        ControlFlow::Continue(())
    });
    match nested {
        None => Item::Plain,
        Some(None) => Item::Computed,
        Some(Some(what)) => Item::Unmergeable(what),
    }
}

fn select_shape(q: &Query) -> SelectShape {
    let mut shape = SelectShape {
        for_update: !q.locks.is_empty(),
        ..Default::default()
    };
    let mut aliases: Vec<(Option<String>, String)> = Vec::new();
    match q.body.as_ref() {
        SetExpr::Select(s) => {
            shape.distinct = s.distinct.is_some();
            shape.having = s.having.is_some();
            shape.group_by = match &s.group_by {
                GroupByExpr::All(_) => true,
                GroupByExpr::Expressions(v, _) => !v.is_empty(),
            };
            shape.multi_table = s.from.len() > 1
                || s.from.iter().any(|t| {
                    !t.joins.is_empty() || !matches!(t.relation, TableFactor::Table { .. })
                });
            for item in &s.projection {
                match item {
                    SelectItem::UnnamedExpr(e) => {
                        shape.items.push(item_of(e));
                        aliases.push((None, e.to_string()));
                    }
                    SelectItem::ExprWithAlias { expr, alias } => {
                        shape.items.push(item_of(expr));
                        aliases.push((Some(alias.value.clone()), expr.to_string()));
                    }
                    SelectItem::ExprWithAliases { expr, .. } => {
                        shape.items.push(item_of(expr));
                        aliases.push((None, expr.to_string()));
                    }
                    _ => {
                        shape.items.push(Item::Wildcard);
                        aliases.push((None, "*".into()));
                    }
                }
            }
            // A subquery anywhere in the statement could read other shards' rows.
            let _ = visit_expressions(s.as_ref(), |e| {
                if matches!(
                    e,
                    Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. }
                ) {
                    shape.multi_table = true;
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            });
        }
        _ => shape.multi_table = true,
    }
    if let Some(ob) = &q.order_by
        && let OrderByKind::Expressions(exprs) = &ob.kind
    {
        for o in exprs {
            let asc = !matches!(o.options.sort, Some(OrderBySort::Desc));
            let text = o.expr.to_string();
            let r = match &o.expr {
                Expr::Value(v) => match &v.value {
                    Value::Number(n, _) => n
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .map(|n| OrderRef::Position(n - 1))
                        .unwrap_or(OrderRef::Unresolved(text.clone())),
                    _ => OrderRef::Unresolved(text.clone()),
                },
                _ => match aliases
                    .iter()
                    .position(|(a, e)| *e == text || a.as_deref() == Some(text.as_str()))
                {
                    Some(p) => OrderRef::Position(p),
                    None => match &o.expr {
                        Expr::Identifier(i) => OrderRef::Name(i.value.clone()),
                        Expr::CompoundIdentifier(parts) => OrderRef::Name(
                            parts.last().map(|i| i.value.clone()).unwrap_or_default(),
                        ),
                        _ => OrderRef::Unresolved(text.clone()),
                    },
                },
            };
            shape.order_by.push((r, asc));
        }
    }
    shape.limit = match &q.limit_clause {
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
            Some((value_ref(offset), value_ref(limit)))
        }
        Some(LimitClause::LimitOffset {
            limit: Some(limit),
            offset,
            ..
        }) => Some((
            offset
                .as_ref()
                .map(|o| value_ref(&o.value))
                .unwrap_or(ValueRef::Lit(MyValue::Int(0))),
            value_ref(limit),
        )),
        _ => None,
    };
    shape
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_in_text_order() {
        let a =
            analyze("SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c LIMIT ?").unwrap();
        assert_eq!(a.param_count, 3);
        assert_eq!(a.kind, Kind::Select);
        assert_eq!(
            a.tables,
            vec![TableName {
                schema: None,
                name: "sbtest1".into()
            }]
        );
        let s = a.select.unwrap();
        assert_eq!(s.order_by, vec![(OrderRef::Position(0), true)]);
        assert_eq!(
            s.limit,
            Some((ValueRef::Lit(MyValue::Int(0)), ValueRef::Param(2)))
        );
    }

    #[test]
    fn select_shapes() {
        let s = analyze("SELECT COUNT(*), SUM(k), AVG(k) FROM t")
            .unwrap()
            .select
            .unwrap();
        assert_eq!(s.items[0], Item::Agg(Agg::Count));
        assert_eq!(s.items[1], Item::Agg(Agg::Sum));
        assert_eq!(s.items[2], Item::Agg(Agg::Avg));
        let s = analyze("SELECT DISTINCT c FROM t ORDER BY c DESC LIMIT 5, 10")
            .unwrap()
            .select
            .unwrap();
        assert!(s.distinct);
        assert_eq!(s.order_by, vec![(OrderRef::Position(0), false)]);
        assert_eq!(
            s.limit,
            Some((
                ValueRef::Lit(MyValue::Int(5)),
                ValueRef::Lit(MyValue::Int(10))
            ))
        );
        let s = analyze("SELECT * FROM a JOIN b ON a.id = b.id").unwrap();
        assert!(s.select.unwrap().multi_table);
        assert_eq!(s.tables.len(), 2);
        let s = analyze("SELECT * FROM a WHERE id IN (SELECT id FROM b)").unwrap();
        assert!(s.select.unwrap().multi_table);
    }

    #[test]
    fn ddl_and_dml_tables() {
        let a = analyze("CREATE TABLE sbtest1(id INTEGER NOT NULL AUTO_INCREMENT, k INTEGER DEFAULT '0' NOT NULL, PRIMARY KEY (id)) /*! ENGINE = innodb */").unwrap();
        assert_eq!(a.kind, Kind::Ddl);
        assert_eq!(a.tables[0].name, "sbtest1");
        let a = analyze("CREATE INDEX k_1 ON sbtest1(k)").unwrap();
        assert_eq!((a.kind, a.tables[0].name.as_str()), (Kind::Ddl, "sbtest1"));
        let a = analyze("DROP TABLE IF EXISTS shop.sbtest1").unwrap();
        assert_eq!(
            a.tables[0],
            TableName {
                schema: Some("shop".into()),
                name: "sbtest1".into()
            }
        );
        let a = analyze("INSERT INTO t (id, c) VALUES (?, 'x'), (-5, ?)").unwrap();
        assert_eq!((a.kind, a.param_count), (Kind::Insert, 2));
        let a = analyze("UPDATE t SET k=k+1 WHERE id=?").unwrap();
        assert_eq!((a.kind, a.tables.len()), (Kind::Update, 1));
        assert!(matches!(analyze("SELEC 1"), Err(AnalyzeError::Parse(_))));
    }
}
