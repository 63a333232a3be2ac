//! INSERT routing: each VALUES row goes to the shard of its key; rows needing an id get one of
//! the ids reserved beforehand (for the column the rule numbers, which may or may not be the
//! shard key); rows are split per shard by rewriting the statement.

use super::{Placement, RouteInput, key_of, on_every_copy, placement, route_dml, single};
use crate::config::{KeyType, Rules, ShardId, TableRule};
use crate::error::{ProxyError, Result};
use crate::plan::{Merge, Plan, Target};
use crate::rewrite;
use crate::route::Key;
use crate::sql::ValueRef;
use crate::sql::analyze::{Analysis, value_ref};
use mysql_async::Value;
use sqlparser::ast::{
    AssignmentTarget, Expr, Ident, Insert, ObjectName, ObjectNamePart, SetExpr, Statement,
};
use std::sync::Arc;

/// For an INSERT into a table whose rule numbers a column: the rule and the number of rows
/// needing an id. `no_auto_value_on_zero`: the session's sql_mode has `NO_AUTO_VALUE_ON_ZERO`,
/// so a 0 is stored as 0 and only NULL (or no value, or DEFAULT) asks for an id.
pub fn ids_needed(
    rules: &Rules,
    current: Option<&str>,
    a: &Analysis,
    table_columns: Option<&[String]>,
    params: &[Value],
    no_auto_value_on_zero: bool,
) -> Result<Option<(Arc<TableRule>, usize)>> {
    let Some((rule, values)) = numbered_values(rules, current, a, table_columns)? else {
        return Ok(None);
    };
    if values.is_empty() {
        return Ok(None);
    }
    let n = values
        .iter()
        .filter(|v| match v {
            None => true,
            Some(v) => needs_id(v, params, no_auto_value_on_zero),
        })
        .count();
    Ok((n > 0).then_some((rule, n)))
}

/// Whether an INSERT gives the column its rule numbers a 0 in some row: the one case where
/// the session's sql_mode (`NO_AUTO_VALUE_ON_ZERO`) decides between "assign an id" and "0".
pub fn zero_key_given(
    rules: &Rules,
    current: Option<&str>,
    a: &Analysis,
    table_columns: Option<&[String]>,
    params: &[Value],
) -> Result<bool> {
    let Some((_, values)) = numbered_values(rules, current, a, table_columns)? else {
        return Ok(false);
    };
    Ok(values
        .iter()
        .flatten()
        .any(|v| v.bind(params).is_some_and(is_zero)))
}

/// A numbering rule and, per VALUES row, the value of the column it numbers (`None`: the row
/// gives none, or `DEFAULT`); no rows when some row lacks its shard key (the INSERT is
/// refused, and needs no id).
type NumberedValues = (Arc<TableRule>, Vec<Option<ValueRef>>);

/// For an INSERT ... VALUES into a table whose rule numbers a column: the rule and each row's
/// value for that column (`table_columns`: see [`RouteInput::columns`]).
fn numbered_values(
    rules: &Rules,
    current: Option<&str>,
    a: &Analysis,
    table_columns: Option<&[String]>,
) -> Result<Option<NumberedValues>> {
    let Statement::Insert(ins) = &a.stmt else {
        return Ok(None);
    };
    let Some(t) = a.tables.first() else {
        return Ok(None);
    };
    let Placement::Sharded(rule) = placement(rules, current, t)? else {
        return Ok(None);
    };
    let Some(column) = rule.numbered_column() else {
        return Ok(None);
    };
    let Some((columns, rows)) = shape(ins, table_columns)? else {
        return Ok(None);
    };
    let idx = position(&columns, column);
    let key_idx = position(&columns, rule.key.as_deref().unwrap_or(""));
    if !rule.numbers_key() && rows.iter().any(|row| given(row, key_idx).is_none()) {
        // A row without its shard key is refused by `route`: no id is spent on it.
        return Ok(Some((rule.clone(), Vec::new())));
    }
    let values = rows.iter().map(|row| given(row, idx)).collect();
    Ok(Some((rule.clone(), values)))
}

