//! The shard key: a typed, normalized value that compares the way MySQL compares the column.
//!
//! Coercion follows MySQL's comparison rules closely enough that `WHERE id = '42'` routes like
//! `WHERE id = 42`; where MySQL would compare loosely (`'42abc' = 42` is true with a warning),
//! we refuse the value instead of guessing (see [`Key::coerce`]).

mod date;
mod text;

pub use date::{Date, DateTime};
pub use text::StrKey;

use super::RouteError;
use crate::config::KeyType;
use mysql_common::value::Value;
use std::fmt;

/// A shard key value of one of the four key types. Ordered within a type.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    /// An integer key (`key_type = "int"`).
    Int(i64),
    /// A string key: its text and its weight string under the column's collation, which
    /// alone decides equality, order and placement.
    Str(StrKey),
    /// A DATE key.
    Date(Date),
    /// A DATETIME key.
    DateTime(DateTime),
}

impl Key {
    /// The key type of this value.
    pub fn key_type(&self) -> KeyType {
        match self {
            Key::Int(_) => KeyType::Int,
            Key::Str(k) => KeyType::String(k.collation()),
            Key::Date(_) => KeyType::Date,
            Key::DateTime(_) => KeyType::DateTime,
        }
    }

    /// Converts a value from a statement (literal or bound parameter) to a key of type `kt`.
    ///
    /// - `Int`: integers; UInt up to `i64::MAX`; doubles/floats with an integral value; text
    ///   holding an integer, with surrounding spaces, a sign and a fraction of zeros allowed
    ///   (`' 42'`, `'+42'`, `'42.0'`). Other text (`'42abc'`, `'4.2e1'`, `'42.5'`) is refused.
    /// - `String`: text (UTF-8 for `utf8mb4_*` collations, any bytes for `binary`), weighed by
    ///   the key type's collation; numbers as their decimal text.
    /// - `Date`: `'YYYY-MM-DD'` (also `'YYYY-M-D'` with any punctuation, `'YYYYMMDD'` and the
    ///   number `YYYYMMDD`, which MariaDB reads as that date), or a datetime text / DATE value
    ///   whose time is midnight
    ///   (MySQL compares a DATE column with a datetime as a datetime, so only midnight can be
    ///   equal to a date; other times are refused rather than truncated, which would misplace
    ///   an exclusive upper bound).
    /// - `DateTime`: `'YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]'` (`T` also accepted), DATE values.
    ///
    /// NULL is refused: it is never equal to anything, the caller handles it.
    pub fn coerce(kt: KeyType, v: &Value) -> Result<Key, RouteError> {
        let bad = |reason: &str| RouteError::BadKey {
            column: None,
            value: describe(v),
            expected: kt,
            reason: reason.to_string(),
        };
        if let Value::NULL = v {
            return Err(bad("NULL is never equal to a shard key"));
        }
        match kt {
            KeyType::Int => match v {
                Value::Int(i) => Ok(Key::Int(*i)),
                Value::UInt(u) => i64::try_from(*u)
                    .map(Key::Int)
                    .map_err(|_| bad("out of range for a signed 64-bit key")),
                Value::Double(d) => float_to_int(*d).ok_or_else(|| bad("not an integral value")),
                Value::Float(f) => {
                    float_to_int(f64::from(*f)).ok_or_else(|| bad("not an integral value"))
                }
                Value::Bytes(b) => std::str::from_utf8(b)
                    .ok()
                    .and_then(parse_int_text)
                    .map(Key::Int)
                    .ok_or_else(|| bad("text is not an integer")),
                _ => Err(bad("a date or time is not an integer")),
            },
            KeyType::String(c) => {
                let text = match v {
                    Value::Bytes(b) => b.clone(),
                    Value::Int(i) => i.to_string().into_bytes(),
                    Value::UInt(u) => u.to_string().into_bytes(),
                    Value::Double(d) => float_text(*d).into_bytes(),
                    Value::Float(f) => float_text(f64::from(*f)).into_bytes(),
                    _ => return Err(bad("a date or time is not a string key")),
                };
                StrKey::new(c, text)
                    .map(Key::Str)
                    .ok_or_else(|| bad("not valid UTF-8"))
            }
            KeyType::Date => {
                // The other forms MariaDB reads as the same date (`'2026-2-1'`, `'2026/02/01'`,
                // `'20260201'`, `20260201`): unambiguous in a comparison and in a stored value.
                let relaxed = match v {
                    Value::Bytes(b) => std::str::from_utf8(b)
                        .ok()
                        .and_then(|s| Date::parse_relaxed(s.trim())),
                    Value::Int(i) => Date::from_number(i128::from(*i)),
                    Value::UInt(u) => Date::from_number(i128::from(*u)),
                    _ => None,
                };
                if let (None, Some(d)) = (datetime_of(v), relaxed) {
                    return Ok(Key::Date(d));
                }
                let dt = datetime_of(v).ok_or_else(|| bad("expected 'YYYY-MM-DD'"))?;
                if dt.is_midnight() {
                    Ok(Key::Date(dt.date()))
                } else {
                    Err(bad("a time of day other than midnight never equals a DATE"))
                }
            }
            KeyType::DateTime => datetime_of(v)
                .map(Key::DateTime)
                .ok_or_else(|| bad("expected 'YYYY-MM-DD HH:MM:SS[.ffffff]'")),
        }
    }

