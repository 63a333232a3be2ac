//! One client connection: handshake, authentication, then the command loop. Session state
//! (schema, autocommit, transaction, prepared statements) lives here and in
//! [`crate::engine::SessionState`]; statements are handed to the engine.

use super::auth;
use super::codec::PacketIo;
use super::packets::{self, ColumnDef, Reader, caps, status};
use super::rows;
use crate::engine::{self, SessionState, Shared};
use crate::error::ProxyError;
use crate::execute::{Outcome, Rows, inflight};
use crate::sql::split;
use mysql_async::Value;
use mysql_async::consts::ColumnType;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

/// How long a client has to complete the handshake (MySQL's `connect_timeout` default).
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A statement prepared by the client. It belongs to the session, not to a backend connection:
/// each execute runs wherever its bound values route.
struct Prepared {
    sql: Arc<str>,
    params: usize,
    types: Vec<(u8, bool)>,
    long_data: HashMap<u16, Vec<u8>>,
}

/// The session's connection-level state.
struct Conn<S> {
    io: PacketIo<S>,
    caps: u32,
    st: SessionState,
    stmts: HashMap<u32, Prepared>,
    next_stmt: u32,
    multi_statements: bool,
    /// The collation the client announced in its handshake (kept across session resets).
    charset: u8,
    /// The scramble of the last authentication, which COM_CHANGE_USER answers are hashed with.
    scramble: Vec<u8>,
}

/// Serves one client until it quits, the connection drops, or shutdown is signalled between
/// commands.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    peer: Option<std::net::IpAddr>,
    mut sh: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut io = PacketIo::new(stream);
    let conn_id = sh.next_conn_id.fetch_add(1, Ordering::Relaxed);
    // A client that does not finish the handshake in time (or during shutdown) is dropped.
    let greeted = tokio::select! {
        biased;
        _ = shutdown.changed() => None,
        r = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&mut io, &sh, conn_id)) => r.ok().flatten(),
    };
    let Some((caps, charset, scramble, mut st)) = greeted else {
        return;
    };
    if let Some(ip) = peer {
        st.host = ip.to_string();
    }
    let mut c = Conn {
        io,
        caps,
        st,
        stmts: HashMap::new(),
        next_stmt: 1,
        multi_statements: caps & caps::MULTI_STATEMENTS != 0,
        charset,
        scramble,
    };
    // Listed for SHOW PROCESSLIST; `killed` resolves on KILL CONNECTION of this session.
    let registration = sh.admin.sessions.register(&c.st);
    let mut killed = registration.killed();
    // Reloaded rules reach the session here, between statements outside a transaction.
    let mut rules = sh.reload.subscribe();
    sh.metrics.connections.inc();
    sh.metrics.connections_total.inc();
    let since = std::time::Instant::now();
    tracing::info!(
        session = conn_id,
        user = %c.st.user,
        host = %c.st.host,
        db = c.st.schema.as_deref().unwrap_or(""),
        "client connected"
    );
    loop {
        c.io.reset_seq();
        let packet = tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            _ = killed.changed() => break,
            p = c.io.read_packet() => p,
        };
        let packet = match packet {
            Ok(Some(p)) => p,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                // Over the proxy's packet limit: say so (as MySQL does) before closing.
                c.io.reset_seq();
                c.write_err(&ProxyError::PacketTooLarge);
                let _ = c.io.flush().await;
                break;
            }
            Ok(None) | Err(_) => break,
        };
        if !c.st.txn.is_open()
            && let Some(rx) = &mut rules
            && rx.has_changed().unwrap_or(false)
        {
            sh = rx.borrow_and_update().clone();
        }
        registration.busy(&packet, |id| c.stmts.get(&id).map(|p| p.sql.clone()));
        let alive = tokio::select! {
            biased;
            // KILL CONNECTION interrupted the command's backend statements first; what is
            // left of the command is abandoned and the session ends (its transaction is
            // rolled back below).
            _ = killed.changed() => false,
            // Boxed: a command's future holds every engine step's state (about 30 KB), which
            // an idle session would otherwise carry inline.
            alive = inflight::scope(registration.in_flight(), Box::pin(command(&mut c, &sh, packet))) => alive,
        };
        registration.idle(&c.st);
        // The COM_QUERY text shared with its backend statements (see `command`).
        c.st.text = None;
        if !alive {
            break;
        }
        if c.io.flush().await.is_err() {
            break;
        }
    }
    engine::close(&sh, &mut c.st).await;
    sh.metrics.connections.dec();
    tracing::info!(
        session = conn_id,
        user = %c.st.user,
        host = %c.st.host,
        seconds = since.elapsed().as_secs(),
        "client disconnected"
    );
}

