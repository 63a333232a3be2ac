//! A backend connection of our own: the client side of the MySQL protocol, small enough to
//! read, made for a proxy's data path.
//!
//! Why not only mysql_async (which the rest of `backend/` still uses): it decodes every row
//! into values (an allocation per column) that the proxy then encodes again, where a
//! single-shard result could be relayed as the server sent it; it needs a statement whole in
//! one buffer before it sends it; and it reads the clock per packet. This connection:
//! - hands rows over as the payloads the server sent ([`RawRows`], one buffer per batch, no
//!   allocation per row), decoded into values only where a merge needs them
//!   ([`RawRows::text_values`], [`RawRows::binary_values`]);
//! - writes a large statement from the caller's text in packet-sized pieces (no copy);
//! - says when a packet is already buffered ([`WireConn::read_rows`] stops at what has
//!   arrived), so a relay flushes to its client exactly when it would wait.
//!
//! A connection whose command was interrupted (its future dropped mid-read or mid-write)
//! is out of step with its server: [`WireConn::is_ready`] says false from then on, and every
//! command on it fails, so a pool drops it instead of lending it out.
//!
//! Authentication: mysql_native_password (MariaDB's default, and what the sandbox's accounts
//! use), answering an authentication switch to it. A backend account on another plugin
//! (MySQL 8's caching_sha2_password) gets error 1251 naming the plugin.

pub mod pool;
pub mod proto;

use crate::error::{ProxyError, Result};
use crate::frontend::packets::{ColumnDef, caps, status};
use mysql_async::Value;
pub use proto::OkPacket;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Largest payload of one packet; longer payloads continue in the next.
const MAX_PAYLOAD: usize = 0xff_ff_ff;

/// The read buffer: rows that arrive together are read with one system call.
const READ_BUFFER: usize = 16 * 1024;

/// A statement shorter than this is copied into the write buffer and sent with one write;
/// a longer one is written from the caller's text in pieces.
const COPY_LIMIT: usize = 64 * 1024;

/// Prepared statements a connection keeps (least recently used closed first).
const STATEMENT_CACHE: usize = 64;

/// Where to connect and as whom.
#[derive(Clone, Debug)]
pub struct ConnectOpts {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// The database to use from the start.
    pub db: Option<String>,
    /// CLIENT_FOUND_ROWS: an UPDATE's affected rows count the rows matched, not changed.
    pub found_rows: bool,
}

impl ConnectOpts {
    /// The server, user and password of options parsed from a shard URL.
    pub fn from_opts(o: &mysql_async::Opts) -> ConnectOpts {
        ConnectOpts {
            host: o.ip_or_hostname().to_string(),
            port: o.tcp_port(),
            user: o.user().unwrap_or_default().to_string(),
            password: o.pass().unwrap_or_default().to_string(),
            db: o.db_name().map(str::to_string),
            found_rows: false,
        }
    }
}

/// What a statement answered first: an OK, or the columns of rows to read.
#[derive(Debug)]
pub enum Answer {
    Done(OkPacket),
    Rows(Arc<Vec<ColumnDef>>),
}

/// The end of a result set's rows (its EOF packet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowsEnd {
    pub warnings: u16,
    pub status: u16,
}

/// A prepared statement on one connection.
#[derive(Debug)]
pub struct Prepared {
    pub id: u32,
    pub params: u16,
    pub columns: Arc<Vec<ColumnDef>>,
}

/// Rows as the server sent them: payloads one after the other in one buffer.
#[derive(Default, Debug)]
pub struct RawRows {
    data: Vec<u8>,
    /// Where each payload ends in `data`.
    ends: Vec<usize>,
}

impl RawRows {
    /// How many rows are held.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Forgets the rows, keeping the buffers.
    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    /// The rows' payloads, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let p = &self.data[start..end];
            start = end;
            p
        })
    }

    /// The rows as values: of a binary-protocol result (typed by `columns`), else text.
    pub fn values(
        &self,
        binary: bool,
        columns: &[ColumnDef],
    ) -> std::result::Result<Vec<Vec<Value>>, String> {
        if binary {
            self.binary_values(columns)
        } else {
            self.text_values(columns.len())
        }
    }

    /// The rows of a text-protocol result as values.
    pub fn text_values(&self, columns: usize) -> std::result::Result<Vec<Vec<Value>>, String> {
        self.iter().map(|p| proto::text_row(p, columns)).collect()
    }

    /// The rows of a binary-protocol result as values.
    pub fn binary_values(
        &self,
        columns: &[ColumnDef],
    ) -> std::result::Result<Vec<Vec<Value>>, String> {
        self.iter().map(|p| proto::binary_row(p, columns)).collect()
    }
}

