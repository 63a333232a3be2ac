//! The rewrite stage: per-shard SQL made by editing a copy of the AST, never by string surgery.
//! Rewritten statements carry no placeholders: bound parameters are inlined as literals, so a
//! shard's share of a statement stands on its own.

pub mod info_schema;
pub mod physical;
pub mod session;
pub mod typed;

use mysql_async::Value as MyValue;
use sqlparser::ast::{
    Expr, Ident, LimitClause, ObjectName, ObjectNamePart, Query, SetExpr, Statement, Value,
    ValueWithSpan, visit_expressions_mut,
};
use sqlparser::tokenizer::Span;
use std::ops::ControlFlow;

/// MySQL literal text for a value. Strings are escaped here rather than by sqlparser's printer,
/// which doubles quotes but leaves backslashes alone: `'a\b'` would reach MySQL as a backspace.
pub fn literal_sql(v: &MyValue) -> String {
    match v {
        MyValue::NULL => "NULL".into(),
        MyValue::Int(i) => i.to_string(),
        MyValue::UInt(u) => u.to_string(),
        MyValue::Float(f) => format!("{f:e}"),
        MyValue::Double(d) => format!("{d:e}"),
        // A string literal in the connection's character set, like the text it came from; bytes
        // that are not UTF-8 travel in the lossless form of `sql::text` and are restored when
        // the statement is encoded for the backend.
        MyValue::Bytes(b) => quote(&crate::sql::text::decode(b)),
        MyValue::Date(y, m, d, h, mi, s, us) => {
            format!("'{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}'")
        }
        MyValue::Time(neg, days, h, mi, s, us) => {
            let sign = if *neg { "-" } else { "" };
            format!(
                "'{sign}{}:{mi:02}:{s:02}.{us:06}'",
                u32::from(*h) + days * 24
            )
        }
    }
}

/// A single-quoted MySQL string literal with `\`, `'` and control characters escaped.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\x1a' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// An expression that prints as `text` verbatim. sqlparser prints a placeholder's text as it is,
/// which is the one way to hand it a literal already escaped for MySQL.
fn raw(text: String) -> Expr {
    Expr::Value(ValueWithSpan {
        value: Value::Placeholder(text),
        span: Span::empty(),
    })
}

/// An expression that prints as `text` (SQL the proxy wrote itself).
pub fn raw_sql(text: &str) -> Expr {
    raw(text.to_string())
}

/// The expression for a bound value.
pub fn value_expr(v: &MyValue) -> Expr {
    raw(literal_sql(v))
}

/// `sql` with each `?` placeholder (outside strings and comments) replaced by its bound value's
/// literal, in textual order: for the statements the proxy runs as text, not through the parser
/// (a prepared `SET @v = ?`). A placeholder without a value stays.
pub fn inline_text_params(sql: &str, params: &[MyValue]) -> String {
    use crate::sql::lexer::{Tok, spanned_tokens};
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    let mut values = params.iter();
    for (tok, range) in spanned_tokens(sql, usize::MAX) {
        if tok == Tok::Sym('?')
            && let Some(v) = values.next()
        {
            out.push_str(&sql[at..range.start]);
            out.push_str(&literal_sql(v));
            at = range.end;
        }
    }
    out.push_str(&sql[at..]);
    out
}