async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut PacketIo<S>,
    sh: &Shared,
    conn_id: u32,
) -> Option<(u32, u8, Vec<u8>, SessionState)> {
    let scramble = auth::new_scramble();
    io.write_packet(&packets::handshake(
        conn_id,
        &scramble,
        engine::SERVER_VERSION,
    ));
    io.flush().await.ok()?;
    let payload = io.read_packet().await.ok()??;
    let Some(resp) = packets::parse_handshake_response(&payload) else {
        send_err(io, 1043, "08S01", "Bad handshake").await;
        return None;
    };
    let mut auth_data = resp.auth.clone();
    if resp
        .plugin
        .as_deref()
        .is_some_and(|p| p != packets::NATIVE_PASSWORD)
    {
        let mut sw = vec![0xfe];
        sw.extend_from_slice(packets::NATIVE_PASSWORD.as_bytes());
        sw.push(0);
        sw.extend_from_slice(&scramble);
        sw.push(0);
        io.write_packet(&sw);
        io.flush().await.ok()?;
        auth_data = io.read_packet().await.ok()??;
    }
    let user = sh.rules.user(&resp.user);
    let ok = user.is_some_and(|u| auth::check_native(&scramble, &u.password, &auth_data));
    if !ok {
        let using = if auth_data.is_empty() { "NO" } else { "YES" };
        let e = ProxyError::AccessDenied(resp.user.clone(), using);
        send_err(io, e.code(), e.sqlstate(), &e.to_string()).await;
        return None;
    }
    if let Some(db) = &resp.db
        && let Err(e) = engine::check_schema(&sh.rules, &resp.user, db)
    {
        send_err(io, e.code(), e.sqlstate(), &e.to_string()).await;
        return None;
    }
    let found_rows = resp.caps & caps::FOUND_ROWS != 0;
    let mut st = SessionState::new(resp.user, resp.db, found_rows, conn_id);
    st.defaults_from(&sh.rules);
    client_charset(&mut st, resp.charset);
    let mut buf = Vec::new();
    packets::ok(&mut buf, 0, 0, 0, status::AUTOCOMMIT, 0, "");
    io.write_packet(&buf);
    io.flush().await.ok()?;
    Some((
        resp.caps & caps::SERVER,
        resp.charset,
        scramble.to_vec(),
        st,
    ))
}

/// Gives the session the character set the client announced (backend connections are then set
/// to it, as MySQL sets a connection to its client's collation).
fn client_charset(st: &mut SessionState, collation: u8) {
    if let Some((charset, name)) = engine::vars::client_charset(collation) {
        st.collation = u16::from(collation);
        engine::vars::charset_vars(st, &charset, &name);
    }
}

