//! Literal normalisation for the plan cache: `SELECT c FROM t WHERE id = 42` and `... id = 43`
//! share one analysis of `SELECT c FROM t WHERE id = ?`, with the literals bound as parameters.
//! Clients that interpolate values into the text (PyMySQL, sysbench without prepared
//! statements, most ORMs) would otherwise make every statement a plan-cache miss and a parse.
//!
//! Only what round-trips exactly is replaced: integers and plain single-quoted strings. Decimals
//! and floats stay in the text (a DECIMAL must not turn into a DOUBLE), as do numbers in
//! `ORDER BY`/`GROUP BY` lists (positions, not values), signed numbers, and strings with
//! backslashes. The backend always receives the client's original text.

use mysql_async::Value;

/// A statement's fingerprint for logs: DML with every literal replaced by `?` (so no value
/// reaches a log line), other statements by their first two words only; at most 300 bytes.
pub fn fingerprint(sql: &str) -> String {
    let mut out = match normalize(sql) {
        Some((norm, _)) => norm.split_whitespace().collect::<Vec<_>>().join(" "),
        None => {
            let words: Vec<&str> = sql.split_whitespace().take(2).collect();
            format!("{} ...", words.join(" "))
        }
    };
    if out.len() > 300 {
        let mut cut = 300;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str(" ...");
    }
    out
}

/// The normalised text and the literals taken out of it (in textual order), or `None` when the
/// statement should be cached by its own text.
pub fn normalize(sql: &str) -> Option<(String, Vec<Value>)> {
    let b = sql.as_bytes();
    let first = first_word(sql)?;
    if !matches!(
        first.as_str(),
        "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "REPLACE"
    ) {
        return None;
    }
    let mut out = String::with_capacity(sql.len());
    let mut lits = Vec::new();
    let mut i = 0;
    let mut copied = 0;
    let mut in_by_list = false;
    let mut prev_word = "";
    let mut prev_sym: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if c == b'?' {
            return None; // the client's own placeholders: a prepared statement
        }
        if c == b'-' && b.get(i + 1) == Some(&b'-') || c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 {
            let s = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
            {
                i += 1;
            }
            // Compared in place: this runs for every text statement, so no allocation per word.
            let w = &sql[s..i];
            let one_of =
                |word: &str, keys: &[&str]| keys.iter().any(|k| word.eq_ignore_ascii_case(k));
            if w.eq_ignore_ascii_case("BY") && one_of(prev_word, &["ORDER", "GROUP", "PARTITION"]) {
                in_by_list = true;
            } else if one_of(
                w,
                &["LIMIT", "HAVING", "FOR", "UNION", "WINDOW", "INTO", "LOCK"],
            ) {
                in_by_list = false;
            }
            // A literal right after a word glued to it (`_utf8'x'`, `X'..'`, `N'..'`) stays.
            if b.get(i) == Some(&b'\'') {
                return None;
            }
            prev_word = w;
            prev_sym = None;
            continue;
        }
        if c == b'`' || c == b'"' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += 1;
            }
            i += 1;
            prev_sym = None;
            continue;
        }
        if c == b'\'' {
            let s = i;
            let mut text = Vec::new();
            i += 1;
            loop {
                match b.get(i) {
                    None => return None,
                    Some(b'\\') => return None,
                    Some(b'\'') if b.get(i + 1) == Some(&b'\'') => {
                        text.push(b'\'');
                        i += 2;
                    }
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(&x) => {
                        text.push(x);
                        i += 1;
                    }
                }
            }
            if b.get(i) == Some(&b'\'') {
                return None; // 'a' 'b' concatenation
            }
            out.push_str(&sql[copied..s]);
            out.push('?');
            copied = i;
            // The literal's bytes as the client sent them (see `super::text`).
            lits.push(Value::Bytes(
                super::text::encode(&String::from_utf8_lossy(&text)).into_owned(),
            ));
            prev_sym = None;
            continue;
        }
        if c.is_ascii_digit() {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            let signed = matches!(prev_sym, Some(b'-') | Some(b'+'));
            let after_dot = prev_sym == Some(b'.');
            if !in_by_list
                && !signed
                && !after_dot
                && let Ok(v) = sql[s..i].parse::<i64>()
            {
                out.push_str(&sql[copied..s]);
                out.push('?');
                copied = i;
                lits.push(Value::Int(v));
            }
            prev_sym = None;
            continue;
        }
        prev_sym = Some(c);
        i += 1;
    }
    if lits.is_empty() {
        return None;
    }
    out.push_str(&sql[copied..]);
    Some((out, lits))
}

fn first_word(sql: &str) -> Option<String> {
    super::lexer::tokens(sql, 1)
        .into_iter()
        .next()
        .and_then(|t| match t {
            super::lexer::Tok::Word(w) => Some(w),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(sql: &str) -> Option<(String, Vec<Value>)> {
        normalize(sql)
    }

    #[test]
    fn integers_and_plain_strings_become_placeholders() {
        assert_eq!(
            n("SELECT c FROM sbtest1 WHERE id=42"),
            Some((
                "SELECT c FROM sbtest1 WHERE id=?".into(),
                vec![Value::Int(42)]
            ))
        );
        assert_eq!(
            n("INSERT INTO t (id, c) VALUES (1, 'it''s'), (2, 'b')"),
            Some((
                "INSERT INTO t (id, c) VALUES (?, ?), (?, ?)".into(),
                vec![
                    Value::Int(1),
                    Value::Bytes(b"it's".to_vec()),
                    Value::Int(2),
                    Value::Bytes(b"b".to_vec())
                ]
            ))
        );
    }

    #[test]
    fn what_stays_in_the_text() {
        assert_eq!(
            n("SELECT c FROM t WHERE id BETWEEN 1 AND 5 ORDER BY 1, c LIMIT 10"),
            Some((
                "SELECT c FROM t WHERE id BETWEEN ? AND ? ORDER BY 1, c LIMIT ?".into(),
                vec![Value::Int(1), Value::Int(5), Value::Int(10)]
            ))
        );
        assert_eq!(n("SELECT * FROM t WHERE price = 1.5"), None);
        assert_eq!(
            n("SELECT * FROM t WHERE a = -5 AND b = 3"),
            Some((
                "SELECT * FROM t WHERE a = -5 AND b = ?".into(),
                vec![Value::Int(3)]
            ))
        );
        assert_eq!(n("SELECT * FROM t WHERE c = 'a\\'b'"), None);
        assert_eq!(n("SELECT * FROM t WHERE c = _utf8mb4'x'"), None);
        assert_eq!(n("SELECT * FROM t WHERE id = ?"), None);
        assert_eq!(n("SHOW TABLES LIKE 'x'"), None);
        assert_eq!(n("SELECT `1` FROM t2"), None);
        assert_eq!(
            n("SELECT * FROM t -- 42\nWHERE id = 7").map(|x| x.1),
            Some(vec![Value::Int(7)])
        );
    }
}
