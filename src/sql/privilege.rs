//! Statements that administer a server, file access, and references to schemas, recognised
//! from the statement's tokens. Never from the AST alone: sqlparser refuses many of these
//! statements (`CREATE USER ... IDENTIFIED BY`, `SELECT ... INTO OUTFILE`, `LOAD DATA`), and it
//! drops executable comments (`/*! ... */`, `/*M! ... */`) whose content the server runs, so a
//! check on the AST could be bypassed by `SELECT 1 /*!, LOAD_FILE('/etc/passwd') */`. The
//! policy (who may run what) lives in `engine::admin`; this module only says what a statement is.

use super::lexer::{Tok, spanned_tokens, tokens};

/// What an administrative statement is, decided by its leading words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admin {
    /// Administers a server. Refused (1227, naming `privilege` as MySQL does) unless the user
    /// is an admin; an admin's statement runs on a backend like any other.
    Privileged { privilege: &'static str },
    /// `SET GLOBAL`/`SET PERSIST`/`SET @@global.x`: 1227 unless admin; an admin's runs on
    /// every shard, since a global setting is the logical server's.
    SetGlobal,
    /// Never through the proxy: non-admins get 1227 naming `privilege`, admins 1235 saying
    /// `why` (`SET PASSWORD` would change the backend account's password, `SHUTDOWN` would
    /// stop one shard).
    Never {
        privilege: &'static str,
        why: &'static str,
    },
    /// `KILL [HARD|SOFT] [CONNECTION|QUERY] target`: acts on the proxy's sessions.
    Kill { query: bool, target: KillTarget },
    /// `SHOW [FULL] PROCESSLIST`: the proxy's sessions.
    ShowProcesslist { full: bool },
    /// `SHOW GRANTS [FOR ...]`: the rules' view of a user.
    ShowGrants { user: Option<String> },
    /// `PROMOTE REPLICA [n] OF SHARD name`: the proxy makes a replica its shard's primary
    /// (admins only). `replica`: the replica's number (from 0), `None` for the most advanced.
    Promote {
        shard: String,
        replica: Option<usize>,
    },
    /// A `PROMOTE` statement of another form: its text, for the syntax error.
    PromoteSyntax(String),
    /// `SHOW SHARDS`: every backend server, its role, health, lag and pools (admins only).
    ShowShards,
    /// `EXPLAIN SHARDS statement`: the plan the proxy makes for the statement, without running
    /// it (admins only). Holds the statement's text.
    ExplainShards(String),
    /// `RELOAD RULES [FORCE]`: read the rules file again and put it in force (admins only).
    ReloadRules { force: bool },
    /// `SHOW RULES`: the rules file in force, its digest and when it was loaded (admins only).
    ShowRules,
    /// `SHOW SESSIONS`: the proxy's client sessions with their transactions and pinned shards
    /// (everyone; non-admins see their own, as with SHOW PROCESSLIST).
    ShowSessions,
    /// `SHOW STATS`: statement counts and latency percentiles by route type and by shard
    /// (admins only).
    ShowStats,
}

/// Whom a KILL names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KillTarget {
    /// A session id (the client's `CONNECTION_ID()`).
    Id(u64),
    /// `KILL CONNECTION_ID()`: the session itself.
    Current,
    /// `KILL ?` in a prepared statement: the first bound value.
    Param,
    /// `KILL USER name`: every session of that user.
    User(String),
    /// Anything else (`KILL QUERY ID n`, an expression): the text, for the refusal.
    Other(String),
}

/// A schema the statement names, with the table when it names one (`db.t`); `None` for
/// `USE db`, `SHOW TABLES FROM db`, `DROP DATABASE db` and the like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaRef {
    pub schema: String,
    pub table: Option<String>,
}

/// What a full scan of the tokens found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// File access (`INTO OUTFILE`, `INTO DUMPFILE`, `LOAD_FILE(`, `DATA DIRECTORY`): the
    /// construct, for the refusal.
    pub file: Option<&'static str>,
    /// The schemas named that `interesting` accepted, in order.
    pub refs: Vec<SchemaRef>,
}

/// The backends' own schemas.
pub const SYSTEM_SCHEMAS: [&str; 4] = ["information_schema", "mysql", "performance_schema", "sys"];

/// Words whose presence (case-insensitively, anywhere in the text) makes a full [`scan`]
/// worth its cost: every construct [`scan`] reports contains one of them (or the name of a
/// schema, which the caller adds).
pub const NEEDLES: [&str; 8] = [
    "information_schema",
    "mysql",
    "performance_schema",
    "sys",
    "outfile",
    "dumpfile",
    "load_file",
    "directory",
];

fn word(t: Option<&Tok>) -> &str {
    match t {
        Some(Tok::Word(w)) => w,
        _ => "",
    }
}

