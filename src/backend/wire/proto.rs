//! The client side of the MySQL protocol's packets: what a server sends (handshake, OK, ERR,
//! EOF, column definitions, rows of either protocol) decoded, and what a client sends
//! (handshake response, statement parameters) encoded.
//!
//! Values decode exactly as mysql_common 0.37 decodes them (the rest of the proxy was written
//! against its `Value`s): text columns as bytes; binary integers as `Int` (an unsigned
//! BIGINT above `i64::MAX` as `UInt`); dates and times as `Date`/`Time`; everything else as
//! bytes. Unknown column types are an error here, where mysql_common panics.

use crate::frontend::packets::{ColumnDef, Reader, caps, put_lenenc_str};
use mysql_async::Value;
use mysql_async::consts::ColumnType;
use sha1::{Digest, Sha1};

/// Column flag: the column is unsigned.
const UNSIGNED: u16 = 32;

/// What the proxy asks of every backend connection: protocol 4.1 with plugin authentication,
/// multiple statements and results, transactions in the status flags, SESSION_TRACK (so that an
/// OK packet's info is the length-encoded string MariaDB sends in any case; the session state
/// changes after it are not read yet). Not DEPRECATE_EOF (an EOF packet ends column definitions
/// and rows), not LOCAL_FILES (a server cannot ask the proxy for a file).
pub const CLIENT_CAPS: u32 = caps::SESSION_TRACK
    | caps::LONG_PASSWORD
    | caps::LONG_FLAG
    | caps::PROTOCOL_41
    | caps::TRANSACTIONS
    | caps::SECURE_CONNECTION
    | caps::MULTI_STATEMENTS
    | caps::MULTI_RESULTS
    | caps::PS_MULTI_RESULTS
    | caps::PLUGIN_AUTH
    | caps::PLUGIN_AUTH_LENENC_CLIENT_DATA;

/// utf8mb4_general_ci: the character set of the handshake (the one the proxy's clients get).
pub const CHARSET: u8 = 45;

/// A server's Handshake v10.
#[derive(Debug)]
pub struct Greeting {
    pub version: String,
    pub connection_id: u32,
    pub caps: u32,
    pub scramble: Vec<u8>,
    pub plugin: String,
}

/// Why a packet could not be decoded: the connection is out of step with its server.
pub type Malformed = String;

fn short(what: &str) -> Malformed {
    format!("malformed {what} from the server")
}

/// Decodes a Handshake v10 (an ERR packet in its place is the caller's to read first).
pub fn greeting(p: &[u8]) -> Result<Greeting, Malformed> {
    let bad = || short("handshake");
    let mut r = Reader::new(p);
    let protocol = r.u8().ok_or_else(bad)?;
    if protocol != 10 {
        return Err(format!(
            "unsupported protocol version {protocol} from the server"
        ));
    }
    let version = String::from_utf8_lossy(r.cstr().ok_or_else(bad)?).into_owned();
    // MariaDB 10 puts "5.5.5-" before its version, for clients of old MySQL replication.
    let version = match version.strip_prefix("5.5.5-") {
        Some(v) => v.to_string(),
        None => version,
    };
    let connection_id = r.u32().ok_or_else(bad)?;
    let mut scramble = r.take(8).ok_or_else(bad)?.to_vec();
    r.u8().ok_or_else(bad)?;
    let low = r.u16().ok_or_else(bad)?;
    // Servers older than 4.1 end here; the proxy needs 4.1.
    let _charset = r.u8().ok_or_else(bad)?;
    let _status = r.u16().ok_or_else(bad)?;
    let high = r.u16().ok_or_else(bad)?;
    let caps = u32::from(low) | (u32::from(high) << 16);
    let data_len = r.u8().ok_or_else(bad)? as usize;
    r.take(10).ok_or_else(bad)?;
    if caps & caps::SECURE_CONNECTION != 0 {
        let n = data_len.saturating_sub(8).max(13);
        let part = r.take(n).ok_or_else(bad)?;
        // The second part ends with a NUL that is not part of the scramble.
        let part = part.strip_suffix(&[0]).unwrap_or(part);
        scramble.extend_from_slice(part);
    }
    let plugin = if caps & caps::PLUGIN_AUTH != 0 {
        String::from_utf8_lossy(r.cstr().unwrap_or_default()).into_owned()
    } else {
        String::new()
    };
    Ok(Greeting {
        version,
        connection_id,
        caps,
        scramble,
        plugin,
    })
}

