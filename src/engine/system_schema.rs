//! The backends' own schemas, as a client of the logical database may see them:
//!
//! - `information_schema` for everyone, describing the logical schemas only (the user's, each
//!   logical table once, `shardgate_sequences` hidden): its views are rewritten into derived
//!   tables that keep each object's rows on the one shard that owns it (see
//!   [`crate::rewrite::info_schema`]), and read on those shards with the usual scatter merge;
//!   the statistics of a table spread over several shards (`TABLE_ROWS`, `DATA_LENGTH`, ... of
//!   TABLES, `CARDINALITY` of STATISTICS) are first read on each of them, combined (see
//!   [`TableStats`]) and written into the owner's derived table, so that WHERE, ORDER BY and
//!   aggregates see them;
//! - `mysql`, `performance_schema` and `sys` for admin users only, unchanged, on the default
//!   shard (the gate in [`super::admin`] refuses them to others with 1142/1044);
//! - the SHOW forms that list objects of every schema (`SHOW DATABASES`, `SHOW PROCEDURE
//!   STATUS`, `SHOW OPEN TABLES`, `SHOW TABLE STATUS`) filtered the same way; `SHOW TABLE
//!   STATUS` and `SHOW INDEX` of spread tables with their statistics combined the same way.

use super::admin::is_admin;
use super::local::text_rows;
use super::{SessionState, Shared, fallback, proxy_views, run_plan, single};
use crate::backend::sequence::SEQUENCE_TABLE;
use crate::config::{Algorithm, Rules, Schema, ShardId, TableRule};
use crate::error::{ProxyError, Result};
use crate::execute::{Outcome, RowSet};
use crate::plan::Target;
use crate::rewrite::info_schema::{
    Combined, Owners, STATUS_STAT_COLUMNS, SchemaOwners, SplitOwner, TABLE_STAT_COLUMNS,
    TableStats, View, add_cardinality, lit, names_table, replace_views, view, view_body,
};
use crate::route::router::{RouteInput, scatter_select};
use crate::sql::analyze::{AnalyzeError, analyze, parse};
use crate::sql::command::Command;
use crate::sql::info_schema::restricted_schemas;
use crate::sql::lexer::{Tok, tokens};
use crate::sql::privilege::{self, system_schema};
use mysql_async::Value;
use sqlparser::ast::{Query, Statement};
use std::collections::{BTreeMap, BTreeSet};

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
                ("TABLE", "STATUS") => return Some(table_status(sh, st, sql).await),
                _ => return None,
            };
            Some(filtered(sh, st, sql, column).await)
        }
        Command::ShowForTable { schema, table } => {
            let t = tokens(sql, 3);
            let index = t.iter().skip(1).take(2).any(
                |x| matches!(x, Tok::Word(w) if matches!(w.as_str(), "INDEX" | "INDEXES" | "KEYS")),
            );
            if !index {
                return None;
            }
            let name = crate::sql::analyze::TableName {
                schema: schema.clone(),
                name: table.clone(),
            };
            let rule = match crate::route::router::resolve(&sh.rules, st.schema.as_deref(), &name) {
                Ok((_, Some(rule))) if spread(&rule) => rule,
                // Unsharded, broadcast (one copy is the table), or an error the usual path gives.
                _ => return None,
            };
            let Some(split) = &rule.split else {
                let on: Vec<(ShardId, String)> =
                    rule.shards.iter().map(|&k| (k, sql.to_string())).collect();
                return Some(show_index(sh, st, &on).await);
            };
            // Each physical table, answered as the logical table the client named.
            let rename = |u: usize| {
                let physical = split.physical(u, &rule.name);
                let text = crate::rewrite::physical::rename_in_text(sql, &name.name, &physical);
                (split.shard_of(u), text)
            };
            let on: Vec<(ShardId, String)> = (0..split.units().len()).map(rename).collect();
            let first = split.physical(0, &rule.name);
            Some(
                show_index(sh, st, &on)
                    .await
                    .map(|out| super::local::logical_table(out, &first, &name.name)),
            )
        }
        _ => None,
    }
}

/// Whether `rule` spreads its table's rows over several shards or physical tables (whose
/// statistics then add up): not a broadcast table, whose every shard holds a whole copy.
fn spread(rule: &TableRule) -> bool {
    !matches!(*rule.algorithm, Algorithm::Broadcast)
        && (rule.shards.len() > 1 || rule.split.is_some())
}

