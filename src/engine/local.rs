//! What the proxy answers itself, for the session rather than a backend: SET (remembered and
//! replayed on backend connections), USE, SHOW DATABASES/TABLES/WARNINGS, and the functions and
//! variables that must reflect the session (`USER()`, `LAST_INSERT_ID()`, `@@autocommit`, ...).

use super::{SERVER_VERSION, SessionState, Shared, fallback, run_targets};
use crate::backend::sequence::SEQUENCE_TABLE;
use crate::config::Rules;
use crate::error::{ProxyError, Result};
use crate::execute::{OkInfo, Outcome, RowSet};
use crate::frontend::packets::ColumnDef;
use crate::plan::{Merge, Plan, Target};
use crate::sql::analyze::{Analysis, Kind};
use crate::sql::lexer::SetItem;
use mysql_async::Value;
use mysql_async::consts::ColumnType;
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

pub(super) fn show_warnings(st: &SessionState, count: bool) -> Outcome {
    if count {
        let mut col =
            ColumnDef::synthetic("@@session.warning_count", ColumnType::MYSQL_TYPE_LONGLONG);
        col.flags = 0x20 | 0x01;
        return Outcome::Rows(RowSet {
            columns: Arc::new(vec![col]),
            rows: vec![vec![Value::UInt(st.warnings.len() as u64)]],
            ..Default::default()
        });
    }
    let mut code = ColumnDef::synthetic("Code", ColumnType::MYSQL_TYPE_LONG);
    code.flags = 0x20 | 0x01;
    code.length = 4;
    let columns = vec![
        ColumnDef::synthetic("Level", ColumnType::MYSQL_TYPE_VAR_STRING),
        code,
        ColumnDef::synthetic("Message", ColumnType::MYSQL_TYPE_VAR_STRING),
    ];
    Outcome::Rows(RowSet {
        columns: Arc::new(columns),
        rows: st.warnings.clone(),
        ..Default::default()
    })
}

