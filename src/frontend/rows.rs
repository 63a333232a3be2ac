//! Row encodings: values to the text protocol and to the binary protocol (by the column's type,
//! whatever protocol the backend answered in), and COM_STMT_EXECUTE parameters to values.

use super::packets::{ColumnDef, Reader, put_lenenc_int, put_lenenc_str};
use mysql_async::Value;
use mysql_async::consts::ColumnType;
use std::io::Write;

/// Appends one text-protocol row.
pub fn write_text_row(buf: &mut Vec<u8>, cols: &[ColumnDef], row: &[Value]) {
    for (i, v) in row.iter().enumerate() {
        match v {
            Value::NULL => buf.push(0xfb),
            Value::Bytes(b) => put_lenenc_str(buf, b),
            other => {
                let col = cols.get(i);
                let text = value_text(other, col);
                put_lenenc_str(buf, &text);
            }
        }
    }
}

/// The text form MySQL would send for a typed value.
pub fn value_text(v: &Value, col: Option<&ColumnDef>) -> Vec<u8> {
    let mut out = Vec::new();
    let decimals = col.map(|c| c.decimals).unwrap_or(0);
    // write! into a Vec cannot fail.
    let _ = match v {
        Value::NULL => return b"NULL".to_vec(),
        Value::Bytes(b) => return b.clone(),
        Value::Int(i) => write!(out, "{i}"),
        Value::UInt(u) => write!(out, "{u}"),
        Value::Float(f) => write!(out, "{f}"),
        Value::Double(d) if decimals < 31 && d.is_finite() => {
            write!(out, "{}", fixed_decimals(*d, decimals))
        }
        Value::Double(d) => write!(out, "{d}"),
        Value::Date(y, m, d, h, mi, s, us) => {
            let is_date = col.is_some_and(|c| c.col_type == ColumnType::MYSQL_TYPE_DATE);
            if is_date {
                write!(out, "{y:04}-{m:02}-{d:02}")
            } else {
                let r = write!(out, "{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}");
                if decimals > 0 && decimals <= 6 {
                    let frac = format!("{us:06}");
                    let _ = write!(out, ".{}", &frac[..decimals as usize]);
                }
                r
            }
        }
        Value::Time(neg, days, h, mi, s, us) => {
            let hours = u64::from(*days) * 24 + u64::from(*h);
            let sign = if *neg { "-" } else { "" };
            let r = write!(out, "{sign}{hours:02}:{mi:02}:{s:02}");
            if decimals > 0 && decimals <= 6 {
                let frac = format!("{us:06}");
                let _ = write!(out, ".{}", &frac[..decimals as usize]);
            }
            r
        }
    };
    out
}

/// A double shown with a fixed number of decimals, as the server shows a DOUBLE result of
/// fixed scale (`STDDEV(int_col)` has 4): the shortest digits that read back as the value,
/// rounded half up to that many decimals (zeros past the shortest digits, not the binary
/// expansion).
fn fixed_decimals(d: f64, decimals: u8) -> String {
    use std::str::FromStr;
    match bigdecimal::BigDecimal::from_str(&format!("{d:e}")) {
        Ok(b) => b
            .with_scale_round(i64::from(decimals), bigdecimal::RoundingMode::HalfUp)
            .to_plain_string(),
        Err(_) => format!("{d:.*}", usize::from(decimals)),
    }
}

fn parse_i64(b: &[u8]) -> i64 {
    let s = std::str::from_utf8(b).unwrap_or("0").trim();
    s.parse::<i64>()
        .or_else(|_| s.parse::<f64>().map(|f| f as i64))
        .unwrap_or(0)
}

fn parse_u64(b: &[u8]) -> u64 {
    let s = std::str::from_utf8(b).unwrap_or("0").trim();
    s.parse::<u64>().unwrap_or_else(|_| parse_i64(b) as u64)
}

fn parse_f64(b: &[u8]) -> f64 {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0.0)
}

