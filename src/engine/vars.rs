//! Session variables, carried as values rather than as statements: SET of system variables
//! (validated and evaluated by a backend, then kept as the value each variable ended up with),
//! user variables (kept by the proxy with their type and substituted into the statements that
//! read them), transaction characteristics, and the client's character set.
//!
//! Why values: a new backend connection must start in the session's state. Replaying the SET
//! statements themselves would re-run their side effects and keep stale settings (a later
//! `SET sql_mode=...` did not replace an earlier `SET sql_mode=..., x=...`). The session's
//! system variables become one `SET SESSION a=..., b=...` that pools replay on each new
//! connection (see [`crate::backend::Setup`]), and user variables never reach a pool at all.

use super::{SessionState, Shared, fallback, run_sql_boxed};
use crate::error::{ProxyError, Result};
use crate::execute::{self, OkInfo, Outcome, RowSet};
use crate::rewrite::quote;
use crate::sql::command::{SetItem, TxChars};
use crate::sql::session::mariadb_name;
use mysql_async::Value;
use mysql_async::consts::ColumnType;

/// A user variable's value, with the type MySQL gives it.
#[derive(Clone, Debug, PartialEq)]
pub enum UserValue {
    Null,
    Int(i64),
    UInt(u64),
    /// DECIMAL, as its exact text.
    Decimal(String),
    Real(f64),
    /// A string in the connection's character set.
    Str(Vec<u8>),
    /// A binary string.
    Binary(Vec<u8>),
}

impl UserValue {
    /// The value as SQL text that gives back the same value and type.
    pub fn sql(&self) -> String {
        match self {
            UserValue::Null => "NULL".into(),
            UserValue::Int(i) => i.to_string(),
            UserValue::UInt(u) => u.to_string(),
            UserValue::Decimal(d) => d.clone(),
            UserValue::Real(f) => format!("{f:e}"),
            UserValue::Str(b) => quote(&crate::sql::text::decode(b)),
            UserValue::Binary(b) => format!("_binary{}", quote(&crate::sql::text::decode(b))),
        }
    }

    /// The value as a bound parameter (`EXECUTE ... USING @v`).
    pub fn param(&self) -> Value {
        match self {
            UserValue::Null => Value::NULL,
            UserValue::Int(i) => Value::Int(*i),
            UserValue::UInt(u) => Value::UInt(*u),
            UserValue::Decimal(d) => Value::Bytes(d.clone().into_bytes()),
            UserValue::Real(f) => Value::Double(*f),
            UserValue::Str(b) | UserValue::Binary(b) => Value::Bytes(b.clone()),
        }
    }

    /// The bytes of a string value (`PREPARE s FROM @sql`).
    pub fn text(&self) -> Option<Vec<u8>> {
        match self {
            UserValue::Null => None,
            UserValue::Str(b) | UserValue::Binary(b) => Some(b.clone()),
            other => Some(other.sql().into_bytes()),
        }
    }

    /// A value read from a result column of type `col`.
    pub fn from_result(v: &Value, col: &crate::frontend::packets::ColumnDef) -> UserValue {
        use ColumnType::*;
        let text = match v {
            Value::NULL => return UserValue::Null,
            Value::Int(i) => return UserValue::Int(*i),
            Value::UInt(u) => return UserValue::UInt(*u),
            Value::Double(d) => return UserValue::Real(*d),
            Value::Float(f) => return UserValue::Real(f64::from(*f)),
            Value::Bytes(b) => b.clone(),
            other => other.as_sql(true).trim_matches('\'').as_bytes().to_vec(),
        };
        let s = String::from_utf8_lossy(&text);
        let unsigned = col.flags & 0x20 != 0;
        match col.col_type {
            MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_LONG | MYSQL_TYPE_INT24
            | MYSQL_TYPE_LONGLONG | MYSQL_TYPE_YEAR => {
                if unsigned && let Ok(u) = s.parse() {
                    return UserValue::UInt(u);
                }
                s.parse()
                    .map(UserValue::Int)
                    .unwrap_or(UserValue::Str(text))
            }
            MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => UserValue::Decimal(s.into_owned()),
            MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => s
                .parse()
                .map(UserValue::Real)
                .unwrap_or(UserValue::Str(text)),
            MYSQL_TYPE_NULL => UserValue::Null,
            _ if col.charset == 63 && !is_temporal(col.col_type) => UserValue::Binary(text),
            _ => UserValue::Str(text),
        }
    }
}

