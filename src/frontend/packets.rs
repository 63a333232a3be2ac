//! Encoders and decoders of the MySQL packets the proxy writes and reads: handshake, OK, ERR,
//! EOF, column definitions and rows (text and binary protocol), and COM_STMT_EXECUTE parameters.
//!
//! Column definitions are serialized here field by field because mysql_common 0.37's
//! `Column::serialize` writes `column_length` before `character_set` (the wire order is the
//! reverse); the byte test below pins the order.

use mysql_async::Column;
use mysql_async::consts::ColumnType;

/// Capability flags (protocol constants, named as in the MySQL documentation).
pub mod caps {
    pub const LONG_PASSWORD: u32 = 1;
    pub const FOUND_ROWS: u32 = 1 << 1;
    pub const LONG_FLAG: u32 = 1 << 2;
    pub const CONNECT_WITH_DB: u32 = 1 << 3;
    pub const PROTOCOL_41: u32 = 1 << 9;
    pub const TRANSACTIONS: u32 = 1 << 13;
    pub const SECURE_CONNECTION: u32 = 1 << 15;
    pub const MULTI_STATEMENTS: u32 = 1 << 16;
    pub const MULTI_RESULTS: u32 = 1 << 17;
    pub const PS_MULTI_RESULTS: u32 = 1 << 18;
    pub const PLUGIN_AUTH: u32 = 1 << 19;
    pub const CONNECT_ATTRS: u32 = 1 << 20;
    pub const PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 1 << 21;
    /// Announced so that clients read the OK packet's info as the length-encoded string it is
    /// (a client without it reads the rest of the packet, length byte included, as MariaDB's
    /// own OK packets also carry the length). No session state is ever sent.
    pub const SESSION_TRACK: u32 = 1 << 23;
    pub const DEPRECATE_EOF: u32 = 1 << 24;

    /// What the proxy offers every client.
    pub const SERVER: u32 = LONG_PASSWORD
        | FOUND_ROWS
        | LONG_FLAG
        | CONNECT_WITH_DB
        | PROTOCOL_41
        | TRANSACTIONS
        | SECURE_CONNECTION
        | MULTI_STATEMENTS
        | MULTI_RESULTS
        | PS_MULTI_RESULTS
        | PLUGIN_AUTH
        | CONNECT_ATTRS
        | PLUGIN_AUTH_LENENC_CLIENT_DATA
        | SESSION_TRACK
        | DEPRECATE_EOF;
}

/// Server status flags carried by OK and EOF packets.
pub mod status {
    pub const IN_TRANS: u16 = 1;
    pub const AUTOCOMMIT: u16 = 2;
    pub const MORE_RESULTS_EXISTS: u16 = 8;
}

/// The authentication plugin the proxy speaks.
pub const NATIVE_PASSWORD: &str = "mysql_native_password";

/// Appends a length-encoded integer.
pub fn put_lenenc_int(buf: &mut Vec<u8>, n: u64) {
    if n < 251 {
        buf.push(n as u8);
    } else if n < 1 << 16 {
        buf.push(0xfc);
        buf.extend_from_slice(&(n as u16).to_le_bytes());
    } else if n < 1 << 24 {
        buf.push(0xfd);
        buf.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
    } else {
        buf.push(0xfe);
        buf.extend_from_slice(&n.to_le_bytes());
    }
}

/// Appends a length-encoded string.
pub fn put_lenenc_str(buf: &mut Vec<u8>, s: &[u8]) {
    put_lenenc_int(buf, s.len() as u64);
    buf.extend_from_slice(s);
}

/// One column of a result set, as the client will see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnDef {
    pub schema: Vec<u8>,
    pub table: Vec<u8>,
    pub org_table: Vec<u8>,
    pub name: Vec<u8>,
    pub org_name: Vec<u8>,
    pub charset: u16,
    pub length: u32,
    pub col_type: ColumnType,
    pub flags: u16,
    pub decimals: u8,
}

impl ColumnDef {
    /// Copies a backend's column definition faithfully.
    pub fn from_backend(c: &Column) -> ColumnDef {
        ColumnDef {
            schema: c.schema_ref().to_vec(),
            table: c.table_ref().to_vec(),
            org_table: c.org_table_ref().to_vec(),
            name: c.name_ref().to_vec(),
            org_name: c.org_name_ref().to_vec(),
            charset: c.character_set(),
            length: c.column_length(),
            col_type: c.column_type(),
            flags: c.flags().bits(),
            decimals: c.decimals(),
        }
    }

