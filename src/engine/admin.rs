//! The proxy is a privilege boundary (DESIGN.md): the backend account has rights an application
//! user must not get through the proxy. Every statement passes [`gate`] first, which
//!
//! - refuses what administers a server (accounts, grants, SET GLOBAL, FLUSH, replication
//!   control, plugins, file access, the backends' `mysql`, `performance_schema` and `sys`
//!   schemas, logical schemas the user may not use) unless the user is an admin of the rules
//!   (`admin = true`), with MySQL's codes: 1227, 1142 for a table, 1044 for a schema;
//! - answers `SHOW PROCESSLIST`, `KILL` and `SHOW GRANTS` about the proxy's own sessions and
//!   users, for everyone (admins included: the backends' threads are pooled connections).
//!
//! Recognition is by tokens ([`crate::sql::privilege`]), so statements the parser refuses and
//! executable comments are covered; a fast scan for a few words spares that on most statements.

use super::sessions::{Entry, Sessions};
use super::{SessionState, Shared, local::ok, proxy_views, run_plan};
use crate::config::Rules;
use crate::error::{ProxyError, Result};
use crate::execute::Outcome;
use crate::sql::command::{Command, PrepareFrom, SetItem};
use crate::sql::privilege::{self, Admin, KillTarget, NEEDLES, system_schema};
use aho_corasick::AhoCorasick;
use mysql_async::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Session variables only a server administrator may set (MySQL asks for SUPER): they change
/// what the binlog records or how replication sees the connection.
const SUPER_SESSION_VARS: [&str; 11] = [
    "sql_log_bin",
    "sql_log_off",
    "binlog_format",
    "gtid_domain_id",
    "gtid_seq_no",
    "server_id",
    "pseudo_thread_id",
    "pseudo_slave_mode",
    "skip_replication",
    "debug",
    "debug_dbug",
];

/// What the gate needs, shared by every session.
pub struct AdminState {
    /// The proxy's client sessions.
    pub sessions: Arc<Sessions>,
    /// Per user: the words whose presence calls for a full token scan (system schema names,
    /// file access, and the logical schemas the user may not use). `None`: no matcher could
    /// be built (absurdly many names), so every statement is scanned.
    needles: HashMap<String, Option<AhoCorasick>>,
}

fn matcher<'a>(words: impl Iterator<Item = &'a str>) -> Option<AhoCorasick> {
    let words: Vec<&str> = NEEDLES.iter().copied().chain(words).collect();
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&words)
        .ok()
}

impl AdminState {
    /// The gate's state for `rules`, listing sessions in `sessions`.
    pub fn new(rules: &Rules, sessions: Arc<Sessions>) -> AdminState {
        let needles = rules
            .users
            .iter()
            .map(|u| {
                let forbidden = rules
                    .schemas
                    .iter()
                    .filter(|s| !u.may_use(&s.name))
                    .map(|s| s.name.as_str());
                (u.name.clone(), matcher(forbidden))
            })
            .collect();
        AdminState { sessions, needles }
    }

    /// Whether `sql` may name a system schema, access files, or name a schema `user` may not
    /// use (false: it certainly does not).
    pub(super) fn may_touch(&self, user: &str, sql: &str) -> bool {
        match self.needles.get(user) {
            Some(Some(m)) => m.is_match(sql),
            _ => true,
        }
    }
}

/// Whether the session's user is an admin of the rules.
pub(super) fn is_admin(sh: &Shared, st: &SessionState) -> bool {
    sh.rules.user(&st.user).is_some_and(|u| u.admin)
}

