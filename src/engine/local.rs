//! What the proxy answers itself, for the session rather than a backend: SET (remembered and
//! replayed on backend connections), USE, SHOW DATABASES/TABLES/WARNINGS, and the functions and
//! variables that must reflect the session (`USER()`, `LAST_INSERT_ID()`, `@@autocommit`, ...).

use super::vars::UserValue;
use super::{SERVER_VERSION, SessionState, Shared, run_targets};
use crate::backend::sequence::SEQUENCE_TABLE;
use crate::config::Rules;
use crate::error::{ProxyError, Result};
use crate::execute::{OkInfo, Outcome, RowSet};
use crate::frontend::packets::ColumnDef;
use crate::plan::{Merge, Plan, Target};
use crate::rewrite::session::{Place, substitute};
use crate::rewrite::{quote, raw_sql};
use crate::sql::analyze::{Analysis, Kind};
use crate::sql::session::{SessionFn, SessionRef, session_ref};
use mysql_async::Value;
use mysql_async::consts::ColumnType;
use sqlparser::ast::{Expr, Ident};
use std::sync::Arc;

/// The SHOW WARNINGS row of an error.
pub(super) fn error_warning(e: &ProxyError) -> Vec<Vec<Value>> {
    vec![vec![
        Value::Bytes(b"Error".to_vec()),
        Value::UInt(u64::from(e.code())),
        Value::Bytes(e.to_string().into_bytes()),
    ]]
}

pub(super) fn text_rows(names: &[&str], rows: Vec<Vec<Value>>) -> Outcome {
    let columns = names
        .iter()
        .map(|n| ColumnDef::synthetic(n, ColumnType::MYSQL_TYPE_VAR_STRING))
        .collect();
    Outcome::Rows(RowSet {
        columns: Arc::new(columns),
        rows,
        warnings: 0,
        warning_list: Vec::new(),
    })
}

pub(super) fn ok() -> Outcome {
    Outcome::Ok(OkInfo::default())
}

pub(super) fn show_warnings(st: &SessionState, count: bool, errors: bool) -> Outcome {
    let rows: Vec<Vec<Value>> = st
        .warnings
        .iter()
        .filter(|w| !errors || is_error(w))
        .cloned()
        .collect();
    // Column definitions as MariaDB sends them (drivers reflect types, flags and lengths).
    let mb = st.max_char_len();
    let col = |name: &str, t: ColumnType, charset: u16, flags: u16, length: u32, decimals: u8| {
        let mut c = ColumnDef::synthetic(name, t);
        (c.charset, c.flags, c.length, c.decimals) = (charset, flags, length, decimals);
        c
    };
    if count {
        let name = if errors {
            "@@session.error_count"
        } else {
            "@@session.warning_count"
        };
        return Outcome::Rows(RowSet {
            columns: Arc::new(vec![col(
                name,
                ColumnType::MYSQL_TYPE_LONGLONG,
                63,
                160,
                21,
                0,
            )]),
            rows: vec![vec![Value::UInt(rows.len() as u64)]],
            ..Default::default()
        });
    }
    let text = ColumnType::MYSQL_TYPE_VAR_STRING;
    let columns = vec![
        col("Level", text, st.collation, 1, 7 * mb, 39),
        col("Code", ColumnType::MYSQL_TYPE_LONG, 63, 161, 4, 0),
        col("Message", text, st.collation, 1, 512 * mb, 39),
    ];
    Outcome::Rows(RowSet {
        columns: Arc::new(columns),
        rows,
        ..Default::default()
    })
}

pub(super) async fn use_schema(sh: &Shared, st: &mut SessionState, db: &str) -> Result<Outcome> {
    check_schema(&sh.rules, &st.user, db)?;
    if st.txn.is_open() {
        st.txn
            .each(&sh.backends, &format!("USE `{}`", db.replace('`', "``")))
            .await?;
    }
    st.schema = Some(db.to_string());
    Ok(ok())
}