async fn send_err<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut PacketIo<S>,
    code: u16,
    state: &str,
    msg: &str,
) {
    let mut buf = Vec::new();
    packets::err(&mut buf, code, state, msg);
    io.write_packet(&buf);
    // The connection closes right after: a failed flush changes nothing.
    let _ = io.flush().await;
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    fn status(&self) -> u16 {
        let mut s = 0;
        if self.st.autocommit {
            s |= status::AUTOCOMMIT;
        }
        if self.st.txn.is_open() {
            s |= status::IN_TRANS;
        }
        s
    }

    fn deprecate_eof(&self) -> bool {
        self.caps & caps::DEPRECATE_EOF != 0
    }

    fn write_err(&mut self, e: &ProxyError) {
        let mut buf = Vec::new();
        packets::err(&mut buf, e.code(), e.sqlstate(), &e.to_string());
        self.io.write_packet(&buf);
    }

    fn write_ok(&mut self, affected: u64, last_id: u64, warnings: u16, info: &str, more: bool) {
        let mut st = self.status();
        if more {
            st |= status::MORE_RESULTS_EXISTS;
        }
        let mut buf = Vec::new();
        packets::ok(&mut buf, 0, affected, last_id, st, warnings, info);
        self.io.write_packet(&buf);
    }

    fn write_eof(&mut self, warnings: u16, more: bool) {
        let mut st = self.status();
        if more {
            st |= status::MORE_RESULTS_EXISTS;
        }
        let mut buf = Vec::new();
        if self.deprecate_eof() {
            packets::ok(&mut buf, 0xfe, 0, 0, st, warnings, "");
        } else {
            packets::eof(&mut buf, warnings, st);
        }
        self.io.write_packet(&buf);
    }

    fn write_columns(&mut self, cols: &[ColumnDef]) {
        self.io.write_with(|b| rows::column_count(b, cols.len()));
        for c in cols {
            self.io.write_with(|b| c.write(b));
        }
        if !self.deprecate_eof() {
            let st = self.status();
            self.io.write_with(|b| packets::eof(b, 0, st));
        }
    }

    fn write_row(&mut self, cols: &[ColumnDef], row: &[Value], binary: bool) {
        if binary {
            self.io.write_with(|b| rows::write_binary_row(b, cols, row));
        } else {
            self.io.write_with(|b| rows::write_text_row(b, cols, row));
        }
    }

    /// Writes a statement's result. `Written::Failed`: an error packet ended it (a multi-statement
    /// stops there); `Written::Gone`: the client went away.
    async fn write_outcome(&mut self, o: Outcome, binary: bool, more: bool) -> Written {
        match o {
            Outcome::Multi(list) => {
                // A CALL's results, each but the last flagged "more results follow".
                let n = list.len();
                for (i, part) in list.into_iter().enumerate() {
                    let w = Box::pin(self.write_outcome(part, binary, more || i + 1 < n)).await;
                    if w != Written::Done {
                        return w;
                    }
                }
            }
            Outcome::Ok(ok) => {
                self.write_ok(ok.affected, ok.last_insert_id, ok.warnings, &ok.info, more)
            }
            Outcome::Rows(set) => {
                self.write_columns(&set.columns);
                for row in &set.rows {
                    self.write_row(&set.columns, row, binary);
                }
                self.write_eof(set.warnings, more);
            }
            Outcome::Stream(mut stream) => {
                self.write_columns(&stream.columns);
                let mut failed = None;
                let mut gone = false;
                let mut sent = 0u64;
                while let Some(item) = stream.next_rows().await {
                    match item {
                        // Rows in the client's protocol, as the server sent them.
                        Ok(Rows::Raw { rows, binary: b }) if b == binary => {
                            for p in rows.iter() {
                                self.io.write_packet(p);
                            }
                            sent += rows.len() as u64;
                        }
                        Ok(rows) => match rows.into_values(&stream.columns) {
                            Ok(rows) => {
                                for row in &rows {
                                    self.write_row(&stream.columns, row, binary);
                                }
                                sent += rows.len() as u64;
                            }
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        },
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                    if self.io.pending() > STREAM_FLUSH && self.io.flush().await.is_err() {
                        gone = true;
                        break;
                    }
                }
                // Dropping the receiver lets the backend tasks drain what is left.
                let (conns, end) = stream.finish().await;
                let warnings = engine::finish_stream(&mut self.st, conns, &end, sent);
                if gone {
                    return Written::Gone;
                }
                match (failed, end) {
                    (Some(e), _) | (None, Err(e)) => {
                        self.write_err(&e);
                        return Written::Failed;
                    }
                    (None, Ok(_)) => self.write_eof(warnings, more),
                }
            }
        }
        Written::Done
    }
}

/// What became of a result written to the client.
#[derive(PartialEq, Eq)]
enum Written {
    Done,
    Failed,
    Gone,
}

/// Runs one statement of a COM_QUERY text, answering as MariaDB does the pieces that hold no
/// statement: comments alone get OK, an empty statement (`SELECT 1; ;SELECT 2`) a syntax error.
async fn run_piece(sh: &Shared, st: &mut SessionState, sql: &str) -> Result<Outcome, ProxyError> {
    if split::is_comment_only(sql) {
        return Ok(Outcome::Ok(Default::default()));
    }
    if sql.starts_with(';') {
        let near: String = sql.chars().take(80).collect();
        return Err(ProxyError::Syntax(format!(
            "an empty statement before the `;` near '{near}'"
        )));
    }
    engine::run(sh, st, sql, None).await
}

/// Bytes of streamed rows buffered before they are sent.
const STREAM_FLUSH: usize = 64 * 1024;

/// Runs a COM_QUERY text: each of its statements (several with CLIENT_MULTI_STATEMENTS) until
/// one fails. `false` ends the connection.
async fn query<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut Conn<S>,
    sh: &Shared,
    text: &str,
) -> bool {
    let stmts = split::statements(text, c.multi_statements);
    if stmts.is_empty() {
        c.write_err(&ProxyError::EmptyQuery);
        return true;
    }
    let n = stmts.len();
    for (i, sql) in stmts.into_iter().enumerate() {
        match run_piece(sh, &mut c.st, sql).await {
            Ok(o) => match c.write_outcome(o, false, i + 1 < n).await {
                Written::Done => {}
                Written::Failed => break,
                Written::Gone => return false,
            },
            Err(e) => {
                c.write_err(&e);
                break;
            }
        }
        if c.io.pending() > 1 << 20 && c.io.flush().await.is_err() {
            return false;
        }
    }
    true
}

