//! How the merge compares values: as the server compares them for the column's type. Integers
//! and DECIMALs exactly (DECIMAL has up to 65 digits and BIGINT UNSIGNED does not fit an i64,
//! so neither goes through f64), DOUBLE as double, temporal values by their value, binary
//! strings byte by byte, and non-binary strings by the **weight strings the shards computed**
//! (`WEIGHT_STRING(expr)` returned as a hidden column): collations are the server's business,
//! and re-implementing them would guess wrong (`É` = `E` under `utf8mb4_general_ci`, not under
//! `utf8mb4_bin`, and an explicit `COLLATE` changes which applies).
//!
//! A weight string compares byte by byte, except for trailing spaces: under a PAD SPACE
//! collation the shorter string counts as padded with spaces (`'a' = 'a '`, and `'a\t' < 'a'`
//! because a tab weighs less than a space). So each weight comes with a second hidden column,
//! the weight of one space in the expression's collation, or an empty string for a NO PAD
//! collation (see [`weight_sql`]).

use crate::frontend::packets::ColumnDef;
use bigdecimal::BigDecimal;
use mysql_async::Value;
use mysql_async::consts::ColumnType;
use std::cmp::Ordering;
use std::str::FromStr;

/// What a column's values are, for comparing them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Integer types and YEAR: compared as i128 (BIGINT UNSIGNED included).
    Int,
    /// DECIMAL: compared exactly.
    Decimal,
    /// FLOAT and DOUBLE.
    Double,
    /// DATE, DATETIME, TIMESTAMP: their canonical text orders like the value.
    Temporal,
    /// TIME: signed, and hours may have three digits.
    Time,
    /// Binary strings, BIT, geometry: byte by byte.
    Binary,
    /// Non-binary strings: by weight string.
    Text,
    /// ENUM and SET: equal by weight string, but ORDER BY sorts them by their index.
    Enum,
}

const ENUM_FLAG: u16 = 256;
const SET_FLAG: u16 = 2048;

/// The kind of a result column.
pub fn kind(c: &ColumnDef) -> Kind {
    use ColumnType::*;
    match c.col_type {
        MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_LONG | MYSQL_TYPE_INT24
        | MYSQL_TYPE_LONGLONG | MYSQL_TYPE_YEAR => Kind::Int,
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => Kind::Decimal,
        MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => Kind::Double,
        MYSQL_TYPE_DATE
        | MYSQL_TYPE_NEWDATE
        | MYSQL_TYPE_DATETIME
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIMESTAMP
        | MYSQL_TYPE_TIMESTAMP2 => Kind::Temporal,
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => Kind::Time,
        MYSQL_TYPE_BIT | MYSQL_TYPE_GEOMETRY => Kind::Binary,
        _ if c.flags & (ENUM_FLAG | SET_FLAG) != 0 => Kind::Enum,
        MYSQL_TYPE_ENUM | MYSQL_TYPE_SET => Kind::Enum,
        _ if c.is_binary() => Kind::Binary,
        _ => Kind::Text,
    }
}

/// One column used as a sort or grouping key.
#[derive(Clone, Copy, Debug)]
pub struct KeyCol {
    /// Its index in the row.
    pub idx: usize,
    pub kind: Kind,
    /// For text: the indexes of its weight string and of its pad weight.
    pub weight: Option<(usize, usize)>,
}

/// The SQL of the two hidden columns that let the merge compare `expr` as the server does:
/// its weight string, and the weight of a space in its collation when that collation pads
/// (PAD SPACE), else `''` (NO PAD). `LEFT(expr, 0)` is an empty string of the expression's own
/// collation, so the comparison with `' '` and the concatenation follow that collation.
pub fn weight_sql(expr: &str) -> [String; 2] {
    [
        format!("WEIGHT_STRING({expr})"),
        format!("IF(LEFT({expr}, 0) = ' ', WEIGHT_STRING(CONCAT(LEFT({expr}, 0), ' ')), '')"),
    ]
}

fn bytes_of(v: &Value) -> Option<&[u8]> {
    match v {
        Value::Bytes(b) => Some(b),
        _ => None,
    }
}

/// An integer value (text or binary protocol).
pub fn as_i128(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i) => Some(i128::from(*i)),
        Value::UInt(u) => Some(i128::from(*u)),
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// A DECIMAL (or integer) value, exactly.
pub fn as_decimal(v: &Value) -> Option<BigDecimal> {
    match v {
        Value::Int(i) => Some(BigDecimal::from(*i)),
        Value::UInt(u) => Some(BigDecimal::from(*u)),
        Value::Bytes(b) => BigDecimal::from_str(std::str::from_utf8(b).ok()?.trim()).ok(),
        _ => None,
    }
}

