//! The statements the session acts on, recognised by their leading words rather than parsed:
//! transaction control, SET (session, user and transaction variables, `SET STATEMENT ... FOR`),
//! USE and SHOW. sqlparser refuses several of them (`START TRANSACTION WITH CONSISTENT
//! SNAPSHOT`, `SET x := y`, `SET CHARACTER SET`, `XA ...`, SHOW forms with LIKE), and these hot,
//! simple statements need no AST.

use super::lexer::{Tok, spanned_tokens, tokens};
use super::split::{Program, stored_program};

/// A `SET` assignment the session must act on. Values are kept as the client's text (the
/// byte range after `=` / `:=`), so they can be run or evaluated unchanged.
#[derive(Clone, Debug, PartialEq)]
pub enum SetItem {
    /// `SET autocommit = 0|1|ON|OFF`.
    Autocommit(bool),
    /// `SET NAMES cs [COLLATE c]` / `SET CHARACTER SET cs` / `SET CHARSET cs`: the item's text.
    Names(String),
    /// `SET GLOBAL ...`, `SET PERSIST ...`, `SET @@global.x = ...`: administers a server.
    Global(String),
    /// `SET @name = value`: a user variable (`name` lower-cased: they are case-insensitive).
    UserVar { name: String, value: String },
    /// `SET [SESSION] name = value`: a session system variable (`name` lower-cased).
    Session { name: String, value: String },
}

/// Characteristics of a transaction (`SET [SESSION] TRANSACTION ...`, `START TRANSACTION ...`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxChars {
    /// `READ UNCOMMITTED`, `READ COMMITTED`, `REPEATABLE READ` or `SERIALIZABLE`.
    pub isolation: Option<String>,
    pub read_only: Option<bool>,
    /// `WITH CONSISTENT SNAPSHOT`.
    pub snapshot: bool,
}

/// Where `PREPARE name FROM ...` takes its text.
#[derive(Clone, Debug, PartialEq)]
pub enum PrepareFrom {
    /// A string literal (the statement's bytes, unescaped).
    Text(Vec<u8>),
    /// A user variable.
    Var(String),
}

/// What the session does with a statement, decided from its leading words.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// `BEGIN`, `START TRANSACTION [READ ONLY | READ WRITE | WITH CONSISTENT SNAPSHOT]`.
    Begin(TxChars),
    Commit,
    Rollback,
    Set(Vec<SetItem>),
    /// `SET TRANSACTION ...` (`session`: `SET SESSION TRANSACTION ...`).
    SetTransaction {
        session: bool,
        chars: TxChars,
    },
    /// `SET STATEMENT vars FOR stmt`: the variables apply to that one statement.
    SetStatement {
        /// `SET STATEMENT vars FOR ` as written.
        prefix: String,
        /// The statement.
        stmt: String,
    },
    /// `PREPARE name FROM ...`.
    Prepare {
        name: String,
        from: PrepareFrom,
    },
    /// `EXECUTE name [USING expr, ...]`: each value as SQL text (`@a`, `11`, `_binary'..'`).
    Execute {
        name: String,
        using: Vec<String>,
    },
    /// `DEALLOCATE PREPARE name` / `DROP PREPARE name`.
    Deallocate(String),
    Use(String),
    ShowDatabases,
    /// `SHOW [FULL] TABLES [FROM db] [LIKE 'pat']`.
    ShowTables {
        full: bool,
        schema: Option<String>,
        like: Option<String>,
    },
    /// SHOW CREATE TABLE / COLUMNS / INDEX, DESCRIBE: answered by a shard holding the table.
    ShowForTable {
        schema: Option<String>,
        table: String,
    },
    /// Other SHOW forms (VARIABLES, STATUS, WARNINGS, ...): answered by one backend.
    ShowOther,
    /// `SHOW WARNINGS` / `SHOW ERRORS` (`count`: `SHOW COUNT(*) ...`; `errors`: errors only):
    /// answered from the session, whose list neither resets.
    ShowWarnings {
        count: bool,
        errors: bool,
    },
    /// A stored routine's definition or a compound statement, run as a whole (see
    /// [`super::split::stored_program`]).
    Program(Program),
    /// A statement the proxy refuses, with the construct named.
    Unsupported(String),
    /// Everything else: parse it.
    Sql,
}