/// Checks that `db` is a logical schema that `user` may use (or a system schema the user may
/// reach: see `system_schema::check_use`).
pub fn check_schema(rules: &Rules, user: &str, db: &str) -> Result<()> {
    if let Some(r) = super::system_schema::check_use(rules, user, db) {
        return r;
    }
    if rules.schema(db).is_none() {
        return Err(ProxyError::UnknownDatabase(db.to_string()));
    }
    if !rules.user(user).is_some_and(|u| u.may_use(db)) {
        return Err(ProxyError::SchemaDenied {
            user: user.to_string(),
            schema: db.to_string(),
        });
    }
    Ok(())
}

pub(super) async fn show_tables(
    sh: &Shared,
    st: &mut SessionState,
    sql: &str,
    full: bool,
    schema: Option<String>,
    like: Option<String>,
) -> Result<Outcome> {
    let name = schema
        .or_else(|| st.schema.clone())
        .ok_or(ProxyError::NoDatabase)?;
    check_schema(&sh.rules, &st.user, &name)?;
    let Some(schema) = sh.rules.schema(&name) else {
        return Err(ProxyError::UnknownDatabase(name));
    };
    let plan = Plan {
        targets: (0..sh.rules.shards.len()).map(Target::on).collect(),
        merge: Merge::Pass,
        write: false,
        replica_ok: false,
    };
    // Split tables are listed by their logical names; a LIKE pattern then applies to those
    // names, here, after the backends list every table.
    let physical = crate::config::split::logical_names(schema);
    let (sql, like) = match like {
        Some(pattern) if !physical.is_empty() => (
            format!(
                "SHOW {}TABLES FROM `{}`",
                if full { "FULL " } else { "" },
                name.replace('`', "``")
            ),
            Some(pattern),
        ),
        _ => (sql.to_string(), None),
    };
    let outcomes = run_targets(sh, st, &plan, &sql, None).await?;
    // Logical tables: what the default shard holds, plus every table of the rules found anywhere.
    let mut columns = None;
    let mut rows: Vec<Vec<Value>> = Vec::new();
    for (shard, o) in plan.targets.iter().map(|t| t.shard).zip(outcomes) {
        let Outcome::Rows(set) = o else { continue };
        if shard == schema.default_shard || columns.is_none() {
            columns = Some(set.columns.clone());
        }
        for mut row in set.rows {
            let Some(Value::Bytes(n)) = row.first() else {
                continue;
            };
            let mut tname = String::from_utf8_lossy(n).into_owned();
            if tname.eq_ignore_ascii_case(SEQUENCE_TABLE) {
                continue;
            }
            let split = physical.get(&tname.to_lowercase());
            if let Some(l) = split {
                tname = l.clone();
                row[0] = Value::Bytes(l.clone().into_bytes());
            }
            if like.as_deref().is_some_and(|p| !like_match(p, &tname)) {
                continue;
            }
            let logical =
                split.is_some() || shard == schema.default_shard || schema.table(&tname).is_some();
            let dup = rows.iter().any(|r| r.first() == row.first());
            if logical && !dup {
                rows.push(row);
            }
        }
    }
    rows.sort_by(|a, b| format!("{:?}", a.first()).cmp(&format!("{:?}", b.first())));
    let mut columns = columns.unwrap_or_default();
    if let Some(pattern) = &like {
        // The backends listed without the pattern: the heading names it, as MariaDB's does.
        let mut cols = columns.to_vec();
        if let Some(first) = cols.first_mut() {
            first.name = format!("Tables_in_{name} ({pattern})").into_bytes();
        }
        columns = std::sync::Arc::new(cols);
    }
    Ok(Outcome::Rows(RowSet {
        columns,
        rows,
        warnings: 0,
        warning_list: Vec::new(),
    }))
}