fn is_temporal(t: ColumnType) -> bool {
    use ColumnType::*;
    matches!(
        t,
        MYSQL_TYPE_DATE
            | MYSQL_TYPE_DATETIME
            | MYSQL_TYPE_DATETIME2
            | MYSQL_TYPE_TIMESTAMP
            | MYSQL_TYPE_TIMESTAMP2
            | MYSQL_TYPE_TIME
            | MYSQL_TYPE_TIME2
            | MYSQL_TYPE_NEWDATE
    )
}

/// The literal a plain value text stands for without asking a server: an integer, a simple
/// quoted string or NULL. Anything else is evaluated by a backend.
fn plain_literal(text: &str) -> Option<UserValue> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("NULL") {
        return Some(UserValue::Null);
    }
    if let Ok(i) = t.parse::<i64>()
        && !t.starts_with('+')
    {
        return Some(UserValue::Int(i));
    }
    let body = t.strip_prefix('\'')?.strip_suffix('\'')?;
    if body.contains('\'') || body.contains('\\') {
        return None;
    }
    Some(UserValue::Str(crate::sql::text::encode(body).into_owned()))
}

/// Evaluates `expr` (SQL text) for the session: `SELECT expr` through the engine, so session
/// references, user variables and tables in a subquery are handled as in any statement.
pub(super) async fn evaluate(sh: &Shared, st: &mut SessionState, expr: &str) -> Result<UserValue> {
    if let Some(v) = plain_literal(expr) {
        return Ok(v);
    }
    if let Some(name) = expr.trim().strip_prefix('@')
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
    {
        let name = name.to_ascii_lowercase();
        return Ok(st.user_vars.get(&name).cloned().unwrap_or(UserValue::Null));
    }
    let sql = format!("SELECT {expr}");
    let set = match run_sql_boxed(sh, st, &sql, None).await? {
        Outcome::Rows(r) => r,
        Outcome::Stream(s) => collect_stream(st, s).await?,
        Outcome::Ok(_) | Outcome::Multi(_) => {
            return Err(ProxyError::Transaction(
                "evaluating a variable's value gave no row".into(),
            ));
        }
    };
    let (Some(row), Some(col)) = (set.rows.first(), set.columns.first()) else {
        return Ok(UserValue::Null);
    };
    Ok(UserValue::from_result(
        row.first().unwrap_or(&Value::NULL),
        col,
    ))
}