/// A DOUBLE value.
pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::UInt(u) => Some(*u as f64),
        Value::Float(f) => Some(f64::from(*f)),
        Value::Double(d) => Some(*d),
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// A TIME value in microseconds (`-838:59:59.000000` ..).
fn time_micros(v: &Value) -> Option<i128> {
    match v {
        Value::Time(neg, days, h, m, s, us) => {
            let t = ((i128::from(*days) * 24 + i128::from(*h)) * 60 + i128::from(*m)) * 60
                + i128::from(*s);
            let t = t * 1_000_000 + i128::from(*us);
            Some(if *neg { -t } else { t })
        }
        Value::Bytes(b) => {
            let s = std::str::from_utf8(b).ok()?.trim();
            let (neg, s) = match s.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, s),
            };
            let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
            let mut parts = whole.split(':');
            let h: i128 = parts.next()?.parse().ok()?;
            let m: i128 = parts.next().unwrap_or("0").parse().ok()?;
            let sec: i128 = parts.next().unwrap_or("0").parse().ok()?;
            let mut us: i128 = 0;
            for (i, c) in frac.chars().take(6).enumerate() {
                us += i128::from(c.to_digit(10)?) * 10i128.pow(5 - i as u32);
            }
            let t = ((h * 60 + m) * 60 + sec) * 1_000_000 + us;
            Some(if neg { -t } else { t })
        }
        _ => None,
    }
}

/// A decimal's text without leading or trailing zeros (`-001.50` → `-1.5`, `-0.0` → `0`), so
/// that equal values have equal text.
fn canonical_decimal(b: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(b).ok()?.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let mut out = String::new();
    if neg && !(int.is_empty() && frac.is_empty()) {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

/// The canonical text of a value (what the text protocol would carry).
fn text_of(v: &Value, c: Option<&ColumnDef>) -> Vec<u8> {
    match v {
        Value::Bytes(b) => b.clone(),
        other => crate::frontend::rows::value_text(other, c),
    }
}

/// `w` without its trailing pad units.
fn strip_pad<'a>(mut w: &'a [u8], pad: &[u8]) -> &'a [u8] {
    if pad.is_empty() || !w.len().is_multiple_of(pad.len()) {
        return w;
    }
    while w.ends_with(pad) {
        w = &w[..w.len() - pad.len()];
    }
    w
}

/// Compares two weight strings of a collation whose space weighs `pad` (empty: NO PAD).
pub fn cmp_weights(a: &[u8], b: &[u8], pad: &[u8]) -> Ordering {
    let unit = pad.len();
    if unit == 0 || !a.len().is_multiple_of(unit) || !b.len().is_multiple_of(unit) {
        return a.cmp(b);
    }
    let (a, b) = (strip_pad(a, pad), strip_pad(b, pad));
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        Ordering::Equal => {}
        o => return o,
    }
    // The shorter one goes on as spaces: the longer one's next non-space unit decides.
    let rest_vs_pad = |rest: &[u8]| {
        rest.chunks(unit)
            .map(|u| u.cmp(pad))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    };
    match a.len().cmp(&b.len()) {
        Ordering::Equal => Ordering::Equal,
        Ordering::Greater => rest_vs_pad(&a[n..]),
        Ordering::Less => rest_vs_pad(&b[n..]).reverse(),
    }
}

/// Compares the values of key `k` in two rows (NULL first), as the server would.
pub fn cmp_key(a: &[Value], b: &[Value], k: &KeyCol, c: Option<&ColumnDef>) -> Ordering {
    let (Some(x), Some(y)) = (a.get(k.idx), b.get(k.idx)) else {
        return Ordering::Equal;
    };
    match (x, y) {
        (Value::NULL, Value::NULL) => return Ordering::Equal,
        (Value::NULL, _) => return Ordering::Less,
        (_, Value::NULL) => return Ordering::Greater,
        _ => {}
    }
    match k.kind {
        Kind::Int => {
            if let (Some(p), Some(q)) = (as_i128(x), as_i128(y)) {
                return p.cmp(&q);
            }
            if let (Some(p), Some(q)) = (as_decimal(x), as_decimal(y)) {
                return p.cmp(&q);
            }
        }
        Kind::Decimal => {
            if let (Some(p), Some(q)) = (as_decimal(x), as_decimal(y)) {
                return p.cmp(&q);
            }
        }
        Kind::Double => {
            if let (Some(p), Some(q)) = (as_f64(x), as_f64(y)) {
                return p.partial_cmp(&q).unwrap_or(Ordering::Equal);
            }
        }
        Kind::Time => {
            if let (Some(p), Some(q)) = (time_micros(x), time_micros(y)) {
                return p.cmp(&q);
            }
        }
        Kind::Text | Kind::Enum => {
            if let Some((w, pad)) = k.weight {
                let wa = a.get(w).and_then(bytes_of).unwrap_or_default();
                let wb = b.get(w).and_then(bytes_of).unwrap_or_default();
                let p = a.get(pad).and_then(bytes_of).unwrap_or_default();
                return cmp_weights(wa, wb, p);
            }
        }
        Kind::Temporal | Kind::Binary => {}
    }
    text_of(x, c).cmp(&text_of(y, c))
}

