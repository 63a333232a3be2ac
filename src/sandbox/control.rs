//! Using a running sandbox: URLs and rules for the proxy, direct SQL, stopping and
//! restarting servers for failure tests, and bringing it all down.

use std::path::{Path, PathBuf};

use super::process::{self, Endpoint};
use super::{Sandbox, SandboxError, rules, server};

impl Sandbox {
    /// `mysql://root@127.0.0.1:PORT` of a shard's primary.
    ///
    /// # Panics
    /// If `shard` is not in the sandbox.
    pub fn primary_url(&self, shard: usize) -> String {
        self.servers[shard * (1 + self.replicas)].url()
    }

    /// The URLs of a shard's replicas, in replica order.
    ///
    /// # Panics
    /// If `shard` is not in the sandbox.
    pub fn replica_urls(&self, shard: usize) -> Vec<String> {
        let first = shard * (1 + self.replicas) + 1;
        self.servers[first..first + self.replicas]
            .iter()
            .map(|s| s.url())
            .collect()
    }

    /// The URL of a shard's primary as the proxy uses it: the limited account
    /// (`mysql://shardgate:...@127.0.0.1:PORT`, see [`super::PROXY_USER`]), not root.
    ///
    /// # Panics
    /// If `shard` is not in the sandbox.
    pub fn proxy_primary_url(&self, shard: usize) -> String {
        self.servers[shard * (1 + self.replicas)].proxy_url()
    }

    /// The proxy's URLs of a shard's replicas, in replica order.
    ///
    /// # Panics
    /// If `shard` is not in the sandbox.
    pub fn proxy_replica_urls(&self, shard: usize) -> Vec<String> {
        let first = shard * (1 + self.replicas) + 1;
        self.servers[first..first + self.replicas]
            .iter()
            .map(|s| s.proxy_url())
            .collect()
    }

    /// Lets the proxy's account use database `db` on every server: the GRANT runs on each
    /// primary and reaches its replicas through replication. The database need not exist yet
    /// (the proxy may create it: `CREATE DATABASE` of a logical schema).
    pub fn grant_schema(&self, db: &str) -> Result<(), SandboxError> {
        let sql = super::grant_schema_sql(db);
        for shard in 0..self.shards {
            self.query(shard, None, &sql)?;
        }
        Ok(())
    }

    /// `rules/example.toml` with `listen` set and `[[shards]]` replaced by this
    /// sandbox's servers (through the proxy's limited account), shards named `s0`, `s1`, ...
    pub fn rules_toml(&self, listen: &str) -> String {
        let shards: Vec<(String, String, Vec<String>)> = (0..self.shards)
            .map(|s| {
                (
                    format!("s{s}"),
                    self.proxy_primary_url(s),
                    self.proxy_replica_urls(s),
                )
            })
            .collect();
        // The example is compiled in and covered by tests, so this cannot fail at
        // run time; if it ever did, an empty rules file fails loudly downstream.
        rules::rules_for(listen, &shards).unwrap_or_default()
    }

    /// Writes [`Sandbox::rules_toml`] to `DIR/rules.toml` and returns that path.
    pub fn write_rules(&self, listen: &str) -> Result<PathBuf, SandboxError> {
        let path = self.dir.join("rules.toml");
        std::fs::write(&path, self.rules_toml(listen))
            .map_err(|e| SandboxError::io(format!("writing {}", path.display()), e))?;
        Ok(path)
    }

    /// Runs SQL as root over TCP on one server with the `mariadb` client; returns
    /// its tab-separated rows without column names (empty for no rows).
    pub fn query(
        &self,
        shard: usize,
        replica: Option<usize>,
        sql: &str,
    ) -> Result<String, SandboxError> {
        let i = self.index(shard, replica)?;
        let name = &self.layouts[i].name;
        process::run_sql(
            &self.programs,
            name,
            Endpoint::Tcp(self.servers[i].port),
            sql,
        )
    }

    /// Waits until every replica of `shard` has applied everything its primary had
    /// written when this was called (`MASTER_GTID_WAIT`, 30 s at most).
    pub fn sync_replicas(&self, shard: usize) -> Result<(), SandboxError> {
        let pos = self.query(shard, None, "SELECT @@gtid_binlog_pos")?;
        for r in 0..self.replicas {
            let sql = format!("SELECT MASTER_GTID_WAIT('{pos}', 30)");
            if self.query(shard, Some(r), &sql)?.trim() != "0" {
                return Err(SandboxError::Timeout {
                    what: format!("replica {r} of shard {shard} to reach GTID {pos}"),
                    secs: 30,
                });
            }
        }
        Ok(())
    }

    /// The server's current pid, `None` while it is stopped.
    pub fn pid(&self, shard: usize, replica: Option<usize>) -> Option<u32> {
        let i = self.index(shard, replica).ok()?;
        let children = self.children.lock().ok()?;
        children.get(i)?.as_ref().map(|c| c.id())
    }