/// For an INSERT into a table whose rule numbers a column, when some rows gave that column an
/// id themselves: the rule and the largest of those ids (the sequence moves past it, as
/// MySQL's AUTO_INCREMENT counter does).
pub fn largest_explicit_id(
    rules: &Rules,
    current: Option<&str>,
    a: &Analysis,
    table_columns: Option<&[String]>,
    params: &[Value],
    no_auto_value_on_zero: bool,
) -> Option<(Arc<TableRule>, u64)> {
    let (rule, values) = numbered_values(rules, current, a, table_columns).ok()??;
    let largest = values
        .iter()
        .flatten()
        .filter(|v| !needs_id(v, params, no_auto_value_on_zero))
        .filter_map(|v| match v.bind(params)? {
            Value::Int(i) => u64::try_from(*i).ok(),
            Value::UInt(u) => Some(*u),
            Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
            _ => None,
        })
        .max()?;
    Some((rule, largest))
}

/// For an INSERT ... VALUES: whether every row gives `column` (an AUTO_INCREMENT column) a value
/// of its own, so that the server generates no id (and LAST_INSERT_ID() stays as it was).
/// `None` when that cannot be told from the statement (not VALUES, columns unknown).
pub fn all_explicit(
    a: &Analysis,
    table_columns: Option<&[String]>,
    column: &str,
    params: &[Value],
    no_auto_value_on_zero: bool,
) -> Option<bool> {
    let Statement::Insert(ins) = &a.stmt else {
        return None;
    };
    let (columns, rows) = shape(ins, table_columns).ok()??;
    let idx = position(&columns, column);
    Some(
        rows.iter().all(|row| {
            given(row, idx).is_some_and(|v| !needs_id(&v, params, no_auto_value_on_zero))
        }),
    )
}

/// Whether a value of the numbered column asks the proxy for an id: NULL, and 0 unless the
/// session's sql_mode has `NO_AUTO_VALUE_ON_ZERO` (as for MySQL's AUTO_INCREMENT columns).
fn needs_id(v: &ValueRef, params: &[Value], no_auto_value_on_zero: bool) -> bool {
    match v.bind(params) {
        Some(Value::NULL) => true,
        Some(v) => !no_auto_value_on_zero && is_zero(v),
        None => false,
    }
}

/// A value MySQL stores as 0 in an integer column: `0`, `'0'`, `'0.0'`, `' +0 '`, ...
fn is_zero(v: &Value) -> bool {
    !matches!(v, Value::NULL) && Key::coerce(KeyType::Int, v).is_ok_and(|k| k == Key::Int(0))
}

/// The column list of an INSERT (last parts of the names, as written).
fn columns_of(ins: &Insert) -> Vec<String> {
    ins.columns.iter().map(rewrite::last_part).collect()
}

/// Position of `column` in `columns` (case-insensitive, like MySQL column names).
fn position(columns: &[String], column: &str) -> Option<usize> {
    columns.iter().position(|c| c.eq_ignore_ascii_case(column))
}

/// The value a row gives at `idx`: `None` when it gives none or `DEFAULT`.
fn given(row: &[Expr], idx: Option<usize>) -> Option<ValueRef> {
    let e = row.get(idx?)?;
    (!is_default(e)).then(|| value_ref(e))
}

/// `DEFAULT` as a VALUES item: the column's default, which for an AUTO_INCREMENT column
/// means "the next id".
fn is_default(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("DEFAULT"))
}

/// An INSERT's column names and VALUES rows.
type Shape<'a> = (Vec<String>, Vec<&'a [Expr]>);

/// An INSERT's columns and VALUES rows as the router reads them: the statement's own column
/// list; for an INSERT without one, the table's columns (`table_columns`), or none when the
/// first row is `()` (every column its default). `None`: not VALUES, or the table's columns
/// are needed and not given. A row with another number of values is MySQL's 1136, checked
/// the way the server does (the first row decides between "all defaults" and "every column").
fn shape<'a>(ins: &'a Insert, table_columns: Option<&[String]>) -> Result<Option<Shape<'a>>> {
    let Some(rows) = insert_rows(ins) else {
        return Ok(None);
    };
    let columns = if !ins.columns.is_empty() {
        columns_of(ins)
    } else if rows.first().is_none_or(|r| r.is_empty()) {
        Vec::new()
    } else {
        match table_columns {
            Some(c) => c.to_vec(),
            None => return Ok(None),
        }
    };
    if let Some(i) = rows.iter().position(|r| r.len() != columns.len()) {
        return Err(ProxyError::Sql {
            code: 1136,
            state: "21S01",
            message: format!("Column count doesn't match value count at row {}", i + 1),
        });
    }
    Ok(Some((columns, rows)))
}

