//! What the proxy answers about itself rather than a backend: `SHOW [FULL] PROCESSLIST` and
//! `information_schema.PROCESSLIST` (its client sessions, not the backends' pooled threads),
//! `SHOW GRANTS` and the privilege views of information_schema (the rules' users and the
//! schemas they may use, never the backend account's privileges).
//!
//! The views are SQL: a derived table of literal rows (`SELECT CAST(7 AS UNSIGNED) AS ID, ...
//! UNION ALL ...`) that takes the place of the view in the client's statement, so that its
//! WHERE, ORDER BY and aggregates are evaluated by a backend exactly as on one server.

use super::sessions::Row;
use super::{SessionState, Shared};
use crate::config::User;
use crate::error::{ProxyError, Result};
use crate::execute::{Outcome, RowSet};
use crate::frontend::packets::ColumnDef;
use crate::rewrite::info_schema::lit;
use mysql_async::Value;
use mysql_async::consts::ColumnType;
use std::sync::Arc;

/// The privileges of `ALL PRIVILEGES ON db.*`, as MariaDB lists them.
const SCHEMA_PRIVILEGES: [&str; 19] = [
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "EVENT",
    "TRIGGER",
    "DELETE HISTORY",
];

/// What an admin user may do beyond the schemas: the statements the proxy lets through for
/// admins only.
const ADMIN_PRIVILEGES: [&str; 7] = [
    "RELOAD",
    "PROCESS",
    "FILE",
    "SUPER",
    "REPLICATION CLIENT",
    "REPLICATION SLAVE",
    "CREATE USER",
];

/// The processlist rows `st` may see: every session for an admin, its user's own otherwise
/// (MySQL without the PROCESS privilege).
pub(super) fn visible_sessions(sh: &Shared, st: &SessionState, admin: bool) -> Vec<Row> {
    sh.admin
        .sessions
        .all()
        .iter()
        .map(|e| e.row())
        .filter(|r| admin || r.user == st.user)
        .collect()
}

/// `SHOW [FULL] PROCESSLIST`, with MariaDB's columns; without FULL, Info is cut at 100
/// characters.
pub(super) fn show_processlist(rows: Vec<Row>, full: bool) -> Outcome {
    let col = |name: &str, t: ColumnType| ColumnDef::synthetic(name, t);
    let text = ColumnType::MYSQL_TYPE_VAR_STRING;
    let mut columns = vec![
        col("Id", ColumnType::MYSQL_TYPE_LONGLONG),
        col("User", text),
        col("Host", text),
        col("db", text),
        col("Command", text),
        col("Time", ColumnType::MYSQL_TYPE_LONG),
        col("State", text),
        col("Info", text),
        col("Progress", ColumnType::MYSQL_TYPE_NEWDECIMAL),
    ];
    columns[5].charset = 63;
    columns[8].charset = 63;
    columns[8].decimals = 3;
    let s = |v: &str| Value::Bytes(v.as_bytes().to_vec());
    let rows = rows
        .into_iter()
        .map(|r| {
            let info = r.info.map(|i| {
                if full {
                    i.to_string()
                } else {
                    i.chars().take(100).collect()
                }
            });
            vec![
                Value::UInt(u64::from(r.id)),
                s(&r.user),
                s(&r.host),
                r.db.as_deref().map_or(Value::NULL, s),
                s(r.command),
                Value::Int(i64::try_from(r.time).unwrap_or(i64::MAX)),
                s(r.state),
                info.as_deref().map_or(Value::NULL, s),
                s("0.000"),
            ]
        })
        .collect();
    Outcome::Rows(RowSet {
        columns: Arc::new(columns),
        rows,
        ..Default::default()
    })
}

/// `EXPLAIN SHARDS statement`: the plan the proxy makes for `sql` in the session's schema, one
/// line per row in a column `plan`, as `shardgate route` prints it (nothing runs).
pub(super) fn explain_shards(sh: &Shared, st: &SessionState, sql: &str) -> Result<Outcome> {
    if sql.is_empty() {
        return Err(ProxyError::Syntax(
            "EXPLAIN SHARDS: expected a statement after SHARDS".into(),
        ));
    }
    let text = crate::route::preview::explain(&sh.rules, st.schema.as_deref(), sql)?;
    let plan: Vec<&str> = text.lines().collect();
    Ok(lines("plan", &plan))
}