/// mysql_native_password's answer to `scramble`: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))),
/// nothing for an empty password.
pub fn native_scramble(password: &[u8], scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let stage1 = Sha1::digest(password);
    let stage2 = Sha1::digest(stage1);
    let mut h = Sha1::new();
    h.update(scramble);
    h.update(stage2);
    let mix = h.finalize();
    stage1.iter().zip(mix.iter()).map(|(a, b)| a ^ b).collect()
}

/// Appends a HandshakeResponse41 payload.
pub fn handshake_response(
    buf: &mut Vec<u8>,
    caps: u32,
    user: &str,
    auth: &[u8],
    db: Option<&str>,
    plugin: &str,
) {
    buf.extend_from_slice(&caps.to_le_bytes());
    buf.extend_from_slice(&(16u32 << 20).to_le_bytes());
    buf.push(CHARSET);
    buf.extend_from_slice(&[0; 23]);
    buf.extend_from_slice(user.as_bytes());
    buf.push(0);
    put_lenenc_str(buf, auth);
    if let Some(db) = db {
        buf.extend_from_slice(db.as_bytes());
        buf.push(0);
    }
    buf.extend_from_slice(plugin.as_bytes());
    buf.push(0);
}

/// An OK packet's fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OkPacket {
    pub affected_rows: u64,
    pub last_insert_id: u64,
    pub status: u16,
    pub warnings: u16,
    pub info: String,
}

/// Decodes an OK packet (header 0x00).
pub fn ok_packet(p: &[u8], session_track: bool) -> Result<OkPacket, Malformed> {
    let bad = || short("OK packet");
    let mut r = Reader::new(p.get(1..).ok_or_else(bad)?);
    let affected_rows = r.lenenc_int().ok_or_else(bad)?;
    let last_insert_id = r.lenenc_int().ok_or_else(bad)?;
    let status = r.u16().ok_or_else(bad)?;
    let warnings = r.u16().ok_or_else(bad)?;
    // Under SESSION_TRACK the info is length-encoded (session state changes may follow it);
    // without, it is the rest of the packet.
    let info = if session_track {
        if r.rest().is_empty() {
            &[][..]
        } else {
            r.lenenc_str().ok_or_else(bad)?
        }
    } else {
        r.rest()
    };
    let info = String::from_utf8_lossy(info).into_owned();
    Ok(OkPacket {
        affected_rows,
        last_insert_id,
        status,
        warnings,
        info,
    })
}

/// An ERR packet's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrPacket {
    pub code: u16,
    pub state: String,
    pub message: String,
}

/// Decodes an ERR packet (header 0xFF).
pub fn err_packet(p: &[u8]) -> Result<ErrPacket, Malformed> {
    let bad = || short("ERR packet");
    let mut r = Reader::new(p.get(1..).ok_or_else(bad)?);
    let code = r.u16().ok_or_else(bad)?;
    let mut state = "HY000".to_string();
    if r.rest().first() == Some(&b'#') {
        r.u8();
        state = String::from_utf8_lossy(r.take(5).ok_or_else(bad)?).into_owned();
    }
    let message = String::from_utf8_lossy(r.rest()).into_owned();
    Ok(ErrPacket {
        code,
        state,
        message,
    })
}

/// Whether `p` is an EOF packet (a row can start with 0xFE too, but is then 9 bytes or more).
pub fn is_eof(p: &[u8]) -> bool {
    p.first() == Some(&0xfe) && p.len() < 9
}

