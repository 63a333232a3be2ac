//! The statements recognised by their leading words: transaction control, SET, USE, SHOW and
//! stored programs. These bypass sqlparser, which refuses several of them
//! (`START TRANSACTION WITH CONSISTENT SNAPSHOT`, `XA ...`, SHOW forms with LIKE, routine
//! bodies) and costs more than these hot, simple statements need.
//!
//! The scanner is hand-written because sqlparser's tokenizer allocates a token per word and
//! refuses text that only the server's grammar accepts.

use super::split::{Program, stored_program};

/// A word or symbol of a statement, as the classifier sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A bare word, upper-cased (`SELECT`, `autocommit` → `AUTOCOMMIT`).
    Word(String),
    /// A back-quoted identifier, as written.
    Quoted(String),
    /// A string literal, unescaped.
    Str(String),
    /// A number.
    Num(String),
    /// Any other character (`=`, `,`, `.`, `@`, ...).
    Sym(char),
}

/// Tokens of `sql`, skipping whitespace and comments (but not `/*! ... */`, whose content counts).
pub fn tokens(sql: &str, limit: usize) -> Vec<Tok> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() && out.len() < limit {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') || c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            if b.get(i + 2) == Some(&b'!') {
                i += 3;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                continue;
            }
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if c == b'*' && b.get(i + 1) == Some(&b'/') {
            i += 2; // end of a /*! ... */ section
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 {
            let s = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
            {
                i += 1;
            }
            out.push(Tok::Word(sql[s..i].to_ascii_uppercase()));
        } else if c.is_ascii_digit() {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            out.push(Tok::Num(sql[s..i].to_string()));
        } else if c == b'`' || c == b'\'' || c == b'"' {
            let mut s = Vec::new();
            i += 1;
            while i < b.len() {
                if b[i] == c {
                    if b.get(i + 1) == Some(&c) {
                        s.push(c);
                        i += 2;
                        continue;
                    }
                    break;
                }
                if b[i] == b'\\' && c != b'`' && i + 1 < b.len() {
                    i += 1;
                }
                s.push(b[i]);
                i += 1;
            }
            i += 1;
            let text = String::from_utf8_lossy(&s).into_owned();
            out.push(if c == b'`' {
                Tok::Quoted(text)
            } else {
                Tok::Str(text)
            });
        } else {
            let ch = sql[i..].chars().next().unwrap_or(' ');
            out.push(Tok::Sym(ch));
            i += ch.len_utf8();
        }
    }
    out
}

/// A `SET` assignment the session must act on.
#[derive(Clone, Debug, PartialEq)]
pub enum SetItem {
    /// `SET autocommit = 0|1|ON|OFF`.
    Autocommit(bool),
    /// `SET NAMES cs [COLLATE c]` / `SET CHARACTER SET cs`.
    Names(String),
    /// `SET GLOBAL ...`: refused (it would change one backend only).
    Global(String),
    /// `SET @user_var = ...`: refused for now (not kept across backend connections).
    UserVar(String),
    /// Any other session variable: accepted and remembered.
    Session(String, String),
}