fn int_of(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::UInt(u) => *u as i64,
        Value::Float(f) => *f as i64,
        Value::Double(d) => *d as i64,
        Value::Bytes(b) => parse_i64(b),
        _ => 0,
    }
}

fn float_of(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::UInt(u) => *u as f64,
        Value::Float(f) => f64::from(*f),
        Value::Double(d) => *d,
        Value::Bytes(b) => parse_f64(b),
        _ => 0.0,
    }
}

/// Parses MySQL's text form of a DATE/DATETIME/TIMESTAMP.
fn parse_datetime(b: &[u8]) -> (u16, u8, u8, u8, u8, u8, u32) {
    let s = String::from_utf8_lossy(b);
    let mut nums = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty());
    let mut next = || nums.next().unwrap_or("0");
    let y = next().parse().unwrap_or(0);
    let m = next().parse().unwrap_or(0);
    let d = next().parse().unwrap_or(0);
    let h = next().parse().unwrap_or(0);
    let mi = next().parse().unwrap_or(0);
    let sec = next().parse().unwrap_or(0);
    let frac = next();
    let us = if frac == "0" {
        0
    } else {
        format!("{frac:0<6}")[..6].parse().unwrap_or(0)
    };
    (y, m, d, h, mi, sec, us)
}

fn parse_time(b: &[u8]) -> (bool, u32, u8, u8, u8, u32) {
    let s = String::from_utf8_lossy(b);
    let neg = s.trim_start().starts_with('-');
    let mut parts = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty());
    let hours: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let mi = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let sec = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let us = parts
        .next()
        .map(|f| format!("{f:0<6}")[..6].parse().unwrap_or(0))
        .unwrap_or(0);
    (neg, hours / 24, (hours % 24) as u8, mi, sec, us)
}

/// Appends one binary-protocol row: header, NULL bitmap, then each value in its column's format.
pub fn write_binary_row(buf: &mut Vec<u8>, cols: &[ColumnDef], row: &[Value]) {
    buf.push(0);
    let bitmap_start = buf.len();
    buf.resize(bitmap_start + (cols.len() + 7 + 2) / 8, 0);
    for (i, col) in cols.iter().enumerate() {
        let v = row.get(i).unwrap_or(&Value::NULL);
        if matches!(v, Value::NULL) || col.col_type == ColumnType::MYSQL_TYPE_NULL {
            let bit = i + 2;
            buf[bitmap_start + bit / 8] |= 1 << (bit % 8);
            continue;
        }
        write_binary_value(buf, col, v);
    }
}

fn write_binary_value(buf: &mut Vec<u8>, col: &ColumnDef, v: &Value) {
    use ColumnType::*;
    match col.col_type {
        MYSQL_TYPE_TINY => buf.push(int_of(v) as u8),
        MYSQL_TYPE_SHORT | MYSQL_TYPE_YEAR => {
            buf.extend_from_slice(&(int_of(v) as u16).to_le_bytes())
        }
        MYSQL_TYPE_LONG | MYSQL_TYPE_INT24 => {
            buf.extend_from_slice(&(int_of(v) as u32).to_le_bytes())
        }
        MYSQL_TYPE_LONGLONG => {
            let bits = match v {
                Value::UInt(u) => *u,
                Value::Bytes(b) if col.flags & 32 != 0 => parse_u64(b),
                other => int_of(other) as u64,
            };
            buf.extend_from_slice(&bits.to_le_bytes())
        }
        MYSQL_TYPE_FLOAT => buf.extend_from_slice(&(float_of(v) as f32).to_le_bytes()),
        MYSQL_TYPE_DOUBLE => buf.extend_from_slice(&float_of(v).to_le_bytes()),
        MYSQL_TYPE_DATE
        | MYSQL_TYPE_DATETIME
        | MYSQL_TYPE_TIMESTAMP
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIMESTAMP2
        | MYSQL_TYPE_NEWDATE => {
            let (y, m, d, h, mi, s, us) = match v {
                Value::Date(y, m, d, h, mi, s, us) => (*y, *m, *d, *h, *mi, *s, *us),
                Value::Bytes(b) => parse_datetime(b),
                _ => (0, 0, 0, 0, 0, 0, 0),
            };
            if us != 0 {
                buf.push(11);
            } else if h != 0 || mi != 0 || s != 0 {
                buf.push(7);
            } else {
                buf.push(4);
            }
            buf.extend_from_slice(&y.to_le_bytes());
            buf.extend_from_slice(&[m, d]);
            if us != 0 || h != 0 || mi != 0 || s != 0 {
                buf.extend_from_slice(&[h, mi, s]);
            }
            if us != 0 {
                buf.extend_from_slice(&us.to_le_bytes());
            }
        }
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => {
            let (neg, days, h, mi, s, us) = match v {
                Value::Time(n, d, h, mi, s, us) => (*n, *d, *h, *mi, *s, *us),
                Value::Bytes(b) => parse_time(b),
                _ => (false, 0, 0, 0, 0, 0),
            };
            if days == 0 && h == 0 && mi == 0 && s == 0 && us == 0 {
                buf.push(0);
                return;
            }
            buf.push(if us != 0 { 12 } else { 8 });
            buf.push(u8::from(neg));
            buf.extend_from_slice(&days.to_le_bytes());
            buf.extend_from_slice(&[h, mi, s]);
            if us != 0 {
                buf.extend_from_slice(&us.to_le_bytes());
            }
        }
        _ => match v {
            Value::Bytes(b) => put_lenenc_str(buf, b),
            other => put_lenenc_str(buf, &value_text(other, Some(col))),
        },
    }
}

