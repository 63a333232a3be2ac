//! Session references (see `sql::session`) replaced by the session's values, so that a statement
//! that mentions `VERSION()`, `LAST_INSERT_ID()` or `@v` reads the same value wherever it runs.

use crate::sql::lexer::{Tok, spanned_tokens};
use crate::sql::session::{SessionRef, session_ref};
use sqlparser::ast::{
    Expr, Ident, Query, SelectItem, SetExpr, Statement, visit_expressions, visit_expressions_mut,
};
use std::ops::ControlFlow;

/// Where a session reference stands: in an item of the statement's SELECT list (whose column
/// definition the client sees, so the value should be typed as MariaDB types the reference), or
/// anywhere else (where a plain literal lets the router read it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    SelectList,
    Elsewhere,
}

/// Replaces every session reference of `stmt` by `value(reference, place)` (`None`: left as it
/// is). A SELECT list item whose expression changes keeps its column name: it gets its text as
/// alias, as MySQL names an unaliased item by its text as written (`SELECT @v+1` has a column
/// `@v+1`). `source` is the text `stmt` was parsed from, where that name is read.
pub fn substitute(
    stmt: &mut Statement,
    source: &str,
    value: &dyn Fn(&SessionRef, Place) -> Option<Expr>,
) {
    let replace = |e: &mut Expr, place: Place| {
        if let Some(r) = session_ref(e)
            && let Some(v) = value(&r, place)
        {
            *e = v;
        }
        ControlFlow::<()>::Continue(())
    };
    if let Statement::Query(q) = stmt {
        keep_names(q, source);
        if let SetExpr::Select(s) = q.body.as_mut() {
            for item in &mut s.projection {
                if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item
                {
                    let _ = visit_expressions_mut(e, |e| replace(e, Place::SelectList));
                }
            }
        }
    }
    let _ = visit_expressions_mut(stmt, |e| replace(e, Place::Elsewhere));
}

/// The SELECT list items of `stmt` (a plain SELECT, not a set operation) that are exactly one
/// session reference, by position; `None` when a wildcard makes positions unknown.
pub fn select_list_refs(stmt: &Statement) -> Option<Vec<(usize, SessionRef)>> {
    let Statement::Query(q) = stmt else {
        return None;
    };
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    let mut refs = Vec::new();
    for (i, item) in s.projection.iter().enumerate() {
        match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                if let Some(r) = session_ref(e) {
                    refs.push((i, r));
                }
            }
            _ => return None,
        }
    }
    Some(refs)
}

/// The byte offset of a parser location (1-based line and character column) in `text`.
fn offset(text: &str, line: u64, column: u64) -> Option<usize> {
    let mut l = 1u64;
    let mut c = 1u64;
    for (i, ch) in text.char_indices() {
        if l == line && c == column {
            return Some(i);
        }
        if ch == '\n' {
            l += 1;
            c = 1;
        } else {
            c += 1;
        }
    }
    None
}

/// The texts of the SELECT list whose `SELECT` keyword starts at byte `start`, item by item, as
/// written (sqlparser's spans of expressions are not exact enough for this).
fn item_texts(source: &str, start: usize) -> Vec<&str> {
    const MODIFIERS: &[&str] = &[
        "ALL",
        "DISTINCT",
        "DISTINCTROW",
        "HIGH_PRIORITY",
        "STRAIGHT_JOIN",
        "SQL_SMALL_RESULT",
        "SQL_BIG_RESULT",
        "SQL_BUFFER_RESULT",
        "SQL_CACHE",
        "SQL_NO_CACHE",
        "SQL_CALC_FOUND_ROWS",
    ];
    let Some(rest) = source.get(start..) else {
        return Vec::new();
    };
    let toks = spanned_tokens(rest, usize::MAX);
    let mut i = 1; // after SELECT
    while matches!(toks.get(i), Some((Tok::Word(w), _)) if MODIFIERS.contains(&w.as_str())) {
        i += 1;
    }
    let mut items = Vec::new();
    let Some(mut from) = toks.get(i).map(|t| t.1.start) else {
        return items;
    };
    let mut depth = 0i32;
    let mut end = rest.len();
    for (tok, range) in &toks[i..] {
        match tok {
            Tok::Sym('(') => depth += 1,
            Tok::Sym(')') if depth == 0 => {
                end = range.start;
                break;
            }
            Tok::Sym(')') => depth -= 1,
            Tok::Sym(',') if depth == 0 => {
                items.push(rest[from..range.start].trim());
                from = range.end;
            }
            Tok::Sym(';') if depth == 0 => {
                end = range.start;
                break;
            }
            Tok::Word(w)
                if depth == 0
                    && matches!(
                        w.as_str(),
                        "FROM"
                            | "INTO"
                            | "WHERE"
                            | "GROUP"
                            | "HAVING"
                            | "ORDER"
                            | "LIMIT"
                            | "UNION"
                            | "EXCEPT"
                            | "INTERSECT"
                            | "FOR"
                            | "LOCK"
                            | "WINDOW"
                    ) =>
            {
                end = range.start;
                break;
            }
            _ => {}
        }
    }
    items.push(rest.get(from..end).unwrap_or_default().trim());
    items
}

