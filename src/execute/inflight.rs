//! The backend statements a client session has running right now, so that `KILL QUERY` (and
//! `KILL CONNECTION`) of that session can interrupt them on their servers, as MySQL interrupts
//! its own threads: the backend answers the statement with 1317, which reaches the client like
//! any backend error, and a transaction stays open (MySQL rolls back the statement only).
//!
//! A KILL may come between the moment the session shows the statement in the process list and
//! the moment a backend runs it (or between two backend statements of one command): the killer
//! then also marks the command interrupted, and a backend statement that the command would
//! start afterwards is not sent, it fails with the same 1317. The mark lasts until the
//! session's next command ([`InFlight::start_command`]).
//!
//! The session's set is reached through a task-local (the session task runs each command inside
//! [`scope`]), so execution code needs no extra parameter. Registering and releasing take an
//! async lock that the killer holds while it sends its `KILL QUERY`: a connection whose
//! statement has just ended is not handed back to its pool (and to another client, whose
//! statement the KILL would then hit) before that KILL reached the server.

use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::{RwLock, RwLockWriteGuard};

/// A backend connection running a statement: its shard's name and its server thread id.
pub type Running = (String, u32);

/// What runs, and whether the current command was interrupted.
#[derive(Debug, Default)]
struct RunState {
    list: Vec<Running>,
    interrupted: bool,
}

/// The current command was interrupted by `KILL QUERY` (or `KILL CONNECTION`) before this
/// backend statement started: MySQL's answer to an interrupted statement (1317).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

fn lock(m: &Mutex<RunState>) -> std::sync::MutexGuard<'_, RunState> {
    match m.lock() {
        Ok(r) => r,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The statements in flight for one session.
#[derive(Debug, Default)]
pub struct InFlight {
    running: Mutex<RunState>,
    /// Held for writing by a killer while its KILLs travel; statements that end wait for it.
    gate: RwLock<()>,
}

impl InFlight {
    /// Marks the current command interrupted and returns what runs now, with a guard that
    /// keeps those statements' connections from going back to their pools until it is dropped
    /// (once the KILLs were sent). A statement registered later sees the mark and is not sent.
    pub async fn interrupt(&self) -> (RwLockWriteGuard<'_, ()>, Vec<Running>) {
        let guard = self.gate.write().await;
        let mut r = lock(&self.running);
        r.interrupted = true;
        let running = r.list.clone();
        drop(r);
        (guard, running)
    }

    /// The session starts a new command: an earlier KILL QUERY does not reach it.
    pub fn start_command(&self) {
        lock(&self.running).interrupted = false;
    }

    fn remove(&self, entry: &Running) {
        let mut r = lock(&self.running);
        if let Some(i) = r.list.iter().position(|x| x == entry) {
            r.list.swap_remove(i);
        }
    }
}

tokio::task_local! {
    static CURRENT: Arc<InFlight>;
}

/// Runs `fut` (one command of a session) with `set` as the place its backend statements are
/// registered.
pub async fn scope<F: Future>(set: Arc<InFlight>, fut: F) -> F::Output {
    CURRENT.scope(set, fut).await
}

/// A registered statement: [`Tracked::release`] it when the statement has ended. Dropped
/// without that (the statement's future was cancelled), it is forgotten at once.
pub(crate) struct Tracked {
    set: Arc<InFlight>,
    entry: Running,
}

/// Registers `conn_id` on `shard` as running a statement of the current session (`Ok(None)`
/// when the code runs outside a session: id sequences, the proxy's own checks), or says that
/// the session's command was interrupted: the statement must not be sent.
pub(crate) fn track(shard: &str, conn_id: u32) -> Result<Option<Tracked>, Interrupted> {
    let Ok(set) = CURRENT.try_with(Arc::clone) else {
        return Ok(None);
    };
    let entry = (shard.to_string(), conn_id);
    {
        // Under the same lock as the killer's mark: either it sees this statement, or this
        // statement sees its mark.
        let mut r = lock(&set.running);
        if r.interrupted {
            return Err(Interrupted);
        }
        r.list.push(entry.clone());
    }
    Ok(Some(Tracked { set, entry }))
}

impl Tracked {
    /// The statement has ended: waits for a KILL being sent for it, then forgets it.
    pub(crate) async fn release(self) {
        let set = self.set.clone();
        let _wait = set.gate.read().await;
        drop(self);
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.set.remove(&self.entry);
    }
}

/// Releases an optional registration.
pub(crate) async fn release(t: Option<Tracked>) {
    if let Some(t) = t {
        t.release().await;
    }
}