/// An identifier as written: a bare word (its case re-read from `sql` is not needed for schema
/// names compared case-insensitively), a back-quoted name, or a double-quoted one
/// (`ANSI_QUOTES`).
fn ident(t: Option<&Tok>) -> Option<String> {
    match t {
        Some(Tok::Word(w)) => Some(w.to_ascii_lowercase()),
        Some(Tok::Quoted(q)) | Some(Tok::Str(q)) => Some(q.clone()),
        _ => None,
    }
}

/// Whether the first word can start an administrative statement (the hot path stops here).
fn may_be_admin(w0: &str) -> bool {
    matches!(
        w0,
        "CREATE"
            | "ALTER"
            | "DROP"
            | "RENAME"
            | "GRANT"
            | "REVOKE"
            | "SET"
            | "KILL"
            | "SHUTDOWN"
            | "RESTART"
            | "INSTALL"
            | "UNINSTALL"
            | "LOAD"
            | "CHANGE"
            | "START"
            | "STOP"
            | "RESET"
            | "PURGE"
            | "FLUSH"
            | "BINLOG"
            | "SHOW"
            | "EXPLAIN"
            | "PROMOTE"
            | "RELOAD"
    )
}

/// The administrative statement `sql` is, by its leading words; `None` for any other.
pub fn classify(sql: &str) -> Option<Admin> {
    let head = tokens(sql, 1);
    if !may_be_admin(word(head.first())) {
        return None;
    }
    let t = tokens(sql, 12);
    let w = |i: usize| word(t.get(i));
    let privileged = |privilege| Some(Admin::Privileged { privilege });
    match w(0) {
        "CREATE" | "ALTER" | "DROP" => {
            // CREATE OR REPLACE USER, DROP USER IF EXISTS, ...
            let mut i = 1;
            if w(1) == "OR" && w(2) == "REPLACE" {
                i = 3;
            }
            match w(i) {
                "USER" | "ROLE" => privileged("CREATE USER"),
                "SERVER" | "INSTANCE" => privileged("SUPER"),
                // A user-defined function from a shared library (a row of mysql.func).
                "FUNCTION" | "AGGREGATE"
                    if tokens(sql, usize::MAX)
                        .iter()
                        .any(|x| *x == Tok::Word("SONAME".into())) =>
                {
                    privileged("INSERT, DELETE on mysql.func")
                }
                _ => None,
            }
        }
        "RENAME" if w(1) == "USER" => privileged("CREATE USER"),
        "GRANT" | "REVOKE" => privileged("GRANT OPTION"),
        "SET" => classify_set(&t),
        "KILL" => Some(classify_kill(sql, &t)),
        "SHUTDOWN" | "RESTART" => Some(Admin::Never {
            privilege: "SHUTDOWN",
            why: "SHUTDOWN/RESTART through shardgate (it would stop one shard: stop a server on its own host)",
        }),
        "INSTALL" | "UNINSTALL" => privileged("INSERT, DELETE on mysql.plugin"),
        "LOAD" if matches!(w(1), "DATA" | "XML") => {
            if t.iter().take(6).any(|x| *x == Tok::Word("LOCAL".into())) {
                Some(Admin::Never {
                    privilege: "FILE",
                    why: "LOAD DATA LOCAL INFILE (shardgate does not relay a client's file; load the rows with INSERT)",
                })
            } else {
                privileged("FILE")
            }
        }
        "CHANGE" if matches!(w(1), "MASTER" | "REPLICATION") => privileged("SUPER"),
        "START" | "STOP" if matches!(w(1), "SLAVE" | "REPLICA" | "ALL" | "GROUP_REPLICATION") => {
            privileged("SUPER")
        }
        "RESET" => privileged("RELOAD"),
        "PURGE" => privileged("SUPER"),
        "FLUSH" => privileged("RELOAD"),
        "BINLOG" => privileged("SUPER"),
        "SHOW" => classify_show(sql, &t),
        "PROMOTE" => Some(classify_promote(sql, &t)),
        "RELOAD" if w(1) == "RULES" && only(&t, 2 + usize::from(w(2) == "FORCE")) => {
            Some(Admin::ReloadRules {
                force: w(2) == "FORCE",
            })
        }
        "EXPLAIN" if w(1) == "SHARDS" => {
            let rest = spanned_tokens(sql, 2)
                .get(1)
                .map_or("", |(_, span)| &sql[span.end..]);
            Some(Admin::ExplainShards(rest.trim().to_string()))
        }
        // MySQL's EXPLAIN FOR CONNECTION n: another thread's plan.
        "EXPLAIN"
            if t.iter()
                .take(6)
                .any(|x| *x == Tok::Word("CONNECTION".into())) =>
        {
            privileged("PROCESS")
        }
        _ => None,
    }
}

