//! Expressions over merged aggregates (`SUM(a) / COUNT(*)`, `ROUND(AVG(x), 2)`) and HAVING
//! across shards. The shards cannot compute them (each sees only its part of a group), and the
//! proxy does not re-implement MariaDB's arithmetic (decimal scales of a division, integer
//! overflow, rounding, string functions): after the fold, one backend evaluates each expression
//! with the merged values written in as literals of their own types (`CAST('12.50' AS
//! DECIMAL(14,2))`, `_utf8mb4 X'..' COLLATE ...`), many expressions per round trip. The
//! result's column metadata stays the shards' (they computed the same expression over their
//! own rows, which has the same type).

use super::compare::{self, Kind};
use super::{Folded, resolve};
use crate::error::{ProxyError, Result};
use crate::frontend::packets::ColumnDef;
use crate::frontend::rows::value_text;
use crate::plan::{Part, RowMerge, Template};
use crate::rewrite::typed::typed_literal;
use crate::sql::analyze::OrderRef;
use mysql_async::Value;

/// How many expressions one evaluation statement computes (one column each).
const PER_STATEMENT: usize = 500;

/// Whether the merge has expressions a backend must evaluate.
pub fn needed(m: &RowMerge) -> bool {
    !m.computed.is_empty() || m.having.is_some()
}

/// The statements that evaluate the computed columns and the HAVING of every folded row, in
/// order: each `SELECT e1, e2, ...` returns one row; [`apply`] takes their values in the same
/// order.
pub fn queries(m: &RowMerge, f: &Folded) -> Result<Vec<String>> {
    let mut exprs: Vec<String> = Vec::new();
    for row in &f.rows {
        for (_, t) in &m.computed {
            exprs.push(render(t, row, &f.columns, m.hidden)?);
        }
        if let Some(h) = &m.having {
            exprs.push(format!(
                "({}) IS TRUE",
                render(h, row, &f.columns, m.hidden)?
            ));
        }
    }
    Ok(exprs
        .chunks(PER_STATEMENT)
        .map(|c| format!("SELECT {}", c.join(", ")))
        .collect())
}

/// Puts the evaluated values into the rows (in [`queries`]' order) and drops the rows whose
/// HAVING is not true.
pub fn apply(m: &RowMerge, f: &mut Folded, values: Vec<Value>) -> Result<()> {
    let per_row = m.computed.len() + usize::from(m.having.is_some());
    if values.len() != per_row * f.rows.len() {
        return Err(ProxyError::Transaction(format!(
            "the evaluation of merged expressions returned {} values for {} rows",
            values.len(),
            f.rows.len()
        )));
    }
    let targets: Vec<usize> = m
        .computed
        .iter()
        .map(|(r, _)| {
            resolve(r, &f.columns, m.hidden).ok_or_else(|| {
                ProxyError::Transaction("a computed column outside the result".into())
            })
        })
        .collect::<Result<_>>()?;
    let mut values = values.into_iter();
    let mut keep = Vec::with_capacity(f.rows.len());
    for row in &mut f.rows {
        for &i in &targets {
            let v = typed(values.next().unwrap_or(Value::NULL), &f.columns[i]);
            if let Some(slot) = row.get_mut(i) {
                *slot = v;
            }
        }
        keep.push(match m.having {
            Some(_) => matches!(values.next(), Some(v) if compare::as_i128(&v) == Some(1)),
            None => true,
        });
    }
    let mut flags = keep.into_iter();
    f.rows.retain(|_| flags.next().unwrap_or(false));
    Ok(())
}

/// An evaluated value in the form the result column's type is shown: a DOUBLE as a double,
/// so that it is written with the column's own number of decimals (`STDDEV(int) * 2` has 4,
/// a double literal in its place has none).
fn typed(v: Value, col: &ColumnDef) -> Value {
    match (&v, compare::kind(col)) {
        (Value::Bytes(_), Kind::Double) if col.decimals < 31 => {
            compare::as_f64(&v).map(Value::Double).unwrap_or(v)
        }
        _ => v,
    }
}

/// The SQL of a template for one row: its holes filled with the row's values as literals.
fn render(t: &Template, row: &[Value], cols: &[ColumnDef], hidden: usize) -> Result<String> {
    let mut out = String::new();
    for p in t {
        match p {
            Part::Sql(s) => out.push_str(s),
            Part::Col(r) => {
                let i = resolve(r, cols, hidden).ok_or_else(|| {
                    ProxyError::Transaction("an expression input outside the result".into())
                })?;
                let v = row.get(i).unwrap_or(&Value::NULL);
                out.push_str(&literal(v, &cols[i])?);
            }
        }
    }
    Ok(out)
}