/// What the session does with a statement, decided from its leading words.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Begin,
    Commit,
    Rollback,
    Set(Vec<SetItem>),
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
    /// `SHOW WARNINGS` (`count`: `SHOW COUNT(*) WARNINGS`): answered from the session.
    ShowWarnings {
        count: bool,
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
            | "DESCRIBE"
            | "DESC"
            | "EXPLAIN"
    ) {
        return Command::Sql;
    }
    let toks = tokens(sql, 64);
    let w0 = word(toks.first());
    match w0 {
        "BEGIN" => Command::Begin,
        "START" if word(toks.get(1)) == "TRANSACTION" => Command::Begin,
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
        "SET" => classify_set(sql, &toks[1..]),
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
        "WARNINGS" => Command::ShowWarnings { count: false },
        "COUNT" if t.iter().any(|x| *x == Tok::Word("WARNINGS".into())) => {
            Command::ShowWarnings { count: true }
        }
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

fn classify_set(sql: &str, t: &[Tok]) -> Command {
    let mut items = Vec::new();
    for part in t.split(|x| *x == Tok::Sym(',')) {
        let mut p = part;
        if word(p.first()) == "TRANSACTION"
            || word(p.first()) == "SESSION" && word(p.get(1)) == "TRANSACTION"
        {
            items.push(SetItem::Session("TRANSACTION".into(), String::new()));
            break; // `SET TRANSACTION ISOLATION LEVEL x, READ ONLY` has commas of its own
        }
        if matches!(word(p.first()), "GLOBAL" | "PERSIST") {
            items.push(SetItem::Global(sql.to_string()));
            continue;
        }
        if matches!(word(p.first()), "SESSION" | "LOCAL") {
            p = &p[1..];
        }
        if p.first() == Some(&Tok::Sym('@')) {
            if p.get(1) == Some(&Tok::Sym('@')) {
                let scope = word(p.get(2));
                if scope == "GLOBAL" {
                    items.push(SetItem::Global(sql.to_string()));
                    continue;
                }
                p = if matches!(scope, "SESSION" | "LOCAL") && p.get(3) == Some(&Tok::Sym('.')) {
                    &p[4..]
                } else {
                    &p[2..]
                };
            } else {
                items.push(SetItem::UserVar(raw_ident(p.get(1))));
                continue;
            }
        }
        let name = word(p.first()).to_string();
        if name == "NAMES" || name == "CHARSET" || name == "CHARACTER" {
            let cs = p.iter().skip(1).find_map(|x| match x {
                Tok::Word(w) if w != "SET" => Some(w.to_ascii_lowercase()),
                Tok::Str(s) => Some(s.to_ascii_lowercase()),
                _ => None,
            });
            items.push(SetItem::Names(cs.unwrap_or_default()));
            continue;
        }
        let value_toks = p
            .iter()
            .skip_while(|x| !matches!(x, Tok::Sym('=') | Tok::Sym(':')))
            .skip(1);
        let value: String = value_toks
            .filter(|x| **x != Tok::Sym('='))
            .map(|x| match x {
                Tok::Word(w) | Tok::Num(w) | Tok::Quoted(w) | Tok::Str(w) => w.clone(),
                Tok::Sym(c) => c.to_string(),
            })
            .collect();
        if name == "AUTOCOMMIT" {
            match value.to_ascii_uppercase().as_str() {
                "1" | "ON" | "TRUE" => items.push(SetItem::Autocommit(true)),
                "0" | "OFF" | "FALSE" => items.push(SetItem::Autocommit(false)),
                _ => return Command::Unsupported(format!("SET autocommit = {value}")),
            }
            continue;
        }
        items.push(SetItem::Session(name.to_ascii_lowercase(), value));
    }
    Command::Set(items)
}

/// Every word and back-quoted name of `sql` (words lowercased), in order: what a statement that
/// sqlparser refuses may name, to decide where it may go.
pub fn identifiers(sql: &str) -> impl Iterator<Item = String> {
    tokens(sql, usize::MAX).into_iter().filter_map(|t| match t {
        Tok::Word(w) => Some(w.to_lowercase()),
        Tok::Quoted(q) => Some(q),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_session_statements() {
        assert_eq!(
            classify("START TRANSACTION WITH CONSISTENT SNAPSHOT"),
            Command::Begin
        );
        assert_eq!(classify("begin"), Command::Begin);
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
            Command::Set(vec![SetItem::Names("utf8mb4".into())])
        );
        assert_eq!(classify("use `Shop`"), Command::Use("Shop".into()));
        assert_eq!(classify("USE Shop"), Command::Use("Shop".into()));
        assert!(
            matches!(classify("SET GLOBAL x=1"), Command::Set(v) if matches!(v[0], SetItem::Global(_)))
        );
        assert!(matches!(classify("XA START 'x'"), Command::Unsupported(_)));
    }

    #[test]
    fn classifies_stored_programs() {
        assert_eq!(
            classify("CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END"),
            Command::Program(Program::Routine)
        );
        assert_eq!(
            classify("drop function if exists f"),
            Command::Program(Program::Routine)
        );
        assert_eq!(
            classify("BEGIN NOT ATOMIC SELECT 1; END"),
            Command::Program(Program::Block)
        );
        assert_eq!(classify("begin"), Command::Begin);
        assert_eq!(classify("CREATE TABLE t (id INT)"), Command::Sql);
        assert_eq!(classify("DROP TABLE t"), Command::Sql);
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
            Command::ShowWarnings { count: false }
        );
        assert_eq!(
            classify("SHOW COUNT(*) WARNINGS"),
            Command::ShowWarnings { count: true }
        );
        assert_eq!(classify("EXPLAIN SELECT 1"), Command::Sql);
    }
}