/// A result of one text column `name`, one row per line.
pub(super) fn lines(name: &str, lines: &[impl AsRef<str>]) -> Outcome {
    let rows = lines
        .iter()
        .map(|l| vec![Value::Bytes(l.as_ref().as_bytes().to_vec())])
        .collect();
    Outcome::Rows(RowSet {
        columns: Arc::new(vec![ColumnDef::synthetic(
            name,
            ColumnType::MYSQL_TYPE_VAR_STRING,
        )]),
        rows,
        ..Default::default()
    })
}

/// Result columns: text ones, and numbers (binary charset) where `numeric`.
fn columns(names: &[(&str, bool)]) -> Arc<Vec<ColumnDef>> {
    Arc::new(
        names
            .iter()
            .map(|&(name, numeric)| {
                if numeric {
                    let mut c = ColumnDef::synthetic(name, ColumnType::MYSQL_TYPE_LONGLONG);
                    c.charset = 63;
                    c
                } else {
                    ColumnDef::synthetic(name, ColumnType::MYSQL_TYPE_VAR_STRING)
                }
            })
            .collect(),
    )
}

fn text(v: &str) -> Value {
    Value::Bytes(v.as_bytes().to_vec())
}

/// `SHOW SESSIONS`: the proxy's client sessions (`rows`: those the user may see) with what
/// SHOW PROCESSLIST shows plus their transaction: open or not, for how long, and the shards
/// it holds a connection on.
pub(super) fn show_sessions(sh: &Shared, rows: Vec<Row>) -> Outcome {
    let cols = columns(&[
        ("Id", true),
        ("User", false),
        ("Host", false),
        ("db", false),
        ("Command", false),
        ("Time", true),
        ("Transaction", false),
        ("Transaction_time", true),
        ("Shards", false),
        ("Info", false),
    ]);
    let rows = rows
        .into_iter()
        .map(|r| {
            let (txn, txn_time, shards) = match &r.txn {
                Some((secs, pinned)) => (
                    text("open"),
                    Value::UInt(*secs),
                    text(
                        &pinned
                            .iter()
                            .map(|&s| sh.backends.shard_name(s))
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                ),
                None => (text("none"), Value::NULL, Value::NULL),
            };
            vec![
                Value::UInt(u64::from(r.id)),
                text(&r.user),
                text(&r.host),
                r.db.as_deref().map_or(Value::NULL, text),
                text(r.command),
                Value::UInt(r.time),
                txn,
                txn_time,
                shards,
                r.info.as_deref().map_or(Value::NULL, text),
            ]
        })
        .collect();
    Outcome::Rows(RowSet {
        columns: cols,
        rows,
        ..Default::default()
    })
}

/// `SHOW STATS`: statements since start-up by route type (with errors and refusals) and by
/// shard (statements that ran on that shard alone), with latency percentiles in milliseconds
/// estimated from the Prometheus histograms' buckets.
pub(super) fn show_stats(sh: &Shared) -> Outcome {
    let cols = columns(&[
        ("Scope", false),
        ("Name", false),
        ("Statements", true),
        ("Errors", true),
        ("Refused", true),
        ("P50_ms", false),
        ("P95_ms", false),
        ("P99_ms", false),
    ]);
    let ms = |v: Option<f64>| v.map_or(Value::NULL, |x| text(&format!("{x:.3}")));
    let opt = |v: Option<u64>| v.map_or(Value::NULL, Value::UInt);
    let rows = sh
        .metrics
        .stats()
        .into_iter()
        .map(|r| {
            let [p50, p95, p99] = r.quantiles_ms;
            vec![
                text(r.scope),
                text(&r.name),
                Value::UInt(r.statements),
                opt(r.errors),
                opt(r.refused),
                ms(p50),
                ms(p95),
                ms(p99),
            ]
        })
        .collect();
    Outcome::Rows(RowSet {
        columns: cols,
        rows,
        ..Default::default()
    })
}

/// A line of a rules file with its secrets replaced by `***`: the value of a `password` key
/// and the password of a `scheme://user:password@host` URL.
fn masked(line: &str) -> String {
    let key = line.trim_start();
    if let Some(rest) = key.strip_prefix("password")
        && rest.trim_start().starts_with('=')
    {
        let indent = &line[..line.len() - key.len()];
        return format!("{indent}password = \"***\"");
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail.find(['"', '\'', ' ', ',']).unwrap_or(tail.len());
        let auth = &tail[..end];
        match (auth.rfind('@'), auth.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&auth[..colon]);
                out.push_str(":***");
                out.push_str(&auth[at..]);
            }
            _ => out.push_str(auth),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `SHOW RULES`: the rules file in force (a reload that was refused changed nothing here), its
/// path, digest and when it was put in force, then its text line by line.
pub(super) fn show_rules(sh: &Shared) -> Outcome {
    let f = sh.reload.in_force();
    let mut out = Vec::new();
    match sh.reload.config() {
        Some(path) => {
            let at =
                f.at.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs());
            out.push(format!(
                "# file: {}  digest: {}  in force since: {at} (unix time)",
                path.display(),
                f.digest
            ));
            out.extend(f.text.lines().map(masked));
        }
        None => {
            out.push("# rules given at start-up without a file (no text to show)".to_string());
            for s in &sh.rules.schemas {
                out.push(format!("# schema {}", s.name));
            }
        }
    }
    lines("rules", &out)
}

/// `SHOW SHARDS`: every server of every shard, as the proxy sees it now: its role, what the
/// health checker last saw (state, lag, GTID position, why a replica is out of the read
/// rotation) and its pools (connections in use and idle).
pub(super) fn show_shards(sh: &Shared) -> Outcome {
    let columns = columns(&[
        ("Shard", false),
        ("Server", false),
        ("Role", false),
        ("Address", false),
        ("State", false),
        ("Lag_s", true),
        ("Gtid_position", false),
        ("Pool_in_use", true),
        ("Pool_idle", true),
        ("Note", false),
    ]);
    let s = |v: &str| Value::Bytes(v.as_bytes().to_vec());
    let n = |v: usize| Value::UInt(v as u64);
    let mut rows = Vec::new();
    for (i, shard) in sh.rules.shards.iter().enumerate() {
        let health = sh.health.shard(i).unwrap_or_default();
        for v in sh.backends.servers(i) {
            let (role, state, lag, pos, note) = match v.server.replica {
                None => (
                    "primary",
                    if health.primary_up { "up" } else { "down" },
                    Value::NULL,
                    health.primary_pos.to_string(),
                    String::new(),
                ),
                Some(r) => {
                    let rs = health.replicas.get(r).cloned().unwrap_or_default();
                    (
                        "replica",
                        if rs.in_rotation {
                            "in rotation"
                        } else if rs.reachable {
                            "out of rotation"
                        } else {
                            "down"
                        },
                        rs.lag_s.map_or(Value::NULL, Value::UInt),
                        rs.pos.to_string(),
                        if rs.in_rotation {
                            String::new()
                        } else {
                            rs.why_out.clone()
                        },
                    )
                }
            };
            rows.push(vec![
                s(&shard.name),
                s(&sh.backends.server_name(v.server)),
                s(role),
                s(&v.address),
                s(state),
                lag,
                s(&pos),
                n(v.in_use),
                n(v.idle),
                if note.is_empty() {
                    Value::NULL
                } else {
                    s(&note)
                },
            ]);
        }
    }
    Outcome::Rows(RowSet {
        columns,
        rows,
        ..Default::default()
    })
}

/// `information_schema.PROCESSLIST` as a derived table of `rows`, with MariaDB 10.11's columns.
pub(super) fn processlist_sql(rows: &[Row]) -> String {
    let selects: Vec<String> = rows
        .iter()
        .map(|r| {
            let opt = |v: Option<&str>| v.map_or("NULL".to_string(), lit);
            let info = r.info.as_deref().map_or("NULL".to_string(), text_lit);
            format!(
                "SELECT CAST({id} AS UNSIGNED) AS ID, CAST({user} AS CHAR(128)) AS USER, \
                 CAST({host} AS CHAR(64)) AS HOST, CAST({db} AS CHAR(64)) AS DB, \
                 CAST({command} AS CHAR(16)) AS COMMAND, CAST({time} AS SIGNED) AS TIME, \
                 CAST({state} AS CHAR(64)) AS STATE, CAST({info} AS CHAR) AS INFO, \
                 CAST({ms} AS DECIMAL(22,3)) AS TIME_MS, 0 AS STAGE, 0 AS MAX_STAGE, \
                 CAST(0 AS DECIMAL(7,3)) AS PROGRESS, 0 AS MEMORY_USED, 0 AS MAX_MEMORY_USED, \
                 0 AS EXAMINED_ROWS, 0 AS QUERY_ID, CAST({info} AS BINARY) AS INFO_BINARY, \
                 0 AS TID",
                id = r.id,
                user = lit(&r.user),
                host = lit(&r.host),
                db = opt(r.db.as_deref()),
                command = lit(r.command),
                time = r.time,
                state = lit(r.state),
                ms = r.time.saturating_mul(1000),
            )
        })
        .collect();
    selects.join(" UNION ALL ")
}

/// Statement text (the client's bytes, possibly not UTF-8) as a literal.
fn text_lit(s: &str) -> String {
    let bytes = crate::sql::text::encode(s);
    if std::str::from_utf8(&bytes).is_ok() {
        return lit(s);
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("CONVERT(X'{hex}' USING utf8mb4)")
}

/// A user's grants as the rules give them: admin statements (for admins), and every privilege
/// on each schema the user may use.
struct Grants {
    /// Privileges on `*.*` (`ALL PRIVILEGES` for an admin allowed every schema).
    global: Vec<&'static str>,
    /// Schemas with every schema privilege.
    schemas: Vec<String>,
}

fn grants(sh: &Shared, u: &User) -> Grants {
    if u.admin && u.schemas.is_none() {
        return Grants {
            global: vec!["ALL PRIVILEGES"],
            schemas: Vec::new(),
        };
    }
    Grants {
        global: if u.admin {
            ADMIN_PRIVILEGES.to_vec()
        } else {
            vec!["USAGE"]
        },
        schemas: sh
            .rules
            .schemas
            .iter()
            .filter(|s| u.may_use(&s.name))
            .map(|s| s.name.clone())
            .collect(),
    }
}

/// The user a `SHOW GRANTS FOR` or a privilege view is about: oneself, or (for an admin) any
/// user of the rules.
fn grantee<'a>(
    sh: &'a Shared,
    st: &SessionState,
    admin: bool,
    name: Option<&str>,
) -> Result<&'a User> {
    let name = name.unwrap_or(&st.user);
    if name != st.user && !admin {
        return Err(ProxyError::SchemaDenied {
            user: st.user.clone(),
            schema: "mysql".into(),
        });
    }
    sh.rules.user(name).ok_or_else(|| ProxyError::Sql {
        code: 1141,
        state: "42000",
        message: format!("There is no such grant defined for user '{name}' on host '%'"),
    })
}