/// An `INSERT INTO t VALUES (...)` without a column list into a sharded table: what the
/// engine needs to fetch the table's columns (the router stays free of I/O).
#[derive(Debug)]
pub struct PositionalInsert {
    /// The logical schema.
    pub schema: String,
    /// The table, as the statement names it (a split table's first physical table).
    pub table: String,
    /// A shard holding the table.
    pub shard: ShardId,
    /// Each VALUES row's number of values.
    pub row_lengths: Vec<usize>,
}

/// For an INSERT ... VALUES without a column list into a sharded table, whose rows give
/// values: where to read the table's columns (see [`RouteInput::columns`]).
pub fn positional_insert(
    rules: &Rules,
    current: Option<&str>,
    a: &Analysis,
) -> Result<Option<PositionalInsert>> {
    let Statement::Insert(ins) = &a.stmt else {
        return Ok(None);
    };
    let (Some(t), true) = (a.tables.first(), ins.columns.is_empty()) else {
        return Ok(None);
    };
    let Some(rows) = insert_rows(ins) else {
        return Ok(None);
    };
    if rows.first().is_none_or(|r| r.is_empty()) {
        return Ok(None);
    }
    let (schema, Some(rule)) = super::resolve(rules, current, t)? else {
        return Ok(None);
    };
    let Some(&shard) = rule.shards.first() else {
        return Ok(None);
    };
    if rule.key.is_none() {
        return Ok(None); // broadcast: the statement goes to every copy as written
    }
    // A split table's columns are those of its physical tables (the first one is asked).
    let (shard, table) = match &rule.split {
        Some(split) => (split.shard_of(0), split.physical(0, &rule.name)),
        None => (shard, t.name.clone()),
    };
    Ok(Some(PositionalInsert {
        schema: schema.name.clone(),
        table,
        shard,
        row_lengths: rows.iter().map(|r| r.len()).collect(),
    }))
}

/// The VALUES rows of an INSERT (None for INSERT ... SELECT and other sources).
fn insert_rows(ins: &Insert) -> Option<Vec<&[Expr]>> {
    match ins.source.as_ref()?.body.as_ref() {
        SetExpr::Values(v) => Some(v.rows.iter().map(|r| r.content.as_slice()).collect()),
        _ => None,
    }
}

