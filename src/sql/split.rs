//! COM_QUERY text → the statements the server would run, split where MariaDB splits them: at
//! each `;` outside quotes, comments and the bodies of compound statements (`BEGIN ... END`,
//! `IF ... END IF`, `CASE`, `LOOP`, `REPEAT`, `WHILE`, labels), which stored routines, triggers,
//! events and MariaDB's top-level compound statements (`BEGIN NOT ATOMIC ... END`, `IF ...`)
//! carry.
//!
//! The server parses a whole statement with its grammar; the proxy only needs the boundaries,
//! so it tracks the nesting of blocks from their keywords (where a statement starts, a CASE
//! expression, `END IF`, `UNTIL ... END REPEAT`), scanning bytes so that any character set
//! whose multi-byte characters never contain `;`, quotes or `\` (utf8, latin1, ...) is safe.
//! Hand-written: sqlparser cannot parse most routine bodies, and no crate splits MySQL text.

mod scan;

use scan::{Scanner, Tok, word_at};

/// Leading whitespace, trailing whitespace and `;` removed: the text MariaDB runs (its
/// `alloc_query`). An empty result is an empty query (error 1065).
pub fn trim_query(text: &str) -> &str {
    text.trim_start_matches(is_space)
        .trim_end_matches(|c| c == ';' || is_space(c))
}

fn is_space(c: char) -> bool {
    c.is_ascii_whitespace() || c == '\u{b}'
}

/// The statements of a COM_QUERY text, in order, as MariaDB runs them. With multi-statements
/// on, each is the text up to its `;`; a piece that is only comments is kept (the server answers
/// it with OK), and a `;` right after another (`SELECT 1; ;SELECT 2`) starts a last piece that
/// begins with `;` (the server's syntax error). With multi-statements off, the whole text is one
/// statement, except that comments after its last `;` are dropped, as the server ignores them.
/// Empty when the text is empty.
pub fn statements(text: &str, multi: bool) -> Vec<&str> {
    let text = trim_query(text);
    if text.is_empty() {
        return Vec::new();
    }
    let mut pieces = Vec::new();
    let mut splitter = Splitter::default();
    let mut start = 0;
    for (pos, tok) in Scanner::new(text.as_bytes()) {
        if tok == Tok::Sym(b';') && splitter.depth == 0 {
            pieces.push(text[start..pos].trim_end_matches(is_space));
            start = skip_space(text, pos + 1);
            splitter = Splitter::default();
            if text[start..].starts_with(';') {
                break; // an empty statement: the rest is the server's syntax error
            }
            continue;
        }
        splitter.token(text, pos, tok);
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    if !multi && pieces.len() > 1 {
        if pieces[1..].iter().all(|p| is_comment_only(p)) {
            pieces.truncate(1);
        } else {
            return vec![text];
        }
    }
    pieces
}

fn skip_space(text: &str, from: usize) -> usize {
    text[from..]
        .find(|c| !is_space(c))
        .map_or(text.len(), |i| from + i)
}

/// True when `sql` holds nothing but whitespace and comments (an empty `/*! */` included).
pub fn is_comment_only(sql: &str) -> bool {
    Scanner::new(sql.as_bytes()).next().is_none()
}

/// A statement whose inside the proxy cannot route: it runs on a backend as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// `CREATE`/`ALTER`/`DROP` `PROCEDURE`/`FUNCTION`: a stored routine's definition.
    Routine,
    /// `CREATE TRIGGER`: a trigger's definition.
    Trigger,
    /// A compound statement run at once: `BEGIN NOT ATOMIC ... END`, or a top-level
    /// `IF`/`CASE`/`LOOP`/`REPEAT`/`WHILE`, or a labelled block.
    Block,
}