fn mentions_session(e: &Expr) -> bool {
    visit_expressions(e, |sub| {
        if session_ref(sub).is_some() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .is_break()
}

fn keep_names(q: &mut Query, source: &str) {
    keep_names_in(q.body.as_mut(), source);
}

fn keep_names_in(body: &mut SetExpr, source: &str) {
    match body {
        SetExpr::Select(s) => {
            let at = s.select_token.0.span.start;
            let texts = offset(source, at.line, at.column)
                .map(|start| item_texts(source, start))
                .filter(|t| t.len() == s.projection.len())
                .unwrap_or_default();
            for (i, item) in s.projection.iter_mut().enumerate() {
                if let SelectItem::UnnamedExpr(e) = item
                    && mentions_session(e)
                {
                    let name = texts
                        .get(i)
                        .filter(|t| !t.is_empty())
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| e.to_string());
                    *item = SelectItem::ExprWithAlias {
                        expr: e.clone(),
                        alias: Ident::with_quote('`', name.replace('`', "``")),
                    };
                }
            }
        }
        SetExpr::SetOperation { left, .. } => keep_names_in(left, source),
        SetExpr::Query(q) => keep_names(q, source),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::analyze::parse;
    use crate::sql::session::SessionFn;

    fn sub(sql: &str) -> String {
        let mut stmt = parse(sql).unwrap().remove(0);
        substitute(&mut stmt, sql, &|r, place| {
            if place == Place::SelectList && matches!(r, SessionRef::Func(SessionFn::RowCount)) {
                return Some(crate::rewrite::raw_sql("typed"));
            }
            Some(match r {
                SessionRef::Func(SessionFn::Version) => crate::rewrite::raw_sql("'5.7'"),
                SessionRef::UserVar(v) => crate::rewrite::raw_sql(&format!("'{v}'")),
                SessionRef::Renamed(_, to) => Expr::Identifier(Ident::new(format!("@@{to}"))),
                _ => crate::rewrite::raw_sql("0"),
            })
        });
        stmt.to_string()
    }

    #[test]
    fn values_replace_references_and_names_stay() {
        assert_eq!(
            sub("SELECT VERSION(), 1, CONCAT(@a, 'x') AS c"),
            "SELECT '5.7' AS `VERSION()`, 1, CONCAT('a', 'x') AS c"
        );
        assert_eq!(
            sub("SELECT @v  +1, (version( )) FROM t"),
            "SELECT 'v' + 1 AS `@v  +1`, ('5.7') AS `(version( ))` FROM t"
        );
        assert_eq!(
            sub("SELECT\n  CONCAT( @a ,'x' ), 2"),
            "SELECT CONCAT('a', 'x') AS `CONCAT( @a ,'x' )`, 2"
        );
        assert_eq!(
            sub("SELECT @@transaction_isolation"),
            "SELECT @@tx_isolation AS `@@transaction_isolation`"
        );
        assert_eq!(
            sub("INSERT INTO t VALUES (@v, LAST_INSERT_ID())"),
            "INSERT INTO t VALUES ('v', 0)"
        );
        assert_eq!(
            sub("SELECT * FROM t WHERE id = @id UNION SELECT @id"),
            "SELECT * FROM t WHERE id = 'id' UNION SELECT 'id'"
        );
        assert_eq!(
            sub("SELECT ROW_COUNT() + 1 FROM t WHERE a = ROW_COUNT()"),
            "SELECT typed + 1 AS `ROW_COUNT() + 1` FROM t WHERE a = 0"
        );
    }

    #[test]
    fn select_list_references_by_position() {
        let refs = |sql: &str| {
            select_list_refs(&parse(sql).unwrap().remove(0))
                .map(|v| v.into_iter().map(|(i, _)| i).collect::<Vec<_>>())
        };
        assert_eq!(
            refs("SELECT 1, @v, LAST_INSERT_ID() AS l, @v + 1"),
            Some(vec![1, 2])
        );
        assert_eq!(refs("SELECT *, @v FROM t"), None);
        assert_eq!(refs("INSERT INTO t VALUES (@v)"), None);
    }
}
