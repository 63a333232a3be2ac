//! A result value as SQL literal text that MariaDB compares as it compares the result column it
//! came from (for values the proxy reads from one statement and writes into another, such as an
//! uncorrelated subquery's rows). The column's type from the result metadata picks the form.

use super::quote;
use crate::frontend::packets::ColumnDef;
use mysql_async::Value;
use mysql_async::consts::ColumnType;

/// Column flag: UNSIGNED.
const UNSIGNED_FLAG: u16 = 0x20;
/// Column flags: ENUM, SET.
const ENUM_FLAG: u16 = 0x100;
const SET_FLAG: u16 = 0x800;

/// A literal's SQL text, and whether it is a text (non-binary character) string, whose
/// comparisons depend on a collation that the literal does not carry.
#[derive(Clone, Debug, PartialEq)]
pub struct Typed {
    pub sql: String,
    pub text: bool,
}

/// The literal for `v`, a value of result column `col`; `Err` names what cannot be written
/// exactly (the caller refuses the statement rather than compare differently).
///
/// - integers as integers (`CAST(n AS UNSIGNED)` for an UNSIGNED column, which keeps unsigned
///   arithmetic), DECIMAL as its exact text, YEAR as an integer;
/// - FLOAT/DOUBLE as a double literal in exponent form with the digits that give back the same
///   double (a FLOAT's value widened to double, as MariaDB compares it);
/// - dates and times as `CAST('...' AS DATE | DATETIME(n) | TIME(n))`;
/// - binary strings as `_binary'...'`, other strings as quoted literals of the connection's
///   character set (the bytes kept);
/// - NULL as NULL.
pub fn typed_literal(v: &Value, col: &ColumnDef) -> Result<Typed, String> {
    use ColumnType::*;
    let plain = |sql: String| Ok(Typed { sql, text: false });
    let raw: Vec<u8> = match v {
        Value::NULL => return plain("NULL".into()),
        Value::Bytes(b) => b.clone(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::UInt(u) => u.to_string().into_bytes(),
        Value::Double(d) => format!("{d:e}").into_bytes(),
        Value::Float(f) => format!("{:e}", f64::from(*f)).into_bytes(),
        other => other.as_sql(true).trim_matches('\'').as_bytes().to_vec(),
    };
    let s = std::str::from_utf8(&raw).unwrap_or("");
    let fsp = col.decimals.min(6);
    match col.col_type {
        MYSQL_TYPE_NULL => plain("NULL".into()),
        MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_LONG | MYSQL_TYPE_INT24
        | MYSQL_TYPE_LONGLONG | MYSQL_TYPE_YEAR => {
            if !is_integer(s) {
                return Err(format!("the integer value `{s}`"));
            }
            if col.flags & UNSIGNED_FLAG != 0 && s.parse::<i64>().is_ok() {
                plain(format!("CAST({s} AS UNSIGNED)"))
            } else {
                plain(s.to_string())
            }
        }
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => {
            if !is_decimal(s) {
                return Err(format!("the decimal value `{s}`"));
            }
            plain(s.to_string())
        }
        MYSQL_TYPE_DOUBLE => match s.trim().parse::<f64>() {
            Ok(d) if d.is_finite() => plain(format!("{d:e}")),
            _ => Err(format!("the double value `{s}`")),
        },
        MYSQL_TYPE_FLOAT => match v {
            Value::Float(f) => plain(format!("{:e}", f64::from(*f))),
            _ => match s.trim().parse::<f32>() {
                Ok(f) if f.is_finite() => plain(format!("{:e}", f64::from(f))),
                _ => Err(format!("the float value `{s}`")),
            },
        },
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => plain(cast(s, "DATE")?),
        MYSQL_TYPE_DATETIME
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIMESTAMP
        | MYSQL_TYPE_TIMESTAMP2 => plain(cast(s, &with_fsp("DATETIME", fsp))?),
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => plain(cast(s, &with_fsp("TIME", fsp))?),
        MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_STRING
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
        | MYSQL_TYPE_BLOB => {
            if col.flags & (ENUM_FLAG | SET_FLAG) != 0 {
                // Compared by its position in the type in numeric contexts.
                return Err("an ENUM or SET value".into());
            }
            let body = quote(&crate::sql::text::decode(&raw));
            if col.charset == 63 {
                plain(format!("_binary{body}"))
            } else {
                Ok(Typed {
                    sql: body,
                    text: true,
                })
            }
        }
        other => Err(format!("a value of type {other:?}")),
    }
}

fn with_fsp(ty: &str, fsp: u8) -> String {
    if fsp == 0 {
        ty.to_string()
    } else {
        format!("{ty}({fsp})")
    }
}

/// `CAST('s' AS ty)` for a date or time the server printed (digits, `-`, `:`, `.`, space).
fn cast(s: &str, ty: &str) -> Result<String, String> {
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b':' | b'.' | b' '))
    {
        return Err(format!("the temporal value `{s}`"));
    }
    Ok(format!("CAST('{s}' AS {ty})"))
}