/// Whether `sql` defines a stored routine or is a compound statement (see [`Program`]).
pub fn stored_program(sql: &str) -> Option<Program> {
    let b = sql.as_bytes();
    let mut toks = Scanner::new(b).take(16);
    let (p0, t0) = toks.next()?;
    let first = word_at(b, p0, t0)?;
    let second = toks.next();
    if matches!(second, Some((_, Tok::Sym(b':')))) {
        return Some(Program::Block);
    }
    let w = |t: Option<(usize, Tok)>| t.and_then(|(p, t)| word_at(b, p, t)).unwrap_or(b"");
    let is = |a: &[u8], k: &str| a.eq_ignore_ascii_case(k.as_bytes());
    match first {
        f if is(f, "BEGIN") => {
            (is(w(second), "NOT") && is(w(toks.next()), "ATOMIC")).then_some(Program::Block)
        }
        f if ["IF", "CASE", "LOOP", "REPEAT", "WHILE"]
            .iter()
            .any(|k| is(f, k)) =>
        {
            Some(Program::Block)
        }
        f if ["CREATE", "ALTER", "DROP"].iter().any(|k| is(f, k)) => {
            // The kind comes after OR REPLACE, DEFINER = user, AGGREGATE, ...: the first word
            // naming a kind of object decides.
            std::iter::once(second?).chain(toks).find_map(|(p, t)| {
                let word = word_at(b, p, t)?;
                if is(word, "PROCEDURE") || is(word, "FUNCTION") {
                    Some(Some(Program::Routine))
                } else if is(word, "TRIGGER") && is(first, "CREATE") {
                    Some(Some(Program::Trigger))
                } else if OTHER_OBJECTS.iter().any(|k| is(word, k)) {
                    Some(None)
                } else {
                    None
                }
            })?
        }
        _ => None,
    }
}

/// Object kinds of CREATE/ALTER/DROP that are not stored routines.
const OTHER_OBJECTS: &[&str] = &[
    "TABLE",
    "VIEW",
    "INDEX",
    "DATABASE",
    "SCHEMA",
    "USER",
    "ROLE",
    "SEQUENCE",
    "SERVER",
    "TRIGGER",
    "EVENT",
    "TABLESPACE",
    "TEMPORARY",
    "UNIQUE",
    "FULLTEXT",
    "SPATIAL",
    "PACKAGE",
    "LOGFILE",
];

/// Where a statement is, as far as its boundaries go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Mode {
    /// Before its first token.
    #[default]
    Start,
    /// No compound body: only a `;` matters.
    Plain,
    /// A first word that may be a label, if a `:` follows.
    MaybeLabel,
    /// `BEGIN` first: a block if `NOT ATOMIC` follows, else a transaction.
    Begin,
    /// `CREATE`/`ALTER` before the kind of object (`seen` tokens so far).
    Create { seen: u32 },
    /// A stored routine's parameter list (`parens` deep, `opened` once its `(` is seen).
    Routine { opened: bool, parens: u32 },
    /// A stored routine's characteristics, before its body.
    Characteristics,
    /// A trigger before `FOR EACH ROW` (`each`: the last word was EACH).
    Trigger { each: bool },
    /// After `FOR EACH ROW`: an optional `FOLLOWS|PRECEDES other` (`name`: its name is next).
    TriggerOrder { name: bool },
    /// An event before `DO`.
    Event,
    /// A routine body or a compound statement: blocks are tracked.
    Block,
}

/// The nesting state of one statement.
#[derive(Default)]
struct Splitter {
    mode: Mode,
    /// Open blocks: a `;` ends the statement only at depth 0.
    depth: u32,
    /// The next word starts a statement inside the body (after `;`, BEGIN, THEN, ELSE, DO, ...).
    at_start: bool,
    /// The last word started a statement and may be a label, if a `:` follows.
    label: bool,
    /// Open CASE expressions, which end with a bare END wherever they are.
    case_expr: u32,
    /// `UNTIL` conditions waiting for their `END REPEAT`.
    until: u32,
    /// The word after a closing END (`IF`, `LOOP`, a label) belongs to it.
    after_end: bool,
    /// The previous token was `.` or `@`: the next word is a name, not a keyword.
    qualified: bool,
    /// After BEGIN: `NOT ATOMIC` may follow.
    atomic: bool,
}