/// A literal of `v` that the server reads back as the same value of the column's type: the
/// subquery literals of [`crate::rewrite::typed::typed_literal`], except that DECIMAL keeps
/// its precision and scale (so overflow and division scales follow the aggregate's type) and
/// text carries its collation (an expression over merged values may compare it).
pub fn literal(v: &Value, col: &ColumnDef) -> Result<String> {
    if matches!(v, Value::NULL) {
        return Ok("NULL".into());
    }
    let refuse = |what: &str| {
        Err(ProxyError::NotSupported(format!(
            "an expression over a merged {what} value across shards (`{}`)",
            String::from_utf8_lossy(&col.name)
        )))
    };
    match compare::kind(col) {
        Kind::Decimal => match compare::as_decimal(v) {
            Some(d) => {
                let scale = u32::from(col.decimals).min(38);
                let sign = u32::from(col.flags & 32 == 0);
                let point = u32::from(scale > 0);
                let precision = col
                    .length
                    .saturating_sub(sign + point)
                    .clamp(scale.max(1), 65);
                Ok(format!(
                    "CAST('{}' AS DECIMAL({precision},{scale}))",
                    d.to_plain_string()
                ))
            }
            None => refuse("DECIMAL"),
        },
        Kind::Text => match collation(col.charset) {
            Some((charset, name)) => Ok(format!(
                "_{charset} X'{}' COLLATE {name}",
                hex(&value_text(v, Some(col)))
            )),
            None => refuse(&format!("text (collation id {})", col.charset)),
        },
        _ => match typed_literal(v, col) {
            Ok(t) => Ok(t.sql),
            Err(what) => refuse(&what),
        },
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// The character set and name of the collations a result column commonly reports (its
/// metadata carries the collation id). Hand-written: a dozen entries, where a table of all of
/// MariaDB's collations would be generated for nothing; others are refused.
fn collation(id: u16) -> Option<(&'static str, &'static str)> {
    Some(match id {
        8 => ("latin1", "latin1_swedish_ci"),
        47 => ("latin1", "latin1_bin"),
        11 => ("ascii", "ascii_general_ci"),
        65 => ("ascii", "ascii_bin"),
        33 => ("utf8mb3", "utf8mb3_general_ci"),
        83 => ("utf8mb3", "utf8mb3_bin"),
        192 => ("utf8mb3", "utf8mb3_unicode_ci"),
        45 => ("utf8mb4", "utf8mb4_general_ci"),
        46 => ("utf8mb4", "utf8mb4_bin"),
        224 => ("utf8mb4", "utf8mb4_unicode_ci"),
        246 => ("utf8mb4", "utf8mb4_unicode_520_ci"),
        _ => return None,
    })
}

/// The parts of a template as text, for plans and tests.
pub fn describe(t: &Template) -> String {
    t.iter()
        .map(|p| match p {
            Part::Sql(s) => s.clone(),
            Part::Col(OrderRef::Hidden(k)) => format!("<hidden {}>", k + 1),
            Part::Col(OrderRef::Position(p)) => format!("<column {}>", p + 1),
            Part::Col(r) => format!("<{r:?}>"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_async::consts::ColumnType;

    fn col(t: ColumnType, decimals: u8, len: u32) -> ColumnDef {
        let mut c = ColumnDef::synthetic("c", t);
        c.decimals = decimals;
        c.length = len;
        c
    }

    #[test]
    fn literals_keep_the_type() {
        let d = col(ColumnType::MYSQL_TYPE_NEWDECIMAL, 2, 14);
        assert_eq!(
            literal(&Value::Bytes(b"-12.50".to_vec()), &d).unwrap(),
            "CAST('-12.50' AS DECIMAL(12,2))"
        );
        let i = col(ColumnType::MYSQL_TYPE_LONGLONG, 0, 21);
        assert_eq!(literal(&Value::Int(-3), &i).unwrap(), "-3");
        assert_eq!(literal(&Value::NULL, &i).unwrap(), "NULL");
        let f = col(ColumnType::MYSQL_TYPE_DOUBLE, 31, 22);
        assert_eq!(literal(&Value::Double(0.1), &f).unwrap(), "1e-1");
        let mut t = col(ColumnType::MYSQL_TYPE_VAR_STRING, 0, 40);
        t.charset = 45;
        assert_eq!(
            literal(&Value::Bytes("É'".as_bytes().to_vec()), &t).unwrap(),
            "_utf8mb4 X'C38927' COLLATE utf8mb4_general_ci"
        );
        let dt = col(ColumnType::MYSQL_TYPE_DATETIME, 0, 19);
        assert_eq!(
            literal(&Value::Bytes(b"2026-01-02 03:04:05".to_vec()), &dt).unwrap(),
            "CAST('2026-01-02 03:04:05' AS DATETIME)"
        );
    }
}
