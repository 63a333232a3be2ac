//! The backends' own schemas, as a client of the logical database may see them:
//!
//! - `information_schema` for everyone, describing the logical schemas only (the user's, each
//!   logical table once, `shardgate_sequences` hidden): its views are rewritten into derived
//!   tables that keep each object's rows on the one shard that owns it (see
//!   [`crate::rewrite::info_schema`]), and read on those shards with the usual scatter merge;
//! - `mysql`, `performance_schema` and `sys` for admin users only, unchanged, on the default
//!   shard (the gate in [`super::admin`] refuses them to others with 1142/1044);
//! - the SHOW forms that list objects of every schema (`SHOW DATABASES`, `SHOW PROCEDURE
//!   STATUS`, `SHOW OPEN TABLES`, `SHOW TABLE STATUS`) filtered the same way.

use super::admin::is_admin;
use super::local::text_rows;
use super::{SessionState, Shared, fallback, proxy_views, run_plan, single};
use crate::backend::sequence::SEQUENCE_TABLE;
use crate::config::{Rules, ShardId};
use crate::error::{ProxyError, Result};
use crate::execute::Outcome;
use crate::plan::Target;
use crate::rewrite::info_schema::{Owners, SchemaOwners, View, replace_views, view};
use crate::route::router::{RouteInput, scatter_select};
use crate::sql::analyze::{AnalyzeError, analyze, parse};
use crate::sql::command::Command;
use crate::sql::info_schema::restricted_schemas;
use crate::sql::lexer::{Tok, tokens};
use crate::sql::privilege::{self, system_schema};
use mysql_async::Value;
use sqlparser::ast::{Query, Statement};
use std::collections::BTreeSet;

/// Whether `user` may make `db` their current schema, when `db` is a system schema (`None`:
/// it is not one). information_schema: everyone; the others: admins only (1044, as MySQL).
pub fn check_use(rules: &Rules, user: &str, db: &str) -> Option<Result<()>> {
    let sys = system_schema(db)?;
    let admin = rules.user(user).is_some_and(|u| u.admin);
    Some(if sys == "information_schema" || admin {
        Ok(())
    } else {
        Err(ProxyError::SchemaDenied {
            user: user.to_string(),
            schema: db.to_string(),
        })
    })
}

/// Whether table `t` of a statement lives in a system schema (named, or the current schema).
pub(super) fn is_system_table(st: &SessionState, t: &crate::sql::analyze::TableName) -> bool {
    t.schema
        .as_deref()
        .or(st.schema.as_deref())
        .and_then(system_schema)
        .is_some()
}

/// The logical schemas `st`'s user may use.
fn usable<'a>(sh: &'a Shared, st: &SessionState) -> impl Iterator<Item = &'a str> {
    let user = sh.rules.user(&st.user);
    sh.rules
        .schemas
        .iter()
        .filter(move |s| user.is_some_and(|u| u.may_use(&s.name)))
        .map(|s| s.name.as_str())
}

/// The SHOW statements that name or list schemas: `Some` answers them, `None` leaves them to
/// the usual path.
pub(super) async fn show(
    sh: &Shared,
    st: &mut SessionState,
    sql: &str,
    cmd: &Command,
) -> Option<Result<Outcome>> {
    let current_sys = st.schema.as_deref().and_then(system_schema).is_some();
    let sys = |s: &Option<String>| {
        s.as_deref()
            .map_or(current_sys, |s| system_schema(s).is_some())
    };
    let as_is = matches!(cmd, Command::ShowTables { schema, .. } | Command::ShowForTable { schema, .. } if sys(schema));
    match cmd {
        Command::ShowDatabases => {
            let mut names: Vec<&str> = usable(sh, st).collect();
            names.push("information_schema");
            names.sort_unstable();
            let rows = names
                .into_iter()
                .map(|n| vec![Value::Bytes(n.as_bytes().to_vec())])
                .collect();
            Some(Ok(text_rows(&["Database"], rows)))
        }
        _ if as_is => {
            Some(run_plan(sh, st, &single(fallback(sh, st)), sql, None, false, false).await)
        }
        Command::ShowOther => {
            let names_sys = !privilege::scan(sql, |s| system_schema(s).is_some())
                .refs
                .is_empty();
            if names_sys || current_sys {
                // The gate let it through: information_schema, or an admin.
                return Some(
                    run_plan(sh, st, &single(fallback(sh, st)), sql, None, false, false).await,
                );
            }
            let t = tokens(sql, 4);
            let w = |i: usize| match t.get(i) {
                Some(Tok::Word(w)) => w.as_str(),
                _ => "",
            };
            let column = match (w(1), w(2)) {
                ("PROCEDURE" | "FUNCTION", "STATUS") => "Db",
                ("OPEN", "TABLES") => "Database",
                ("TABLE", "STATUS") => "Name",
                _ => return None,
            };
            Some(filtered(sh, st, sql, column).await)
        }
        _ => None,
    }
}