/// The shard that answers for a table in information_schema and the SHOW forms (see
/// [`crate::rewrite::info_schema`]): for a split table the shard of its first physical table;
/// else the schema's default shard when it holds the table (an unsharded table always), else
/// the first shard of its rule.
fn owner_of(schema: &Schema, rule: Option<&TableRule>) -> ShardId {
    if let Some(split) = rule.and_then(|r| r.split.as_ref()) {
        return split.shard_of(0);
    }
    match rule {
        Some(r) if !r.shards.contains(&schema.default_shard) => {
            r.shards.first().copied().unwrap_or(schema.default_shard)
        }
        _ => schema.default_shard,
    }
}

/// Whether the words after the WHERE of a SHOW statement name one of `columns`.
fn where_names(sql: &str, columns: &[&str]) -> bool {
    let t = tokens(sql, usize::MAX);
    let Some(at) = t.iter().position(|x| *x == Tok::Word("WHERE".into())) else {
        return false;
    };
    t[at..].iter().any(|x| match x {
        Tok::Word(w) | Tok::Quoted(w) => columns.iter().any(|c| c.eq_ignore_ascii_case(w)),
        _ => false,
    })
}

/// The rows `sql` answers on shard `k` alone.
async fn rows_on(sh: &Shared, st: &mut SessionState, k: ShardId, sql: &str) -> Result<RowSet> {
    match run_plan(sh, st, &single(k), sql, None, false, false).await? {
        Outcome::Rows(r) => Ok(r),
        _ => Err(ProxyError::NotSupported(format!(
            "a statement shardgate runs to gather statistics answered no rows: {sql}"
        ))),
    }
}

/// A value of a text or binary result as text.
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        _ => None,
    }
}

/// A value of a text or binary result as a number (`None`: NULL or not a number).
fn value_num<T: std::str::FromStr>(v: &Value) -> Option<T> {
    value_text(v).and_then(|t| t.trim().parse().ok())
}

/// The position of column `name` in `set`.
fn column_at(set: &RowSet, name: &str) -> Option<usize> {
    set.columns
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(name.as_bytes()))
}

/// `v` as a value of the same representation as `like` (text for the text protocol).
fn number_like(like: &Value, v: Option<u64>) -> Value {
    match (v, like) {
        (None, _) => Value::NULL,
        (Some(n), Value::Int(_) | Value::UInt(_)) => Value::UInt(n),
        (Some(n), _) => Value::Bytes(n.to_string().into_bytes()),
    }
}