    /// Converts a bound or list value written in the rules file, typed by the key type:
    /// ints as TOML integers, strings as TOML strings, dates and datetimes as strings or
    /// TOML dates (`2026-01-01`, `2026-01-01T10:00:00`, without offset).
    pub fn from_config(kt: KeyType, v: &toml::Value) -> Result<Key, String> {
        match (kt, v) {
            (KeyType::Int, toml::Value::Integer(i)) => Ok(Key::Int(*i)),
            (KeyType::Int, other) => {
                Err(format!("expected an integer, found {}", other.type_str()))
            }
            (KeyType::String(c), toml::Value::String(s)) => StrKey::new(c, s.clone().into_bytes())
                .map(Key::Str)
                .ok_or_else(|| "not valid UTF-8".to_string()),
            (KeyType::String(_), other) => {
                Err(format!("expected a string, found {}", other.type_str()))
            }
            (KeyType::Date, v) => match config_text(v).as_deref().and_then(Date::parse) {
                Some(d) => Ok(Key::Date(d)),
                None => Err(format!("expected a date \"YYYY-MM-DD\", found {v}")),
            },
            (KeyType::DateTime, v) => match config_text(v).as_deref().and_then(DateTime::parse) {
                Some(d) => Ok(Key::DateTime(d)),
                None => Err(format!(
                    "expected a datetime \"YYYY-MM-DD HH:MM:SS\", found {v}"
                )),
            },
        }
    }
}

/// Text of a TOML string or offset-less TOML date/datetime.
fn config_text(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Datetime(d) if d.offset.is_none() && d.date.is_some() => Some(d.to_string()),
        _ => None,
    }
}

/// A DATE/DATETIME value or literal text as a datetime.
fn datetime_of(v: &Value) -> Option<DateTime> {
    match v {
        Value::Date(y, mo, d, h, mi, s, us) => {
            DateTime::new(Date::new(*y, *mo, *d)?, *h, *mi, *s, *us)
        }
        Value::Bytes(b) => DateTime::parse(std::str::from_utf8(b).ok()?.trim()),
        _ => None,
    }
}

/// An integral float in i64 range (`-2^63 <= f < 2^63`).
fn float_to_int(f: f64) -> Option<Key> {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63, exact in f64
    (f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f))
        .then_some(Key::Int(f as i64))
}

/// Decimal text of a float: integral values without a fraction (`42`), others as the
/// shortest text that reads back the same (`0.5`).
fn float_text(f: f64) -> String {
    match float_to_int(f) {
        Some(Key::Int(i)) => i.to_string(),
        _ => f.to_string(),
    }
}

/// `[spaces][+|-]digits[.zeros][spaces]` as an i64.
fn parse_int_text(s: &str) -> Option<i64> {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    if !frac.bytes().all(|b| b == b'0') {
        return None;
    }
    let digits = int.strip_prefix(['+', '-']).unwrap_or(int);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    int.strip_prefix('+').unwrap_or(int).parse().ok()
}

/// A value as MySQL would show it in a message.
fn describe(v: &Value) -> String {
    match v {
        Value::Bytes(b) => format!("'{}'", String::from_utf8_lossy(b)),
        other => other.as_sql(true),
    }
}

impl fmt::Display for Key {
    /// As a SQL literal: `42`, `'paris'`, `'2026-01-01'`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Int(i) => write!(f, "{i}"),
            Key::Str(s) => write!(f, "{s}"),
            Key::Date(d) => write!(f, "'{d}'"),
            Key::DateTime(d) => write!(f, "'{d}'"),
        }
    }
}

#[cfg(test)]
mod tests;