/// Reads a streamed result whole (a small one: a variable's value).
pub(super) async fn collect_stream(
    st: &mut SessionState,
    mut s: execute::RowStream,
) -> Result<RowSet> {
    let mut rows = Vec::new();
    let mut failed = None;
    while let Some(item) = s.next().await {
        match item {
            Ok(r) => rows.push(r),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    let columns = s.columns.clone();
    let (conns, end) = s.finish().await;
    super::finish_stream(st, conns, &end, rows.len() as u64);
    if let Some(e) = failed {
        return Err(e);
    }
    end?;
    Ok(RowSet {
        columns,
        rows,
        ..Default::default()
    })
}

/// Runs a SET statement's items for the session.
pub(super) async fn set(
    sh: &Shared,
    st: &mut SessionState,
    items: Vec<SetItem>,
) -> Result<Outcome> {
    let mut backend_items: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut defaults: Vec<String> = Vec::new();
    for item in items {
        match item {
            SetItem::Autocommit(on) => {
                if on && st.txn.is_open() {
                    st.txn.commit(&sh.backends).await?;
                }
                st.autocommit = on;
            }
            SetItem::Global(_) => {
                // The gate (`engine::admin`) answers SET GLOBAL first (refused, or an admin's
                // on every shard); a global item it did not see (after session items) ends here.
                return Err(ProxyError::Privilege("SUPER".into()));
            }
            SetItem::UserVar { name, value } => {
                let v = evaluate(sh, st, &value).await?;
                st.user_vars.insert(name, v);
            }
            SetItem::Names(text) => {
                backend_items.push(text);
                names.extend(
                    [
                        "character_set_client",
                        "character_set_connection",
                        "character_set_results",
                        "collation_connection",
                    ]
                    .map(String::from),
                );
            }
            SetItem::Session { name, value } if name.eq_ignore_ascii_case("shardgate_txn_mode") => {
                st.txn_mode = if value.trim().eq_ignore_ascii_case("DEFAULT") {
                    sh.rules.proxy.txn_mode
                } else {
                    let v = evaluate(sh, st, &value).await?;
                    let text = String::from_utf8_lossy(&v.text().unwrap_or_default()).into_owned();
                    crate::config::TxnMode::parse(&text).ok_or_else(|| ProxyError::Backend {
                        code: 1231,
                        state: "42000".into(),
                        message: format!(
                            "Variable 'shardgate_txn_mode' can't be set to the value of '{text}' (one of 'xa', 'best_effort', 'single')"
                        ),
                    })?
                };
                if st.txn_mode == crate::config::TxnMode::Xa {
                    sh.ensure_xa().await;
                }
            }
            SetItem::Session { name, value }
                if name.eq_ignore_ascii_case("shardgate_read_from")
                    || name.eq_ignore_ascii_case("shardgate_causal") =>
            {
                let lower = name.to_ascii_lowercase();
                let default = value.trim().eq_ignore_ascii_case("DEFAULT");
                let text = if default {
                    String::new()
                } else {
                    let v = evaluate(sh, st, &value).await?;
                    String::from_utf8_lossy(&v.text().unwrap_or_default()).into_owned()
                };
                let bad = |one_of: &str| ProxyError::Backend {
                    code: 1231,
                    state: "42000".into(),
                    message: format!(
                        "Variable '{lower}' can't be set to the value of '{text}' (one of {one_of})"
                    ),
                };
                if lower == "shardgate_read_from" {
                    st.read_from = if default {
                        sh.rules.proxy.read_from
                    } else {
                        crate::config::ReadFrom::parse(&text)
                            .ok_or_else(|| bad("'replica', 'primary'"))?
                    };
                } else {
                    st.causal = if default {
                        sh.rules.proxy.causal
                    } else {
                        crate::config::Causal::parse(&text)
                            .ok_or_else(|| bad("'session', 'global', 'none'"))?
                    };
                }
            }
            SetItem::Session { name, value } => {
                let name = backend_name(sh, &name);
                let value = super::substitute_text(sh, st, &value)?;
                if value.trim().eq_ignore_ascii_case("DEFAULT") {
                    // A fresh connection starts at the default: forget the setting.
                    defaults.push(name.clone());
                }
                backend_items.push(format!("{name} = {value}"));
                names.push(name);
            }
        }
    }
    if backend_items.is_empty() {
        return Ok(Outcome::Ok(OkInfo::default()));
    }
    let (values, warning_list) =
        run_and_read_back(sh, st, &format!("SET {}", backend_items.join(", ")), &names).await?;
    for (name, v) in names.iter().zip(values) {
        if name == "collation_connection" {
            let id = mysql_common::collations::CollationId::from(v.trim_matches('\''));
            if id != mysql_common::collations::CollationId::UNKNOWN_COLLATION_ID {
                st.collation = id as u16;
            }
        }
        if defaults.contains(name) {
            st.sys_vars.remove(name);
        } else {
            st.sys_vars.insert(name.clone(), v);
        }
    }
    apply(sh, st, &names).await?;
    Ok(Outcome::Ok(OkInfo {
        warnings: warning_list.len().min(usize::from(u16::MAX)) as u16,
        warning_list,
        ..Default::default()
    }))
}

/// The backend's name for a session variable (MySQL's `transaction_isolation` is MariaDB's
/// `tx_isolation`).
pub(super) fn backend_name(sh: &Shared, name: &str) -> String {
    if sh.backends.is_mariadb() {
        mariadb_name(name).unwrap_or(name).to_string()
    } else {
        name.to_string()
    }
}

/// Runs `sql` (a SET) on a connection in the session's current state, then reads the resulting
/// values of `names` as SQL literals. The connection is closed afterwards: it carries the new
/// values, which its pool's other borrowers must not inherit.
async fn run_and_read_back(
    sh: &Shared,
    st: &SessionState,
    sql: &str,
    names: &[String],
) -> Result<(Vec<String>, Vec<Vec<Value>>)> {
    let shard = fallback(sh, st);
    let mut conn = sh
        .backends
        .wire_on(
            crate::backend::Server::primary(shard),
            st.schema.as_deref(),
            st.found_rows,
            &st.setup,
        )
        .await?;
    // Not back to the pool: it holds the new settings.
    conn.retire();
    let name = sh.backends.shard_name(shard).to_string();
    let step = execute::Step {
        timeout: sh.backends.timeout(),
        shard: &name,
    };
    let job = execute::Job {
        sql: sql.into(),
        params: None,
    };
    // The SET's own warnings: its OK packet counts them (SHOW WARNINGS alone could also list
    // those of an earlier statement, as a SET does not clear them).
    let warnings = match execute::run(&mut conn, &job, sh.backends.timeout(), &name).await? {
        Outcome::Ok(ok) => ok.warning_list,
        _ => Vec::new(),
    };
    let select: Vec<String> = names.iter().map(|n| format!("@@session.{n}")).collect();
    let read = execute::Job {
        sql: format!("SELECT {}", select.join(", ")).into(),
        params: None,
    };
    let (columns, row) = match execute::run(&mut conn, &read, step.timeout, &name).await? {
        Outcome::Rows(r) => (r.columns, r.rows.into_iter().next()),
        _ => (Default::default(), None),
    };
    let values = row.ok_or_else(|| {
        ProxyError::Transaction("reading session variables back gave no row".into())
    })?;
    let literals = values
        .iter()
        .zip(columns.iter())
        .map(|(v, c)| sys_literal(v, c.col_type))
        .collect();
    let _ = tokio::time::timeout(step.timeout, conn.close()).await;
    Ok((literals, warnings))
}

/// A system variable's value as the literal that sets it again.
fn sys_literal(v: &Value, t: ColumnType) -> String {
    use ColumnType::*;
    match v {
        Value::NULL => "NULL".into(),
        Value::Bytes(b) => {
            let s = crate::sql::text::decode(b);
            match t {
                MYSQL_TYPE_TINY
                | MYSQL_TYPE_SHORT
                | MYSQL_TYPE_LONG
                | MYSQL_TYPE_INT24
                | MYSQL_TYPE_LONGLONG
                | MYSQL_TYPE_DECIMAL
                | MYSQL_TYPE_NEWDECIMAL
                | MYSQL_TYPE_DOUBLE
                | MYSQL_TYPE_FLOAT => s.into_owned(),
                _ => quote(&s),
            }
        }
        other => other.as_sql(true),
    }
}

/// Rebuilds the session's setup from its variables and brings the open transaction's pinned
/// connections to the same state for `changed`.
pub(super) async fn apply(sh: &Shared, st: &mut SessionState, changed: &[String]) -> Result<()> {
    st.setup = setup_of(st);
    if st.txn.is_open() && !changed.is_empty() {
        let items: Vec<String> = changed
            .iter()
            .map(|n| match st.sys_vars.get(n) {
                Some(v) => format!("{n} = {v}"),
                None => format!("{n} = DEFAULT"),
            })
            .collect();
        st.txn
            .each(&sh.backends, &format!("SET SESSION {}", items.join(", ")))
            .await?;
    }
    Ok(())
}

/// The statement a new backend connection runs to be in the session's state.
pub(super) fn setup_of(st: &SessionState) -> crate::backend::Setup {
    if st.sys_vars.is_empty() {
        return crate::backend::Setup::from([]);
    }
    let items: Vec<String> = st
        .sys_vars
        .iter()
        .map(|(n, v)| format!("{n} = {v}"))
        .collect();
    crate::backend::Setup::from([format!("SET SESSION {}", items.join(", "))])
}

/// `SET [SESSION] TRANSACTION ...`: the session's default characteristics, or those of the next
/// transaction only.
pub(super) async fn set_transaction(
    sh: &Shared,
    st: &mut SessionState,
    session: bool,
    chars: TxChars,
) -> Result<Outcome> {
    if !session {
        if st.txn.is_open() {
            // MySQL: 1568 "Transaction characteristics can't be changed while a transaction is
            // in progress".
            return Err(ProxyError::Sql {
                code: 1568,
                state: "25001",
                message: "Transaction characteristics can't be changed while a transaction is in progress".into(),
            });
        }
        if chars.isolation.is_some() {
            st.next_txn.isolation = chars.isolation;
        }
        if chars.read_only.is_some() {
            st.next_txn.read_only = chars.read_only;
        }
        return Ok(Outcome::Ok(OkInfo::default()));
    }
    let mut items = Vec::new();
    if let Some(level) = chars.isolation {
        items.push(SetItem::Session {
            name: "tx_isolation".into(),
            value: quote(&level.replace(' ', "-")),
        });
    }
    if let Some(ro) = chars.read_only {
        items.push(SetItem::Session {
            name: "tx_read_only".into(),
            value: if ro { "1" } else { "0" }.into(),
        });
    }
    if !sh.backends.is_mariadb() {
        for item in &mut items {
            if let SetItem::Session { name, .. } = item {
                *name = name.replace("tx_", "transaction_");
            }
        }
    }
    set(sh, st, items).await
}

/// The collation a client announced in its handshake, as the SET that gives a backend
/// connection the same character set (`None`: the backends' default, utf8mb4_general_ci, or a
/// collation MariaDB does not have, which MariaDB itself also ignores).
pub fn client_charset(collation_id: u8) -> Option<(String, String)> {
    use mysql_common::collations::{Collation, CollationId};
    if collation_id == 45 || collation_id == 0 {
        return None;
    }
    let id = CollationId::from(u16::from(collation_id));
    if id == CollationId::UNKNOWN_COLLATION_ID {
        return None;
    }
    let c = Collation::resolve(id);
    if c.collation().contains("_0900_") {
        return None;
    }
    let charset = c.charset().replace("utf8mb3", "utf8");
    let collation = c.collation().replace("utf8mb3", "utf8");
    Some((charset, collation))
}

/// Session variables for a client's announced character set.
pub fn charset_vars(st: &mut SessionState, charset: &str, collation: &str) {
    for n in [
        "character_set_client",
        "character_set_connection",
        "character_set_results",
    ] {
        st.sys_vars.insert(n.into(), quote(charset));
    }
    st.sys_vars
        .insert("collation_connection".into(), quote(collation));
    st.setup = setup_of(st);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_literals() {
        assert_eq!(plain_literal(" 3 "), Some(UserValue::Int(3)));
        assert_eq!(
            plain_literal("'a b'"),
            Some(UserValue::Str(b"a b".to_vec()))
        );
        assert_eq!(plain_literal("null"), Some(UserValue::Null));
        assert_eq!(plain_literal("1.5"), None);
        assert_eq!(plain_literal("'it''s'"), None);
        assert_eq!(plain_literal("CONNECTION_ID()"), None);
    }

    #[test]
    fn user_values_print_as_their_type() {
        assert_eq!(UserValue::Decimal("1.50".into()).sql(), "1.50");
        assert_eq!(UserValue::Real(0.5).sql(), "5e-1");
        assert_eq!(UserValue::Str(b"it's".to_vec()).sql(), "'it\\'s'");
        assert_eq!(UserValue::Binary(vec![0xff]).sql(), "_binary'\u{F7FF}'");
    }

    #[test]
    fn client_charsets() {
        assert_eq!(client_charset(45), None);
        assert_eq!(
            client_charset(8),
            Some(("latin1".into(), "latin1_swedish_ci".into()))
        );
        assert_eq!(client_charset(255), None);
    }
}