/// `SHOW TABLE STATUS [FROM db] [LIKE | WHERE]` of a logical schema: each table once, the row
/// of the shard that owns it (as in information_schema), a sharded table's statistics
/// combined over its shards (see [`TableStats`]), sorted by name as MariaDB lists them.
async fn table_status(sh: &Shared, st: &mut SessionState, sql: &str) -> Result<Outcome> {
    let t = crate::sql::lexer::spanned_tokens(sql, 5);
    let named = match (t.get(3), t.get(4)) {
        (Some((Tok::Word(w), _)), Some((tok, r))) if w == "FROM" || w == "IN" => match tok {
            Tok::Word(_) => sql.get(r.clone()).map(str::to_string),
            Tok::Quoted(q) => Some(q.clone()),
            _ => None,
        },
        _ => None,
    };
    let Some(schema) = named
        .as_deref()
        .or(st.schema.as_deref())
        .and_then(|n| sh.rules.schema(n))
    else {
        return filtered(sh, st, sql, "Name").await;
    };
    if !usable(sh, st).any(|s| s == schema.name) {
        return filtered(sh, st, sql, "Name").await;
    }
    let spread_any = schema.tables().any(|r| spread(r));
    if spread_any && where_names(sql, &STATUS_STAT_COLUMNS) {
        return Err(ProxyError::NotSupported(
            "SHOW TABLE STATUS WHERE on a statistic of a schema with sharded tables (the shards' numbers are combined after the WHERE would run: read information_schema.TABLES instead)".into(),
        ));
    }
    // A split table's rows come from its physical tables: a LIKE on the logical name is
    // applied here, to the names answered (a WHERE on `Name` cannot be).
    let split = crate::config::split::logical_names(schema);
    let mut like = None;
    let mut run = sql;
    if !split.is_empty() {
        if where_names(sql, &["Name"]) {
            return Err(ProxyError::NotSupported(
                "SHOW TABLE STATUS WHERE on Name of a schema with split tables (the servers know the physical tables: use LIKE, or read information_schema.TABLES)".into(),
            ));
        }
        let t = crate::sql::lexer::spanned_tokens(sql, usize::MAX);
        if let Some(i) = t.iter().position(|(x, _)| *x == Tok::Word("LIKE".into())) {
            let Some((Tok::Str(p), _)) = t.get(i + 1) else {
                return Err(ProxyError::Syntax(format!("near '{sql}'")));
            };
            like = Some(p.clone());
            run = sql.get(..t[i].1.start).unwrap_or(sql);
        }
    }
    let mut holders: BTreeSet<ShardId> = [schema.default_shard].into();
    for r in schema.tables() {
        holders.extend(r.shards.iter().copied());
    }
    let mut first: Option<RowSet> = None;
    let mut kept: Vec<(Vec<u8>, Vec<Value>)> = Vec::new();
    let mut stats: BTreeMap<Vec<u8>, TableStats> = BTreeMap::new();
    let mut at: Option<(usize, [Option<usize>; 7])> = None;
    for k in holders {
        let set = rows_on(sh, st, k, run).await?;
        let (name_at, stat_at) = match at {
            Some(a) => a,
            None => {
                let Some(n) = column_at(&set, "Name") else {
                    return Ok(Outcome::Rows(set));
                };
                let a = (n, STATUS_STAT_COLUMNS.map(|c| column_at(&set, c)));
                at = Some(a);
                a
            }
        };
        let mut set = set;
        for row in std::mem::take(&mut set.rows) {
            let Some(Value::Bytes(mut name)) = row.get(name_at).cloned() else {
                continue;
            };
            if name.eq_ignore_ascii_case(SEQUENCE_TABLE.as_bytes()) {
                continue;
            }
            let mut text = String::from_utf8_lossy(&name).into_owned();
            let mut row = row;
            let mut listed = true;
            if let Some(logical) = split.get(&text.to_lowercase()) {
                // A physical table: its numbers count for the logical table, whose row is
                // the first physical table's, renamed; the others are not listed.
                let first = schema
                    .table(logical)
                    .and_then(|r| r.split.as_ref().map(|s| s.physical(0, &r.name)));
                listed = first.is_some_and(|f| f.eq_ignore_ascii_case(&text));
                text.clone_from(logical);
                name = logical.as_bytes().to_vec();
                if let Some(cell) = row.get_mut(name_at) {
                    *cell = Value::Bytes(name.clone());
                }
            } else if split.values().any(|l| l.eq_ignore_ascii_case(&text)) {
                // A table bearing a split table's logical name is not that table.
                continue;
            }
            if like
                .as_deref()
                .is_some_and(|p| !super::local::like_match(p, &text))
            {
                continue;
            }
            let rule = schema.table(&text);
            if let Some(r) = rule.as_deref()
                && spread(r)
                && r.shards.contains(&k)
            {
                let v = stat_at.map(|i| i.and_then(|i| row.get(i)).and_then(value_num::<u64>));
                stats
                    .entry(name.clone())
                    .or_default()
                    .add(&TableStats::from_shard(v));
            }
            if listed && owner_of(schema, rule.as_deref()) == k {
                kept.push((name, row));
            }
        }
        if first.is_none() {
            first = Some(set);
        }
    }
    let Some(mut set) = first else {
        return Err(ProxyError::NotSupported(
            "SHOW TABLE STATUS on no shard".into(),
        ));
    };
    if let Some((_, stat_at)) = at {
        for (name, row) in &mut kept {
            let Some(s) = stats.get(name) else { continue };
            for (i, v) in stat_at.iter().zip(s.values()) {
                if let Some(cell) = i.and_then(|i| row.get_mut(i)) {
                    *cell = number_like(cell, v);
                }
            }
        }
    }
    // MariaDB lists a schema's tables in the order of their file names: by bytes.
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    set.rows = kept.into_iter().map(|(_, r)| r).collect();
    Ok(Outcome::Rows(set))
}