/// The text of column `name` in `row` of a result with `columns` ('' when absent or NULL): for
/// the proxy's own queries whose answers are read by column name (`SHOW SLAVE STATUS`).
pub fn named_text(columns: &[ColumnDef], row: &[Value], name: &str) -> String {
    match columns
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(name.as_bytes()))
        .and_then(|i| row.get(i))
    {
        Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

/// Where a connection is in the protocol.
#[derive(Clone, Debug)]
enum Phase {
    /// Ready for a command.
    Idle,
    /// Another result of the same command follows.
    MoreResults { binary: bool },
    /// Rows follow.
    Rows { binary: bool },
    /// A command was interrupted, or the server broke the protocol.
    Broken,
}

/// One connection to a backend server.
pub struct WireConn {
    /// The server's name in messages (`s0`, `s0 replica 1`).
    name: Arc<str>,
    stream: BufReader<TcpStream>,
    out: Vec<u8>,
    seq: u8,
    /// Scratch for packets other than rows.
    packet: Vec<u8>,
    version: String,
    connection_id: u32,
    /// The capabilities both sides agreed on.
    caps: u32,
    status: u16,
    phase: Phase,
    /// Set while a command's I/O is under way: still set at the next command means that one
    /// was interrupted.
    busy: bool,
    statements: lru::LruCache<Vec<u8>, Arc<Prepared>>,
}

impl std::fmt::Debug for WireConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireConn")
            .field("name", &self.name)
            .field("connection_id", &self.connection_id)
            .field("phase", &self.phase)
            .finish()
    }
}

impl WireConn {
    /// Connects and authenticates. The caller bounds the time it may take.
    pub async fn connect(name: &str, opts: &ConnectOpts) -> Result<WireConn> {
        let lost = |detail: String| ProxyError::BackendLost {
            shard: name.to_string(),
            detail,
        };
        let tcp = TcpStream::connect((opts.host.as_str(), opts.port))
            .await
            .map_err(|e| {
                lost(format!(
                    "cannot connect to {}:{}: {e}",
                    opts.host, opts.port
                ))
            })?;
        tcp.set_nodelay(true).map_err(|e| lost(e.to_string()))?;
        let mut c = WireConn {
            name: name.into(),
            stream: BufReader::with_capacity(READ_BUFFER, tcp),
            out: Vec::with_capacity(1024),
            seq: 0,
            packet: Vec::with_capacity(256),
            version: String::new(),
            connection_id: 0,
            caps: 0,
            status: 0,
            phase: Phase::Broken,
            busy: true,
            statements: lru::LruCache::new(
                std::num::NonZeroUsize::new(STATEMENT_CACHE).unwrap_or(std::num::NonZeroUsize::MIN),
            ),
        };
        c.handshake(opts).await?;
        c.busy = false;
        c.phase = Phase::Idle;
        Ok(c)
    }