pub(super) fn route_insert(inp: &RouteInput<'_>) -> Result<Plan> {
    let a = inp.analysis;
    let Statement::Insert(ins) = &a.stmt else {
        return Err(ProxyError::NotSupported("INSERT form".into()));
    };
    let Some(t) = a.tables.first() else {
        return Err(ProxyError::NotSupported("INSERT without a table".into()));
    };
    let rule = match placement(inp.rules, inp.schema, t)? {
        Placement::Unsharded(s) => {
            if a.tables.len() > 1 {
                return route_dml(inp);
            }
            return Ok(single(s, true));
        }
        Placement::Broadcast(r) => {
            if a.tables.len() > 1 {
                return Err(ProxyError::NotSupported(
                    "INSERT ... SELECT into a broadcast table".into(),
                ));
            }
            return Ok(on_every_copy(&r.shards, true));
        }
        Placement::Sharded(r) => r,
    };
    let key = rule.key.as_deref().unwrap_or("");
    if a.tables.len() > 1 {
        return Err(ProxyError::NotSupported(format!(
            "INSERT ... SELECT into sharded table `{}`",
            rule.name
        )));
    }
    if let Some(sqlparser::ast::OnInsert::DuplicateKeyUpdate(asg)) = &ins.on
        && asg.iter().any(|x| matches!(&x.target, AssignmentTarget::ColumnName(c) if rewrite::last_part(c).eq_ignore_ascii_case(key))) {
            return Err(ProxyError::NotSupported(format!("ON DUPLICATE KEY UPDATE of the shard key `{key}`")));
        }
    if insert_rows(ins).is_none() {
        return Err(ProxyError::NotSupported(format!(
            "INSERT into sharded table `{}` without VALUES",
            rule.name
        )));
    }
    let Some((columns, rows)) = shape(ins, inp.columns)? else {
        // Only without the engine, which reads the table's columns for such an INSERT.
        return Err(ProxyError::NotSupported(format!(
            "INSERT into sharded table `{}` without a column list (name the columns, including `{key}`)",
            rule.name
        )));
    };
    // Without a column list, each shard gets the columns named: a row's values then land in
    // the columns the router read its key from, even if the table changed behind the proxy's
    // back (a column count that no longer matches fails; it never misplaces a row).
    let named;
    let (stmt, positional) = if ins.columns.is_empty() && !columns.is_empty() {
        named = with_columns(&a.stmt, &columns);
        (&named, true)
    } else {
        (&a.stmt, false)
    };
    let key_idx = position(&columns, key);
    let numbered = rule.numbered_column();
    let numbered_idx = numbered.and_then(|c| position(&columns, c));
    let mut ids = inp.ids.iter();
    let mut assigned: Vec<(usize, Value)> = Vec::new();
    let mut per_shard: std::collections::BTreeMap<ShardId, Vec<usize>> = Default::default();
    let units = rule.split.as_ref().map(|s| s.unit_rule(&rule));
    let split_names = match &rule.split {
        Some(_) => {
            let (schema, _) = super::resolve(inp.rules, inp.schema, t)?;
            vec![(schema.name.clone(), rule.name.clone())]
        }
        None => Vec::new(),
    };
    for (i, row) in rows.iter().enumerate() {
        // A key the row must give is checked first: a row refused needs no id.
        let given_key = if rule.numbers_key() {
            None
        } else {
            Some(key_value(&rule, given(row, key_idx), inp)?)
        };
        let mut id = None;
        if numbered.is_some() {
            let needs = match given(row, numbered_idx) {
                None => true,
                Some(v) => needs_id(&v, inp.params, inp.no_auto_value_on_zero),
            };
            if needs {
                let next = ids
                    .next()
                    .copied()
                    .ok_or_else(|| ProxyError::Transaction("no id reserved".into()))?;
                assigned.push((i, Value::UInt(next)));
                id = Some(next);
            }
        }
        let value = match (given_key, id) {
            (Some(v), _) => v,
            (None, Some(id)) => Value::UInt(id),
            (None, None) => key_value(&rule, given(row, key_idx), inp)?,
        };
        let k = key_of(&rule, &value)?;
        // A split table's rows are grouped by physical table (unit), others by shard.
        let place = match &units {
            Some(u) => u.shard_for_key(&k)?,
            None => rule.shard_for_key(&k)?,
        };
        per_shard.entry(place).or_default().push(i);
    }
    let first_id = assigned.first().and_then(|(_, v)| match v {
        Value::UInt(u) => Some(*u),
        _ => None,
    });
    let rewrite_needed = positional || per_shard.len() > 1 || !assigned.is_empty();
    let set_column = numbered.unwrap_or(key);
    let targets = per_shard
        .iter()
        .map(|(&place, rows)| {
            let sql = if rewrite_needed {
                Some(
                    rewrite::insert_rows(stmt, rows, set_column, &assigned, inp.params)
                        .ok_or_else(|| {
                            ProxyError::NotSupported("this INSERT form on a sharded table".into())
                        })?,
                )
            } else {
                None
            };
            let target = match &rule.split {
                Some(split) => super::split::unit_target(split, place, &split_names),
                None => Target::on(place),
            };
            Ok(Target { sql, ..target })
        })
        .collect::<Result<Vec<_>>>()?;
    let merge = if targets.len() == 1 && first_id.is_none() {
        Merge::Pass
    } else {
        Merge::Affected {
            broadcast: false,
            first_id,
            multi_row: rows.len() > 1,
            upsert: ins.on.is_some(),
        }
    };
    Ok(Plan {
        targets,
        merge,
        write: true,
        replica_ok: false,
    })
}