/// The text of a COM_QUERY `packet` (its command byte first), held losslessly (see
/// `sql::text`). Bytes that are valid UTF-8 with nothing to escape (nearly every statement)
/// become the text in the packet's own buffer: a statement of many megabytes is never copied.
fn query_text(mut packet: Vec<u8>) -> String {
    if !packet.is_empty() {
        packet.remove(0);
    }
    match String::from_utf8(packet) {
        Ok(s) if !crate::sql::text::may_hold_escapes(s.as_bytes()) => s,
        Ok(s) => crate::sql::text::decode(s.as_bytes()).into_owned(),
        Err(e) => crate::sql::text::decode(e.as_bytes()).into_owned(),
    }
}

/// Handles one command; `false` ends the connection.
async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut Conn<S>,
    sh: &Shared,
    packet: Vec<u8>,
) -> bool {
    let Some((&cmd, body)) = packet.split_first() else {
        return false;
    };
    sh.questions.fetch_add(1, Ordering::Relaxed);
    match cmd {
        0x01 => return false,
        0x02 => {
            let db = String::from_utf8_lossy(body).into_owned();
            let sql = format!("USE `{}`", db.replace('`', "``"));
            match engine::run(sh, &mut c.st, &sql, None).await {
                Ok(_) => c.write_ok(0, 0, 0, "", false),
                Err(e) => c.write_err(&e),
            }
        }
        0x03 => {
            // Bytes in the client's character set, held losslessly (see `sql::text`), once:
            // the backend statements share this text.
            let text = Arc::new(query_text(packet));
            // Cleared by `serve` once the command ends, however it ends.
            c.st.text = Some(text.clone());
            return query(c, sh, &text).await;
        }
        0x04 => {
            let mut r = Reader::new(body);
            let table = String::from_utf8_lossy(r.cstr().unwrap_or_default()).into_owned();
            match engine::field_list(sh, &mut c.st, &table).await {
                Ok(cols) => {
                    for col in cols {
                        c.io.write_with(|b| {
                            col.write(b);
                            b.push(0xfb); // default value: NULL
                        });
                    }
                    // Ends like a result set: an OK with the EOF header under DEPRECATE_EOF.
                    c.write_eof(0, false);
                }
                Err(e) => c.write_err(&e),
            }
        }
        0x09 => {
            let up = sh.started.elapsed().as_secs();
            let q = sh.questions.load(Ordering::Relaxed);
            let s = format!(
                "Uptime: {up}  Threads: 1  Questions: {q}  Slow queries: 0  Opens: 0  Open tables: 0  Queries per second avg: {:.3}",
                q as f64 / up.max(1) as f64
            );
            c.io.write_packet(s.as_bytes());
        }
        0x0e => c.write_ok(0, 0, 0, "", false),
        0x11 => return change_user(c, sh, body).await,
        0x16 => prepare(c, sh, body).await,
        0x17 => execute(c, sh, body).await,
        0x18 => {
            // COM_STMT_SEND_LONG_DATA has no response.
            let mut r = Reader::new(body);
            if let (Some(id), Some(param)) = (r.u32(), r.u16())
                && let Some(p) = c.stmts.get_mut(&id)
            {
                p.long_data
                    .entry(param)
                    .or_default()
                    .extend_from_slice(r.rest());
            }
        }
        0x19 => {
            if let Some(id) = Reader::new(body).u32() {
                c.stmts.remove(&id);
            }
        }
        0x1a => match Reader::new(body).u32().and_then(|id| c.stmts.get_mut(&id)) {
            Some(p) => {
                p.long_data.clear();
                c.write_ok(0, 0, 0, "", false);
            }
            None => c.write_err(&ProxyError::UnknownStatement(0, "mysqld_stmt_reset")),
        },
        0x1b => {
            match Reader::new(body).u16() {
                Some(0) => c.multi_statements = true,
                Some(1) => c.multi_statements = false,
                _ => {
                    c.write_err(&ProxyError::Malformed("COM_SET_OPTION".into()));
                    return true;
                }
            }
            // MySQL answers COM_SET_OPTION with my_eof(): an OK under DEPRECATE_EOF.
            c.write_eof(0, false);
        }
        0x1f => {
            engine::close(sh, &mut c.st).await;
            let mut fresh = SessionState::new(
                c.st.user.clone(),
                c.st.schema.clone(),
                c.st.found_rows,
                c.st.conn_id,
            );
            fresh.host = std::mem::take(&mut c.st.host);
            fresh.defaults_from(&sh.rules);
            // The same client: what it wrote, it must still read back.
            fresh.wrote_at = std::mem::take(&mut c.st.wrote_at);
            client_charset(&mut fresh, c.charset);
            c.st = fresh;
            c.stmts.clear();
            c.write_ok(0, 0, 0, "", false);
        }
        other => c.write_err(&ProxyError::UnknownCommand(other)),
    }
    true
}