/// SQL `LIKE` matching as `SHOW TABLES LIKE` does it on a case-sensitive file system: `%` any
/// run of characters, `_` one character, `\` escaping the next. Hand-written: a table-name
/// filter of a few lines, where a regex crate would need the pattern translated anyway.
pub(super) fn like_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('%', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('_', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some(('\\', rest)) if !rest.is_empty() => {
                n.first() == rest.first() && go(&rest[1..], &n[1..])
            }
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// A `SHOW CREATE TABLE`, `SHOW INDEX` or `DESCRIBE` answer of a split table's physical table
/// `physical`, with the physical name replaced by the logical one where the answer names the
/// table (the `Table` column, the `CREATE TABLE` text).
pub(super) fn logical_table(out: Outcome, physical: &str, logical: &str) -> Outcome {
    let Outcome::Rows(mut set) = out else {
        return out;
    };
    let table_cols: Vec<usize> = set
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.name.eq_ignore_ascii_case(b"Table"))
        .map(|(i, _)| i)
        .collect();
    let create_cols: Vec<usize> = set
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.name.eq_ignore_ascii_case(b"Create Table"))
        .map(|(i, _)| i)
        .collect();
    let quoted = format!("CREATE TABLE `{}`", physical.replace('`', "``"));
    for row in &mut set.rows {
        for &i in &table_cols {
            if let Some(v @ Value::Bytes(_)) = row.get_mut(i)
                && matches!(v, Value::Bytes(b) if b.eq_ignore_ascii_case(physical.as_bytes()))
            {
                *v = Value::Bytes(logical.as_bytes().to_vec());
            }
        }
        for &i in &create_cols {
            if let Some(Value::Bytes(b)) = row.get_mut(i)
                && b.starts_with(quoted.as_bytes())
            {
                let mut text =
                    format!("CREATE TABLE `{}`", logical.replace('`', "``")).into_bytes();
                text.extend_from_slice(&b[quoted.len()..]);
                *b = text;
            }
        }
    }
    Outcome::Rows(set)
}

