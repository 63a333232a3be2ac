//! The proxy's own sessions, as `SHOW PROCESSLIST`, `information_schema.PROCESSLIST` and `KILL`
//! see them: one entry per client connection (id = its `CONNECTION_ID()`), with what it runs
//! now. Behind a proxy the backends' threads are pooled connections that belong to nobody, so
//! these are the only threads a client may see or kill.

use super::SessionState;
use crate::execute::inflight::InFlight;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::watch;

/// Statement text kept for `Info` (a larger statement is shown cut there).
const INFO_MAX: usize = 64 * 1024;

/// Every live session.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<BTreeMap<u32, Arc<Entry>>>,
}

/// One session.
pub struct Entry {
    pub id: u32,
    state: Mutex<State>,
    /// Set to true by `KILL CONNECTION`: the session ends its current command and closes.
    kill: watch::Sender<bool>,
    /// Its backend statements in flight (see [`crate::execute::inflight`]).
    pub in_flight: Arc<InFlight>,
}

/// A session's row of the process list.
#[derive(Clone, Debug)]
pub struct Row {
    pub id: u32,
    pub user: String,
    pub host: String,
    pub db: Option<String>,
    /// `Sleep`, `Query`, `Execute`, ... as MySQL names a thread's command.
    pub command: &'static str,
    /// Seconds in this command (or asleep).
    pub time: u64,
    pub state: &'static str,
    /// The statement it runs.
    pub info: Option<Arc<str>>,
    /// Its transaction, if one is open: how long it has been open, and the shards it holds a
    /// connection on (as of its last statement).
    pub txn: Option<(u64, Vec<crate::config::ShardId>)>,
}

#[derive(Clone, Debug)]
struct State {
    user: String,
    host: String,
    db: Option<String>,
    command: &'static str,
    since: Instant,
    info: Option<Arc<str>>,
    txn: Option<(Instant, Vec<crate::config::ShardId>)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain data behind: still usable.
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Sessions {
    /// Adds the session `st` (after its handshake); it leaves the list when the returned
    /// registration is dropped.
    pub fn register(self: &Arc<Self>, st: &SessionState) -> Registration {
        let (kill, _) = watch::channel(false);
        let entry = Arc::new(Entry {
            id: st.conn_id,
            state: Mutex::new(State {
                user: st.user.clone(),
                host: st.host.clone(),
                db: st.schema.clone(),
                command: "Sleep",
                since: Instant::now(),
                info: None,
                txn: None,
            }),
            kill,
            in_flight: Arc::default(),
        });
        lock(&self.map).insert(entry.id, entry.clone());
        Registration {
            sessions: self.clone(),
            entry,
        }
    }

    /// The session with id `id`.
    pub fn get(&self, id: u32) -> Option<Arc<Entry>> {
        lock(&self.map).get(&id).cloned()
    }

    /// Every session, by id.
    pub fn all(&self) -> Vec<Arc<Entry>> {
        lock(&self.map).values().cloned().collect()
    }
}

impl Entry {
    /// Its process-list row now.
    pub fn row(&self) -> Row {
        let s = lock(&self.state).clone();
        Row {
            id: self.id,
            user: s.user,
            host: s.host,
            db: s.db,
            command: s.command,
            time: s.since.elapsed().as_secs(),
            state: if s.command == "Sleep" {
                ""
            } else {
                "executing"
            },
            info: s.info,
            txn: s
                .txn
                .map(|(since, shards)| (since.elapsed().as_secs(), shards)),
        }
    }

    /// The user the session is logged in as.
    pub fn user(&self) -> String {
        lock(&self.state).user.clone()
    }

    /// Tells the session to close (`KILL CONNECTION`).
    pub fn kill(&self) {
        self.kill.send_replace(true);
    }
}

/// A session's place in [`Sessions`], held by its task.
pub struct Registration {
    sessions: Arc<Sessions>,
    entry: Arc<Entry>,
}

impl Registration {
    /// Resolves once the session was killed (`KILL CONNECTION`).
    pub fn killed(&self) -> watch::Receiver<bool> {
        self.entry.kill.subscribe()
    }

    /// Where the session's commands register their backend statements.
    pub fn in_flight(&self) -> Arc<InFlight> {
        self.entry.in_flight.clone()
    }

    /// The session starts the command of `packet`; `prepared` gives a prepared statement's
    /// text by id (for COM_STMT_EXECUTE).
    pub fn busy(&self, packet: &[u8], prepared: impl Fn(u32) -> Option<Arc<str>>) {
        let (command, info) = describe(packet, prepared);
        self.entry.in_flight.start_command();
        let mut s = lock(&self.entry.state);
        s.command = command;
        s.info = info;
        s.since = Instant::now();
    }

    /// The command ended: the session sleeps, as who it is now (COM_CHANGE_USER, USE).
    pub fn idle(&self, st: &SessionState) {
        let mut s = lock(&self.entry.state);
        if s.user != st.user {
            s.user.clone_from(&st.user);
        }
        if s.db != st.schema {
            s.db.clone_from(&st.schema);
        }
        s.command = "Sleep";
        s.info = None;
        s.since = Instant::now();
        if st.txn.is_open() {
            let pinned = st.txn.pinned();
            match &mut s.txn {
                Some((_, shards)) => *shards = pinned,
                None => s.txn = Some((Instant::now(), pinned)),
            }
        } else {
            s.txn = None;
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.sessions.map).remove(&self.entry.id);
    }
}

/// A command packet as the process list names it, with its statement text.
fn describe(
    packet: &[u8],
    prepared: impl Fn(u32) -> Option<Arc<str>>,
) -> (&'static str, Option<Arc<str>>) {
    let Some((&cmd, body)) = packet.split_first() else {
        return ("Sleep", None);
    };
    let text = |b: &[u8]| {
        let cut = &b[..b.len().min(INFO_MAX)];
        Some(Arc::from(crate::sql::text::decode(cut).as_ref()))
    };
    match cmd {
        0x03 => ("Query", text(body)),
        0x16 => ("Prepare", text(body)),
        0x17 => {
            let id = body
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes);
            ("Execute", id.and_then(prepared))
        }
        0x02 => ("Init DB", None),
        0x04 => ("Field List", None),
        0x09 => ("Statistics", None),
        0x0e => ("Ping", None),
        0x11 => ("Change user", None),
        0x18 => ("Long Data", None),
        0x19 => ("Close stmt", None),
        0x1a => ("Reset stmt", None),
        0x1b => ("Set option", None),
        0x1f => ("Reset connection", None),
        _ => ("Query", None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_commands_as_mysql_does() {
        let none = |_| None;
        assert_eq!(describe(b"\x03SELECT 1", none).0, "Query");
        assert_eq!(
            describe(b"\x03SELECT 1", none).1.as_deref(),
            Some("SELECT 1")
        );
        let stmt = |id| (id == 7).then(|| Arc::from("SELECT ?"));
        let (cmd, info) = describe(b"\x17\x07\x00\x00\x00\x00\x01\x00\x00\x00", stmt);
        assert_eq!((cmd, info.as_deref()), ("Execute", Some("SELECT ?")));
        assert_eq!(describe(b"\x0e", none).0, "Ping");
    }
}