/// Replaces every numbered placeholder (`?1`, ...) by its bound value. String literals of the
/// text stay as the client wrote them (the parser keeps them unescaped: see `sql::analyze::parse`).
pub fn inline_params(stmt: &mut Statement, params: &[MyValue]) {
    let _ = visit_expressions_mut(stmt, |e| {
        if let Expr::Value(v) = e {
            let replacement = match &v.value {
                Value::Placeholder(p) if p.starts_with('?') => p[1..]
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| params.get(n.wrapping_sub(1)))
                    .map(value_expr),
                _ => None,
            };
            if let Some(r) = replacement {
                *e = r;
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

/// Sets `LIMIT offset, count` on a query (LIMIT pushdown: each shard returns offset + count).
pub fn set_limit(q: &mut Query, offset: u64, count: u64) {
    q.limit_clause = Some(LimitClause::OffsetCommaLimit {
        offset: value_expr(&MyValue::UInt(offset)),
        limit: value_expr(&MyValue::UInt(count)),
    });
}

/// For an INSERT: keeps only the VALUES rows listed in `rows` (in that order) and, when
/// `key_values` is given, sets the key column of each kept row (adding the column when the
/// statement omitted it).
pub fn insert_rows(
    stmt: &Statement,
    rows: &[usize],
    key: &str,
    key_values: &[(usize, MyValue)],
    params: &[MyValue],
) -> Option<String> {
    let mut stmt = stmt.clone();
    inline_params(&mut stmt, params);
    let Statement::Insert(ins) = &mut stmt else {
        return None;
    };
    let mut key_idx = ins
        .columns
        .iter()
        .position(|c| last_part(c).eq_ignore_ascii_case(key));
    if key_idx.is_none() && !key_values.is_empty() {
        ins.columns
            .push(ObjectName(vec![ObjectNamePart::Identifier(Ident::new(
                key,
            ))]));
        key_idx = Some(ins.columns.len() - 1);
    }
    let source = ins.source.as_mut()?;
    let SetExpr::Values(values) = source.body.as_mut() else {
        return None;
    };
    let all = std::mem::take(&mut values.rows);
    for &r in rows {
        let mut row = all.get(r)?.clone();
        if let Some((_, v)) = key_values.iter().find(|(i, _)| *i == r) {
            let k = key_idx?;
            if k < row.content.len() {
                row.content[k] = value_expr(v);
            } else {
                row.content.push(value_expr(v));
            }
        }
        values.rows.push(row);
    }
    Some(stmt.to_string())
}

/// The last part of a possibly qualified column name.
pub fn last_part(name: &ObjectName) -> String {
    match name.0.last() {
        Some(ObjectNamePart::Identifier(i)) => i.value.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::analyze::analyze;

    #[test]
    fn text_placeholders_take_their_values() {
        assert_eq!(
            inline_text_params(
                "SET @a = ?, @b = '?' /* ? */, @c := ?",
                &[MyValue::Int(5), MyValue::Bytes(b"it's".to_vec())]
            ),
            r"SET @a = 5, @b = '?' /* ? */, @c := 'it\'s'"
        );
    }

    #[test]
    fn insert_split_round_trips_through_the_parser() {
        let a = analyze(r"INSERT INTO t (c, pad) VALUES ('a\\b', ?), ('it''s', 'x')").unwrap();
        let sql = insert_rows(
            &a.stmt,
            &[1],
            "id",
            &[(1, MyValue::Int(7))],
            &[MyValue::Bytes(b"p".to_vec())],
        )
        .unwrap();
        assert_eq!(sql, r"INSERT INTO t (c, pad, id) VALUES ('it''s', 'x', 7)");
        let again = analyze(&sql).unwrap();
        assert_eq!(again.param_count, 0);
        let sql = insert_rows(
            &a.stmt,
            &[0],
            "id",
            &[(0, MyValue::Int(8))],
            &[MyValue::Bytes(b"p'q".to_vec())],
        )
        .unwrap();
        assert_eq!(
            sql,
            r"INSERT INTO t (c, pad, id) VALUES ('a\\b', 'p\'q', 8)"
        );
    }

    #[test]
    fn limit_pushdown() {
        let mut a = analyze("SELECT c FROM t ORDER BY c LIMIT 10, 5").unwrap();
        let Statement::Query(q) = &mut a.stmt else {
            panic!()
        };
        set_limit(q, 0, 15);
        assert_eq!(a.stmt.to_string(), "SELECT c FROM t ORDER BY c LIMIT 0, 15");
    }

    #[test]
    fn literals() {
        let bin = literal_sql(&MyValue::Bytes(vec![0xff, 0, b'\'']));
        assert_eq!(&*crate::sql::text::encode(&bin), b"'\xff\\0\\''");
        assert_eq!(
            literal_sql(&MyValue::Date(2026, 1, 2, 3, 4, 5, 6)),
            "'2026-01-02 03:04:05.000006'"
        );
        assert_eq!(literal_sql(&MyValue::Double(0.5)), "5e-1");
    }
}