    /// Stops one server cleanly (SIGTERM, wait for exit; SIGKILL after 30 s): its
    /// port refuses connections afterwards. Stopping a stopped server is a no-op.
    /// See [`Sandbox::pause_server`] for a server that hangs instead.
    pub fn stop_server(&self, shard: usize, replica: Option<usize>) -> Result<(), SandboxError> {
        let i = self.index(shard, replica)?;
        let mut children = self.lock_children()?;
        if let Some(mut child) = children[i].take() {
            // SIGTERM on a paused server would wait for SIGCONT.
            let _ = process::signal(child.id(), libc::SIGCONT);
            server::stop(child.id(), Some(&mut child), libc::SIGTERM)?;
        }
        Ok(())
    }

    /// Restarts a stopped server on the same port and data directory and waits until
    /// it accepts connections (and, for a replica, until replication runs again).
    /// Starting a running server is a no-op.
    pub fn start_server(&self, shard: usize, replica: Option<usize>) -> Result<(), SandboxError> {
        let i = self.index(shard, replica)?;
        let mut children = self.lock_children()?;
        if let Some(child) = children[i].as_mut()
            && matches!(child.try_wait(), Ok(None))
        {
            return Ok(());
        }
        let layout = &self.layouts[i];
        let port = self.servers[i].port;
        let (child, _) = layout.start(&self.programs, Some(port), self.kill_on_parent_exit)?;
        children[i] = Some(child);
        drop(children);
        if replica.is_some() {
            super::setup::wait_replication(&self.programs, layout)?;
        }
        Ok(())
    }

    /// Freezes a server with SIGSTOP: connections hang instead of failing, like a
    /// stuck or partitioned host. Undo with [`Sandbox::resume_server`].
    pub fn pause_server(&self, shard: usize, replica: Option<usize>) -> Result<(), SandboxError> {
        self.signal_server(shard, replica, libc::SIGSTOP)?;
        // kill() returns before every thread has stopped: a thread busy on a CPU or inside a
        // system call stops only when it next passes through the kernel's signal path, and
        // until then it may still answer a query. Wait until all threads show as stopped.
        let Some(pid) = self.pid(shard, replica) else {
            return Ok(());
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if all_threads_stopped(pid) {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Err(SandboxError::BadSpec(format!(
            "pid {pid} did not stop within 5 s of SIGSTOP"
        )))
    }

    /// Resumes a server frozen by [`Sandbox::pause_server`] (SIGCONT).
    pub fn resume_server(&self, shard: usize, replica: Option<usize>) -> Result<(), SandboxError> {
        self.signal_server(shard, replica, libc::SIGCONT)
    }

    fn signal_server(
        &self,
        shard: usize,
        replica: Option<usize>,
        sig: i32,
    ) -> Result<(), SandboxError> {
        let pid = self.pid(shard, replica).ok_or_else(|| {
            SandboxError::BadSpec(format!("shard {shard} replica {replica:?} is stopped"))
        })?;
        process::signal(pid, sig).map_err(|e| SandboxError::io(format!("signalling pid {pid}"), e))
    }

    fn lock_children(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, Vec<Option<std::process::Child>>>, SandboxError> {
        self.children
            .lock()
            .map_err(|_| SandboxError::BadSpec("sandbox process table lock poisoned".into()))
    }

    /// Stops every server recorded in `dir` (the pid file in each server's
    /// directory, checked against the process's command line) with SIGTERM and
    /// waits for them to exit. A missing directory or no running server is fine.
    pub fn down(dir: &Path) -> Result<(), SandboxError> {
        let running: Vec<u32> = running_servers(dir).collect();
        for &pid in &running {
            // Resume paused ones, or SIGTERM waits forever.
            let _ = process::signal(pid, libc::SIGCONT);
            process::signal(pid, libc::SIGTERM)
                .map_err(|e| SandboxError::io(format!("signalling pid {pid}"), e))?;
        }
        for pid in running {
            server::stop(pid, None, libc::SIGTERM)?;
        }
        Ok(())
    }
}

/// Pids of the servers still running from `dir`'s server directories.
pub(crate) fn running_servers(dir: &Path) -> impl Iterator<Item = u32> {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    entries.filter_map(|entry| {
        let base = entry.path();
        let pid: u32 = std::fs::read_to_string(base.join("mariadbd.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        (process::alive(pid) && process::is_server_on(pid, &base.join("data"))).then_some(pid)
    })
}

impl Drop for Sandbox {
    /// With `kill_on_parent_exit`, the sandbox is ephemeral: its servers are killed
    /// and its directory removed (kept when the thread panics, for the error logs).
    fn drop(&mut self) {
        if !self.kill_on_parent_exit {
            return;
        }
        self.kill_children();
        if std::thread::panicking() {
            eprintln!("sandbox kept for inspection: {}", self.dir.display());
        } else {
            // Best effort: a leftover temp dir is swept by a later SandboxSpec::temp.
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Whether every thread of `pid` is in the stopped state (`T` in /proc/PID/task/*/stat).
fn all_threads_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return true; // gone: nothing left to answer
    };
    tasks.flatten().all(|t| {
        let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
        // The state follows the command name, which is in parentheses and may contain spaces.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next());
        matches!(state, Some('T') | Some('t') | None)
    })
}
