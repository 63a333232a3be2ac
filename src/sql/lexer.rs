//! The statements recognised by their leading words: transaction control, SET, USE, SHOW and
//! stored programs. These bypass sqlparser, which refuses several of them
//! (`START TRANSACTION WITH CONSISTENT SNAPSHOT`, `XA ...`, SHOW forms with LIKE, routine
//! bodies) and costs more than these hot, simple statements need.
//!
//! The scanner is hand-written because sqlparser's tokenizer allocates a token per word and
//! refuses text that only the server's grammar accepts.

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

/// Tokens of `sql`, skipping whitespace and comments (but not `/*! ... */` or `/*M! ... */`,
/// whose content the server runs).
pub fn tokens(sql: &str, limit: usize) -> Vec<Tok> {
    spanned_tokens(sql, limit)
        .into_iter()
        .map(|(t, _)| t)
        .collect()
}

/// Like [`tokens`], each with the byte range of `sql` it was read from.
pub fn spanned_tokens(sql: &str, limit: usize) -> Vec<(Tok, std::ops::Range<usize>)> {
    let b = sql.as_bytes();
    let mut out: Vec<(Tok, std::ops::Range<usize>)> = Vec::new();
    let mut i = 0;
    while i < b.len() && out.len() < limit {
        let c = b[i];
        let start = i;
        let mut push = |t: Tok, end: usize| out.push((t, start..end));
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') || c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            // `/*! ... */` and MariaDB's `/*M! ... */`: the server runs their content.
            let bang = match (b.get(i + 2), b.get(i + 3)) {
                (Some(b'!'), _) => Some(3),
                (Some(b'M'), Some(b'!')) => Some(4),
                _ => None,
            };
            if let Some(skip) = bang {
                i += skip;
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
            push(Tok::Word(sql[s..i].to_ascii_uppercase()), i);
        } else if c.is_ascii_digit() {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            push(Tok::Num(sql[s..i].to_string()), i);
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
            let t = if c == b'`' {
                Tok::Quoted(text)
            } else {
                Tok::Str(text)
            };
            push(t, i.min(b.len()));
        } else {
            let ch = sql[i..].chars().next().unwrap_or(' ');
            i += ch.len_utf8();
            push(Tok::Sym(ch), i);
        }
    }
    out
}

/// The user variables `sql` mentions (`@name`, not `@@name`): each one's byte range and its
/// lower-cased name.
pub fn user_vars(sql: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let t = spanned_tokens(sql, usize::MAX);
    let mut out = Vec::new();
    for i in 0..t.len().saturating_sub(1) {
        let (at, name) = (&t[i], &t[i + 1]);
        let after_at = i > 0 && t[i - 1].0 == Tok::Sym('@') && t[i - 1].1.end == at.1.start;
        if at.0 != Tok::Sym('@') || after_at || name.1.start != at.1.end {
            continue;
        }
        let n = match &name.0 {
            Tok::Word(_) => sql[name.1.clone()].to_string(),
            Tok::Quoted(q) | Tok::Str(q) => q.clone(),
            _ => continue,
        };
        out.push((at.1.start..name.1.end, n.to_ascii_lowercase()));
    }
    out
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
    fn finds_user_variables() {
        let sql = "SELECT @a, @@b, @`C d`, '@e' FROM t WHERE x = @F";
        let found: Vec<(&str, String)> = user_vars(sql)
            .into_iter()
            .map(|(r, n)| (&sql[r], n))
            .collect();
        assert_eq!(
            found,
            vec![
                ("@a", "a".into()),
                ("@`C d`", "c d".into()),
                ("@F", "f".into())
            ]
        );
    }
}