fn classify_set(t: &[Tok]) -> Option<Admin> {
    let w = |i: usize| word(t.get(i));
    match w(1) {
        "PASSWORD" => Some(Admin::Never {
            privilege: "CREATE USER",
            why: "SET PASSWORD through shardgate (it would change the backend account's password; proxy users' passwords are in the rules file)",
        }),
        "ROLE" | "DEFAULT" if w(1) == "ROLE" || w(2) == "ROLE" => Some(Admin::Never {
            privilege: "CREATE USER",
            why: "SET ROLE / SET DEFAULT ROLE through shardgate (roles are the backend account's; proxy users' rights are in the rules file)",
        }),
        "GLOBAL" | "PERSIST" | "PERSIST_ONLY" => Some(Admin::SetGlobal),
        _ => {
            // SET @@global.x = ... anywhere in the list.
            let global = t.windows(4).any(|x| {
                x[0] == Tok::Sym('@')
                    && x[1] == Tok::Sym('@')
                    && matches!(word(x.get(2)), "GLOBAL" | "PERSIST" | "PERSIST_ONLY")
                    && x[3] == Tok::Sym('.')
            });
            global.then_some(Admin::SetGlobal)
        }
    }
}

/// `PROMOTE REPLICA [n] OF SHARD name` (`name` as written, compared case-insensitively).
fn classify_promote(sql: &str, t: &[Tok]) -> Admin {
    let w = |i: usize| word(t.get(i));
    let (replica, at) = match t.get(2) {
        Some(Tok::Num(n)) => match n.parse() {
            Ok(r) => (Some(r), 3),
            Err(_) => return Admin::PromoteSyntax(sql.trim().to_string()),
        },
        _ => (None, 2),
    };
    let name = match t.get(at + 2) {
        Some(Tok::Quoted(q) | Tok::Str(q)) => Some(q.clone()),
        Some(Tok::Word(w)) => Some(w.clone()),
        _ => None,
    };
    match name {
        Some(shard)
            if matches!(w(1), "REPLICA" | "SLAVE")
                && w(at) == "OF"
                && w(at + 1) == "SHARD"
                && (t.len() == at + 3 || (t.len() == at + 4 && t[at + 3] == Tok::Sym(';'))) =>
        {
            Admin::Promote { shard, replica }
        }
        _ => Admin::PromoteSyntax(sql.trim().to_string()),
    }
}

fn classify_kill(sql: &str, t: &[Tok]) -> Admin {
    let mut i = 1;
    if matches!(word(t.get(i)), "HARD" | "SOFT") {
        i += 1;
    }
    let mut query = false;
    match word(t.get(i)) {
        "CONNECTION" => i += 1,
        "QUERY" => {
            query = true;
            i += 1;
        }
        "USER" => {
            let name = ident(t.get(i + 1)).unwrap_or_default();
            return Admin::Kill {
                query,
                target: KillTarget::User(name),
            };
        }
        _ => {}
    }
    let rest = &t[i.min(t.len())..];
    let target = match rest {
        [Tok::Num(n)] => match n.parse() {
            Ok(id) => KillTarget::Id(id),
            Err(_) => KillTarget::Other(sql.trim().to_string()),
        },
        [Tok::Sym('?')] => KillTarget::Param,
        [Tok::Word(f), Tok::Sym('('), Tok::Sym(')')] if f == "CONNECTION_ID" => KillTarget::Current,
        _ => KillTarget::Other(sql.trim().to_string()),
    };
    Admin::Kill { query, target }
}

/// Whether `t` ends after `n` tokens (an optional `;` aside).
fn only(t: &[Tok], n: usize) -> bool {
    t.len() == n || (t.len() == n + 1 && t[n] == Tok::Sym(';'))
}

