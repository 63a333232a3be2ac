//! What a statement asks of the session rather than of the data: functions and variables whose
//! value the proxy owns (`VERSION()`, `CONNECTION_ID()`, `LAST_INSERT_ID()`, `@@autocommit`, ...),
//! user variables (`@v`), and MySQL variable names a MariaDB backend spells differently. Wherever
//! such a reference stands in a statement, the engine replaces it with the session's value (see
//! `rewrite::session`), so `SELECT VERSION()` and `SELECT VERSION(), 1` agree.

use sqlparser::ast::{Expr, FunctionArguments};

/// A function the proxy answers for the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionFn {
    Version,
    ConnectionId,
    /// `DATABASE()` / `SCHEMA()`.
    Database,
    /// `USER()`, `SESSION_USER()`, `SYSTEM_USER()`: the client's account and address.
    User,
    /// `CURRENT_USER()` / `CURRENT_USER`: the account the proxy authenticated.
    CurrentUser,
    /// `LAST_INSERT_ID()` without an argument.
    LastInsertId,
    RowCount,
    FoundRows,
}

/// A reference to session state inside an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionRef {
    Func(SessionFn),
    /// `@@name` / `@@session.name` / `@@local.name` of a variable the proxy owns (lower-cased).
    SysVar(String),
    /// A MySQL variable name the backend knows by another name: (as written, backend name).
    Renamed(String, &'static str),
    /// `@name` (lower-cased: user variables are case-insensitive).
    UserVar(String),
}

impl SessionRef {
    /// Whether a statement that mentions this reference must get the session's value in its
    /// place before a backend runs it. `DATABASE()` need not: backend connections use the
    /// session's schema (the proxy still answers `SELECT DATABASE()` alone).
    pub fn needs_value(&self) -> bool {
        !matches!(self, SessionRef::Func(SessionFn::Database))
    }
}

/// Session system variables the proxy answers: the backend connection that would otherwise
/// answer is a pooled one, not the session's.
pub const OWNED_VARS: &[&str] = &[
    "version",
    "autocommit",
    "in_transaction",
    "warning_count",
    "error_count",
    "last_insert_id",
    "identity",
    // shardgate's own: how the session's multi-shard transactions commit.
    "shardgate_txn_mode",
    // where the session's reads go, and what they must have seen.
    "shardgate_read_from",
    "shardgate_causal",
];

/// MySQL's names for variables MariaDB 10.x calls otherwise (MySQL 5.7.20 introduced the
/// `transaction_*` names; clients told `5.7.99` use them).
const MYSQL_NAMES: &[(&str, &str)] = &[
    ("transaction_isolation", "tx_isolation"),
    ("transaction_read_only", "tx_read_only"),
];

/// The MariaDB name of a variable that a MySQL client names `name` (lower-case), when the two
/// differ.
pub fn mariadb_name(name: &str) -> Option<&'static str> {
    MYSQL_NAMES
        .iter()
        .find(|(mysql, _)| *mysql == name)
        .map(|(_, maria)| *maria)
}

/// The session system variable named by `@@x`, `@@session.x` or `@@local.x`, lower-cased.
pub fn session_var(e: &Expr) -> Option<String> {
    let name = match e {
        Expr::Identifier(i) if i.quote_style.is_none() => i.value.strip_prefix("@@")?.to_string(),
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
    if name.contains('.') || name.starts_with('@') {
        return None;
    }
    Some(name.to_ascii_lowercase())
}

/// What `e` asks of the session, if anything.
pub fn session_ref(e: &Expr) -> Option<SessionRef> {
    match e {
        Expr::Function(f) => {
            let [part] = f.name.0.as_slice() else {
                return None;
            };
            let no_args = match &f.args {
                FunctionArguments::None => true,
                FunctionArguments::List(l) => l.args.is_empty(),
                FunctionArguments::Subquery(_) => false,
            };
            if !no_args || f.over.is_some() {
                return None;
            }
            let name = part.as_ident()?.value.to_ascii_uppercase();
            let func = match name.as_str() {
                "VERSION" => SessionFn::Version,
                "CONNECTION_ID" => SessionFn::ConnectionId,
                "DATABASE" | "SCHEMA" => SessionFn::Database,
                "USER" | "SESSION_USER" | "SYSTEM_USER" => SessionFn::User,
                "CURRENT_USER" => SessionFn::CurrentUser,
                "LAST_INSERT_ID" => SessionFn::LastInsertId,
                "ROW_COUNT" => SessionFn::RowCount,
                "FOUND_ROWS" => SessionFn::FoundRows,
                _ => return None,
            };
            Some(SessionRef::Func(func))
        }
        Expr::Identifier(i) if i.quote_style.is_none() => {
            if i.value.eq_ignore_ascii_case("CURRENT_USER") {
                return Some(SessionRef::Func(SessionFn::CurrentUser));
            }
            if let Some(var) = i.value.strip_prefix('@')
                && !var.starts_with('@')
            {
                return Some(SessionRef::UserVar(var.to_ascii_lowercase()));
            }
            sys_var(e)
        }
        Expr::CompoundIdentifier(_) => sys_var(e),
        _ => None,
    }
}

fn sys_var(e: &Expr) -> Option<SessionRef> {
    let name = session_var(e)?;
    if OWNED_VARS.contains(&name.as_str()) {
        return Some(SessionRef::SysVar(name));
    }
    let backend = mariadb_name(&name)?;
    Some(SessionRef::Renamed(name, backend))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::analyze::parse;
    use sqlparser::ast::{SelectItem, SetExpr, Statement};

    fn refs(sql: &str) -> Vec<Option<SessionRef>> {
        let stmt = parse(sql).unwrap().remove(0);
        let Statement::Query(q) = stmt else { panic!() };
        let SetExpr::Select(s) = *q.body else {
            panic!()
        };
        s.projection
            .iter()
            .map(|p| match p {
                SelectItem::UnnamedExpr(e) => session_ref(e),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn finds_session_references() {
        use SessionFn::*;
        assert_eq!(
            refs(
                "SELECT version(), CONNECTION_ID(), schema(), CURRENT_USER, LAST_INSERT_ID(), LAST_INSERT_ID(5), ROW_COUNT()"
            ),
            vec![
                Some(SessionRef::Func(Version)),
                Some(SessionRef::Func(ConnectionId)),
                Some(SessionRef::Func(Database)),
                Some(SessionRef::Func(CurrentUser)),
                Some(SessionRef::Func(LastInsertId)),
                None,
                Some(SessionRef::Func(RowCount)),
            ]
        );
        assert_eq!(
            refs(
                "SELECT @V, @@version, @@SESSION.autocommit, @@global.autocommit, @@transaction_isolation, @@sql_mode, `@x`"
            ),
            vec![
                Some(SessionRef::UserVar("v".into())),
                Some(SessionRef::SysVar("version".into())),
                Some(SessionRef::SysVar("autocommit".into())),
                None,
                Some(SessionRef::Renamed(
                    "transaction_isolation".into(),
                    "tx_isolation"
                )),
                None,
                None,
            ]
        );
    }
}