/// Decodes the parameter values of a COM_STMT_EXECUTE payload (after the statement id).
/// `types` keeps the types bound by an earlier execute (new-params-bound = 0 reuses them);
/// `long_data` holds what COM_STMT_SEND_LONG_DATA sent, which the packet then omits.
pub fn parse_execute_params(
    r: &mut Reader<'_>,
    count: usize,
    types: &mut Vec<(u8, bool)>,
    long_data: &std::collections::HashMap<u16, Vec<u8>>,
) -> Option<Vec<Value>> {
    let _flags = r.u8()?;
    let _iterations = r.u32()?;
    if count == 0 {
        return Some(Vec::new());
    }
    let bitmap = r.take(count.div_ceil(8))?.to_vec();
    if r.u8()? == 1 {
        types.clear();
        for _ in 0..count {
            let t = r.u8()?;
            let flags = r.u8()?;
            types.push((t, flags & 0x80 != 0));
        }
    }
    if types.len() != count {
        return None;
    }
    let mut values = Vec::with_capacity(count);
    for (i, &(t, unsigned)) in types.iter().enumerate() {
        if let Some(data) = long_data.get(&(i as u16)) {
            values.push(Value::Bytes(data.clone()));
            continue;
        }
        if bitmap[i / 8] & (1 << (i % 8)) != 0 {
            values.push(Value::NULL);
            continue;
        }
        values.push(read_param(r, t, unsigned)?);
    }
    Some(values)
}