    async fn handshake(&mut self, opts: &ConnectOpts) -> Result<()> {
        self.read_packet().await?;
        if self.packet.first() == Some(&0xff) {
            return Err(self.server_error());
        }
        let g = proto::greeting(&self.packet).map_err(|e| self.lost(e))?;
        if g.caps & caps::PROTOCOL_41 == 0 {
            return Err(self.lost("the server does not speak protocol 4.1".into()));
        }
        self.version = g.version;
        self.connection_id = g.connection_id;
        let mut flags = proto::CLIENT_CAPS & (g.caps | caps::FOUND_ROWS | caps::CONNECT_WITH_DB);
        if opts.found_rows {
            flags |= caps::FOUND_ROWS;
        }
        if opts.db.is_some() {
            flags |= caps::CONNECT_WITH_DB;
        }
        let native = "mysql_native_password";
        let auth = proto::native_scramble(opts.password.as_bytes(), &g.scramble);
        let mut body = Vec::with_capacity(128);
        proto::handshake_response(
            &mut body,
            flags,
            &opts.user,
            &auth,
            opts.db.as_deref(),
            native,
        );
        self.caps = flags;
        self.write_packet(&body);
        self.flush().await?;
        loop {
            self.read_packet().await?;
            match self.packet.first() {
                Some(0x00) => {
                    let ok = proto::ok_packet(&self.packet, self.caps & caps::SESSION_TRACK != 0)
                        .map_err(|e| self.lost(e))?;
                    self.status = ok.status;
                    return Ok(());
                }
                Some(0xff) => return Err(self.server_error()),
                Some(0xfe) => {
                    // An authentication switch: the plugin's name, then its scramble.
                    let rest = &self.packet[1..];
                    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                    let plugin = String::from_utf8_lossy(&rest[..end]).into_owned();
                    if plugin != native {
                        return Err(self.unsupported_plugin(&plugin));
                    }
                    let data = rest.get(end + 1..).unwrap_or_default();
                    let data = data.strip_suffix(&[0]).unwrap_or(data);
                    let auth = proto::native_scramble(opts.password.as_bytes(), data);
                    self.write_packet(&auth);
                    self.flush().await?;
                }
                _ => return Err(self.unsupported_plugin(&g.plugin)),
            }
        }
    }

    fn unsupported_plugin(&self, plugin: &str) -> ProxyError {
        ProxyError::Backend {
            code: 1251,
            state: "08004".into(),
            message: format!(
                "the account shardgate uses on {} authenticates with {plugin}; shardgate's \
                 backend connections speak mysql_native_password: give that account a \
                 mysql_native_password password",
                self.name
            ),
        }
    }

    /// The server's version string (without the `5.5.5-` MariaDB 10 puts before it).
    pub fn server_version(&self) -> &str {
        &self.version
    }

    /// The server's id for this connection (what `KILL` takes).
    pub fn connection_id(&self) -> u32 {
        self.connection_id
    }

    /// The status flags of the last OK or EOF packet.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the server says a transaction is open on this connection.
    pub fn in_transaction(&self) -> bool {
        self.status & status::IN_TRANS != 0
    }

    /// Whether the connection can take a command now: its last command was read to its end
    /// and nothing interrupted it.
    pub fn is_ready(&self) -> bool {
        !self.busy && matches!(self.phase, Phase::Idle)
    }

    /// Whether an idle connection still looks usable: nothing unread, and its socket neither
    /// closed by the server (a restart, `wait_timeout`, a KILL) nor holding bytes nobody asked
    /// for. One non-blocking read, no round trip.
    pub fn is_alive(&self) -> bool {
        if !self.is_ready() || !self.stream.buffer().is_empty() {
            return false;
        }
        let mut probe = [0u8; 1];
        matches!(
            self.stream.get_ref().try_read(&mut probe),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
        )
    }

    /// Whether another result of the last command follows ([`WireConn::next_answer`]).
    pub fn more_results(&self) -> bool {
        matches!(self.phase, Phase::MoreResults { .. })
    }

    fn lost(&self, detail: String) -> ProxyError {
        ProxyError::BackendLost {
            shard: self.name.to_string(),
            detail,
        }
    }

    fn io_lost(&mut self, e: std::io::Error) -> ProxyError {
        self.phase = Phase::Broken;
        let detail = if e.kind() == std::io::ErrorKind::UnexpectedEof {
            "the server closed the connection".to_string()
        } else {
            e.to_string()
        };
        self.lost(detail)
    }

    /// The ERR packet in `self.packet` as the error the client gets.
    fn server_error(&self) -> ProxyError {
        match proto::err_packet(&self.packet) {
            Ok(e) => ProxyError::Backend {
                code: e.code,
                state: e.state,
                message: e.message,
            },
            Err(e) => self.lost(e),
        }
    }

    /// Starts I/O in `expected` phase: refused on a connection that is not there.
    fn begin(&mut self, command: bool) -> Result<()> {
        if self.busy {
            self.phase = Phase::Broken;
        }
        let ok = match self.phase {
            Phase::Idle => command,
            Phase::MoreResults { .. } | Phase::Rows { .. } => !command,
            Phase::Broken => false,
        };
        if !ok {
            let detail = match self.phase {
                Phase::Broken => "the connection was interrupted in the middle of a command",
                Phase::Idle => "no result to read",
                _ => "the previous command's result was not read to its end",
            };
            return Err(self.lost(detail.into()));
        }
        self.busy = true;
        Ok(())
    }