/// The simple statements a routine body may be instead of a compound one.
const SIMPLE: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "REPLACE",
    "SET",
    "CALL",
    "RETURN",
    "DO",
    "TRUNCATE",
    "DROP",
    "CREATE",
    "ALTER",
    "SIGNAL",
    "RESIGNAL",
    "OPEN",
    "CLOSE",
    "FETCH",
    "LEAVE",
    "ITERATE",
    "SHOW",
    "PREPARE",
    "EXECUTE",
    "DEALLOCATE",
    "START",
    "COMMIT",
    "ROLLBACK",
    "WITH",
    "VALUES",
    "LOAD",
    "RENAME",
    "LOCK",
    "UNLOCK",
    "FLUSH",
    "ANALYZE",
    "OPTIMIZE",
    "REPAIR",
    "CHECK",
    "CHECKSUM",
    "GRANT",
    "REVOKE",
    "KILL",
    "HANDLER",
    "XA",
    "SAVEPOINT",
    "RELEASE",
    "GET",
    "EXPLAIN",
    "DESCRIBE",
    "USE",
    "PURGE",
    "RESET",
    "CHANGE",
];

/// Words that open a block where a statement starts.
const OPENERS: &[&str] = &["BEGIN", "IF", "CASE", "LOOP", "REPEAT", "WHILE"];

fn is(word: &[u8], k: &str) -> bool {
    word.eq_ignore_ascii_case(k.as_bytes())
}

impl Splitter {
    /// Takes one token of the statement (a `;` at depth 0 never reaches here).
    fn token(&mut self, text: &str, pos: usize, tok: Tok) {
        let qualified = std::mem::replace(&mut self.qualified, false);
        match tok {
            Tok::Word(end) if !qualified => {
                let word = text.as_bytes().get(pos..end).unwrap_or_default();
                self.word(word);
            }
            Tok::Sym(c) => {
                self.qualified = c == b'.' || c == b'@';
                self.sym(c);
            }
            _ => self.name(),
        }
        // A body that did not open a block is a simple statement.
        if self.mode == Mode::Block && self.depth == 0 && !self.at_start && !self.label {
            self.mode = Mode::Plain;
        }
    }

    fn word(&mut self, w: &[u8]) {
        match self.mode {
            Mode::Start => {
                if is(w, "BEGIN") {
                    self.mode = Mode::Begin;
                } else if is(w, "CREATE") || is(w, "ALTER") {
                    self.mode = Mode::Create { seen: 0 };
                } else if OPENERS.iter().any(|k| is(w, k)) {
                    self.body();
                    self.block_word(w);
                } else {
                    self.mode = Mode::MaybeLabel;
                }
            }
            Mode::Begin if is(w, "NOT") => {
                self.body();
                self.block_word(b"BEGIN");
                self.block_word(w);
            }
            Mode::Create { seen } => {
                self.mode = if is(w, "PROCEDURE") || is(w, "FUNCTION") {
                    Mode::Routine {
                        opened: false,
                        parens: 0,
                    }
                } else if is(w, "TRIGGER") {
                    Mode::Trigger { each: false }
                } else if is(w, "EVENT") {
                    Mode::Event
                } else if seen > 12 || OTHER_OBJECTS.iter().any(|k| is(w, k)) {
                    Mode::Plain
                } else {
                    Mode::Create { seen: seen + 1 }
                };
            }
            Mode::Characteristics => {
                if OPENERS.iter().any(|k| is(w, k)) {
                    self.body();
                    self.block_word(w);
                } else if SIMPLE.iter().any(|k| is(w, k)) {
                    self.mode = Mode::Plain;
                } else {
                    self.label = true; // `l: BEGIN ...` as a body; else a characteristic
                }
            }
            Mode::Trigger { each } => {
                if each && is(w, "ROW") {
                    self.mode = Mode::TriggerOrder { name: false };
                } else {
                    self.mode = Mode::Trigger {
                        each: is(w, "EACH"),
                    };
                }
            }
            Mode::TriggerOrder { name: false } if is(w, "FOLLOWS") || is(w, "PRECEDES") => {
                self.mode = Mode::TriggerOrder { name: true };
            }
            Mode::TriggerOrder { name: true } => self.body(),
            Mode::TriggerOrder { name: false } => {
                self.body();
                self.block_word(w);
            }
            Mode::Event if is(w, "DO") => self.body(),
            Mode::Block => self.block_word(w),
            Mode::Begin | Mode::MaybeLabel => self.mode = Mode::Plain,
            Mode::Plain | Mode::Routine { .. } | Mode::Event => {}
        }
    }