fn read_param(r: &mut Reader<'_>, t: u8, unsigned: bool) -> Option<Value> {
    let ct = ColumnType::try_from(t).ok()?;
    use ColumnType::*;
    Some(match ct {
        MYSQL_TYPE_NULL => Value::NULL,
        MYSQL_TYPE_TINY => {
            let b = r.u8()?;
            if unsigned {
                Value::UInt(u64::from(b))
            } else {
                Value::Int(i64::from(b as i8))
            }
        }
        MYSQL_TYPE_SHORT | MYSQL_TYPE_YEAR => {
            let v = r.u16()?;
            if unsigned {
                Value::UInt(u64::from(v))
            } else {
                Value::Int(i64::from(v as i16))
            }
        }
        MYSQL_TYPE_LONG | MYSQL_TYPE_INT24 => {
            let v = r.u32()?;
            if unsigned {
                Value::UInt(u64::from(v))
            } else {
                Value::Int(i64::from(v as i32))
            }
        }
        MYSQL_TYPE_LONGLONG => {
            let v = r.u64()?;
            if unsigned {
                Value::UInt(v)
            } else {
                Value::Int(v as i64)
            }
        }
        MYSQL_TYPE_FLOAT => Value::Float(f32::from_bits(r.u32()?)),
        MYSQL_TYPE_DOUBLE => Value::Double(f64::from_bits(r.u64()?)),
        MYSQL_TYPE_DATE | MYSQL_TYPE_DATETIME | MYSQL_TYPE_TIMESTAMP => {
            let len = r.u8()?;
            let mut d = Reader::new(r.take(len as usize)?);
            let y = if len >= 4 { d.u16()? } else { 0 };
            let (m, day) = if len >= 4 { (d.u8()?, d.u8()?) } else { (0, 0) };
            let (h, mi, s) = if len >= 7 {
                (d.u8()?, d.u8()?, d.u8()?)
            } else {
                (0, 0, 0)
            };
            let us = if len >= 11 { d.u32()? } else { 0 };
            Value::Date(y, m, day, h, mi, s, us)
        }
        MYSQL_TYPE_TIME => {
            let len = r.u8()?;
            let mut d = Reader::new(r.take(len as usize)?);
            if len == 0 {
                Value::Time(false, 0, 0, 0, 0, 0)
            } else {
                let neg = d.u8()? != 0;
                let days = d.u32()?;
                let (h, mi, s) = (d.u8()?, d.u8()?, d.u8()?);
                let us = if len >= 12 { d.u32()? } else { 0 };
                Value::Time(neg, days, h, mi, s, us)
            }
        }
        _ => Value::Bytes(r.lenenc_str()?.to_vec()),
    })
}

/// Writes a length-encoded column count (the first packet of a result set).
pub fn column_count(buf: &mut Vec<u8>, n: usize) {
    put_lenenc_int(buf, n as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(t: ColumnType) -> ColumnDef {
        let mut c = ColumnDef::synthetic("c", t);
        c.decimals = 0;
        c
    }

    #[test]
    fn binary_ints_use_the_column_width() {
        let cols = [
            col(ColumnType::MYSQL_TYPE_LONG),
            col(ColumnType::MYSQL_TYPE_TINY),
        ];
        let mut buf = Vec::new();
        write_binary_row(
            &mut buf,
            &cols,
            &[Value::Bytes(b"42".to_vec()), Value::Int(-1)],
        );
        assert_eq!(buf, vec![0, 0, 42, 0, 0, 0, 0xff]);
    }

    #[test]
    fn binary_null_sets_the_bitmap_with_offset_two() {
        let cols = [col(ColumnType::MYSQL_TYPE_VAR_STRING)];
        let mut buf = Vec::new();
        write_binary_row(&mut buf, &cols, &[Value::NULL]);
        assert_eq!(buf, vec![0, 0b100]);
    }

    #[test]
    fn datetime_text_to_binary() {
        let cols = [col(ColumnType::MYSQL_TYPE_DATETIME)];
        let mut buf = Vec::new();
        write_binary_row(
            &mut buf,
            &cols,
            &[Value::Bytes(b"2026-11-22 10:20:30".to_vec())],
        );
        assert_eq!(buf, vec![0, 0, 7, 0xea, 0x07, 11, 22, 10, 20, 30]);
    }

    #[test]
    fn execute_params_decode() {
        // flags, iterations, null bitmap (param 1 null), bound=1, types, values
        let mut p = vec![0u8, 1, 0, 0, 0, 0b10, 1, 8, 0, 6, 0];
        p.extend_from_slice(&7i64.to_le_bytes());
        let mut types = Vec::new();
        let mut r = Reader::new(&p);
        let vals = parse_execute_params(&mut r, 2, &mut types, &Default::default()).unwrap();
        assert_eq!(vals, vec![Value::Int(7), Value::NULL]);
        assert!(
            parse_execute_params(
                &mut Reader::new(&p[..6]),
                2,
                &mut types,
                &Default::default()
            )
            .is_none()
        );
    }
}