    /// A column the proxy computes itself (e.g. `DATABASE()`), typed as text or integer.
    pub fn synthetic(name: &str, col_type: ColumnType) -> ColumnDef {
        let (charset, length) = match col_type {
            ColumnType::MYSQL_TYPE_LONGLONG => (63, 21),
            _ => (45, 256),
        };
        ColumnDef {
            schema: Vec::new(),
            table: Vec::new(),
            org_table: Vec::new(),
            name: name.as_bytes().to_vec(),
            org_name: Vec::new(),
            charset,
            length,
            col_type,
            flags: 0,
            decimals: 0,
        }
    }

    /// Appends the Protocol::ColumnDefinition41 payload, in wire order.
    pub fn write(&self, buf: &mut Vec<u8>) {
        put_lenenc_str(buf, b"def");
        put_lenenc_str(buf, &self.schema);
        put_lenenc_str(buf, &self.table);
        put_lenenc_str(buf, &self.org_table);
        put_lenenc_str(buf, &self.name);
        put_lenenc_str(buf, &self.org_name);
        buf.push(0x0c);
        buf.extend_from_slice(&self.charset.to_le_bytes());
        buf.extend_from_slice(&self.length.to_le_bytes());
        buf.push(self.col_type as u8);
        buf.extend_from_slice(&self.flags.to_le_bytes());
        buf.push(self.decimals);
        buf.extend_from_slice(&[0, 0]);
    }

    /// Whether values compare as numbers.
    pub fn is_numeric(&self) -> bool {
        use ColumnType::*;
        matches!(
            self.col_type,
            MYSQL_TYPE_TINY
                | MYSQL_TYPE_SHORT
                | MYSQL_TYPE_LONG
                | MYSQL_TYPE_INT24
                | MYSQL_TYPE_LONGLONG
                | MYSQL_TYPE_FLOAT
                | MYSQL_TYPE_DOUBLE
                | MYSQL_TYPE_DECIMAL
                | MYSQL_TYPE_NEWDECIMAL
                | MYSQL_TYPE_YEAR
        )
    }

    /// Whether strings of this column compare byte by byte (binary charset).
    pub fn is_binary(&self) -> bool {
        self.charset == 63
    }
}

/// Builds the initial Handshake v10 packet.
pub fn handshake(conn_id: u32, scramble: &[u8; 20], version: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(128);
    b.push(10);
    b.extend_from_slice(version.as_bytes());
    b.push(0);
    b.extend_from_slice(&conn_id.to_le_bytes());
    b.extend_from_slice(&scramble[..8]);
    b.push(0);
    b.extend_from_slice(&(caps::SERVER as u16).to_le_bytes());
    b.push(45); // utf8mb4_general_ci
    b.extend_from_slice(&status::AUTOCOMMIT.to_le_bytes());
    b.extend_from_slice(&((caps::SERVER >> 16) as u16).to_le_bytes());
    b.push(21);
    b.extend_from_slice(&[0; 10]);
    b.extend_from_slice(&scramble[8..]);
    b.push(0);
    b.extend_from_slice(NATIVE_PASSWORD.as_bytes());
    b.push(0);
    b
}

/// What the client said in its HandshakeResponse41.
#[derive(Debug, Default)]
pub struct HandshakeResponse {
    pub caps: u32,
    pub charset: u8,
    pub user: String,
    pub auth: Vec<u8>,
    pub db: Option<String>,
    pub plugin: Option<String>,
}

/// A cursor over a client payload that fails instead of panicking on short input.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads from `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }
    /// Bytes not yet read.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }
    /// Takes `n` bytes.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Some(a)
    }
    /// Reads one byte.
    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    /// Reads a little-endian u16.
    pub fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    /// Reads a little-endian u32.
    pub fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// Reads a little-endian u64.
    pub fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    }
    /// Reads a NUL-terminated string (or the rest when no NUL).
    pub fn cstr(&mut self) -> Option<&'a [u8]> {
        let end = self
            .buf
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(self.buf.len());
        let s = self.take(end)?;
        let _ = self.u8(); // the terminator, absent at the end of some packets
        Some(s)
    }
    /// Reads a length-encoded integer.
    pub fn lenenc_int(&mut self) -> Option<u64> {
        match self.u8()? {
            0xfc => self.u16().map(u64::from),
            0xfd => self
                .take(3)
                .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], 0]))),
            0xfe => self.u64(),
            n => Some(u64::from(n)),
        }
    }
    /// Reads a length-encoded string.
    pub fn lenenc_str(&mut self) -> Option<&'a [u8]> {
        let n = self.lenenc_int()?;
        self.take(usize::try_from(n).ok()?)
    }
}

