//! The accept loop: a connection limit, one task per client, and graceful shutdown (stop
//! accepting, let running statements finish for a bounded time, roll back open transactions).

use crate::config::Rules;
use crate::engine::Shared;
use crate::engine::reload::Reloader;
use crate::frontend::{packets, session};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// How long shutdown waits for sessions to finish their current statement.
const DRAIN: Duration = Duration::from_secs(10);

/// A bound, not yet running proxy.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
    metrics: Option<TcpListener>,
}

impl Server {
    /// Binds `listen` (port 0 picks a free port) for `rules`.
    pub async fn bind(mut rules: Rules, listen: &str) -> std::io::Result<Server> {
        // Promotions recorded earlier win over the rules file's primaries.
        crate::config::topology::apply(&mut rules).map_err(std::io::Error::other)?;
        let listener = TcpListener::bind(listen).await?;
        let shared = Arc::new(Shared::new(rules));
        Reloader::install(&shared, None);
        Ok(Server {
            listener,
            shared,
            metrics: None,
        })
    }

    /// Binds `listen` for the rules file `config`, which `RELOAD RULES` and SIGHUP read again.
    pub async fn bind_file(config: &Path, listen: Option<&str>) -> std::io::Result<Server> {
        let rules = Rules::load(config).map_err(|e| std::io::Error::other(e.to_string()))?;
        let listen = listen.map_or_else(|| rules.listen.clone(), str::to_string);
        let server = Server::bind(rules, &listen).await?;
        Reloader::install(&server.shared, Some(config));
        Ok(server)
    }

    /// Also serves Prometheus metrics at `http://ADDR/metrics`; on failure the server comes
    /// back unchanged with the error.
    pub async fn metrics_on(
        mut self,
        addr: &str,
    ) -> std::result::Result<Server, (Server, std::io::Error)> {
        match TcpListener::bind(addr).await {
            Ok(l) => {
                self.metrics = Some(l);
                Ok(self)
            }
            Err(e) => Err((self, e)),
        }
    }

    /// The address of the metrics endpoint, if any.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The state in force (for reloading on a signal).
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then drains.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let Server {
            listener,
            shared,
            metrics,
        } = self;
        let metrics = metrics.map(|l| tokio::spawn(crate::metrics::serve(l, shared.clone())));
        let follow = tokio::spawn(crate::engine::reload::follow_loop(shared.clone()));
        let (stop_tx, stop_rx) = watch::channel(false);
        let limit = Arc::new(Semaphore::new(shared.rules.proxy.max_connections));
        let mut sessions = JoinSet::new();
        let recovery = tokio::spawn(shared.clone().recovery_loop(Duration::from_secs(5)));
        let health = tokio::spawn(shared.clone().health_loop());
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => {
                    let (mut sock, peer) = match accepted {
                        Ok(x) => x,
                        Err(e) => {
                            tracing::warn!("accept failed: {e}");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = sock.set_nodelay(true);
                    let Ok(permit) = limit.clone().try_acquire_owned() else {
                        let mut buf = vec![0xff];
                        packets::err(&mut buf, 1040, "08004", "Too many connections");
                        buf.remove(0);
                        let mut pkt = vec![buf.len() as u8, (buf.len() >> 8) as u8, 0, 0];
                        pkt.extend_from_slice(&buf);
                        // Best effort: the client is turned away either way.
                        let _ = sock.write_all(&pkt).await;
                        continue;
                    };
                    let sh = shared.reload.current().unwrap_or_else(|| shared.clone());
                    let rx = stop_rx.clone();
                    sessions.spawn(async move {
                        session::serve(sock, Some(peer.ip()), sh, rx).await;
                        drop(permit);
                    });
                }
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            }
        }
        // Closing the listening socket first makes new clients fail at once (connection
        // refused) instead of waiting in the kernel's backlog for a handshake that never comes.
        drop(listener);
        tracing::info!("shutting down: draining {} sessions", sessions.len());
        let _ = stop_tx.send(true);
        let drained = tokio::time::timeout(DRAIN, async {
            while sessions.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("sessions still running after {DRAIN:?}: aborting them");
            sessions.abort_all();
        }
        recovery.abort();
        health.abort();
        follow.abort();
        if let Some(m) = metrics {
            m.abort();
        }
        shared.backends.close().await;
    }
}