    /// Reads one logical packet into `self.packet`.
    async fn read_packet(&mut self) -> Result<()> {
        let mut buf = std::mem::take(&mut self.packet);
        buf.clear();
        let r = self.read_into(&mut buf).await;
        self.packet = buf;
        r
    }

    /// Appends one logical packet's payload (continuations joined) to `buf`.
    async fn read_into(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        loop {
            let mut h = [0u8; 4];
            if let Err(e) = self.stream.read_exact(&mut h).await {
                return Err(self.io_lost(e));
            }
            if h[3] != self.seq {
                self.phase = Phase::Broken;
                return Err(self.lost(format!(
                    "packet out of order (sequence {} where {} was due)",
                    h[3], self.seq
                )));
            }
            self.seq = self.seq.wrapping_add(1);
            let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
            let start = buf.len();
            buf.resize(start + len, 0);
            if let Err(e) = self.stream.read_exact(&mut buf[start..]).await {
                buf.truncate(start);
                return Err(self.io_lost(e));
            }
            if len < MAX_PAYLOAD {
                return Ok(());
            }
        }
    }

    /// Whether a whole packet is already in the read buffer (reading it will not wait).
    fn packet_buffered(&self) -> bool {
        let b = self.stream.buffer();
        b.len() >= 4 && b.len() - 4 >= u32::from_le_bytes([b[0], b[1], b[2], 0]) as usize
    }

    /// Queues one payload as packets (split past 16 MiB - 1).
    fn write_packet(&mut self, payload: &[u8]) {
        let mut rest = payload;
        loop {
            let n = rest.len().min(MAX_PAYLOAD);
            let l = (n as u32).to_le_bytes();
            self.out.extend_from_slice(&[l[0], l[1], l[2], self.seq]);
            self.out.extend_from_slice(&rest[..n]);
            self.seq = self.seq.wrapping_add(1);
            rest = &rest[n..];
            if n < MAX_PAYLOAD {
                break;
            }
        }
    }

    async fn flush(&mut self) -> Result<()> {
        if let Err(e) = self.stream.get_mut().write_all(&self.out).await {
            return Err(self.io_lost(e));
        }
        self.out.clear();
        if self.out.capacity() > COPY_LIMIT * 4 {
            self.out.shrink_to(1024);
        }
        Ok(())
    }

    /// Sends a command: its byte, then `body`. A long body is written from where it is, in
    /// packet-sized pieces, after whatever was queued before it.
    async fn send(&mut self, command: u8, body: &[u8]) -> Result<()> {
        self.seq = 0;
        if body.len() < COPY_LIMIT {
            let start = self.out.len();
            self.out.extend_from_slice(&[0, 0, 0, 0, command]);
            self.out.extend_from_slice(body);
            let l = ((body.len() + 1) as u32).to_le_bytes();
            self.out[start..start + 3].copy_from_slice(&l[..3]);
            self.seq = 1;
            return self.flush().await;
        }
        self.flush().await?;
        let total = body.len() + 1;
        let mut at = 0; // position in the payload: the command byte, then the body
        loop {
            let n = (total - at).min(MAX_PAYLOAD);
            let l = (n as u32).to_le_bytes();
            let mut head = vec![l[0], l[1], l[2], self.seq];
            self.seq = self.seq.wrapping_add(1);
            let piece = if at == 0 {
                head.push(command);
                &body[..n - 1]
            } else {
                &body[at - 1..at - 1 + n]
            };
            let w = self.stream.get_mut();
            let r = match w.write_all(&head).await {
                Ok(()) => w.write_all(piece).await,
                Err(e) => Err(e),
            };
            if let Err(e) = r {
                return Err(self.io_lost(e));
            }
            at += n;
            if n < MAX_PAYLOAD {
                return Ok(());
            }
        }
    }

    /// Runs `sql` (COM_QUERY) and reads its first answer.
    pub async fn query(&mut self, sql: impl AsRef<[u8]>) -> Result<Answer> {
        self.begin(true)?;
        self.send(0x03, sql.as_ref()).await?;
        let a = self.read_answer(false).await;
        self.busy = false;
        a
    }