async fn prepare<S: AsyncRead + AsyncWrite + Unpin>(c: &mut Conn<S>, sh: &Shared, body: &[u8]) {
    let sql: Arc<str> = Arc::from(crate::sql::text::decode(body).trim());
    let (params, columns) = match engine::prepare(sh, &c.st, &sql).await {
        Ok(x) => x,
        Err(e) => return c.write_err(&e),
    };
    let id = c.next_stmt;
    c.next_stmt = c.next_stmt.wrapping_add(1).max(1);
    let mut b = vec![0u8];
    b.extend_from_slice(&id.to_le_bytes());
    b.extend_from_slice(&(columns.len() as u16).to_le_bytes());
    b.extend_from_slice(&(params as u16).to_le_bytes());
    b.push(0);
    b.extend_from_slice(&0u16.to_le_bytes());
    c.io.write_packet(&b);
    let deprecate = c.deprecate_eof();
    let st = c.status();
    if params > 0 {
        let p = ColumnDef::synthetic("?", ColumnType::MYSQL_TYPE_VAR_STRING);
        for _ in 0..params {
            c.io.write_with(|b| p.write(b));
        }
        if !deprecate {
            c.io.write_with(|b| packets::eof(b, 0, st));
        }
    }
    if !columns.is_empty() {
        for col in &columns {
            c.io.write_with(|b| col.write(b));
        }
        if !deprecate {
            c.io.write_with(|b| packets::eof(b, 0, st));
        }
    }
    c.stmts.insert(
        id,
        Prepared {
            sql,
            params,
            types: Vec::new(),
            long_data: HashMap::new(),
        },
    );
}

async fn execute<S: AsyncRead + AsyncWrite + Unpin>(c: &mut Conn<S>, sh: &Shared, body: &[u8]) {
    let mut r = Reader::new(body);
    let Some(id) = r.u32() else {
        return c.write_err(&ProxyError::Malformed(
            "COM_STMT_EXECUTE without a statement id".into(),
        ));
    };
    let Some(p) = c.stmts.get_mut(&id) else {
        return c.write_err(&ProxyError::UnknownStatement(id, "mysqld_stmt_execute"));
    };
    let Some(values) = rows::parse_execute_params(&mut r, p.params, &mut p.types, &p.long_data)
    else {
        return c.write_err(&ProxyError::Malformed("COM_STMT_EXECUTE parameters".into()));
    };
    p.long_data.clear();
    let sql = p.sql.clone();
    match engine::run(sh, &mut c.st, &sql, Some(&values)).await {
        Ok(o) => {
            let _ = c.write_outcome(o, true, false).await;
        }
        Err(e) => c.write_err(&e),
    }
}