/// An EOF packet's warning count and status flags.
pub fn eof_packet(p: &[u8]) -> (u16, u16) {
    let mut r = Reader::new(p.get(1..).unwrap_or_default());
    (r.u16().unwrap_or(0), r.u16().unwrap_or(0))
}

/// Decodes a ColumnDefinition41.
pub fn column_def(p: &[u8]) -> Result<ColumnDef, Malformed> {
    let bad = || short("column definition");
    let mut r = Reader::new(p);
    let mut s = || r.lenenc_str().map(<[u8]>::to_vec).ok_or_else(bad);
    let _catalog = s()?;
    let schema = s()?;
    let table = s()?;
    let org_table = s()?;
    let name = s()?;
    let org_name = s()?;
    r.lenenc_int().ok_or_else(bad)?;
    let charset = r.u16().ok_or_else(bad)?;
    let length = r.u32().ok_or_else(bad)?;
    let type_byte = r.u8().ok_or_else(bad)?;
    let col_type = ColumnType::try_from(type_byte)
        .map_err(|_| format!("unknown column type {type_byte} from the server"))?;
    let flags = r.u16().ok_or_else(bad)?;
    let decimals = r.u8().ok_or_else(bad)?;
    Ok(ColumnDef {
        schema,
        table,
        org_table,
        name,
        org_name,
        charset,
        length,
        col_type,
        flags,
        decimals,
    })
}

/// A text-protocol row's values: bytes, or NULL.
pub fn text_row(p: &[u8], columns: usize) -> Result<Vec<Value>, Malformed> {
    let mut r = Reader::new(p);
    let mut out = Vec::with_capacity(columns);
    for _ in 0..columns {
        if r.rest().first() == Some(&0xfb) {
            r.u8();
            out.push(Value::NULL);
        } else {
            let v = r.lenenc_str().ok_or_else(|| short("text row"))?;
            out.push(Value::Bytes(v.to_vec()));
        }
    }
    Ok(out)
}

/// A binary-protocol row's values, typed by `columns`.
pub fn binary_row(p: &[u8], columns: &[ColumnDef]) -> Result<Vec<Value>, Malformed> {
    let bad = || short("binary row");
    let mut r = Reader::new(p);
    if r.u8() != Some(0) {
        return Err(bad());
    }
    let nulls = r.take((columns.len() + 9) / 8).ok_or_else(bad)?;
    let mut out = Vec::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let bit = i + 2;
        if nulls[bit / 8] & (1 << (bit % 8)) != 0 {
            out.push(Value::NULL);
            continue;
        }
        out.push(binary_value(&mut r, c).ok_or_else(bad)?);
    }
    Ok(out)
}