    /// Runs `sql` and reads every result to its end; the last OK or EOF, or the first error.
    pub async fn query_drop(&mut self, sql: impl AsRef<[u8]>) -> Result<OkPacket> {
        let first = self.query(sql).await;
        self.finish(first).await
    }

    async fn finish(&mut self, first: Result<Answer>) -> Result<OkPacket> {
        let mut answer = first?;
        let mut rows = RawRows::default();
        loop {
            let mut last = match answer {
                Answer::Done(ok) => ok,
                Answer::Rows(_) => loop {
                    rows.clear();
                    if let Some(end) = self.read_rows(&mut rows, usize::MAX).await? {
                        break OkPacket {
                            warnings: end.warnings,
                            status: end.status,
                            ..OkPacket::default()
                        };
                    }
                },
            };
            if !self.more_results() {
                last.status = self.status;
                return Ok(last);
            }
            answer = self.next_answer().await?;
        }
    }

    /// Runs `sql` and returns the first column of its first row (`None` for no row or NULL);
    /// the rest of the answer is read and dropped.
    pub async fn query_first(&mut self, sql: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>> {
        let first = self.query(sql).await;
        let mut value = None;
        if let Ok(Answer::Rows(columns)) = &first {
            let columns = columns.len();
            let mut rows = RawRows::default();
            while self.read_rows(&mut rows, usize::MAX).await?.is_none() {}
            if let Some(p) = rows.iter().next() {
                let row = proto::text_row(p, columns).map_err(|e| self.broken(e))?;
                if let Some(Value::Bytes(b)) = row.into_iter().next() {
                    value = Some(b);
                }
            }
            self.drain().await?;
            return Ok(value);
        }
        self.finish(first).await?;
        Ok(value)
    }

    /// Runs `sql` and returns the rows of its first result as text-protocol values (the rest
    /// of the answer is read and dropped; no rows for an OK). For small answers (the proxy's
    /// own queries): every row is held.
    pub async fn query_rows(&mut self, sql: impl AsRef<[u8]>) -> Result<Vec<Vec<Value>>> {
        Ok(self.query_table(sql).await?.1)
    }

    /// [`WireConn::query_rows`], with the columns (none for an OK).
    pub async fn query_table(
        &mut self,
        sql: impl AsRef<[u8]>,
    ) -> Result<(Arc<Vec<ColumnDef>>, Vec<Vec<Value>>)> {
        let first = self.query(sql).await;
        if let Ok(Answer::Rows(columns)) = &first {
            let columns = columns.clone();
            let mut rows = RawRows::default();
            while self.read_rows(&mut rows, usize::MAX).await?.is_none() {}
            self.drain().await?;
            let values = rows
                .text_values(columns.len())
                .map_err(|e| self.broken(e))?;
            return Ok((columns, values));
        }
        self.finish(first).await?;
        Ok((Arc::default(), Vec::new()))
    }

    /// Reads the next result of a command that said more follow.
    pub async fn next_answer(&mut self) -> Result<Answer> {
        let binary = match self.phase {
            Phase::MoreResults { binary } => binary,
            _ => false,
        };
        if !self.more_results() {
            return Err(self.lost("no further result to read".into()));
        }
        self.begin(false)?;
        let a = self.read_answer(binary).await;
        self.busy = false;
        a
    }

    /// Reads an answer's first packet: OK, ERR, or a column count and the column definitions.
    async fn read_answer(&mut self, binary: bool) -> Result<Answer> {
        self.read_packet().await?;
        match self.packet.first() {
            Some(0x00) => {
                let ok = proto::ok_packet(&self.packet, self.caps & caps::SESSION_TRACK != 0)
                    .map_err(|e| self.broken(e))?;
                self.after(ok.status, binary);
                Ok(Answer::Done(ok))
            }
            Some(0xff) => {
                self.phase = Phase::Idle;
                Err(self.server_error())
            }
            Some(0xfb) => Err(self.broken("the server asked for a local file".into())),
            Some(_) => {
                let mut r = crate::frontend::packets::Reader::new(&self.packet);
                let count = r
                    .lenenc_int()
                    .ok_or_else(|| self.broken("malformed column count".into()))?;
                let columns = self.read_columns(count as usize).await?;
                self.phase = Phase::Rows { binary };
                Ok(Answer::Rows(columns))
            }
            None => Err(self.broken("an empty packet where an answer was due".into())),
        }
    }

    fn broken(&mut self, detail: String) -> ProxyError {
        self.phase = Phase::Broken;
        self.lost(detail)
    }

    /// The phase after an OK or EOF with `status`.
    fn after(&mut self, status: u16, binary: bool) {
        self.status = status;
        self.phase = if status & status::MORE_RESULTS_EXISTS != 0 {
            Phase::MoreResults { binary }
        } else {
            Phase::Idle
        };
    }

    /// Reads `count` column definitions and the EOF after them.
    async fn read_columns(&mut self, count: usize) -> Result<Arc<Vec<ColumnDef>>> {
        let mut columns = Vec::with_capacity(count);
        for _ in 0..count {
            self.read_packet().await?;
            let c = proto::column_def(&self.packet).map_err(|e| self.broken(e))?;
            columns.push(c);
        }
        self.read_packet().await?;
        if !proto::is_eof(&self.packet) {
            return Err(self.broken("no EOF after the column definitions".into()));
        }
        Ok(Arc::new(columns))
    }

    /// Appends rows of the current result to `rows`: at least one, then as many as have
    /// already arrived, up to `max`. `Some` when the result's rows have ended (nothing more
    /// was appended then); an error from the server (a statement killed mid-result) ends the
    /// command.
    pub async fn read_rows(&mut self, rows: &mut RawRows, max: usize) -> Result<Option<RowsEnd>> {
        self.begin(false)?;
        let binary = match self.phase {
            Phase::Rows { binary } => binary,
            _ => {
                self.busy = false;
                return Err(self.lost("no rows to read".into()));
            }
        };
        loop {
            let start = rows.data.len();
            self.read_into(&mut rows.data).await?;
            let p = &rows.data[start..];
            if proto::is_eof(p) {
                let (warnings, status) = proto::eof_packet(p);
                rows.data.truncate(start);
                self.after(status, binary);
                self.busy = false;
                return Ok(Some(RowsEnd { warnings, status }));
            }
            if p.first() == Some(&0xff) {
                self.packet.clear();
                self.packet.extend_from_slice(p);
                rows.data.truncate(start);
                self.phase = Phase::Idle;
                self.busy = false;
                return Err(self.server_error());
            }
            rows.ends.push(rows.data.len());
            if rows.len() >= max || !self.packet_buffered() {
                self.busy = false;
                return Ok(None);
            }
        }
    }

    /// Reads what is left of the last command (rows and further results), keeping nothing.
    pub async fn drain(&mut self) -> Result<()> {
        let mut rows = RawRows::default();
        let mut first_error = None;
        loop {
            match self.phase {
                Phase::Idle => break,
                Phase::Broken => return Err(self.lost("interrupted".into())),
                Phase::Rows { .. } => {
                    rows.clear();
                    if let Err(e) = self.read_rows(&mut rows, usize::MAX).await {
                        if matches!(self.phase, Phase::Broken) {
                            return Err(e);
                        }
                        first_error.get_or_insert(e);
                    }
                }
                Phase::MoreResults { .. } => {
                    if let Err(e) = self.next_answer().await {
                        if matches!(self.phase, Phase::Broken) {
                            return Err(e);
                        }
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Prepares `sql` (COM_STMT_PREPARE), or finds it among the statements this connection
    /// prepared before.
    pub async fn prepare(&mut self, sql: impl AsRef<[u8]>) -> Result<Arc<Prepared>> {
        let sql = sql.as_ref();
        if let Some(p) = self.statements.get(sql) {
            return Ok(p.clone());
        }
        self.begin(true)?;
        let r = self.prepare_now(sql).await;
        self.busy = false;
        let p = Arc::new(r?);
        if let Some((_, old)) = self.statements.push(sql.to_vec(), p.clone())
            && old.id != p.id
        {
            // COM_STMT_CLOSE has no answer: it goes out with the next command.
            self.seq = 0;
            let mut body = vec![0x19];
            body.extend_from_slice(&old.id.to_le_bytes());
            self.write_packet(&body);
        }
        Ok(p)
    }

    async fn prepare_now(&mut self, sql: &[u8]) -> Result<Prepared> {
        self.send(0x16, sql).await?;
        self.read_packet().await?;
        match self.packet.first() {
            Some(0x00) => {}
            Some(0xff) => {
                self.phase = Phase::Idle;
                return Err(self.server_error());
            }
            _ => return Err(self.broken("malformed COM_STMT_PREPARE answer".into())),
        }
        let (id, columns, params) = proto::prepare_ok(&self.packet).map_err(|e| self.broken(e))?;
        if params > 0 {
            self.read_columns(params as usize).await?;
        }
        let columns = if columns > 0 {
            self.read_columns(columns as usize).await?
        } else {
            Arc::default()
        };
        self.phase = Phase::Idle;
        Ok(Prepared {
            id,
            params,
            columns,
        })
    }

    /// Runs a prepared statement with `params` (COM_STMT_EXECUTE) and reads its first answer;
    /// its rows are in the binary protocol.
    pub async fn execute(&mut self, stmt: &Prepared, params: &[Value]) -> Result<Answer> {
        if params.len() != stmt.params as usize {
            return Err(ProxyError::Sql {
                code: 1210,
                state: "HY000",
                message: format!(
                    "Incorrect arguments to mysqld_stmt_execute: the statement takes {} \
                     parameters, {} were given",
                    stmt.params,
                    params.len()
                ),
            });
        }
        self.begin(true)?;
        let mut body = Vec::with_capacity(16 + params.len() * 9);
        proto::execute(&mut body, stmt.id, params);
        // The command byte is the payload's first: sent as a body after it.
        let r = self.send(body[0], &body[1..]).await;
        let a = match r {
            Ok(()) => self.read_answer(true).await,
            Err(e) => Err(e),
        };
        self.busy = false;
        a
    }

    /// Prepares (or finds) `sql`, runs it with `params` and reads every result to its end.
    pub async fn exec_drop(&mut self, sql: impl AsRef<[u8]>, params: &[Value]) -> Result<OkPacket> {
        let stmt = self.prepare(sql).await?;
        let first = self.execute(&stmt, params).await;
        self.finish(first).await
    }

    /// Prepares (or finds) `sql`, runs it with `params` and returns the rows of its first
    /// result (the rest of the answer is read and dropped; no rows for an OK). For small
    /// answers (the proxy's own queries): every row is held.
    pub async fn exec_rows(
        &mut self,
        sql: impl AsRef<[u8]>,
        params: &[Value],
    ) -> Result<Vec<Vec<Value>>> {
        let stmt = self.prepare(sql).await?;
        let first = self.execute(&stmt, params).await;
        if let Ok(Answer::Rows(columns)) = &first {
            let columns = columns.clone();
            let mut rows = RawRows::default();
            while self.read_rows(&mut rows, usize::MAX).await?.is_none() {}
            self.drain().await?;
            return rows.binary_values(&columns).map_err(|e| self.broken(e));
        }
        self.finish(first).await?;
        Ok(Vec::new())
    }

    /// COM_PING: whether the server answers.
    pub async fn ping(&mut self) -> Result<()> {
        self.simple(0x0e, &[]).await.map(drop)
    }

    /// COM_RESET_CONNECTION: the session back to its state after the handshake (variables,
    /// temporary tables, locks, transaction, prepared statements).
    pub async fn reset(&mut self) -> Result<()> {
        self.simple(0x1f, &[]).await?;
        self.statements.clear();
        Ok(())
    }

    /// COM_INIT_DB: uses database `db`.
    pub async fn use_db(&mut self, db: &str) -> Result<()> {
        self.simple(0x02, db.as_bytes()).await.map(drop)
    }

    async fn simple(&mut self, command: u8, body: &[u8]) -> Result<OkPacket> {
        self.begin(true)?;
        self.send(command, body).await?;
        let a = self.read_answer(false).await;
        self.busy = false;
        match a? {
            Answer::Done(ok) => Ok(ok),
            Answer::Rows(_) => Err(self.broken("rows where an OK was due".into())),
        }
    }

    /// COM_QUIT, then closes the socket.
    pub async fn quit(mut self) {
        self.close().await;
    }

    /// COM_QUIT, then closes the socket; the connection is unusable afterwards (a pool drops
    /// it). A server logs no aborted connection for a client that quit.
    pub async fn close(&mut self) {
        if self.is_ready() {
            let _ = self.send(0x01, &[]).await;
        }
        self.phase = Phase::Broken;
        let _ = self.stream.get_mut().shutdown().await;
    }
}