/// A form of key `k`'s value in `row` that is equal for two rows exactly when the server
/// holds their values equal (for DISTINCT and GROUP BY).
pub fn eq_form(row: &[Value], k: &KeyCol, c: Option<&ColumnDef>) -> Vec<u8> {
    let Some(v) = row.get(k.idx) else {
        return Vec::new();
    };
    if matches!(v, Value::NULL) {
        return vec![0xff, 0xfe];
    }
    let tagged = |tag: u8, mut body: Vec<u8>| {
        body.insert(0, tag);
        body
    };
    match k.kind {
        Kind::Int | Kind::Decimal => {
            if let Some(i) = as_i128(v) {
                return tagged(1, i.to_string().into_bytes());
            }
            if let Some(d) = bytes_of(v).and_then(canonical_decimal) {
                return tagged(1, d.into_bytes());
            }
        }
        Kind::Double => {
            if let Some(f) = as_f64(v) {
                // -0 and 0 are equal.
                let f = if f == 0.0 { 0.0 } else { f };
                return tagged(2, f.to_bits().to_be_bytes().to_vec());
            }
        }
        Kind::Time => {
            if let Some(t) = time_micros(v) {
                return tagged(3, t.to_be_bytes().to_vec());
            }
        }
        Kind::Text | Kind::Enum => {
            if let Some((w, pad)) = k.weight {
                let wv = row.get(w).and_then(bytes_of).unwrap_or_default();
                let p = row.get(pad).and_then(bytes_of).unwrap_or_default();
                return tagged(4, strip_pad(wv, p).to_vec());
            }
        }
        Kind::Temporal | Kind::Binary => {}
    }
    tagged(5, text_of(v, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(units: &[u16]) -> Vec<u8> {
        units.iter().flat_map(|u| u.to_be_bytes()).collect()
    }

    #[test]
    fn pad_space_weights() {
        let pad = w(&[0x20]);
        // 'a' = 'a '
        assert_eq!(
            cmp_weights(&w(&[0x41]), &w(&[0x41, 0x20]), &pad),
            Ordering::Equal
        );
        // 'a\t' < 'a' (a tab weighs less than the space 'a' is padded with)
        assert_eq!(
            cmp_weights(&w(&[0x41, 0x09]), &w(&[0x41]), &pad),
            Ordering::Less
        );
        assert_eq!(
            cmp_weights(&w(&[0x41]), &w(&[0x41, 0x21]), &pad),
            Ordering::Less
        );
        // NO PAD: a longer string is greater.
        assert_eq!(
            cmp_weights(&w(&[0x41]), &w(&[0x41, 0x20]), &[]),
            Ordering::Less
        );
    }

    #[test]
    fn decimals_and_unsigned_are_exact() {
        let c = ColumnDef::synthetic("d", ColumnType::MYSQL_TYPE_NEWDECIMAL);
        let k = KeyCol {
            idx: 0,
            kind: kind(&c),
            weight: None,
        };
        let row = |s: &str| vec![Value::Bytes(s.as_bytes().to_vec())];
        assert_eq!(
            cmp_key(
                &row("10000000000000000.07"),
                &row("10000000000000000.06"),
                &k,
                Some(&c)
            ),
            Ordering::Greater
        );
        let c = ColumnDef::synthetic("u", ColumnType::MYSQL_TYPE_LONGLONG);
        let k = KeyCol {
            idx: 0,
            kind: kind(&c),
            weight: None,
        };
        assert_eq!(
            cmp_key(
                &[Value::UInt(u64::MAX)],
                &[Value::UInt(u64::MAX - 1)],
                &k,
                Some(&c)
            ),
            Ordering::Greater
        );
        assert_eq!(
            eq_form(
                &row("1.50"),
                &KeyCol {
                    idx: 0,
                    kind: Kind::Decimal,
                    weight: None
                },
                None
            ),
            eq_form(
                &row("1.5"),
                &KeyCol {
                    idx: 0,
                    kind: Kind::Decimal,
                    weight: None
                },
                None
            )
        );
    }

    #[test]
    fn time_is_signed() {
        let c = ColumnDef::synthetic("t", ColumnType::MYSQL_TYPE_TIME);
        let k = KeyCol {
            idx: 0,
            kind: kind(&c),
            weight: None,
        };
        let row = |s: &str| vec![Value::Bytes(s.as_bytes().to_vec())];
        assert_eq!(
            cmp_key(&row("-01:00:00"), &row("00:30:00"), &k, Some(&c)),
            Ordering::Less
        );
        assert_eq!(
            cmp_key(&row("100:00:00"), &row("99:00:00"), &k, Some(&c)),
            Ordering::Greater
        );
    }
}