    /// A quoted name or string, or a word after `.`/`@`: never a keyword.
    fn name(&mut self) {
        match self.mode {
            Mode::Start => self.mode = Mode::MaybeLabel,
            Mode::Begin | Mode::MaybeLabel => self.mode = Mode::Plain,
            Mode::TriggerOrder { name: true } => self.body(),
            Mode::Block => {
                self.label = std::mem::replace(&mut self.at_start, false);
                self.after_end = false;
                self.atomic = false;
            }
            _ => {}
        }
    }

    fn sym(&mut self, c: u8) {
        let label = std::mem::replace(&mut self.label, false);
        self.after_end = false;
        self.atomic = false;
        match self.mode {
            Mode::MaybeLabel if c == b':' => self.body(),
            Mode::Characteristics if c == b':' && label => self.body(),
            Mode::Start | Mode::Begin | Mode::MaybeLabel => self.mode = Mode::Plain,
            Mode::Routine { opened, parens } => {
                let parens = match c {
                    b'(' => parens + 1,
                    b')' => parens.saturating_sub(1),
                    _ => parens,
                };
                let opened = opened || c == b'(';
                self.mode = if opened && parens == 0 {
                    Mode::Characteristics
                } else {
                    Mode::Routine { opened, parens }
                };
            }
            Mode::Block => match c {
                b';' => {
                    self.at_start = true;
                    self.case_expr = 0;
                }
                b':' if label => self.at_start = true,
                _ => self.at_start = false,
            },
            _ => {}
        }
    }

    /// A body starts: the next word starts its first statement.
    fn body(&mut self) {
        self.mode = Mode::Block;
        self.at_start = true;
    }

    fn block_word(&mut self, w: &[u8]) {
        if std::mem::replace(&mut self.atomic, false) {
            if is(w, "NOT") {
                self.atomic = true;
                return;
            }
            if is(w, "ATOMIC") {
                return;
            }
        }
        if std::mem::replace(&mut self.after_end, false) {
            return; // END IF, END LOOP, END label
        }
        let at_start = std::mem::replace(&mut self.at_start, false);
        self.label = false;
        if at_start {
            if is(w, "BEGIN") {
                self.depth += 1;
                self.at_start = true;
                self.atomic = true;
            } else if is(w, "LOOP") || is(w, "REPEAT") {
                self.depth += 1;
                self.at_start = true;
            } else if is(w, "IF") || is(w, "CASE") || is(w, "WHILE") {
                self.depth += 1;
            } else if is(w, "END") {
                self.close();
            } else if is(w, "UNTIL") {
                self.until += 1;
            } else if is(w, "ELSE") {
                self.at_start = true;
            } else {
                self.label = true;
            }
            return;
        }
        if is(w, "BEGIN") {
            // A handler's body: DECLARE ... HANDLER FOR ... BEGIN ... END.
            self.depth += 1;
            self.at_start = true;
            self.atomic = true;
        } else if is(w, "CASE") {
            self.case_expr += 1;
        } else if is(w, "END") {
            if self.case_expr > 0 {
                self.case_expr -= 1;
            } else if self.until > 0 {
                self.until -= 1;
                self.close();
            }
        } else if self.case_expr == 0 && (is(w, "THEN") || is(w, "ELSE") || is(w, "DO")) {
            self.at_start = true;
        }
    }

    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.after_end = true;
    }
}

#[cfg(test)]
#[path = "split_tests.rs"]
mod tests;