/// `SHOW INDEX FROM t` of a table spread over shards (or physical tables), run as `on` says
/// (each shard with its statement): the first one's rows (every copy has the same definition)
/// with each `Cardinality` summed (see
/// [`crate::rewrite::info_schema::Combined::cardinality`]).
async fn show_index(
    sh: &Shared,
    st: &mut SessionState,
    on: &[(ShardId, String)],
) -> Result<Outcome> {
    if on
        .first()
        .is_some_and(|(_, sql)| where_names(sql, &["Cardinality"]))
    {
        return Err(ProxyError::NotSupported(
            "SHOW INDEX WHERE on Cardinality of a sharded table (the shards' numbers are summed after the WHERE would run: read information_schema.STATISTICS instead)".into(),
        ));
    }
    let mut first: Option<RowSet> = None;
    let mut sums: BTreeMap<(Vec<u8>, u64), Option<i64>> = BTreeMap::new();
    let mut at: Option<(usize, usize, usize)> = None;
    for (k, sql) in on {
        let set = rows_on(sh, st, *k, sql).await?;
        let (key, seq, card) = match at {
            Some(a) => a,
            None => {
                let (Some(key), Some(seq), Some(card)) = (
                    column_at(&set, "Key_name"),
                    column_at(&set, "Seq_in_index"),
                    column_at(&set, "Cardinality"),
                ) else {
                    return Ok(Outcome::Rows(set));
                };
                at = Some((key, seq, card));
                (key, seq, card)
            }
        };
        for row in &set.rows {
            let (Some(Value::Bytes(name)), Some(n)) =
                (row.get(key), row.get(seq).and_then(value_num::<u64>))
            else {
                continue;
            };
            let c = row.get(card).and_then(value_num::<i64>);
            let e = sums.entry((name.clone(), n)).or_default();
            *e = add_cardinality(*e, c);
        }
        if first.is_none() {
            first = Some(set);
        }
    }
    let Some(mut set) = first else {
        return Err(ProxyError::NotSupported("SHOW INDEX on no shard".into()));
    };
    if let Some((key, seq, card)) = at {
        for row in &mut set.rows {
            let k = match (row.get(key), row.get(seq).and_then(value_num::<u64>)) {
                (Some(Value::Bytes(name)), Some(n)) => (name.clone(), n),
                _ => continue,
            };
            if let (Some(sum), Some(cell)) = (sums.get(&k), row.get_mut(card)) {
                *cell = match (sum, &*cell) {
                    (None, _) => Value::NULL,
                    (Some(n), Value::Int(_) | Value::UInt(_)) => Value::Int(*n),
                    (Some(n), _) => Value::Bytes(n.to_string().into_bytes()),
                };
            }
        }
    }
    Ok(Outcome::Rows(set))
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
        let targets = shards.iter().map(|&shard| Target::on(shard)).collect();
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
    // Statistics of sharded tables, combined over their shards, when the statement reads them.
    let reads = |v: &str| views.iter().any(|(_, n)| n.eq_ignore_ascii_case(v));
    let text = inlined.to_string();
    let want_tables = reads("TABLES") && mentions(&text, &TABLE_STAT_COLUMNS);
    let want_index = reads("STATISTICS") && mentions(&text, &["CARDINALITY"]);
    let combined = if want_tables || want_index {
        let names: Vec<String> = owners.schemas.iter().map(|o| o.name.clone()).collect();
        combine(sh, st, &names, want_tables, want_index).await?
    } else {
        Combined::default()
    };
    // A view whose columns are replaced on some shard (a split table renamed, statistics
    // combined) is written out column by column: its columns, as the backends name them.
    let renames: BTreeMap<ShardId, Vec<crate::rewrite::info_schema::Rename>> = plan
        .targets
        .iter()
        .map(|t| (t.shard, owners.renames(t.shard)))
        .collect();
    let any_rename = renames.values().any(|r| !r.is_empty());
    let mut view_columns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // What a column read from a view has and an expression has not (the flag "no default
    // value"; after a GROUP BY, the original names): the renamed columns' own, put back on the
    // result's columns read from them, as `(column, flag, view)`.
    let mut renamed_flags: Vec<(Vec<u8>, u16, Vec<u8>)> = Vec::new();
    for (_, name) in views {
        let upper = name.to_ascii_uppercase();
        let needed = matches!(view(name), View::Tables { .. })
            && (any_rename
                || (upper == "TABLES" && !combined.tables.is_empty())
                || (upper == "STATISTICS" && !combined.cardinality.is_empty()));
        if needed && !view_columns.contains_key(&upper) {
            let set = rows_on(
                sh,
                st,
                info_shard,
                &format!("SELECT * FROM information_schema.{upper} WHERE 1 = 0"),
            )
            .await?;
            if let View::Tables { table, .. } = view(name)
                && any_rename
            {
                renamed_flags.extend(
                    set.columns
                        .iter()
                        .filter(|c| names_table(table, &String::from_utf8_lossy(&c.name)))
                        .map(|c| {
                            let flag = c.flags & NO_DEFAULT_VALUE_FLAG;
                            (c.name.clone(), flag, upper.clone().into_bytes())
                        }),
                );
            }
            let cols = set
                .columns
                .iter()
                .map(|c| String::from_utf8_lossy(&c.name).into_owned())
                .collect();
            view_columns.insert(upper, cols);
        }
    }
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
                View::Tables { schema, table } => {
                    let pred = owners.tables_predicate(k, schema, table);
                    let upper = name.to_ascii_uppercase();
                    let columns = view_columns.get(&upper).map_or(&[][..], |c| &c[..]);
                    let renames = renames.get(&k).map_or(&[][..], |r| &r[..]);
                    view_body(
                        &upper,
                        (schema, table),
                        columns,
                        &pred,
                        k,
                        &combined,
                        renames,
                    )
                }
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
    let out = run_plan(sh, st, &plan, "", None, false, stream).await?;
    Ok(restore_view_columns(out, &renamed_flags))
}

