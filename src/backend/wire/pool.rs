//! A bounded pool of [`WireConn`]s to one server, for one database, handshake flags and
//! session setup (the same key as the mysql_async pools in `backend`).
//!
//! The bound counts connections lent out (a permit each): a new connection is opened only
//! when no idle one is left, so the connections open (lent out plus idle) never pass it either.
//! A connection comes back when its [`PooledWire`] is dropped, and only if it is ready for a
//! command and holds no transaction; anything else (a result not read to its end, an
//! interrupted command, an open transaction) is closed, which the server rolls back. The most
//! recently used idle connection is lent first, so that connections a burst opened idle out
//! (after [`IDLE_TTL`]) instead of taking turns.

use super::{ConnectOpts, WireConn};
use crate::error::{ProxyError, Result};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// An idle connection unused this long is closed.
pub const IDLE_TTL: Duration = Duration::from_secs(60);

/// How often idle connections are checked for [`IDLE_TTL`] when no checkout does it.
const REAP_EVERY: Duration = Duration::from_secs(30);

/// What a pool holds now, for `SHOW SHARDS` and least-outstanding balancing.
#[derive(Debug, Default)]
pub struct Gauges {
    /// Connections lent out.
    pub in_use: AtomicUsize,
    /// Connections idle in the pool.
    pub idle: AtomicUsize,
    /// Requests waiting for a connection.
    pub waiting: AtomicUsize,
}

/// A pool of connections to one server.
pub struct WirePool {
    name: Arc<str>,
    opts: ConnectOpts,
    /// Run on each new connection (one multi-statement text), if any.
    setup: Option<String>,
    permits: Arc<Semaphore>,
    /// Boxed: a connection (its buffers and statement cache) is a few hundred bytes, moved
    /// with every checkout and every stream otherwise.
    idle: Mutex<VecDeque<(Box<WireConn>, Instant)>>,
    gauges: Arc<Gauges>,
    closed: AtomicBool,
}

impl WirePool {
    /// A pool of at most `max` connections lent out, to the server `opts` names (`name` in
    /// messages), each running `setup` once when opened. Must be called within a Tokio
    /// runtime (a task closes idle connections).
    pub fn new(name: &str, opts: ConnectOpts, setup: Option<String>, max: usize) -> Arc<WirePool> {
        let pool = Arc::new(WirePool {
            name: name.into(),
            opts,
            setup,
            permits: Arc::new(Semaphore::new(max.max(1))),
            idle: Mutex::new(VecDeque::new()),
            gauges: Arc::default(),
            closed: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&pool);
        tokio::spawn(reap(weak));
        pool
    }

    /// The pool's gauges.
    pub fn gauges(&self) -> Arc<Gauges> {
        self.gauges.clone()
    }

    fn idle_list(&self) -> std::sync::MutexGuard<'_, VecDeque<(Box<WireConn>, Instant)>> {
        match self.idle.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Closes idle connections older than [`IDLE_TTL`] (all of them once the pool is closed).
    fn expire(&self, now: Instant) {
        let mut idle = self.idle_list();
        let all = self.closed.load(Relaxed);
        while let Some((_, since)) = idle.front() {
            if !all && now.duration_since(*since) < IDLE_TTL {
                break;
            }
            idle.pop_front();
            self.gauges.idle.fetch_sub(1, Relaxed);
        }
    }

    /// A connection, within `timeout` (waiting for one to come back, or opening one).
    pub async fn get(self: &Arc<Self>, timeout: Duration) -> Result<PooledWire> {
        let deadline = tokio::time::Instant::now() + timeout;
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                self.gauges.waiting.fetch_add(1, Relaxed);
                let waited =
                    tokio::time::timeout_at(deadline, self.permits.clone().acquire_owned()).await;
                self.gauges.waiting.fetch_sub(1, Relaxed);
                match waited {
                    Ok(Ok(p)) => p,
                    _ => return Err(self.no_connection(timeout)),
                }
            }
        };
        let now = Instant::now();
        self.expire(now);
        let reused = loop {
            let Some((c, _)) = self.idle_list().pop_back() else {
                break None;
            };
            self.gauges.idle.fetch_sub(1, Relaxed);
            // One closed while idle (its server restarted) is dropped, not lent.
            if c.is_alive() {
                break Some(c);
            }
        };
        let conn = match reused {
            Some(c) => c,
            None => match tokio::time::timeout_at(deadline, self.open()).await {
                Ok(r) => r?,
                Err(_) => return Err(self.no_connection(timeout)),
            },
        };
        self.gauges.in_use.fetch_add(1, Relaxed);
        Ok(PooledWire {
            conn: std::mem::ManuallyDrop::new(conn),
            pool: self.clone(),
            _permit: permit,
            discard: false,
            retired: false,
        })
    }

    async fn open(&self) -> Result<Box<WireConn>> {
        let mut c = Box::new(WireConn::connect(&self.name, &self.opts).await?);
        if let Some(setup) = &self.setup {
            c.query_drop(setup).await?;
        }
        Ok(c)
    }

    fn no_connection(&self, timeout: Duration) -> ProxyError {
        ProxyError::BackendLost {
            shard: self.name.to_string(),
            detail: format!("no connection within {} ms", timeout.as_millis()),
        }
    }

    /// Closes the idle connections and keeps none that come back.
    pub fn close(&self) {
        self.closed.store(true, Relaxed);
        self.expire(Instant::now());
    }
}