/// Checks `sql` (classified as `cmd`) before it runs: `Some` is the answer (a refusal, or what
/// the proxy answers itself), `None` lets the statement go on.
pub(super) async fn gate(
    sh: &Shared,
    st: &mut SessionState,
    sql: &str,
    params: Option<&[Value]>,
    cmd: &Command,
) -> Option<Result<Outcome>> {
    let admin = is_admin(sh, st);
    match cmd {
        Command::SetStatement { stmt, .. } => match privilege::classify(stmt) {
            Some(Admin::Kill { .. } | Admin::ShowProcesslist { .. } | Admin::ShowGrants { .. }) => {
                return Some(Err(ProxyError::NotSupported(
                    "SET STATEMENT ... FOR a statement the proxy answers itself".into(),
                )));
            }
            Some(a) => {
                if let Some(r) = act(sh, st, a, params, sql, cmd, admin).await {
                    return Some(r);
                }
            }
            None => {}
        },
        Command::Prepare { from, .. } => {
            // Checked when prepared (as MySQL does), and again at each EXECUTE.
            let text = match from {
                PrepareFrom::Text(b) => Some(crate::sql::text::decode(b).into_owned()),
                PrepareFrom::Var(v) => st
                    .user_vars
                    .get(v)
                    .and_then(|x| x.text())
                    .map(|b| crate::sql::text::decode(&b).into_owned()),
            };
            if let Some(text) = text {
                let refused = privilege::classify(&text).and_then(|a| refusal(&a, admin));
                let refs = sh
                    .admin
                    .may_touch(&st.user, &text)
                    .then(|| check_refs(sh, st, &text, admin));
                if let Some(e) = refused.or(refs.and_then(Result::err)) {
                    return Some(Err(e));
                }
            }
        }
        Command::Set(items) if !admin => {
            let restricted = items.iter().find_map(|i| match i {
                SetItem::Session { name, .. } if SUPER_SESSION_VARS.contains(&name.as_str()) => {
                    Some(name)
                }
                _ => None,
            });
            if restricted.is_some() {
                return Some(Err(ProxyError::Privilege("SUPER".into())));
            }
        }
        _ => {}
    }
    if let Some(a) = privilege::classify(sql)
        && let Some(r) = act(sh, st, a, params, sql, cmd, admin).await
    {
        return Some(r);
    }
    if sh.admin.may_touch(&st.user, sql)
        && let Err(e) = check_refs(sh, st, sql, admin)
    {
        return Some(Err(e));
    }
    if let Some(r) = super::system_schema::show(sh, st, sql, cmd).await {
        return Some(r);
    }
    super::system_schema::alter_database(sh, st, sql, cmd).await
}

/// What an administrative statement gets: `None` lets it run (an admin's).
async fn act(
    sh: &Shared,
    st: &mut SessionState,
    a: Admin,
    params: Option<&[Value]>,
    sql: &str,
    cmd: &Command,
    admin: bool,
) -> Option<Result<Outcome>> {
    if let Some(e) = refusal(&a, admin) {
        return Some(Err(e));
    }
    match a {
        Admin::Privileged { .. } | Admin::Never { .. } => None,
        Admin::SetGlobal => Some(set_global(sh, st, sql, cmd).await),
        Admin::Kill { query, target } => Some(kill(sh, st, admin, query, target, params).await),
        Admin::ShowProcesslist { full } => Some(Ok(proxy_views::show_processlist(
            proxy_views::visible_sessions(sh, st, admin),
            full,
        ))),
        Admin::ShowGrants { user } => {
            Some(proxy_views::show_grants(sh, st, admin, user.as_deref()))
        }
        Admin::Promote { shard, replica } => Some(super::promotion::run(sh, &shard, replica).await),
        Admin::PromoteSyntax(text) => Some(Err(ProxyError::Syntax(format!(
            "{text}: expected PROMOTE REPLICA [n] OF SHARD name"
        )))),
        Admin::ExplainShards(text) => Some(proxy_views::explain_shards(sh, st, &text)),
        Admin::ShowShards => Some(Ok(proxy_views::show_shards(sh))),
        Admin::ShowRules => Some(Ok(proxy_views::show_rules(sh))),
        Admin::ShowSessions => Some(Ok(proxy_views::show_sessions(
            sh,
            proxy_views::visible_sessions(sh, st, admin),
        ))),
        Admin::ShowStats => Some(Ok(proxy_views::show_stats(sh))),
        Admin::ReloadRules { force } => Some(
            super::reload::reload(sh, force)
                .await
                .map(|lines| proxy_views::lines("result", &lines)),
        ),
    }
}