fn binary_value(r: &mut Reader<'_>, c: &ColumnDef) -> Option<Value> {
    use ColumnType::*;
    let unsigned = c.flags & UNSIGNED != 0;
    Some(match c.col_type {
        MYSQL_TYPE_TINY => {
            let b = r.u8()?;
            Value::Int(if unsigned {
                i64::from(b)
            } else {
                i64::from(b as i8)
            })
        }
        MYSQL_TYPE_SHORT | MYSQL_TYPE_YEAR => {
            let v = r.u16()?;
            Value::Int(if unsigned {
                i64::from(v)
            } else {
                i64::from(v as i16)
            })
        }
        MYSQL_TYPE_LONG | MYSQL_TYPE_INT24 => {
            let v = r.u32()?;
            Value::Int(if unsigned {
                i64::from(v)
            } else {
                i64::from(v as i32)
            })
        }
        MYSQL_TYPE_LONGLONG => {
            let v = r.u64()?;
            if unsigned {
                i64::try_from(v).map_or(Value::UInt(v), Value::Int)
            } else {
                Value::Int(v as i64)
            }
        }
        MYSQL_TYPE_FLOAT => Value::Float(f32::from_bits(r.u32()?)),
        MYSQL_TYPE_DOUBLE => Value::Double(f64::from_bits(r.u64()?)),
        MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE | MYSQL_TYPE_DATETIME => {
            let len = r.u8()? as usize;
            let mut d = Reader::new(r.take(len)?);
            let (mut y, mut mo, mut day, mut h, mut mi, mut s, mut us) = (0, 0, 0, 0, 0, 0, 0);
            if len >= 4 {
                y = d.u16()?;
                mo = d.u8()?;
                day = d.u8()?;
            }
            if len >= 7 {
                h = d.u8()?;
                mi = d.u8()?;
                s = d.u8()?;
            }
            if len == 11 {
                us = d.u32()?;
            }
            Value::Date(y, mo, day, h, mi, s, us)
        }
        MYSQL_TYPE_TIME => {
            let len = r.u8()? as usize;
            let mut d = Reader::new(r.take(len)?);
            let (mut neg, mut days, mut h, mut mi, mut s, mut us) = (false, 0, 0, 0, 0, 0);
            if len >= 8 {
                neg = d.u8()? == 1;
                days = d.u32()?;
                h = d.u8()?;
                mi = d.u8()?;
                s = d.u8()?;
            }
            if len == 12 {
                us = d.u32()?;
            }
            Value::Time(neg, days, h, mi, s, us)
        }
        MYSQL_TYPE_NULL => Value::NULL,
        // Strings, blobs, decimals, bits, JSON, enums, sets, geometry: length-encoded bytes.
        _ => Value::Bytes(r.lenenc_str()?.to_vec()),
    })
}

/// Appends a COM_STMT_EXECUTE payload for statement `id` with `params` (bound anew each time:
/// no cursor, one iteration).
pub fn execute(buf: &mut Vec<u8>, id: u32, params: &[Value]) {
    buf.push(0x17);
    buf.extend_from_slice(&id.to_le_bytes());
    buf.push(0);
    buf.extend_from_slice(&1u32.to_le_bytes());
    if params.is_empty() {
        return;
    }
    let mut nulls = vec![0u8; params.len().div_ceil(8)];
    for (i, p) in params.iter().enumerate() {
        if matches!(p, Value::NULL) {
            nulls[i / 8] |= 1 << (i % 8);
        }
    }
    buf.extend_from_slice(&nulls);
    buf.push(1);
    for p in params {
        let (t, flag) = match p {
            Value::NULL => (ColumnType::MYSQL_TYPE_NULL, 0u8),
            Value::Bytes(_) => (ColumnType::MYSQL_TYPE_VAR_STRING, 0),
            Value::Int(_) => (ColumnType::MYSQL_TYPE_LONGLONG, 0),
            Value::UInt(_) => (ColumnType::MYSQL_TYPE_LONGLONG, 0x80),
            Value::Float(_) => (ColumnType::MYSQL_TYPE_FLOAT, 0),
            Value::Double(_) => (ColumnType::MYSQL_TYPE_DOUBLE, 0),
            Value::Date(..) => (ColumnType::MYSQL_TYPE_DATETIME, 0),
            Value::Time(..) => (ColumnType::MYSQL_TYPE_TIME, 0),
        };
        buf.extend_from_slice(&[t as u8, flag]);
    }
    for p in params {
        match p {
            Value::NULL => {}
            Value::Bytes(b) => put_lenenc_str(buf, b),
            Value::Int(v) => buf.extend_from_slice(&v.to_le_bytes()),
            Value::UInt(v) => buf.extend_from_slice(&v.to_le_bytes()),
            Value::Float(v) => buf.extend_from_slice(&v.to_le_bytes()),
            Value::Double(v) => buf.extend_from_slice(&v.to_le_bytes()),
            &Value::Date(y, mo, d, h, mi, s, us) => {
                let len: u8 = if us != 0 {
                    11
                } else if h != 0 || mi != 0 || s != 0 {
                    7
                } else {
                    4
                };
                buf.push(len);
                buf.extend_from_slice(&y.to_le_bytes());
                buf.extend_from_slice(&[mo, d]);
                if len >= 7 {
                    buf.extend_from_slice(&[h, mi, s]);
                }
                if len == 11 {
                    buf.extend_from_slice(&us.to_le_bytes());
                }
            }
            &Value::Time(neg, days, h, mi, s, us) => {
                let len: u8 = if us != 0 { 12 } else { 8 };
                buf.push(len);
                buf.push(u8::from(neg));
                buf.extend_from_slice(&days.to_le_bytes());
                buf.extend_from_slice(&[h, mi, s]);
                if len == 12 {
                    buf.extend_from_slice(&us.to_le_bytes());
                }
            }
        }
    }
}