async fn reap(pool: Weak<WirePool>) {
    loop {
        tokio::time::sleep(REAP_EVERY).await;
        match pool.upgrade() {
            Some(p) if !p.closed.load(Relaxed) => p.expire(Instant::now()),
            _ => return,
        }
    }
}

/// A connection lent out of a [`WirePool`]: goes back when dropped, if it can be used again.
pub struct PooledWire {
    /// Taken out (once) by `drop`, to go back to the pool.
    conn: std::mem::ManuallyDrop<Box<WireConn>>,
    pool: Arc<WirePool>,
    _permit: OwnedSemaphorePermit,
    /// Closed rather than returned when dropped (see [`PooledWire::set_discard`]).
    discard: bool,
    /// Closed rather than returned when dropped, whatever `discard` says (see
    /// [`PooledWire::retire`]).
    retired: bool,
}

impl PooledWire {
    /// Whether the connection is closed rather than returned to its pool when dropped. A
    /// transaction's connection is marked from its first statement until its COMMIT or
    /// ROLLBACK succeeded: one dropped in between (a statement that failed part-way, a client
    /// that left, a session aborted) is closed, and the server rolls back what it held (or
    /// keeps a prepared XA branch for recovery). The server's in-transaction flag alone is
    /// not enough: an XA branch after `XA END` is not reported as a transaction. A connection
    /// whose session settings changed is marked too: no other borrower inherits them.
    pub fn set_discard(&mut self, on: bool) {
        self.discard = on;
    }

    /// Closes the connection rather than returning it to its pool when dropped, for good: its
    /// session no longer matches its pool's key (a `SET SESSION` or `USE` ran on it).
    pub fn retire(&mut self) {
        self.retired = true;
    }
}

impl std::ops::Deref for PooledWire {
    type Target = WireConn;
    fn deref(&self) -> &WireConn {
        &self.conn
    }
}

impl std::ops::DerefMut for PooledWire {
    fn deref_mut(&mut self) -> &mut WireConn {
        &mut self.conn
    }
}

impl Drop for PooledWire {
    fn drop(&mut self) {
        let pool = &self.pool;
        pool.gauges.in_use.fetch_sub(1, Relaxed);
        // SAFETY: `conn` is taken exactly once, here, and never used afterwards (this is the
        // wrapper's drop). ManuallyDrop rather than an Option: no unwrap on every use.
        let c = unsafe { std::mem::ManuallyDrop::take(&mut self.conn) };
        if !self.discard
            && !self.retired
            && c.is_ready()
            && !c.in_transaction()
            && !pool.closed.load(Relaxed)
        {
            pool.idle_list().push_back((c, Instant::now()));
            pool.gauges.idle.fetch_add(1, Relaxed);
        }
    }
}

impl std::fmt::Debug for PooledWire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PooledWire({:?})", &*self.conn)
    }
}