/// The refusal an administrative statement gets (`None`: it may run, or is the proxy's own).
fn refusal(a: &Admin, admin: bool) -> Option<ProxyError> {
    match a {
        Admin::Privileged { privilege } if !admin => {
            Some(ProxyError::Privilege((*privilege).into()))
        }
        Admin::Never { why, .. } if admin => Some(ProxyError::NotSupported((*why).into())),
        Admin::Never { privilege, .. } => Some(ProxyError::Privilege((*privilege).into())),
        Admin::SetGlobal if !admin => Some(ProxyError::Privilege("SUPER".into())),
        Admin::Promote { .. }
        | Admin::PromoteSyntax(_)
        | Admin::ExplainShards(_)
        | Admin::ShowShards
        | Admin::ShowRules
        | Admin::ShowStats
        | Admin::ReloadRules { .. }
            if !admin =>
        {
            Some(ProxyError::Privilege("SUPER".into()))
        }
        _ => None,
    }
}

/// File access and the schemas `sql` names: the backends' own (admins only, except
/// information_schema, which the system-schema path answers) and logical schemas the user may
/// not use.
fn check_refs(sh: &Shared, st: &SessionState, sql: &str, admin: bool) -> Result<()> {
    let user = sh.rules.user(&st.user);
    let forbidden = |s: &str| {
        sh.rules
            .schemas
            .iter()
            .any(|x| x.name.eq_ignore_ascii_case(s) && !user.is_some_and(|u| u.may_use(&x.name)))
    };
    let scan = privilege::scan(sql, |s| system_schema(s).is_some() || forbidden(s));
    if let Some(what) = scan.file
        && !admin
    {
        tracing::debug!("refused file access ({what}) to {}", st.user);
        return Err(ProxyError::Privilege("FILE".into()));
    }
    for r in scan.refs {
        let backend_own = matches!(
            system_schema(&r.schema),
            Some("mysql" | "performance_schema" | "sys")
        );
        if (backend_own && !admin) || forbidden(&r.schema) {
            return Err(match r.table {
                Some(table) => ProxyError::TableDenied {
                    command: verb(sql),
                    user: st.user.clone(),
                    host: st.host.clone(),
                    schema: r.schema,
                    table,
                },
                None => ProxyError::SchemaDenied {
                    user: st.user.clone(),
                    schema: r.schema,
                },
            });
        }
    }
    Ok(())
}

/// The command MySQL names in a table-access error (1142): the statement's first word, SELECT
/// for the statements that read.
fn verb(sql: &str) -> String {
    let first = crate::sql::lexer::tokens(sql, 1);
    match first.first() {
        Some(crate::sql::lexer::Tok::Word(w))
            if matches!(
                w.as_str(),
                "INSERT"
                    | "UPDATE"
                    | "DELETE"
                    | "REPLACE"
                    | "CREATE"
                    | "DROP"
                    | "ALTER"
                    | "TRUNCATE"
                    | "GRANT"
                    | "LOCK"
                    | "HANDLER"
            ) =>
        {
            w.clone()
        }
        _ => "SELECT".into(),
    }
}

/// An admin's `SET GLOBAL ...`: on every shard's primary, since a global setting is the whole
/// logical server's. Mixed with session settings it is refused (they would be lost on a pooled
/// connection).
async fn set_global(
    sh: &Shared,
    st: &mut SessionState,
    sql: &str,
    cmd: &Command,
) -> Result<Outcome> {
    if let Command::Set(items) = cmd
        && items.iter().any(|i| !matches!(i, SetItem::Global(_)))
    {
        return Err(ProxyError::NotSupported(
            "SET GLOBAL mixed with session settings in one statement (run them separately)".into(),
        ));
    }
    let plan = crate::route::router::all_shards(sh.rules.shards.len(), true);
    run_plan(sh, st, &plan, sql, None, false, false).await
}