/// The shard key a row gives (`v`: its value, `None` when it gives none or DEFAULT), or the
/// refusal that says why the row has no shard.
fn key_value(rule: &TableRule, v: Option<ValueRef>, inp: &RouteInput<'_>) -> Result<Value> {
    let key = rule.key.as_deref().unwrap_or("");
    // The hint applies only where numbering the key is possible and not already another column.
    let hint = if rule.numbered_column().is_none() {
        ", or set auto_increment = true in its rule"
    } else {
        ""
    };
    let Some(v) = v else {
        return Err(ProxyError::NotSupported(format!(
            "INSERT into sharded table `{}` without a value for its shard key `{key}` (give one{hint})",
            rule.name
        )));
    };
    match v.bind(inp.params) {
        Some(Value::NULL) => Err(ProxyError::NotSupported(format!(
            "a NULL shard key `{key}` for `{}` (a row without a key has no shard; give a value{hint})",
            rule.name
        ))),
        Some(val) => Ok(val.clone()),
        None => Err(ProxyError::NotSupported(format!(
            "a computed value for shard key `{key}` of `{}` (give a literal or a parameter)",
            rule.name
        ))),
    }
}

/// `stmt` (an INSERT) with `columns` as its column list.
fn with_columns(stmt: &Statement, columns: &[String]) -> Statement {
    let mut stmt = stmt.clone();
    if let Statement::Insert(ins) = &mut stmt {
        ins.columns = columns
            .iter()
            .map(|c| ObjectName(vec![ObjectNamePart::Identifier(Ident::with_quote('`', c))]))
            .collect();
    }
    stmt
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::analyze::analyze;

    /// The column list added to a positional INSERT, and ids set in it, print as SQL that
    /// parses back to the same statement.
    #[test]
    fn positional_rewrite_round_trips_through_the_parser() {
        let a = analyze(r"INSERT INTO t VALUES (DEFAULT, 'a\'b', 1), (7, X'00ff', 2)").unwrap();
        let cols = ["id".to_string(), "we`ird".to_string(), "order".to_string()];
        let named = with_columns(&a.stmt, &cols);
        let sql = rewrite::insert_rows(&named, &[0, 1], "id", &[(0, Value::UInt(5))], &[]).unwrap();
        assert_eq!(
            sql,
            r"INSERT INTO t (`id`, `we``ird`, `order`) VALUES (5, 'a\'b', 1), (7, X'00ff', 2)"
        );
        let again = analyze(&sql).unwrap();
        assert_eq!(again.stmt.to_string(), sql);
        let Statement::Insert(ins) = &again.stmt else {
            panic!("an INSERT")
        };
        // Names keep their text as written (the parser does not unescape: see `sql::analyze`).
        assert_eq!(columns_of(ins), ["id", "we``ird", "order"]);
    }

    #[test]
    fn value_counts_are_checked_as_the_server_does() {
        let count_err = |sql: &str, cols: Option<&[String]>| {
            let a = analyze(sql).unwrap();
            let Statement::Insert(ins) = &a.stmt else {
                panic!("an INSERT")
            };
            shape(ins, cols).err().map(|e| e.to_string())
        };
        let cols = ["a".to_string(), "b".to_string()];
        assert_eq!(
            count_err("INSERT INTO t VALUES (1, 2), (3, 4)", Some(&cols)),
            None
        );
        assert_eq!(count_err("INSERT INTO t VALUES (), ()", None), None);
        let row2 = Some("Column count doesn't match value count at row 2".to_string());
        assert_eq!(count_err("INSERT INTO t VALUES (), (1, 2)", None), row2);
        assert_eq!(
            count_err("INSERT INTO t VALUES (1, 2), ()", Some(&cols)),
            row2
        );
        assert_eq!(
            count_err("INSERT INTO t (a) VALUES (1), (1, 2)", None),
            row2
        );
    }
}