/// The result's columns read from a renamed view column (see `read_info_schema`) get back
/// what the server gives a column read from a view: `(column, flag, view)` of each renamed
/// column (its "no default value" flag; after a GROUP BY, its original names too).
fn restore_view_columns(out: Outcome, renamed: &[(Vec<u8>, u16, Vec<u8>)]) -> Outcome {
    if renamed.is_empty() {
        return out;
    }
    let patch = |columns: &mut std::sync::Arc<Vec<crate::frontend::packets::ColumnDef>>| {
        for c in std::sync::Arc::make_mut(columns) {
            let from_view = !c.table.is_empty() && c.org_name.is_empty();
            let named = if from_view { &c.name } else { &c.org_name };
            let Some((n, f, v)) = renamed
                .iter()
                .find(|(n, _, _)| n.eq_ignore_ascii_case(named))
            else {
                continue;
            };
            if from_view {
                c.org_name.clone_from(n);
                c.org_table.clone_from(v);
            }
            c.flags |= f;
        }
    };
    match out {
        Outcome::Rows(mut set) => {
            patch(&mut set.columns);
            Outcome::Rows(set)
        }
        Outcome::Stream(mut s) => {
            patch(&mut s.columns);
            Outcome::Stream(s)
        }
        other => other,
    }
}

/// MySQL's column flag for a column without a default value.
const NO_DEFAULT_VALUE_FLAG: u16 = 0x1000;

/// Whether a statement's text names one of `columns` or selects every column (`*`, not the
/// one of `COUNT(*)`).
fn mentions(sql: &str, columns: &[&str]) -> bool {
    let t = tokens(sql, usize::MAX);
    t.iter().enumerate().any(|(i, x)| match x {
        Tok::Word(w) | Tok::Quoted(w) => columns.iter().any(|c| c.eq_ignore_ascii_case(w)),
        Tok::Sym('*') => {
            !(i > 0 && t[i - 1] == Tok::Sym('(') && t.get(i + 1) == Some(&Tok::Sym(')')))
        }
        _ => false,
    })
}