/// `ALTER {DATABASE | SCHEMA} [name] ...` (which the parser refuses): of a logical schema, on
/// every shard like CREATE/DROP DATABASE; of anything else, refused.
pub(super) async fn alter_database(
    sh: &Shared,
    st: &mut SessionState,
    sql: &str,
    cmd: &Command,
) -> Option<Result<Outcome>> {
    if *cmd != Command::Sql {
        return None;
    }
    let t = tokens(sql, 3);
    let w = |i: usize| match t.get(i) {
        Some(Tok::Word(w)) => w.as_str(),
        _ => "",
    };
    if w(0) != "ALTER" || !matches!(w(1), "DATABASE" | "SCHEMA") {
        return None;
    }
    let named = match t.get(2) {
        Some(Tok::Word(x))
            if matches!(
                x.as_str(),
                "CHARACTER" | "CHARSET" | "DEFAULT" | "COLLATE" | "COMMENT"
            ) =>
        {
            None
        }
        Some(Tok::Word(_)) => crate::sql::lexer::spanned_tokens(sql, 3)
            .get(2)
            .and_then(|(_, r)| sql.get(r.clone()))
            .map(str::to_string),
        Some(Tok::Quoted(q)) => Some(q.clone()),
        _ => None,
    };
    let Some(name) = named.or_else(|| st.schema.clone()) else {
        return Some(Err(ProxyError::NoDatabase));
    };
    if sh.rules.schema(&name).is_none() {
        return Some(Err(ProxyError::NotSupported(format!(
            "ALTER DATABASE `{name}`: only schemas declared in the rules file exist behind the proxy"
        ))));
    }
    if st.txn.is_open()
        && let Err(e) = st.txn.commit(&sh.backends).await
    {
        // MySQL commits an open transaction before DDL; so does the proxy.
        return Some(Err(e));
    }
    let plan = crate::route::router::all_shards(sh.rules.shards.len(), true);
    Some(run_plan(sh, st, &plan, sql, None, false, false).await)
}

/// A SHOW answered by the default shard, without the rows of schemas the user may not see
/// (by column `column`: a schema name) or of the proxy's own table (`column` = `Name`).
async fn filtered(sh: &Shared, st: &mut SessionState, sql: &str, column: &str) -> Result<Outcome> {
    let mut out = run_plan(sh, st, &single(fallback(sh, st)), sql, None, false, false).await?;
    let Outcome::Rows(set) = &mut out else {
        return Ok(out);
    };
    let Some(i) = set
        .columns
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(column.as_bytes()))
    else {
        return Ok(out);
    };
    let allowed: Vec<String> = usable(sh, st).map(str::to_string).collect();
    set.rows.retain(|r| match r.get(i) {
        Some(Value::Bytes(b)) if column == "Name" => {
            !b.eq_ignore_ascii_case(SEQUENCE_TABLE.as_bytes())
        }
        Some(Value::Bytes(b)) => allowed.iter().any(|a| a.as_bytes() == b.as_slice()),
        _ => false,
    });
    Ok(out)
}