fn word(t: Option<&Tok>) -> &str {
    match t {
        Some(Tok::Word(w)) => w,
        _ => "",
    }
}

/// The identifier as written (words are upper-cased by the scanner: re-read their case).
fn raw_ident(t: Option<&Tok>) -> String {
    match t {
        Some(Tok::Quoted(q)) => q.clone(),
        Some(Tok::Word(w)) => w.clone(),
        _ => String::new(),
    }
}

/// Classifies one statement.
pub fn classify(sql: &str) -> Command {
    // The first two words decide for most statements; only those that need more are read fully.
    let head = tokens(sql, 2);
    if head.get(1) == Some(&Tok::Sym(':')) {
        return Command::Program(Program::Block); // a labelled block
    }
    if let "CREATE" | "ALTER" | "DROP" | "BEGIN" | "IF" | "CASE" | "LOOP" | "REPEAT" | "WHILE" =
        word(head.first())
        && let Some(p) = stored_program(sql)
    {
        return Command::Program(p);
    }
    if !matches!(
        word(head.first()),
        "BEGIN"
            | "START"
            | "COMMIT"
            | "ROLLBACK"
            | "SAVEPOINT"
            | "RELEASE"
            | "XA"
            | "LOCK"
            | "UNLOCK"
            | "USE"
            | "SET"
            | "SHOW"
            | "PREPARE"
            | "EXECUTE"
            | "DEALLOCATE"
            | "DROP"
            | "DESCRIBE"
            | "DESC"
            | "EXPLAIN"
    ) {
        return Command::Sql;
    }
    if word(head.first()) == "DROP" && word(head.get(1)) != "PREPARE" {
        return Command::Sql;
    }
    let toks = tokens(sql, 64);
    let w0 = word(toks.first());
    match w0 {
        "BEGIN" => Command::Begin(TxChars::default()),
        "START" if word(toks.get(1)) == "TRANSACTION" => Command::Begin(tx_chars(&toks[2..])),
        "PREPARE" => classify_prepare(sql),
        "EXECUTE" => Command::Execute {
            name: ident_case(sql, toks.get(1)).unwrap_or_default(),
            using: execute_using(sql),
        },
        "DEALLOCATE" | "DROP" if word(toks.get(1)) == "PREPARE" => {
            Command::Deallocate(ident_case(sql, toks.get(2)).unwrap_or_default())
        }
        "COMMIT" => Command::Commit,
        "ROLLBACK" if toks.iter().any(|t| *t == Tok::Word("TO".into())) => {
            Command::Unsupported("ROLLBACK TO SAVEPOINT".into())
        }
        "ROLLBACK" => Command::Rollback,
        "SAVEPOINT" | "RELEASE" => Command::Unsupported("SAVEPOINT".into()),
        "XA" => {
            Command::Unsupported("XA statements (shardgate coordinates transactions itself)".into())
        }
        "LOCK" => Command::Unsupported("LOCK TABLES".into()),
        "UNLOCK" => Command::Set(Vec::new()),
        "USE" => match ident_case(sql, toks.get(1)) {
            Some(db) => Command::Use(db),
            None => Command::Sql,
        },
        "SET" => classify_set(sql),
        "SHOW" => classify_show(sql, &toks[1..]),
        "DESCRIBE" | "DESC" | "EXPLAIN"
            if matches!(toks.get(1), Some(Tok::Word(_)) | Some(Tok::Quoted(_)))
                && !matches!(
                    word(toks.get(1)),
                    "SELECT"
                        | "INSERT"
                        | "UPDATE"
                        | "DELETE"
                        | "REPLACE"
                        | "EXTENDED"
                        | "PARTITIONS"
                        | "FORMAT"
                        | "ANALYZE"
                ) =>
        {
            let (schema, table) = qualified(sql, &toks[1..]);
            Command::ShowForTable { schema, table }
        }
        _ => Command::Sql,
    }
}

/// Re-reads an identifier token with its original case from `sql`.
fn ident_case(sql: &str, t: Option<&Tok>) -> Option<String> {
    match t {
        Some(Tok::Quoted(q)) => Some(q.clone()),
        Some(Tok::Word(w)) => find_case(sql, w),
        _ => None,
    }
}