fn is_integer(s: &str) -> bool {
    let d = s.strip_prefix('-').unwrap_or(s);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
}

fn is_decimal(s: &str) -> bool {
    let d = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = d.split_once('.').unwrap_or((d, "0"));
    is_integer(int) && !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(t: ColumnType, flags: u16, charset: u16, decimals: u8) -> ColumnDef {
        ColumnDef {
            schema: Vec::new(),
            table: Vec::new(),
            org_table: Vec::new(),
            name: Vec::new(),
            org_name: Vec::new(),
            charset,
            length: 0,
            col_type: t,
            flags,
            decimals,
        }
    }

    fn lit(v: Value, c: &ColumnDef) -> String {
        typed_literal(&v, c).unwrap().sql
    }

    #[test]
    fn literals_keep_the_column_type() {
        use ColumnType::*;
        let b = |s: &str| Value::Bytes(s.as_bytes().to_vec());
        let int = col(MYSQL_TYPE_LONGLONG, 0, 63, 0);
        assert_eq!(lit(b("-42"), &int), "-42");
        assert!(typed_literal(&b("4x"), &int).is_err());
        let uns = col(MYSQL_TYPE_LONGLONG, UNSIGNED_FLAG, 63, 0);
        assert_eq!(lit(b("7"), &uns), "CAST(7 AS UNSIGNED)");
        assert_eq!(lit(b("18446744073709551615"), &uns), "18446744073709551615");
        let dec = col(MYSQL_TYPE_NEWDECIMAL, 0, 63, 6);
        assert_eq!(lit(b("-1234.567800"), &dec), "-1234.567800");
        let dbl = col(MYSQL_TYPE_DOUBLE, 0, 63, 31);
        assert_eq!(lit(b("0.1"), &dbl), "1e-1");
        assert_eq!(lit(Value::Double(1.5e300), &dbl), "1.5e300");
        let flt = col(MYSQL_TYPE_FLOAT, 0, 63, 31);
        assert_eq!(lit(b("1.1"), &flt), format!("{:e}", f64::from(1.1f32)));
        let dt = col(MYSQL_TYPE_DATETIME, 0, 63, 3);
        assert_eq!(
            lit(b("2026-01-02 03:04:05.120"), &dt),
            "CAST('2026-01-02 03:04:05.120' AS DATETIME(3))"
        );
        let d = col(MYSQL_TYPE_DATE, 0, 63, 0);
        assert_eq!(lit(b("2026-02-01"), &d), "CAST('2026-02-01' AS DATE)");
        let s = col(MYSQL_TYPE_VAR_STRING, 0, 45, 0);
        let t = typed_literal(&b("it's a \\"), &s).unwrap();
        assert_eq!((t.sql.as_str(), t.text), (r"'it\'s a \\'", true));
        let bin = col(MYSQL_TYPE_VAR_STRING, 0, 63, 0);
        let t = typed_literal(&Value::Bytes(vec![0xff, 0]), &bin).unwrap();
        assert_eq!(&*crate::sql::text::encode(&t.sql), b"_binary'\xff\\0'");
        assert!(!t.text);
        assert_eq!(lit(Value::NULL, &s), "NULL");
        let e = col(MYSQL_TYPE_STRING, ENUM_FLAG, 45, 0);
        assert!(typed_literal(&b("a"), &e).is_err());
        assert!(typed_literal(&b("1"), &col(MYSQL_TYPE_BIT, 0, 63, 0)).is_err());
    }
}