/// A session reference's value: the SQL that stands for it inside a statement, and the value
/// and column definition (as MariaDB describes that function or variable) when the proxy
/// answers it alone. `None` for a reference that is not a value (a renamed variable).
pub(super) fn session_answer(
    st: &SessionState,
    r: &SessionRef,
    label: &str,
) -> Option<(String, Value, ColumnDef)> {
    use ColumnType::*;
    let uint = |n: u64| (format!("CAST({n} AS UNSIGNED)"), Value::UInt(n));
    let int = |n: i64| (n.to_string(), Value::Int(n));
    let text = |t: &str| (quote(t), Value::Bytes(t.as_bytes().to_vec()));
    let mb = st.max_char_len();
    // (type, charset, length, flags, decimals), as MariaDB 10.11 sends them.
    let num = |len: u32, flags: u16| (MYSQL_TYPE_LONGLONG, 63u16, len, flags, 0u8);
    let string =
        |chars: u32, flags: u16| (MYSQL_TYPE_VAR_STRING, st.collation, chars * mb, flags, 39u8);
    let ((sql, value), (col_type, charset, length, flags, decimals)) = match r {
        SessionRef::Func(f) => match f {
            SessionFn::Version => (text(SERVER_VERSION), string(30, 1)),
            SessionFn::ConnectionId => (
                uint(u64::from(st.conn_id)),
                (MYSQL_TYPE_LONG, 63, 10, 161, 0),
            ),
            SessionFn::Database => (
                match &st.schema {
                    Some(s) => text(s),
                    None => ("NULL".into(), Value::NULL),
                },
                string(64, 0),
            ),
            SessionFn::User => (text(&format!("{}@{}", st.user, st.host)), string(384, 0)),
            SessionFn::CurrentUser => (text(&format!("{}@%", st.user)), string(384, 0)),
            SessionFn::LastInsertId => (uint(st.last_insert_id), num(21, 161)),
            SessionFn::RowCount => (int(st.row_count), num(21, 129)),
            SessionFn::FoundRows => (
                int(i64::try_from(st.found_rows_count).unwrap_or(i64::MAX)),
                num(21, 129),
            ),
        },
        SessionRef::SysVar(name) => match name.as_str() {
            "version" => (text(SERVER_VERSION), string(30, 0)),
            // The proxy, not a pooled backend connection, knows the session's state.
            "autocommit" => (int(i64::from(st.autocommit)), num(1, 128)),
            "in_transaction" => (uint(u64::from(st.txn.is_open())), num(21, 160)),
            "warning_count" => (uint(st.warnings.len() as u64), num(21, 160)),
            "error_count" => (
                uint(st.warnings.iter().filter(|w| is_error(w)).count() as u64),
                num(21, 160),
            ),
            "last_insert_id" | "identity" => (uint(st.last_insert_id), num(21, 160)),
            "shardgate_txn_mode" => (text(st.txn_mode.name()), string(11, 0)),
            "shardgate_read_from" => (text(st.read_from.name()), string(7, 0)),
            "shardgate_causal" => (text(st.causal.name()), string(7, 0)),
            _ => return None,
        },
        SessionRef::UserVar(name) => {
            let v = st.user_vars.get(name).unwrap_or(&UserValue::Null);
            let meta = match v {
                UserValue::Int(_) => (MYSQL_TYPE_LONGLONG, 63, 20, 128, 0),
                UserValue::UInt(_) => (MYSQL_TYPE_LONGLONG, 63, 20, 160, 0),
                UserValue::Decimal(_) => (MYSQL_TYPE_NEWDECIMAL, 63, 83, 128, 38),
                UserValue::Real(_) => (MYSQL_TYPE_DOUBLE, 63, 23, 128, 31),
                UserValue::Str(_) => (MYSQL_TYPE_LONG_BLOB, st.collation, 16_777_215 * mb, 0, 39),
                UserValue::Binary(_) | UserValue::Null => {
                    (MYSQL_TYPE_LONG_BLOB, 63, 16_777_215, 128, 39)
                }
            };
            // A variable never set is one byte longer than one set to NULL, on MariaDB.
            let meta = match st.user_vars.get(name) {
                None => (MYSQL_TYPE_LONG_BLOB, 63, 16_777_216, 128, 39),
                Some(_) => meta,
            };
            let value = match v.param() {
                Value::Bytes(b) if matches!(v, UserValue::Decimal(_)) => Value::Bytes(b),
                other => other,
            };
            ((v.sql(), value), meta)
        }
        SessionRef::Renamed(..) => return None,
    };
    let mut col = ColumnDef::synthetic(label, col_type);
    col.charset = charset;
    col.length = length;
    col.flags = flags;
    col.decimals = decimals;
    Some((sql, value, col))
}

fn is_error(w: &[Value]) -> bool {
    matches!(w.first(), Some(Value::Bytes(b)) if b == b"Error")
}

/// The statement `sql` (with `params` bound to its placeholders) with every session reference
/// replaced by the session's value, or by the backend's name for a MySQL variable name, printed
/// for the backends. `DATABASE()` stays: the backend connection uses the session's schema.
pub(super) fn with_session_values(
    sh: &Shared,
    st: &SessionState,
    sql: &str,
    params: &[Value],
) -> Result<String> {
    let mut stmt = match crate::sql::analyze::analyze(sql) {
        Ok(a) => a.stmt,
        Err(_) => return Err(ProxyError::Syntax(format!("near '{sql}'"))),
    };
    crate::rewrite::inline_params(&mut stmt, params);
    substitute(&mut stmt, sql, &|r, place| match r {
        SessionRef::Renamed(name, _) => {
            let backend = super::vars::backend_name(sh, name);
            Some(Expr::Identifier(Ident::new(format!("@@{backend}"))))
        }
        SessionRef::Func(SessionFn::Database) => None,
        other => Some(
            match (place, typed_sql(st, other), session_answer(st, other, "")) {
                (Place::SelectList, Some(typed), _) => raw_sql(&typed),
                (_, _, Some((sql, _, _))) => raw_sql(&sql),
                _ => raw_sql("NULL"),
            },
        ),
    });
    Ok(stmt.to_string())
}