/// Finds `upper` (an upper-cased word) in `sql` and returns it as written.
fn find_case(sql: &str, upper: &str) -> Option<String> {
    let lower = sql.to_ascii_uppercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(upper) {
        let p = from + pos;
        let before_ok = p == 0 || !is_ident_byte(lower.as_bytes()[p - 1]);
        let after = p + upper.len();
        let after_ok = after >= lower.len() || !is_ident_byte(lower.as_bytes()[after]);
        if before_ok && after_ok {
            return sql.get(p..after).map(str::to_string);
        }
        from = p + 1;
    }
    Some(upper.to_string())
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// `[schema.]table` at the start of `toks`.
fn qualified(sql: &str, toks: &[Tok]) -> (Option<String>, String) {
    let first = ident_case(sql, toks.first()).unwrap_or_default();
    if toks.get(1) == Some(&Tok::Sym('.'))
        && let Some(t) = ident_case(sql, toks.get(2))
    {
        return (Some(first), t);
    }
    (None, first)
}

fn classify_show(sql: &str, t: &[Tok]) -> Command {
    let mut i = 0;
    let full = word(t.first()) == "FULL";
    if full {
        i = 1;
    }
    match word(t.get(i)) {
        "DATABASES" | "SCHEMAS" => Command::ShowDatabases,
        "WARNINGS" => Command::ShowWarnings {
            count: false,
            errors: false,
        },
        "ERRORS" => Command::ShowWarnings {
            count: false,
            errors: true,
        },
        "COUNT" if t.iter().any(|x| *x == Tok::Word("WARNINGS".into())) => Command::ShowWarnings {
            count: true,
            errors: false,
        },
        "COUNT" if t.iter().any(|x| *x == Tok::Word("ERRORS".into())) => Command::ShowWarnings {
            count: true,
            errors: true,
        },
        "TABLES" => {
            let mut schema = None;
            let mut like = None;
            let mut j = i + 1;
            while j < t.len() {
                match word(t.get(j)) {
                    "FROM" | "IN" => {
                        schema = ident_case(sql, t.get(j + 1));
                        j += 2;
                    }
                    "LIKE" => {
                        if let Some(Tok::Str(s)) = t.get(j + 1) {
                            like = Some(s.clone());
                        }
                        j += 2;
                    }
                    _ => j += 1,
                }
            }
            Command::ShowTables { full, schema, like }
        }
        "CREATE" if word(t.get(i + 1)) == "TABLE" => {
            let (schema, table) = qualified(sql, &t[i + 2..]);
            Command::ShowForTable { schema, table }
        }
        "COLUMNS" | "FIELDS" | "INDEX" | "INDEXES" | "KEYS" => {
            let j = i + 1;
            if !matches!(word(t.get(j)), "FROM" | "IN") {
                return Command::ShowOther;
            }
            let (mut schema, table) = qualified(sql, &t[j + 1..]);
            let after = if schema.is_some() { j + 4 } else { j + 2 };
            if matches!(word(t.get(after)), "FROM" | "IN") {
                schema = ident_case(sql, t.get(after + 1));
            }
            Command::ShowForTable { schema, table }
        }
        _ => Command::ShowOther,
    }
}

/// `[ISOLATION LEVEL x] [, READ ONLY | READ WRITE] [WITH CONSISTENT SNAPSHOT]`.
fn tx_chars(t: &[Tok]) -> TxChars {
    let mut c = TxChars::default();
    let words: Vec<&str> = t.iter().map(|x| word(Some(x))).collect();
    let mut i = 0;
    while i < words.len() {
        match (words[i], words.get(i + 1).copied().unwrap_or("")) {
            ("ISOLATION", "LEVEL") => {
                let level = match (
                    words.get(i + 2).copied().unwrap_or(""),
                    words.get(i + 3).copied().unwrap_or(""),
                ) {
                    ("READ", "UNCOMMITTED") => "READ UNCOMMITTED",
                    ("READ", "COMMITTED") => "READ COMMITTED",
                    ("REPEATABLE", "READ") => "REPEATABLE READ",
                    ("SERIALIZABLE", _) => "SERIALIZABLE",
                    _ => "",
                };
                if !level.is_empty() {
                    c.isolation = Some(level.to_string());
                }
                i += 2;
            }
            ("READ", "ONLY") => {
                c.read_only = Some(true);
                i += 2;
            }
            ("READ", "WRITE") => {
                c.read_only = Some(false);
                i += 2;
            }
            ("CONSISTENT", "SNAPSHOT") => {
                c.snapshot = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
    c
}

/// `PREPARE name FROM 'text' | @var`.
fn classify_prepare(sql: &str) -> Command {
    let toks = spanned_tokens(sql, 8);
    let name = ident_case(sql, toks.get(1).map(|t| &t.0)).unwrap_or_default();
    if word(toks.get(2).map(|t| &t.0)) != "FROM" {
        return Command::Sql; // let the parser (and then the backend) say what is wrong
    }
    match toks.get(3).map(|t| &t.0) {
        Some(Tok::Str(_)) => {
            let r = toks[3].1.clone();
            let quoted = &sql[r.start..r.end];
            let q = quoted.chars().next().unwrap_or('\'');
            let body = quoted
                .get(1..quoted.len().saturating_sub(1))
                .unwrap_or_default();
            Command::Prepare {
                name,
                from: PrepareFrom::Text(super::text::unescape(body, q)),
            }
        }
        Some(Tok::Sym('@')) => Command::Prepare {
            name,
            from: PrepareFrom::Var(raw_ident(toks.get(4).map(|t| &t.0)).to_ascii_lowercase()),
        },
        _ => Command::Sql,
    }
}

/// The value texts of `EXECUTE name USING a, b, ...`.
fn execute_using(sql: &str) -> Vec<String> {
    let toks = spanned_tokens(sql, usize::MAX);
    let Some(at) = toks.iter().position(|(t, _)| word(Some(t)) == "USING") else {
        return Vec::new();
    };
    split_items(&toks[at + 1..])
        .into_iter()
        .filter_map(|p| match (p.first(), p.last()) {
            (Some(a), Some(b)) => Some(sql[a.1.start..b.1.end].to_string()),
            _ => None,
        })
        .collect()
}

type Spanned = (Tok, std::ops::Range<usize>);

/// `toks` split at commas outside parentheses.
fn split_items(t: &[Spanned]) -> Vec<&[Spanned]> {
    let mut parts: Vec<&[Spanned]> = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, (tok, _)) in t.iter().enumerate() {
        match tok {
            Tok::Sym('(') => depth += 1,
            Tok::Sym(')') => depth -= 1,
            Tok::Sym(',') if depth == 0 => {
                parts.push(&t[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&t[start..]);
    parts
}

/// Splits `SET a = 1, @b := f(x, y), ...` into its items at commas outside parentheses.
fn classify_set(sql: &str) -> Command {
    let toks = spanned_tokens(sql, usize::MAX);
    let t = &toks[1..];
    let w = |i: usize| word(t.get(i).map(|x| &x.0));
    // SET [SESSION|GLOBAL] TRANSACTION ...
    let tx_at = if w(0) == "TRANSACTION" {
        Some(0)
    } else if matches!(w(0), "SESSION" | "LOCAL" | "GLOBAL") && w(1) == "TRANSACTION" {
        Some(1)
    } else {
        None
    };
    if let Some(at) = tx_at {
        if w(0) == "GLOBAL" {
            return Command::Set(vec![SetItem::Global(sql.to_string())]);
        }
        let plain: Vec<Tok> = t[at + 1..].iter().map(|x| x.0.clone()).collect();
        return Command::SetTransaction {
            session: at == 1,
            chars: tx_chars(&plain),
        };
    }
    if w(0) == "STATEMENT" {
        // The statement starts after the FOR at depth 0 (the values may contain anything).
        let mut depth = 0i32;
        for (tok, r) in t {
            match tok {
                Tok::Sym('(') => depth += 1,
                Tok::Sym(')') => depth -= 1,
                Tok::Word(x) if x == "FOR" && depth == 0 => {
                    return Command::SetStatement {
                        prefix: sql[..r.end].to_string() + " ",
                        stmt: sql[r.end..].trim().to_string(),
                    };
                }
                _ => {}
            }
        }
        return Command::Sql;
    }
    if matches!(w(0), "PASSWORD" | "ROLE" | "DEFAULT") {
        return Command::Set(vec![SetItem::Global(sql.to_string())]);
    }
    let mut items = Vec::new();
    for part in split_items(t) {
        match set_item(sql, part) {
            Ok(item) => items.push(item),
            Err(cmd) => return cmd,
        }
    }
    Command::Set(items)
}

/// One item of a SET statement.
fn set_item(sql: &str, p: &[Spanned]) -> Result<SetItem, Command> {
    let text = match (p.first(), p.last()) {
        (Some(a), Some(b)) => sql[a.1.start..b.1.end].to_string(),
        _ => return Err(Command::Sql),
    };
    let tok = |i: usize| p.get(i).map(|x| &x.0);
    let mut i = 0;
    if matches!(word(tok(0)), "GLOBAL" | "PERSIST" | "PERSIST_ONLY") {
        return Ok(SetItem::Global(text));
    }
    if matches!(word(tok(0)), "SESSION" | "LOCAL") {
        i = 1;
    }
    let mut user_var = false;
    if tok(i) == Some(&Tok::Sym('@')) {
        if tok(i + 1) == Some(&Tok::Sym('@')) {
            let scope = word(tok(i + 2));
            if tok(i + 3) == Some(&Tok::Sym('.')) {
                if matches!(scope, "GLOBAL" | "PERSIST" | "PERSIST_ONLY") {
                    return Ok(SetItem::Global(text));
                }
                i += 4;
            } else {
                i += 2;
            }
        } else {
            user_var = true;
            i += 1;
        }
    }
    let name = match tok(i) {
        Some(Tok::Word(w)) => w.to_ascii_lowercase(),
        Some(Tok::Quoted(q)) | Some(Tok::Str(q)) => q.to_ascii_lowercase(),
        _ => return Err(Command::Sql),
    };
    if !user_var && matches!(name.as_str(), "names" | "charset" | "character") {
        return Ok(SetItem::Names(text));
    }
    // The value: everything after `=` or `:=`.
    let mut j = i + 1;
    if tok(j) == Some(&Tok::Sym(':')) {
        j += 1;
    }
    if tok(j) != Some(&Tok::Sym('=')) || j + 1 >= p.len() {
        return Err(Command::Sql);
    }
    let value = sql[p[j + 1].1.start..p[p.len() - 1].1.end].to_string();
    if user_var {
        return Ok(SetItem::UserVar { name, value });
    }
    if name == "autocommit" {
        return match value.to_ascii_uppercase().trim_matches('\'') {
            "1" | "ON" | "TRUE" => Ok(SetItem::Autocommit(true)),
            "0" | "OFF" | "FALSE" => Ok(SetItem::Autocommit(false)),
            _ => Err(Command::Unsupported(format!("SET autocommit = {value}"))),
        };
    }
    Ok(SetItem::Session { name, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_session_statements() {
        assert_eq!(
            classify("START TRANSACTION WITH CONSISTENT SNAPSHOT"),
            Command::Begin(TxChars {
                snapshot: true,
                ..Default::default()
            })
        );
        assert_eq!(
            classify("START TRANSACTION READ ONLY"),
            Command::Begin(TxChars {
                read_only: Some(true),
                ..Default::default()
            })
        );
        assert_eq!(classify("begin"), Command::Begin(TxChars::default()));
        assert_eq!(
            classify("BEGIN NOT ATOMIC SELECT 1; END"),
            Command::Program(Program::Block)
        );
        assert_eq!(
            classify("CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END"),
            Command::Program(Program::Routine)
        );
        assert_eq!(
            classify("drop function if exists f"),
            Command::Program(Program::Routine)
        );
        assert_eq!(classify("CREATE TABLE t (id INT)"), Command::Sql);
        assert_eq!(classify("commit work"), Command::Commit);
        assert_eq!(
            classify("SET autocommit=0"),
            Command::Set(vec![SetItem::Autocommit(false)])
        );
        assert_eq!(
            classify("set @@session.autocommit = ON"),
            Command::Set(vec![SetItem::Autocommit(true)])
        );
        assert_eq!(
            classify("SET NAMES utf8mb4 COLLATE utf8mb4_bin"),
            Command::Set(vec![SetItem::Names(
                "NAMES utf8mb4 COLLATE utf8mb4_bin".into()
            )])
        );
        assert_eq!(
            classify(
                "SET @V := 3, sql_mode = CONCAT(@@sql_mode, ',X'), @@session.Sort_Buffer_Size=1"
            ),
            Command::Set(vec![
                SetItem::UserVar {
                    name: "v".into(),
                    value: "3".into()
                },
                SetItem::Session {
                    name: "sql_mode".into(),
                    value: "CONCAT(@@sql_mode, ',X')".into()
                },
                SetItem::Session {
                    name: "sort_buffer_size".into(),
                    value: "1".into()
                },
            ])
        );
        assert_eq!(
            classify("SET STATEMENT sql_mode='' FOR INSERT INTO r VALUES (1)"),
            Command::SetStatement {
                prefix: "SET STATEMENT sql_mode='' FOR ".into(),
                stmt: "INSERT INTO r VALUES (1)".into()
            }
        );
        assert_eq!(
            classify("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY"),
            Command::SetTransaction {
                session: true,
                chars: TxChars {
                    isolation: Some("READ COMMITTED".into()),
                    read_only: Some(true),
                    snapshot: false
                }
            }
        );
        assert_eq!(
            classify("PREPARE s FROM 'SELECT \\'a\\''"),
            Command::Prepare {
                name: "s".into(),
                from: PrepareFrom::Text(b"SELECT 'a'".to_vec())
            }
        );
        assert_eq!(
            classify("EXECUTE s USING @a, @B"),
            Command::Execute {
                name: "s".into(),
                using: vec!["@a".into(), "@B".into()]
            }
        );
        assert_eq!(
            classify("EXECUTE s USING 11, CONCAT('a', 'b')"),
            Command::Execute {
                name: "s".into(),
                using: vec!["11".into(), "CONCAT('a', 'b')".into()]
            }
        );
        assert_eq!(classify("DROP PREPARE s"), Command::Deallocate("s".into()));
        assert_eq!(classify("DROP TABLE t"), Command::Sql);
        assert_eq!(classify("use `Shop`"), Command::Use("Shop".into()));
        assert_eq!(classify("USE Shop"), Command::Use("Shop".into()));
        assert!(
            matches!(classify("SET GLOBAL x=1"), Command::Set(v) if matches!(v[0], SetItem::Global(_)))
        );
        assert!(matches!(classify("XA START 'x'"), Command::Unsupported(_)));
    }

    #[test]
    fn classifies_show() {
        assert_eq!(classify("SHOW DATABASES"), Command::ShowDatabases);
        assert_eq!(
            classify("SHOW FULL TABLES FROM `shop` LIKE 'sb%'"),
            Command::ShowTables {
                full: true,
                schema: Some("shop".into()),
                like: Some("sb%".into())
            }
        );
        assert_eq!(
            classify("SHOW CREATE TABLE shop.Orders"),
            Command::ShowForTable {
                schema: Some("shop".into()),
                table: "Orders".into()
            }
        );
        assert_eq!(
            classify("SHOW COLUMNS FROM orders FROM shop"),
            Command::ShowForTable {
                schema: Some("shop".into()),
                table: "orders".into()
            }
        );
        assert_eq!(
            classify("describe orders"),
            Command::ShowForTable {
                schema: None,
                table: "orders".into()
            }
        );
        assert_eq!(classify("SHOW VARIABLES LIKE 'x'"), Command::ShowOther);
        assert_eq!(
            classify("show warnings"),
            Command::ShowWarnings {
                count: false,
                errors: false
            }
        );
        assert_eq!(
            classify("SHOW COUNT(*) WARNINGS"),
            Command::ShowWarnings {
                count: true,
                errors: false
            }
        );
        assert_eq!(
            classify("show count(*) errors"),
            Command::ShowWarnings {
                count: true,
                errors: true
            }
        );
        assert_eq!(classify("EXPLAIN SELECT 1"), Command::Sql);
    }
}