/// A statement (run through the SQL path: the client's, an EXECUTE, a value of a SET) that
/// reads a system schema: `Some` is its answer, `None` lets it go on as a logical statement.
pub(super) async fn intercept(
    sh: &Shared,
    st: &mut SessionState,
    sql: &str,
    params: Option<&[Value]>,
    prefix: Option<&str>,
) -> Option<Result<Outcome>> {
    let current = st.schema.as_deref().and_then(system_schema);
    if current.is_none() && !sh.admin.may_touch(&st.user, sql) {
        return None;
    }
    let admin = is_admin(sh, st);
    let named = || privilege::scan(sql, |s| system_schema(s).is_some()).refs;
    let a = match analyze(sql) {
        Ok(a) => a,
        Err(AnalyzeError::Multiple) => return None,
        Err(AnalyzeError::Parse(msg)) => {
            let refs = named();
            let info = current == Some("information_schema")
                || refs.iter().any(|r| r.schema == "information_schema");
            if info {
                return Some(Err(ProxyError::Syntax(format!(
                    "{msg} (shardgate must parse a statement on information_schema to answer it about the logical schemas)"
                ))));
            }
            // mysql/performance_schema/sys: an admin's (the gate refused everyone else's)
            // goes on to the default shard as any statement the parser refuses.
            return None;
        }
    };
    let mut sys_tables: Vec<(&'static str, String)> = Vec::new();
    let mut logical = false;
    for t in &a.tables {
        match t
            .schema
            .as_deref()
            .or(st.schema.as_deref())
            .and_then(system_schema)
        {
            Some(s) => sys_tables.push((s, t.name.clone())),
            None => logical = true,
        }
    }
    if sys_tables.is_empty() {
        // The parser drops executable comments (`/*! ... */`), which the server runs.
        return (!named().is_empty()).then(|| {
            Err(ProxyError::NotSupported(
                "a system schema named inside a /*! ... */ comment".into(),
            ))
        });
    }
    if logical {
        return Some(Err(ProxyError::NotSupported(
            "a statement that reads the logical schemas' tables and a system schema together"
                .into(),
        )));
    }
    let info = sys_tables.iter().any(|(s, _)| *s == "information_schema");
    let others = sys_tables.iter().any(|(s, _)| *s != "information_schema");
    if !info {
        if !admin {
            let (schema, table) = sys_tables.swap_remove(0);
            return Some(Err(ProxyError::TableDenied {
                command: "SELECT".into(),
                user: st.user.clone(),
                host: st.host.clone(),
                schema: schema.into(),
                table,
            }));
        }
        let text = match prefix {
            Some(p) => format!("{p}{sql}"),
            None => sql.to_string(),
        };
        let stream = matches!(a.stmt, Statement::Query(_));
        let shard = fallback(sh, st);
        return Some(run_plan(sh, st, &single(shard), &text, params, false, stream).await);
    }
    if others {
        return Some(Err(ProxyError::NotSupported(
            "information_schema and another system schema in one statement".into(),
        )));
    }
    Some(read_info_schema(sh, st, &a, params, prefix, admin, &sys_tables).await)
}

/// A SELECT on information_schema views, answered about the logical schemas.
async fn read_info_schema(
    sh: &Shared,
    st: &mut SessionState,
    a: &crate::sql::analyze::Analysis,
    params: Option<&[Value]>,
    prefix: Option<&str>,
    admin: bool,
    views: &[(&'static str, String)],
) -> Result<Outcome> {
    if !matches!(a.stmt, Statement::Query(_)) {
        return Err(ProxyError::NotSupported(
            "a statement other than SELECT on information_schema".into(),
        ));
    }
    let mut describes_schemas = false;
    for (_, name) in views {
        match view(name) {
            View::Tables { .. } | View::Schemas { .. } => describes_schemas = true,
            View::Global | View::Proxy => {}
            View::Process | View::Unknown if admin => {}
            View::Process => return Err(ProxyError::Privilege("PROCESS".into())),
            View::Refused(why) => return Err(ProxyError::NotSupported(why.into())),
            View::Unknown => {
                return Err(ProxyError::NotSupported(format!(
                    "information_schema.{name} (a view this version of shardgate does not know)"
                )));
            }
        }
    }
    let info_shard = fallback(sh, st);
    let current_is_info =
        st.schema.as_deref().and_then(system_schema) == Some("information_schema");
    let params = params.unwrap_or_default();
    let mut inlined = a.stmt.clone();
    crate::rewrite::inline_params(&mut inlined, params);
    // The statement's own WHERE may name the schemas it reads: then only their owners matter.
    let database = st.schema.as_deref();
    let only = restricted_schemas(&inlined, database, current_is_info);
    let owners = Owners {
        schemas: owners(sh, st)
            .into_iter()
            .filter(|o| only.as_ref().is_none_or(|s| s.contains(&o.name)))
            .collect(),
        info_shard,
        with_info: only.as_ref().is_none_or(|s| {
            s.iter()
                .any(|n| n.eq_ignore_ascii_case("information_schema"))
        }),
        hidden: vec![SEQUENCE_TABLE.to_string()],
    };
    let mut shards: BTreeSet<ShardId> = if describes_schemas {
        owners.shards()
    } else {
        [info_shard].into()
    };
    if shards.is_empty() {
        // Restricted to schemas the user cannot see: any one shard answers with no rows.
        shards.insert(info_shard);
    }
    // On several shards, each returns the rows of the objects it owns; a statement that
    // combines rows (a join, a subquery, a union) would combine only those of one shard.
    let combines = a.tables.len() > 1 || a.select.as_ref().is_some_and(|s| s.multi_table);
    if shards.len() > 1 && combines {
        return Err(ProxyError::NotSupported(
            "a join, subquery or union over information_schema while the logical objects it reads live on several shards (restrict it with TABLE_SCHEMA = '...', or read one view per statement)".into(),
        ));
    }
    let mut plan = if shards.len() == 1 {
        single(shards.first().copied().unwrap_or(info_shard))
    } else {
        let targets = shards
            .iter()
            .map(|&shard| Target { shard, sql: None })
            .collect();
        let inp = RouteInput {
            rules: &sh.rules,
            schema: st.schema.as_deref(),
            analysis: a,
            params,
            ids: &[],
            pinned: &[],
            no_auto_value_on_zero: false,
            columns: None,
        };
        scatter_select(&inp, targets, false)?
    };
    let rows = proxy_views::visible_sessions(sh, st, admin);
    for t in &mut plan.targets {
        let mut stmt = match &t.sql {
            Some(text) => parse(text)
                .ok()
                .and_then(|mut v| v.pop())
                .ok_or_else(|| ProxyError::Syntax(format!("near '{text}'")))?,
            None => inlined.clone(),
        };
        let k = t.shard;
        replace_views(&mut stmt, current_is_info, &mut |name| {
            let body = match view(name) {
                View::Tables { schema, table } => format!(
                    "SELECT * FROM information_schema.{} WHERE {}",
                    name.to_ascii_uppercase(),
                    owners.tables_predicate(k, schema, table)
                ),
                View::Schemas { schema } => format!(
                    "SELECT * FROM information_schema.{} WHERE {}",
                    name.to_ascii_uppercase(),
                    owners.schemas_predicate(k, schema)
                ),
                View::Proxy if name.eq_ignore_ascii_case("PROCESSLIST") => {
                    proxy_views::processlist_sql(&rows)
                }
                View::Proxy => proxy_views::privileges_sql(sh, st, name)?,
                _ => return Ok(None),
            };
            derived(&body).map(Some)
        })?;
        let text = stmt.to_string();
        t.sql = Some(match prefix {
            Some(p) => format!("{p}{text}"),
            None => text,
        });
    }
    let stream = plan.targets.len() == 1;
    // Not joined to the session's transaction: information_schema is not transactional.
    run_plan(sh, st, &plan, "", None, false, stream).await
}

/// The query of a derived table the proxy wrote.
fn derived(body: &str) -> Result<Query> {
    match parse(body).ok().and_then(|mut v| v.pop()) {
        Some(Statement::Query(q)) => Ok(*q),
        _ => Err(ProxyError::Syntax(format!(
            "shardgate wrote an information_schema query it cannot parse: {body}"
        ))),
    }
}

/// Who owns what in the schemas the session's user may use.
fn owners(sh: &Shared, st: &SessionState) -> Vec<SchemaOwners> {
    let user = sh.rules.user(&st.user);
    sh.rules
        .schemas
        .iter()
        .filter(|s| user.is_some_and(|u| u.may_use(&s.name)))
        .map(|s| {
            SchemaOwners::new(
                &s.name,
                s.default_shard,
                // The default shard owns every table it holds: most schemas then live whole
                // on one shard, where any statement on information_schema can run.
                s.tables().map(|r| {
                    let owner = if r.shards.contains(&s.default_shard) {
                        s.default_shard
                    } else {
                        r.shards.first().copied().unwrap_or(s.default_shard)
                    };
                    (r.name.clone(), owner)
                }),
            )
        })
        .collect()
}