/// `KILL [CONNECTION | QUERY] id`, `KILL USER name`: on the proxy's sessions. A user may kill
/// their own sessions; an admin any. KILL QUERY interrupts the session's backend statements
/// (the client gets 1317, its transaction stays open); KILL CONNECTION does that too, then ends
/// the session (its transaction is rolled back, its client's connection closed).
async fn kill(
    sh: &Shared,
    st: &SessionState,
    admin: bool,
    query: bool,
    target: KillTarget,
    params: Option<&[Value]>,
) -> Result<Outcome> {
    let id = match target {
        KillTarget::Id(id) => id,
        KillTarget::Current => u64::from(st.conn_id),
        KillTarget::Param => match params.and_then(|p| p.first()) {
            Some(Value::Int(i)) => u64::try_from(*i).unwrap_or(u64::MAX),
            Some(Value::UInt(u)) => *u,
            Some(Value::Bytes(b)) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(u64::MAX),
            _ => u64::MAX,
        },
        KillTarget::User(name) => {
            if !admin && name != st.user {
                return Err(ProxyError::Privilege("CONNECTION ADMIN".into()));
            }
            let victims: Vec<Arc<Entry>> = sh
                .admin
                .sessions
                .all()
                .into_iter()
                .filter(|e| e.user() == name && e.id != st.conn_id)
                .collect();
            for e in victims {
                stop(sh, &e, query).await;
            }
            return Ok(ok());
        }
        KillTarget::Other(text) => {
            return Err(ProxyError::NotSupported(format!(
                "{text} (KILL takes a connection id: see SHOW PROCESSLIST)"
            )));
        }
    };
    let entry = u32::try_from(id)
        .ok()
        .and_then(|id| sh.admin.sessions.get(id))
        .ok_or_else(|| ProxyError::Sql {
            code: 1094,
            state: "HY000",
            message: format!("Unknown thread id: {id}"),
        })?;
    if !admin && entry.user() != st.user {
        return Err(ProxyError::Sql {
            code: 1095,
            state: "HY000",
            message: format!("You are not owner of thread {id}"),
        });
    }
    stop(sh, &entry, query).await;
    if entry.id == st.conn_id {
        // What MariaDB answers a session that kills itself.
        return Err(if query {
            ProxyError::interrupted()
        } else {
            ProxyError::Sql {
                code: 1927,
                state: "70100",
                message: "Connection was killed".into(),
            }
        });
    }
    Ok(ok())
}

/// Interrupts `e`'s backend statements, and ends the session unless only its query is killed.
async fn stop(sh: &Shared, e: &Entry, query_only: bool) {
    {
        let (_hold, running) = e.in_flight.interrupt().await;
        for (shard_name, thread) in running {
            // On the server it runs on: a shard's primary or one of its replicas.
            let Some(server) = sh.backends.server_named(&shard_name) else {
                continue;
            };
            let sent = async {
                let mut c = sh.backends.connect_unpooled(server).await?;
                let r = c.query_drop(format!("KILL QUERY {thread}")).await.map(drop);
                c.quit().await;
                r
            };
            // The statement may have ended meanwhile (1094); a backend that does not answer
            // leaves the statement to its own timeout: nothing the killer can do either way.
            if let Err(err) = tokio::time::timeout(sh.backends.timeout(), sent)
                .await
                .unwrap_or(Ok(()))
            {
                tracing::debug!("KILL QUERY {thread} on {shard_name}: {err}");
            }
        }
    }
    if !query_only {
        e.kill();
    }
}