/// An expression that MariaDB types as it types the reference `r` (same column type, length
/// and flags), with the session's value: in a SELECT list item such as `LAST_INSERT_ID() + 1`
/// the client then sees the column definition the server would give it. `None` where a literal
/// already has the right type, or no such expression is known (decimal, double and string user
/// variables: their values are right, their column lengths those of the literal).
fn typed_sql(st: &SessionState, r: &SessionRef) -> Option<String> {
    if let SessionRef::UserVar(name) = r {
        return Some(match st.user_vars.get(name) {
            // An integer: LONGLONG, nullable, length 20.
            Some(UserValue::Int(n)) => format!("IF(0,NULL,IF(0,-9223372036854775808,{n}))"),
            // Others keep the literal's type, made nullable as a variable is.
            Some(v) => format!("IF(0,NULL,{})", v.sql()),
            None => "NULL".to_string(),
        });
    }
    let v = match session_answer(st, r, "")?.1 {
        Value::Int(n) => n.to_string(),
        Value::UInt(n) => n.to_string(),
        _ => return None,
    };
    match r {
        // LONGLONG UNSIGNED NOT NULL, length 21: a bitwise OR is typed so.
        SessionRef::Func(SessionFn::LastInsertId) => Some(format!("({}|0)", v)),
        // LONGLONG NOT NULL, length 21 (inside a larger expression its length may be one more
        // than MariaDB's: `ROW_COUNT()+0` is 23 long, not 22).
        SessionRef::Func(SessionFn::RowCount | SessionFn::FoundRows) => {
            Some(format!("CAST(({}|0) AS SIGNED)", v))
        }
        SessionRef::SysVar(name) => match name.as_str() {
            // A boolean variable: nullable, length 1.
            "autocommit" => Some(format!("IF(0,NULL,{v})")),
            // LONGLONG UNSIGNED, nullable, length 21.
            "in_transaction" | "warning_count" | "error_count" | "last_insert_id" | "identity" => {
                Some(format!("IF(0,NULL,({v}|0))"))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The column definitions the proxy knows for the SELECT list items of `a` that are exactly one
/// session reference (`SELECT @v, x FROM t`): the backend typed the literal put in their place,
/// the client must see what MariaDB gives for the reference itself.
pub(super) fn select_list_columns(st: &SessionState, a: &Analysis) -> Vec<(usize, ColumnDef)> {
    let Some(refs) = crate::rewrite::session::select_list_refs(&a.stmt) else {
        return Vec::new();
    };
    refs.iter()
        .filter_map(|(i, r)| Some((*i, session_answer(st, r, "")?.2)))
        .collect()
}

/// `out` with the type, length, flags and character set of the columns in `fixes` replaced
/// (names stay as the backend sent them).
pub(super) fn patch_columns(out: Outcome, fixes: &[(usize, ColumnDef)]) -> Outcome {
    let patch = |cols: &mut Arc<Vec<ColumnDef>>| {
        let cols = Arc::make_mut(cols);
        for (i, def) in fixes {
            if let Some(c) = cols.get_mut(*i) {
                c.col_type = def.col_type;
                c.charset = def.charset;
                c.length = def.length;
                c.flags = def.flags;
                c.decimals = def.decimals;
            }
        }
    };
    match out {
        _ if fixes.is_empty() => out,
        Outcome::Rows(mut r) => {
            patch(&mut r.columns);
            Outcome::Rows(r)
        }
        Outcome::Stream(mut s) => {
            patch(&mut s.columns);
            Outcome::Stream(s)
        }
        other => other,
    }
}

/// `SET @a = <value>, ...` for the user variables a statement the parser refused mentions:
/// run on its connection first, so that the server reads the session's values.
pub(super) fn user_var_prelude(
    st: &SessionState,
    vars: &[(std::ops::Range<usize>, String)],
) -> String {
    let mut names: Vec<&String> = vars.iter().map(|(_, n)| n).collect();
    names.sort();
    names.dedup();
    let items: Vec<String> = names
        .iter()
        .map(|n| {
            let v = st.user_vars.get(*n).unwrap_or(&UserValue::Null);
            format!("@`{}` = {}", n.replace('`', "``"), v.sql())
        })
        .collect();
    format!("SET {}", items.join(", "))
}

/// Answers a SELECT without tables whose every item is a session reference (`SELECT
/// LAST_INSERT_ID()`, `SELECT @a, @b`): no backend needs to be asked.
pub(super) fn local_select(st: &SessionState, a: &Analysis) -> Option<Outcome> {
    use sqlparser::ast::{SelectItem, SetExpr, Statement};
    if a.kind != Kind::Select || !a.tables.is_empty() {
        return None;
    }
    let Statement::Query(q) = &a.stmt else {
        return None;
    };
    if q.order_by.is_some() || q.limit_clause.is_some() || !q.locks.is_empty() {
        return None;
    }
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    if s.selection.is_some() || s.having.is_some() || s.distinct.is_some() || s.into.is_some() {
        return None;
    }
    let mut columns = Vec::new();
    let mut row = Vec::new();
    for item in &s.projection {
        let (expr, label) = match item {
            SelectItem::UnnamedExpr(e) => (e, e.to_string()),
            SelectItem::ExprWithAlias { expr, alias } => (expr, alias.value.clone()),
            _ => return None,
        };
        let (_, value, col) = session_answer(st, &session_ref(expr)?, &label)?;
        columns.push(col);
        row.push(value);
    }
    Some(Outcome::Rows(RowSet {
        columns: Arc::new(columns),
        rows: vec![row],
        warnings: 0,
        warning_list: Vec::new(),
    }))
}

/// `SELECT ... INTO @a, @b`: the row is read like any SELECT (routed, merged), then stored in
/// the session's user variables, as MySQL does: an error for more than one row, a warning and
/// unchanged variables for none.
pub(super) async fn select_into(
    sh: &Shared,
    st: &mut SessionState,
    a: &Analysis,
    params: &[Value],
) -> Result<Outcome> {
    use sqlparser::ast::{SetExpr, Statement};
    let mut stmt = a.stmt.clone();
    crate::rewrite::inline_params(&mut stmt, params);
    if let Statement::Query(q) = &mut stmt
        && let SetExpr::Select(s) = q.body.as_mut()
    {
        s.into = None;
    }
    let text = stmt.to_string();
    let set = match super::run_sql_boxed(sh, st, &text, None).await? {
        Outcome::Rows(r) => r,
        Outcome::Stream(s) => super::vars::collect_stream(st, s).await?,
        Outcome::Ok(_) | Outcome::Multi(_) => {
            return Err(ProxyError::Syntax("SELECT ... INTO without rows".into()));
        }
    };
    if set.columns.len() != a.into_vars.len() {
        return Err(ProxyError::Sql {
            code: 1222,
            state: "21000",
            message: "The used SELECT statements have a different number of columns".into(),
        });
    }
    match set.rows.as_slice() {
        [] => {
            let w = vec![
                Value::Bytes(b"Warning".to_vec()),
                Value::UInt(1329),
                Value::Bytes(b"No data - zero rows fetched, selected, or processed".to_vec()),
            ];
            Ok(Outcome::Ok(OkInfo {
                warnings: 1,
                warning_list: vec![w],
                ..Default::default()
            }))
        }
        [row, more @ ..] => {
            // MySQL stores the first row before it finds a second one.
            for ((name, v), col) in a.into_vars.iter().zip(row).zip(set.columns.iter()) {
                st.user_vars
                    .insert(name.clone(), UserValue::from_result(v, col));
            }
            if !more.is_empty() {
                return Err(ProxyError::Sql {
                    code: 1172,
                    state: "42000",
                    message: "Result consisted of more than one row".into(),
                });
            }
            Ok(Outcome::Ok(OkInfo {
                affected: 1,
                ..Default::default()
            }))
        }
    }
}