fn ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

/// `SHOW GRANTS [FOR user]`.
pub(super) fn show_grants(
    sh: &Shared,
    st: &SessionState,
    admin: bool,
    user: Option<&str>,
) -> Result<Outcome> {
    let u = grantee(sh, st, admin, user)?;
    let g = grants(sh, u);
    let to = format!("{}@`%`", ident(&u.name));
    let mut rows = vec![format!("GRANT {} ON *.* TO {to}", g.global.join(", "))];
    for s in &g.schemas {
        rows.push(format!("GRANT ALL PRIVILEGES ON {}.* TO {to}", ident(s)));
    }
    let header = format!("Grants for {}@%", u.name);
    Ok(super::local::text_rows(
        &[header.as_str()],
        rows.into_iter()
            .map(|r| vec![Value::Bytes(r.into_bytes())])
            .collect(),
    ))
}

/// A privilege view of information_schema (USER_PRIVILEGES, SCHEMA_PRIVILEGES, ...) as a
/// derived table: the session user's grants from the rules (no table, column or role grants
/// exist behind the proxy).
pub(super) fn privileges_sql(sh: &Shared, st: &SessionState, view: &str) -> Result<String> {
    let u = grantee(sh, st, false, None)?;
    let g = grants(sh, u);
    let grantee = lit(&format!("'{}'@'%'", u.name));
    let cols = |names: &[(&str, &str)], rows: Vec<Vec<String>>| -> String {
        if rows.is_empty() {
            let items: Vec<String> = names
                .iter()
                .map(|(n, t)| format!("CAST(NULL AS {t}) AS {n}"))
                .collect();
            return format!("SELECT {} WHERE 1 = 0", items.join(", "));
        }
        rows.iter()
            .map(|r| {
                let items: Vec<String> = names
                    .iter()
                    .zip(r)
                    .map(|((n, t), v)| format!("CAST({v} AS {t}) AS {n}"))
                    .collect();
                format!("SELECT {}", items.join(", "))
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
    };
    const G: (&str, &str) = ("GRANTEE", "CHAR(385)");
    const CAT: (&str, &str) = ("TABLE_CATALOG", "CHAR(512)");
    const SCH: (&str, &str) = ("TABLE_SCHEMA", "CHAR(64)");
    const TAB: (&str, &str) = ("TABLE_NAME", "CHAR(64)");
    const PRIV: (&str, &str) = ("PRIVILEGE_TYPE", "CHAR(64)");
    const GRANTABLE: (&str, &str) = ("IS_GRANTABLE", "CHAR(3)");
    Ok(match view.to_ascii_uppercase().as_str() {
        "USER_PRIVILEGES" => {
            let privs: Vec<&str> = if g.global == ["ALL PRIVILEGES"] {
                SCHEMA_PRIVILEGES
                    .iter()
                    .chain(ADMIN_PRIVILEGES.iter())
                    .copied()
                    .collect()
            } else {
                g.global.clone()
            };
            let rows = privs
                .iter()
                .map(|p| vec![grantee.clone(), "'def'".into(), lit(p), "'NO'".into()])
                .collect();
            cols(&[G, CAT, PRIV, GRANTABLE], rows)
        }
        "SCHEMA_PRIVILEGES" => {
            let rows = g
                .schemas
                .iter()
                .flat_map(|s| {
                    SCHEMA_PRIVILEGES.iter().map(|p| {
                        vec![
                            grantee.clone(),
                            "'def'".into(),
                            lit(s),
                            lit(p),
                            "'NO'".into(),
                        ]
                    })
                })
                .collect();
            cols(&[G, CAT, SCH, PRIV, GRANTABLE], rows)
        }
        "TABLE_PRIVILEGES" => cols(&[G, CAT, SCH, TAB, PRIV, GRANTABLE], Vec::new()),
        "COLUMN_PRIVILEGES" => cols(
            &[
                G,
                CAT,
                SCH,
                TAB,
                ("COLUMN_NAME", "CHAR(64)"),
                PRIV,
                GRANTABLE,
            ],
            Vec::new(),
        ),
        "APPLICABLE_ROLES" => cols(
            &[
                G,
                ("ROLE_NAME", "CHAR(128)"),
                GRANTABLE,
                ("IS_DEFAULT", "CHAR(3)"),
            ],
            Vec::new(),
        ),
        _ => cols(&[("ROLE_NAME", "CHAR(128)")], Vec::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn secrets_are_masked() {
        assert_eq!(
            masked(r#"primary = "mysql://root:s3cret@127.0.0.1:3306""#),
            r#"primary = "mysql://root:***@127.0.0.1:3306""#
        );
        assert_eq!(
            masked(r#"replicas = ["mysql://a:x@h:1", "mysql://b@h:2"]"#),
            r#"replicas = ["mysql://a:***@h:1", "mysql://b@h:2"]"#
        );
        assert_eq!(masked(r#"  password = "app""#), r#"  password = "***""#);
        assert_eq!(masked("passwords_file = 1"), "passwords_file = 1");
        assert_eq!(masked("name = \"app\""), "name = \"app\"");
    }
}