/// The first packet of a COM_STMT_PREPARE answer: statement id, columns, parameters.
pub fn prepare_ok(p: &[u8]) -> Result<(u32, u16, u16), Malformed> {
    let bad = || short("COM_STMT_PREPARE answer");
    let mut r = Reader::new(p.get(1..).ok_or_else(bad)?);
    let id = r.u32().ok_or_else(bad)?;
    let columns = r.u16().ok_or_else(bad)?;
    let params = r.u16().ok_or_else(bad)?;
    Ok((id, columns, params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::auth::check_native;

    #[test]
    fn native_scramble_is_what_a_server_checks() {
        let scramble = b"abcdefghij0123456789";
        let answer = native_scramble(b"secret", scramble);
        assert!(check_native(scramble, "secret", &answer));
        assert!(!check_native(scramble, "other", &answer));
        assert!(native_scramble(b"", scramble).is_empty());
    }

    #[test]
    fn binary_rows_decode_like_mysql_common() {
        let col = |t: ColumnType, flags: u16| ColumnDef {
            flags,
            ..ColumnDef::synthetic("c", t)
        };
        let cols = [
            col(ColumnType::MYSQL_TYPE_TINY, 0),
            col(ColumnType::MYSQL_TYPE_TINY, UNSIGNED),
            col(ColumnType::MYSQL_TYPE_LONGLONG, UNSIGNED),
            col(ColumnType::MYSQL_TYPE_VAR_STRING, 0),
            col(ColumnType::MYSQL_TYPE_DATETIME, 0),
            col(ColumnType::MYSQL_TYPE_TIME, 0),
            col(ColumnType::MYSQL_TYPE_LONG, 0),
        ];
        let mut p = vec![0u8];
        // Column 6 (bit 8) is NULL.
        p.extend_from_slice(&[0, 1]);
        p.push(0xff);
        p.push(0xff);
        p.extend_from_slice(&u64::MAX.to_le_bytes());
        p.extend_from_slice(&[2, b'h', b'i']);
        p.extend_from_slice(&[7, 0xe8, 0x07, 12, 31, 23, 59, 58]);
        p.extend_from_slice(&[8, 1, 2, 0, 0, 0, 3, 4, 5]);
        let v = binary_row(&p, &cols).unwrap();
        assert_eq!(
            v,
            vec![
                Value::Int(-1),
                Value::Int(255),
                Value::UInt(u64::MAX),
                Value::Bytes(b"hi".to_vec()),
                Value::Date(2024, 12, 31, 23, 59, 58, 0),
                Value::Time(true, 2, 3, 4, 5, 0),
                Value::NULL,
            ]
        );
        // Short input is an error, never a panic.
        for n in 0..p.len() {
            let _ = binary_row(&p[..n], &cols);
        }
        assert!(binary_row(&p[..p.len() - 1], &cols).is_err());
    }

    #[test]
    fn eof_is_told_from_a_row_starting_with_0xfe() {
        assert!(is_eof(&[0xfe, 0, 0, 2, 0]));
        let mut row = vec![0xfe];
        row.extend_from_slice(&(20u64).to_le_bytes());
        assert!(!is_eof(&row));
    }
}