fn classify_show(sql: &str, t: &[Tok]) -> Option<Admin> {
    let mut i = 1;
    if matches!(word(t.get(i)), "FULL" | "GLOBAL" | "SESSION" | "ALL") {
        i += 1;
    }
    let w = |j: usize| word(t.get(j));
    let replication = Some(Admin::Privileged {
        privilege: "REPLICATION CLIENT",
    });
    match w(i) {
        "SHARDS" if i == 1 && only(t, 2) => Some(Admin::ShowShards),
        "RULES" if i == 1 && only(t, 2) => Some(Admin::ShowRules),
        "SESSIONS" if i == 1 && only(t, 2) => Some(Admin::ShowSessions),
        "STATS" if i == 1 && only(t, 2) => Some(Admin::ShowStats),
        "PROCESSLIST" => Some(Admin::ShowProcesslist {
            full: w(1) == "FULL",
        }),
        "GRANTS" => Some(Admin::ShowGrants {
            user: grants_for(sql),
        }),
        "MASTER" | "BINARY" | "BINLOG" | "RELAYLOG" => replication,
        "SLAVE" | "SLAVES" | "REPLICA" | "REPLICAS" => replication,
        "ENGINE" | "MUTEX" => Some(Admin::Privileged {
            privilege: "PROCESS",
        }),
        // MariaDB's SHOW EXPLAIN/ANALYZE FOR thread: another thread's plan.
        "EXPLAIN" | "ANALYZE" if w(i + 1) == "FOR" => Some(Admin::Privileged {
            privilege: "PROCESS",
        }),
        "USER_STATISTICS" | "CLIENT_STATISTICS" | "INDEX_STATISTICS" | "TABLE_STATISTICS" => {
            Some(Admin::Privileged {
                privilege: "PROCESS",
            })
        }
        "CREATE" if w(i + 1) == "USER" => Some(Admin::Privileged {
            privilege: "CREATE USER",
        }),
        _ => None,
    }
}

/// The user of `SHOW GRANTS FOR ...` (`None`: the current user), as written.
fn grants_for(sql: &str) -> Option<String> {
    let t = spanned_tokens(sql, 8);
    let at = t.iter().position(|(x, _)| *x == Tok::Word("FOR".into()))?;
    match t.get(at + 1) {
        Some((Tok::Word(w), _)) if w == "CURRENT_USER" => None,
        // A bare word keeps its case: user names are exact.
        Some((Tok::Word(_), r)) => sql.get(r.clone()).map(str::to_string),
        Some((Tok::Quoted(q) | Tok::Str(q), _)) => Some(q.clone()),
        _ => None,
    }
}

/// Scans every token of `sql` for file access and for schema references whose schema name
/// (lower-cased for bare words) `interesting` accepts.
pub fn scan(sql: &str, interesting: impl Fn(&str) -> bool) -> Scan {
    let t = tokens(sql, usize::MAX);
    let mut out = Scan::default();
    let show = word(t.first()) == "SHOW";
    for (i, tok) in t.iter().enumerate() {
        let next = t.get(i + 1);
        let prev = i.checked_sub(1).and_then(|p| t.get(p));
        match tok {
            Tok::Word(w) => {
                let file = match (w.as_str(), word(next)) {
                    ("INTO", "OUTFILE") => Some("SELECT ... INTO OUTFILE"),
                    ("INTO", "DUMPFILE") => Some("SELECT ... INTO DUMPFILE"),
                    ("LOAD_FILE", _) if next == Some(&Tok::Sym('(')) => Some("LOAD_FILE()"),
                    ("DATA" | "INDEX", "DIRECTORY") => Some("DATA/INDEX DIRECTORY"),
                    _ => None,
                };
                if file.is_some() && out.file.is_none() {
                    out.file = file;
                }
                // Schema-level references: USE db, DATABASE db, SHOW ... FROM|IN db.
                let schema_at = match w.as_str() {
                    "USE" if i == 0 => Some(i + 1),
                    "DATABASE" | "SCHEMA" => {
                        let mut j = i + 1;
                        if word(t.get(j)) == "IF" {
                            j += if word(t.get(j + 1)) == "NOT" { 3 } else { 2 };
                        }
                        Some(j)
                    }
                    "FROM" | "IN" if show => Some(i + 1),
                    _ => None,
                };
                if let Some(j) = schema_at
                    && t.get(j + 1) != Some(&Tok::Sym('.'))
                    && let Some(s) = ident(t.get(j))
                    && interesting(&s)
                {
                    out.refs.push(SchemaRef {
                        schema: s,
                        table: None,
                    });
                }
            }
            Tok::Sym('.') if prev.is_some() => {
                // `db.t`, unless `db` itself follows a dot (`db.t.col`: `t.col` is no schema).
                let before = i.checked_sub(2).and_then(|p| t.get(p));
                if before == Some(&Tok::Sym('.')) {
                    continue;
                }
                let (Some(schema), Some(table)) = (ident(prev), next) else {
                    continue;
                };
                let table = match table {
                    Tok::Sym('*') => "*".to_string(),
                    other => match ident(Some(other)) {
                        Some(n) => n,
                        None => continue,
                    },
                };
                if interesting(&schema) {
                    out.refs.push(SchemaRef {
                        schema,
                        table: Some(table),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// Which of the backends' own schemas `name` is (case-insensitively), if any.
pub fn system_schema(name: &str) -> Option<&'static str> {
    SYSTEM_SCHEMAS
        .iter()
        .find(|s| s.eq_ignore_ascii_case(name))
        .copied()
}

#[cfg(test)]
#[path = "privilege_tests.rs"]
mod tests;