pub(super) async fn set(
    sh: &Shared,
    st: &mut SessionState,
    sql: &str,
    items: Vec<SetItem>,
) -> Result<Outcome> {
    let mut names: Vec<String> = Vec::new();
    for item in items {
        match item {
            SetItem::Autocommit(true) => {
                if st.txn.is_open() {
                    st.txn.commit(&sh.backends).await?;
                }
                st.autocommit = true;
            }
            SetItem::Autocommit(false) => st.autocommit = false,
            SetItem::Names(_) => names.push("names".into()),
            SetItem::Global(_) => {
                return Err(ProxyError::NotSupported(
                    "SET GLOBAL through the proxy (set it on each server)".into(),
                ));
            }
            SetItem::UserVar(v) => {
                return Err(ProxyError::NotSupported(format!(
                    "user variables (@{v}): they would not follow the session across backend connections"
                )));
            }
            SetItem::Session(name, _) => names.push(name),
        }
    }
    if names.is_empty() {
        return Ok(ok());
    }
    // Remember the statement (replacing an earlier one that set the same variables), then check
    // that a backend accepts it: the session's next connection runs every remembered SET.
    names.sort();
    let before = (st.vars.clone(), st.setup.clone());
    st.vars.retain(|(n, _)| *n != names);
    st.vars.push((names, sql.to_string()));
    st.setup = st
        .vars
        .iter()
        .map(|(_, s)| s.clone())
        .collect::<Vec<_>>()
        .into();
    let shard = fallback(sh, st);
    let check = sh
        .backends
        .conn_with(shard, st.schema.as_deref(), st.found_rows, &st.setup)
        .await;
    if let Err(e) = check {
        (st.vars, st.setup) = before;
        return Err(e);
    }
    if st.txn.is_open() {
        st.txn.each(&sh.backends, sql).await?;
    }
    Ok(ok())
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

/// Checks that `db` is a logical schema that `user` may use.
pub fn check_schema(rules: &Rules, user: &str, db: &str) -> Result<()> {
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
    _full: bool,
    schema: Option<String>,
    _like: Option<String>,
) -> Result<Outcome> {
    let name = schema
        .or_else(|| st.schema.clone())
        .ok_or(ProxyError::NoDatabase)?;
    check_schema(&sh.rules, &st.user, &name)?;
    let Some(schema) = sh.rules.schema(&name) else {
        return Err(ProxyError::UnknownDatabase(name));
    };
    let plan = Plan {
        targets: (0..sh.rules.shards.len())
            .map(|shard| Target { shard, sql: None })
            .collect(),
        merge: Merge::Pass,
        write: false,
    };
    let outcomes = run_targets(sh, st, &plan, sql, None).await?;
    // Logical tables: what the default shard holds, plus every table of the rules found anywhere.
    let mut columns = None;
    let mut rows: Vec<Vec<Value>> = Vec::new();
    for (shard, o) in plan.targets.iter().map(|t| t.shard).zip(outcomes) {
        let Outcome::Rows(set) = o else { continue };
        if shard == schema.default_shard || columns.is_none() {
            columns = Some(set.columns.clone());
        }
        for row in set.rows {
            let Some(Value::Bytes(n)) = row.first() else {
                continue;
            };
            let tname = String::from_utf8_lossy(n).into_owned();
            if tname.eq_ignore_ascii_case(SEQUENCE_TABLE) {
                continue;
            }
            let logical = shard == schema.default_shard || schema.table(&tname).is_some();
            let dup = rows.iter().any(|r| r.first() == row.first());
            if logical && !dup {
                rows.push(row);
            }
        }
    }
    rows.sort_by(|a, b| format!("{:?}", a.first()).cmp(&format!("{:?}", b.first())));
    Ok(Outcome::Rows(RowSet {
        columns: columns.unwrap_or_default(),
        rows,
        warnings: 0,
        warning_list: Vec::new(),
    }))
}

/// Answers the few functions that must reflect the proxy rather than a backend.
pub(super) fn local_select(st: &SessionState, a: &Analysis) -> Option<Outcome> {
    use sqlparser::ast::{Expr, SelectItem, SetExpr, Statement};
    if a.kind != Kind::Select || !a.tables.is_empty() {
        return None;
    }
    let Statement::Query(q) = &a.stmt else {
        return None;
    };
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    let [item] = s.projection.as_slice() else {
        return None;
    };
    let (expr, label) = match item {
        SelectItem::UnnamedExpr(e) => (e, e.to_string()),
        SelectItem::ExprWithAlias { expr, alias } => (expr, alias.value.clone()),
        _ => return None,
    };
    let text = |s: String| Value::Bytes(s.into_bytes());
    let value = match expr {
        Expr::Function(f) => match f.name.to_string().to_ascii_uppercase().as_str() {
            "LAST_INSERT_ID" if f.args.to_string() == "()" => Value::UInt(st.last_insert_id),
            "CONNECTION_ID" => Value::UInt(u64::from(st.conn_id)),
            "VERSION" => text(SERVER_VERSION.to_string()),
            // The backends' own account must not show through.
            "USER" | "SESSION_USER" | "SYSTEM_USER" => text(format!("{}@{}", st.user, st.host)),
            "CURRENT_USER" => text(format!("{}@%", st.user)),
            _ => return None,
        },
        other => match session_variable(other)?.as_str() {
            "version" => text(SERVER_VERSION.to_string()),
            // The proxy, not a pooled backend connection, knows the session's transaction state.
            "autocommit" => Value::Int(i64::from(st.autocommit)),
            "in_transaction" => Value::Int(i64::from(st.txn.is_open())),
            "warning_count" => Value::UInt(st.warnings.len() as u64),
            _ => return None,
        },
    };
    let col_type = if matches!(value, Value::UInt(_) | Value::Int(_)) {
        ColumnType::MYSQL_TYPE_LONGLONG
    } else {
        ColumnType::MYSQL_TYPE_VAR_STRING
    };
    let mut col = ColumnDef::synthetic(&label, col_type);
    if matches!(value, Value::UInt(_)) {
        col.flags = 0x20 | 0x01; // UNSIGNED, NOT NULL
    } else if matches!(value, Value::Int(_)) {
        col.flags = 0x01; // NOT NULL
    }
    Some(Outcome::Rows(RowSet {
        columns: Arc::new(vec![col]),
        rows: vec![vec![value]],
        warnings: 0,
        warning_list: Vec::new(),
    }))
}

/// The lower-case name of a session system variable reference (`@@x`, `@@session.x`).
fn session_variable(e: &sqlparser::ast::Expr) -> Option<String> {
    use sqlparser::ast::Expr;
    let name = match e {
        Expr::Identifier(i) => i.value.strip_prefix("@@")?.to_string(),
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [scope, name]
                if matches!(
                    scope.value.to_ascii_lowercase().as_str(),
                    "@@session" | "@@local"
                ) =>
            {
                name.value.clone()
            }
            _ => return None,
        },
        _ => return None,
    };
    Some(name.to_ascii_lowercase())
}