/// Parses a HandshakeResponse41 (the only form PROTOCOL_41 clients send).
pub fn parse_handshake_response(payload: &[u8]) -> Option<HandshakeResponse> {
    let mut r = Reader::new(payload);
    let caps = r.u32()?;
    if caps & caps::PROTOCOL_41 == 0 {
        return None;
    }
    let _max_packet = r.u32()?;
    let charset = r.u8()?;
    r.take(23)?;
    let user = String::from_utf8_lossy(r.cstr()?).into_owned();
    let auth = if caps & caps::PLUGIN_AUTH_LENENC_CLIENT_DATA != 0 {
        r.lenenc_str()?.to_vec()
    } else if caps & caps::SECURE_CONNECTION != 0 {
        let n = r.u8()? as usize;
        r.take(n)?.to_vec()
    } else {
        r.cstr()?.to_vec()
    };
    let db = if caps & caps::CONNECT_WITH_DB != 0 && !r.rest().is_empty() {
        let d = r.cstr()?;
        (!d.is_empty()).then(|| String::from_utf8_lossy(d).into_owned())
    } else {
        None
    };
    let plugin = if caps & caps::PLUGIN_AUTH != 0 && !r.rest().is_empty() {
        Some(String::from_utf8_lossy(r.cstr()?).into_owned())
    } else {
        None
    };
    Some(HandshakeResponse {
        caps,
        charset,
        user,
        auth,
        db,
        plugin,
    })
}

/// Appends an OK packet (`header` 0xFE when it ends a result set under DEPRECATE_EOF).
pub fn ok(
    buf: &mut Vec<u8>,
    header: u8,
    affected: u64,
    last_id: u64,
    status: u16,
    warnings: u16,
    info: &str,
) {
    buf.push(header);
    put_lenenc_int(buf, affected);
    put_lenenc_int(buf, last_id);
    buf.extend_from_slice(&status.to_le_bytes());
    buf.extend_from_slice(&warnings.to_le_bytes());
    if !info.is_empty() {
        put_lenenc_str(buf, info.as_bytes());
    }
}

/// Appends an ERR packet.
pub fn err(buf: &mut Vec<u8>, code: u16, state: &str, msg: &str) {
    buf.push(0xff);
    buf.extend_from_slice(&code.to_le_bytes());
    buf.push(b'#');
    let mut st = [b'H', b'Y', b'0', b'0', b'0'];
    for (d, s) in st.iter_mut().zip(state.bytes()) {
        *d = s;
    }
    buf.extend_from_slice(&st);
    buf.extend_from_slice(msg.as_bytes());
}

/// Appends an EOF packet.
pub fn eof(buf: &mut Vec<u8>, warnings: u16, status: u16) {
    buf.push(0xfe);
    buf.extend_from_slice(&warnings.to_le_bytes());
    buf.extend_from_slice(&status.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_definition_bytes_in_wire_order() {
        let c = ColumnDef {
            schema: b"shop".to_vec(),
            table: b"t".to_vec(),
            org_table: b"t".to_vec(),
            name: b"b".to_vec(),
            org_name: b"b".to_vec(),
            charset: 63,
            length: 16,
            col_type: ColumnType::MYSQL_TYPE_VAR_STRING,
            flags: 0x80,
            decimals: 0,
        };
        let mut buf = Vec::new();
        c.write(&mut buf);
        let expected: &[u8] = &[
            3, b'd', b'e', b'f', 4, b's', b'h', b'o', b'p', 1, b't', 1, b't', 1, b'b', 1, b'b',
            0x0c, 63, 0, 16, 0, 0, 0, 0xfd, 0x80, 0, 0, 0, 0,
        ];
        assert_eq!(buf, expected);
    }

    #[test]
    fn lenenc_round_trip() {
        for n in [0u64, 250, 251, 65535, 65536, 1 << 24, u64::MAX] {
            let mut b = Vec::new();
            put_lenenc_int(&mut b, n);
            assert_eq!(Reader::new(&b).lenenc_int(), Some(n));
        }
    }

    #[test]
    fn short_handshake_response_is_refused_not_a_panic() {
        assert!(parse_handshake_response(&[1, 2, 3]).is_none());
        assert!(parse_handshake_response(&[0xff; 40]).is_none());
    }
}