/// COM_CHANGE_USER: authenticates again and starts a fresh session for the new user and schema.
/// An answer hashed with the connection's scramble by mysql_native_password is checked as it
/// is (the MariaDB C connector expects nothing else); any other goes through an auth switch with
/// a fresh scramble. A failed attempt ends the connection, as MySQL does.
async fn change_user<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut Conn<S>,
    sh: &Shared,
    body: &[u8],
) -> bool {
    let mut r = Reader::new(body);
    let user = String::from_utf8_lossy(r.cstr().unwrap_or_default()).into_owned();
    let first: Vec<u8> = if c.caps & caps::SECURE_CONNECTION != 0 {
        let n = r.u8().unwrap_or(0) as usize;
        r.take(n).unwrap_or_default().to_vec()
    } else {
        r.cstr().unwrap_or_default().to_vec()
    };
    let db = r
        .cstr()
        .map(|d| String::from_utf8_lossy(d).into_owned())
        .filter(|d| !d.is_empty());
    let _charset = r.u16();
    let plugin = r.cstr().map(|p| String::from_utf8_lossy(p).into_owned());
    // Whatever transaction and statements the old session had end here.
    engine::close(sh, &mut c.st).await;
    c.stmts.clear();
    let native = plugin
        .as_deref()
        .is_none_or(|p| p.is_empty() || p == packets::NATIVE_PASSWORD);
    let user_rule = sh.rules.user(&user);
    let ok_first =
        native && user_rule.is_some_and(|u| auth::check_native(&c.scramble, &u.password, &first));
    let (ok, answer) = if ok_first {
        (true, first)
    } else {
        let scramble = auth::new_scramble();
        let mut sw = vec![0xfe];
        sw.extend_from_slice(packets::NATIVE_PASSWORD.as_bytes());
        sw.push(0);
        sw.extend_from_slice(&scramble);
        sw.push(0);
        c.io.write_packet(&sw);
        if c.io.flush().await.is_err() {
            return false;
        }
        let Ok(Some(answer)) = c.io.read_packet().await else {
            return false;
        };
        c.scramble = scramble.to_vec();
        let ok = user_rule.is_some_and(|u| auth::check_native(&scramble, &u.password, &answer));
        (ok, answer)
    };
    let denied = if !ok {
        let using = if answer.is_empty() { "NO" } else { "YES" };
        Some(ProxyError::AccessDenied(user.clone(), using))
    } else {
        db.as_deref()
            .and_then(|d| engine::check_schema(&sh.rules, &user, d).err())
    };
    if let Some(e) = denied {
        c.write_err(&e);
        let _ = c.io.flush().await;
        return false;
    }
    let mut fresh = SessionState::new(user, db, c.st.found_rows, c.st.conn_id);
    fresh.host = std::mem::take(&mut c.st.host);
    fresh.defaults_from(&sh.rules);
    fresh.wrote_at = std::mem::take(&mut c.st.wrote_at);
    client_charset(&mut fresh, c.charset);
    c.st = fresh;
    c.write_ok(0, 0, 0, "", false);
    true
}

#[cfg(test)]
mod tests {
    use super::query_text;

    #[test]
    fn a_query_text_is_the_decoded_body() {
        let bodies: [&[u8]; 5] = [
            b"SELECT 1",
            b"",
            b"SELECT 'caf\xe9'",                    // latin1: not UTF-8
            "SELECT '\u{F780}'".as_bytes(),         // a character of the escape range
            "SELECT 'h\u{e9}' /* ok */".as_bytes(), // UTF-8
        ];
        for body in bodies {
            let mut packet = vec![0x03];
            packet.extend_from_slice(body);
            let text = query_text(packet);
            assert_eq!(text, crate::sql::text::decode(body), "{body:?}");
            assert_eq!(&*crate::sql::text::encode(&text), body);
        }
    }
}