/// The statistics of the sharded tables of `schemas`, read on every shard that holds one and
/// combined (see [`TableStats`] and [`Combined`]): `tables` those of `TABLES`, `indexes` the
/// cardinalities of `STATISTICS`.
async fn combine(
    sh: &Shared,
    st: &mut SessionState,
    schemas: &[String],
    tables: bool,
    indexes: bool,
) -> Result<Combined> {
    let mut out = Combined::default();
    let mut holders: BTreeSet<ShardId> = BTreeSet::new();
    for name in schemas {
        if let Some(s) = sh.rules.schema(name) {
            for r in s.tables().filter(|r| spread(r)) {
                holders.extend(r.shards.iter().copied());
            }
        }
    }
    if holders.is_empty() {
        return Ok(out);
    }
    let list: Vec<String> = schemas.iter().map(|s| lit(s)).collect();
    let list = list.join(", ");
    // The physical tables of split tables, by schema.
    let split_names: BTreeMap<String, std::collections::HashMap<String, String>> = schemas
        .iter()
        .filter_map(|n| sh.rules.schema(n))
        .map(|s| (s.name.clone(), crate::config::split::logical_names(s)))
        .collect();
    // Where a row's numbers go, when its table is spread over shards including `k` (or is a
    // physical table of a split one): the owner and the name its row has there.
    let rule_of = |k: ShardId, schema: &str, table: &str| -> Option<(ShardId, String)> {
        let s = sh.rules.schema(schema)?;
        let logical = split_names
            .get(&s.name)
            .and_then(|m| m.get(&table.to_lowercase()));
        let r = s.table(logical.map_or(table, |l| l.as_str()))?;
        if let Some(split) = &r.split {
            return Some((split.shard_of(0), split.physical(0, &r.name)));
        }
        (spread(&r) && r.shards.contains(&k)).then(|| (owner_of(s, Some(&r)), table.to_string()))
    };
    for k in holders {
        if tables {
            let set = rows_on(
                sh,
                st,
                k,
                &format!("SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ({list})"),
            )
            .await?;
            let (Some(sc), Some(tc)) = (
                column_at(&set, "TABLE_SCHEMA"),
                column_at(&set, "TABLE_NAME"),
            ) else {
                continue;
            };
            let at = TABLE_STAT_COLUMNS.map(|c| column_at(&set, c));
            for row in &set.rows {
                let (Some(schema), Some(table)) = (
                    row.get(sc).and_then(value_text),
                    row.get(tc).and_then(value_text),
                ) else {
                    continue;
                };
                let Some((owner, table)) = rule_of(k, &schema, &table) else {
                    continue;
                };
                let v = at.map(|i| i.and_then(|i| row.get(i)).and_then(value_num::<u64>));
                out.tables
                    .entry((schema, table))
                    .or_insert((owner, TableStats::default()))
                    .1
                    .add(&TableStats::from_shard(v));
            }
        }
        if indexes {
            let set = rows_on(
                sh,
                st,
                k,
                &format!(
                    "SELECT * FROM information_schema.STATISTICS WHERE TABLE_SCHEMA IN ({list})"
                ),
            )
            .await?;
            let cols = [
                "TABLE_SCHEMA",
                "TABLE_NAME",
                "INDEX_NAME",
                "SEQ_IN_INDEX",
                "CARDINALITY",
            ]
            .map(|c| column_at(&set, c));
            let [Some(sc), Some(tc), Some(ic), Some(qc), Some(cc)] = cols else {
                continue;
            };
            for row in &set.rows {
                let (Some(schema), Some(table), Some(index), Some(seq)) = (
                    row.get(sc).and_then(value_text),
                    row.get(tc).and_then(value_text),
                    row.get(ic).and_then(value_text),
                    row.get(qc).and_then(value_num::<u64>),
                ) else {
                    continue;
                };
                let Some((owner, table)) = rule_of(k, &schema, &table) else {
                    continue;
                };
                let c = row.get(cc).and_then(value_num::<i64>);
                let e = out
                    .cardinality
                    .entry((schema, table, index, seq))
                    .or_insert((owner, None));
                e.1 = add_cardinality(e.1, c);
            }
        }
    }
    Ok(out)
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
                s.tables()
                    .filter(|r| r.split.is_none())
                    .map(|r| (r.name.clone(), owner_of(s, Some(r.as_ref())))),
            )
            .with_split(
                s.tables()
                    .filter_map(|r| {
                        let split = r.split.as_ref()?;
                        Some(SplitOwner {
                            logical: r.name.clone(),
                            physical: split.physical_names(&r.name),
                            owner: split.shard_of(0),
                        })
                    })
                    .collect(),
            )
        })
        .collect()
}
