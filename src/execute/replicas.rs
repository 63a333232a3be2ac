//! Replica selection and the health checker.
//!
//! A background task (`Shared::health_loop`, calling [`Health::check_all`]) looks at every server of every shard each
//! `health_check_interval_ms`: the primary's GTID position, and each replica's replication
//! state (`SHOW SLAVE STATUS`: IO and SQL threads, `Seconds_Behind_Master`, `Gtid_Slave_Pos`).
//! A replica is in the read rotation while it answers, its SQL thread runs and, while its
//! primary is up, its IO thread runs and it lags at most `max_replica_lag_s`. (With the primary
//! down, replicas keep serving what they have.)
//!
//! Read-your-writes without a GTID per statement: each check first samples the primary's
//! position at an instant `t0`, then asks each replica to reach it (briefly, with
//! `MASTER_GTID_WAIT`); a replica that did has applied every transaction that had committed
//! by `t0` ([`ReplicaState::caught_up_to`]). A session that wrote a shard at `w` reads there
//! from a replica only once that replica has caught up to some `t0 >= w`; until then (one
//! check, about a second) its reads go to the primary. The hot path pays nothing for it.

use super::gtid::Gtid;
use crate::backend::{Backends, Loads, Server, Setup};
use crate::config::{Causal, Rules, ShardId};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What the checker last saw of one replica.
#[derive(Clone, Debug, Default)]
pub struct ReplicaState {
    /// Share of the shard's reads (`replica_weights`).
    pub weight: u32,
    /// Whether reads may go to it now.
    pub in_rotation: bool,
    /// Whether it answered the last check.
    pub reachable: bool,
    pub io_running: bool,
    pub sql_running: bool,
    /// `Seconds_Behind_Master` (NULL while a thread is stopped).
    pub lag_s: Option<u64>,
    /// The furthest position it is known to have applied.
    pub pos: Gtid,
    /// The latest check instant `t0` by which every transaction committed on the primary
    /// before `t0` is known to be applied on this replica.
    pub caught_up_to: Option<Instant>,
    /// Why it is out of rotation, for logs and admin views.
    pub why_out: String,
    /// When it was checked last.
    pub checked: Option<Instant>,
}

/// What the checker last saw of one shard.
#[derive(Clone, Debug, Default)]
pub struct ShardHealth {
    /// Whether the primary answered the last check (assumed until the first check).
    pub primary_up: bool,
    /// The primary's `@@gtid_binlog_pos` at the last check.
    pub primary_pos: Gtid,
    pub replicas: Vec<ReplicaState>,
    /// Promotions of the shard so far: a check begun before one is not applied after it.
    pub generation: u64,
}

impl ShardHealth {
    /// A shard nothing is known of yet: the primary assumed up, replicas with `weights` out of
    /// rotation (`why_out`) until a check.
    fn unchecked(weights: &[u32], why_out: &str, generation: u64) -> ShardHealth {
        ShardHealth {
            primary_up: true,
            primary_pos: Gtid::default(),
            replicas: weights
                .iter()
                .map(|w| ReplicaState {
                    weight: *w,
                    why_out: why_out.into(),
                    ..Default::default()
                })
                .collect(),
            generation,
        }
    }
}

/// The health of every backend, shared by all sessions.
pub struct Health {
    shards: Vec<Mutex<ShardHealth>>,
    /// Whether the primary also takes reads beside healthy replicas (`primary_reads`).
    primary_reads: bool,
    /// Drives the weighted choice (a counter hashed, not a random generator: no lock, no
    /// per-thread state, and still spread evenly).
    turn: AtomicU64,
    max_lag_s: u64,
}

/// A server a read may go to: a replica (`None`: the primary), its weight and the requests it
/// has outstanding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub replica: Option<usize>,
    pub weight: u32,
    pub load: usize,
}

/// Least outstanding requests, weighted: the candidates with the fewest requests outstanding
/// per unit of weight (`load / weight`, compared exactly), and among those one drawn by weight
/// with `turn` (an idle shard spreads its reads by the weights; a slow server, whose requests
/// pile up, gets new ones only once the others are as busy). Candidates have weights > 0.
pub fn least_loaded(candidates: &[Candidate], turn: u64) -> Option<usize> {
    // a/wa < b/wb  <=>  a*wb < b*wa (no division, no rounding).
    let score = |c: &Candidate| (c.load as u128, u128::from(c.weight.max(1)));
    let (bl, bw) = candidates
        .iter()
        .map(score)
        .min_by(|(al, aw), (bl, bw)| (al * bw).cmp(&(bl * aw)))?;
    let best: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| {
            let (l, w) = score(c);
            l * bw == bl * w
        })
        .collect();
    let total: u64 = best.iter().map(|c| u64::from(c.weight)).sum();
    if total == 0 {
        return best.first().and_then(|c| c.replica);
    }
    // splitmix64: consecutive turns land far apart, so weights hold over short runs too.
    let mut x = turn.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    let mut at = x % total;
    for c in &best {
        if at < u64::from(c.weight) {
            return c.replica;
        }
        at -= u64::from(c.weight);
    }
    None
}

/// Why a read goes where it goes, for one shard.
#[derive(Clone, Copy, Debug)]
pub struct ReadNeed {
    pub causal: Causal,
    /// When the session last wrote this shard (session mode: the replica must have caught up
    /// to a later instant).
    pub wrote_at: Option<Instant>,
}

impl Health {
    /// Health for the shards of `rules`: nothing checked yet, so every read goes to the primary
    /// until the first check.
    pub fn new(rules: &Rules) -> Health {
        let shards = rules
            .shards
            .iter()
            .map(|s| {
                Mutex::new(ShardHealth::unchecked(
                    &s.replica_weights,
                    "not checked yet",
                    0,
                ))
            })
            .collect();
        Health {
            shards,
            primary_reads: rules.proxy.primary_reads,
            turn: AtomicU64::new(0),
            max_lag_s: rules.proxy.max_replica_lag_s,
        }
    }

    /// Forgets what was known of `shard` after a promotion: its replicas are now `weights.len()`
    /// servers with those weights, none in rotation until the next check.
    pub fn reset_shard(&self, shard: ShardId, weights: &[u32]) {
        if let Some(mut s) = self.shards.get(shard).and_then(|s| s.lock().ok()) {
            *s = ShardHealth::unchecked(
                weights,
                "not checked since the promotion",
                s.generation + 1,
            );
        }
    }

    /// A copy of what the checker knows of `shard`.
    pub fn shard(&self, shard: ShardId) -> Option<ShardHealth> {
        self.shards.get(shard)?.lock().ok().map(|s| s.clone())
    }

    /// The replica a read on `shard` goes to, or `None` for the primary: among replicas in
    /// rotation that satisfy `need` (and the primary, with weight 1, under `primary_reads`),
    /// one with the fewest requests outstanding per unit of weight ([`least_loaded`]).
    pub fn pick(&self, shard: ShardId, need: ReadNeed, loads: &Loads) -> Option<usize> {
        let s = self.shards.get(shard)?.lock().ok()?;
        let ok = |r: &ReplicaState| {
            r.in_rotation
                && r.weight > 0
                && match (need.causal, need.wrote_at) {
                    (Causal::Session, Some(w)) => r.caught_up_to.is_some_and(|t| t >= w),
                    _ => true,
                }
        };
        let mut candidates: Vec<Candidate> = s
            .replicas
            .iter()
            .enumerate()
            .filter(|(_, r)| ok(r))
            .map(|(i, r)| Candidate {
                replica: Some(i),
                weight: r.weight,
                load: loads.replicas.get(i).copied().unwrap_or(0),
            })
            .collect();
        drop(s);
        if candidates.is_empty() {
            return None;
        }
        if self.primary_reads {
            candidates.push(Candidate {
                replica: None,
                weight: 1,
                load: loads.primary,
            });
        }
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        least_loaded(&candidates, turn)
    }

    /// Takes a replica out of rotation after a read on it lost its connection; the next check
    /// that finds it healthy puts it back.
    pub fn mark_failed(&self, server: Server, why: &str) {
        let Some(r) = server.replica else { return };
        if let Some(mut s) = self.shards.get(server.shard).and_then(|s| s.lock().ok())
            && let Some(state) = s.replicas.get_mut(r)
            && state.in_rotation
        {
            tracing::warn!(
                "shard {} replica {r} leaves the read rotation: {why}",
                server.shard
            );
            state.in_rotation = false;
            state.why_out = why.to_string();
        }
    }

    /// Records that a replica has applied `pos` (a successful `MASTER_GTID_WAIT`).
    pub fn observe(&self, server: Server, pos: &Gtid) {
        let Some(r) = server.replica else { return };
        if let Some(mut s) = self.shards.get(server.shard).and_then(|s| s.lock().ok())
            && let Some(state) = s.replicas.get_mut(r)
        {
            state.pos.advance(pos);
        }
    }

    /// Whether replica `server` is known to have applied `pos`.
    pub fn has_applied(&self, server: Server, pos: &Gtid) -> bool {
        let Some(r) = server.replica else {
            return true;
        };
        self.shards
            .get(server.shard)
            .and_then(|s| s.lock().ok())
            .and_then(|s| s.replicas.get(r).map(|st| st.pos.covers(pos)))
            .unwrap_or(false)
    }

    /// One check of every shard, concurrently.
    pub async fn check_all(&self, backends: &Backends, every: Duration) {
        // Bounded: a server that stopped answering must not hold up the next round for long.
        let limit = backends
            .timeout()
            .min(every.max(Duration::from_millis(500)) * 2);
        let checks = (0..self.shards.len()).map(|shard| self.check_shard(backends, shard, limit));
        futures_util::future::join_all(checks).await;
    }

    async fn check_shard(&self, backends: &Backends, shard: ShardId, limit: Duration) {
        let n = backends.replica_count(shard);
        if n == 0 {
            return;
        }
        let generation = self.shard(shard).map_or(0, |s| s.generation);
        let t0 = Instant::now();
        let primary = within(limit, primary_pos(backends, shard)).await;
        let (primary_up, ppos) = match &primary {
            Ok(p) => (true, Some(p.clone())),
            Err(e) => {
                tracing::debug!("shard {shard} primary check: {e}");
                (false, None)
            }
        };
        let replicas = futures_util::future::join_all((0..n).map(|r| {
            let server = Server {
                shard,
                replica: Some(r),
            };
            within(limit, replica_status(backends, server, ppos.clone()))
        }))
        .await;
        let Some(mut s) = self.shards.get(shard).and_then(|s| s.lock().ok()) else {
            return;
        };
        if s.generation != generation {
            return; // the shard's servers changed while it was checked
        }
        if primary_up != s.primary_up {
            if primary_up {
                tracing::info!("shard {shard}: the primary answers again");
            } else {
                tracing::warn!(
                    "shard {shard}: the primary does not answer ({}); reads go to its replicas",
                    primary.as_ref().err().map(String::as_str).unwrap_or("")
                );
            }
        }
        s.primary_up = primary_up;
        if let Some(p) = &ppos {
            s.primary_pos = p.clone();
        }
        for (r, (state, seen)) in s.replicas.iter_mut().zip(replicas).enumerate() {
            let was = state.in_rotation;
            state.checked = Some(Instant::now());
            match seen {
                Err(e) => {
                    state.reachable = false;
                    state.in_rotation = false;
                    state.why_out = format!("does not answer: {e}");
                }
                Ok(seen) => {
                    state.reachable = true;
                    state.io_running = seen.io_running;
                    state.sql_running = seen.sql_running;
                    state.lag_s = seen.lag_s;
                    state.pos.advance(&seen.pos);
                    if seen.caught_up {
                        state.caught_up_to = Some(t0);
                    }
                    let why = if !seen.is_replica {
                        Some("is not replicating (SHOW SLAVE STATUS is empty)".to_string())
                    } else if !seen.sql_running {
                        Some("its SQL thread is stopped".to_string())
                    } else if primary_up && !seen.io_running {
                        Some("its IO thread is not running".to_string())
                    } else if primary_up {
                        match seen.lag_s {
                            Some(l) if l <= self.max_lag_s => None,
                            Some(l) => Some(format!(
                                "it lags {l} s behind its primary (max_replica_lag_s = {})",
                                self.max_lag_s
                            )),
                            None => Some("its lag is unknown".to_string()),
                        }
                    } else {
                        None
                    };
                    state.in_rotation = why.is_none();
                    state.why_out = why.unwrap_or_default();
                }
            }
            if was != state.in_rotation {
                if state.in_rotation {
                    tracing::info!("shard {shard} replica {r} is back in the read rotation");
                } else {
                    tracing::warn!(
                        "shard {shard} replica {r} leaves the read rotation: {}",
                        state.why_out
                    );
                }
            }
        }
    }
}

/// One replica as a check saw it.
struct Seen {
    is_replica: bool,
    io_running: bool,
    sql_running: bool,
    lag_s: Option<u64>,
    pos: Gtid,
    /// It has applied the primary's position sampled at the start of this check.
    caught_up: bool,
}

async fn within<T>(
    limit: Duration,
    f: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} ms", limit.as_millis())),
    }
}

/// The primary's `@@gtid_binlog_pos`: every transaction it has committed.
pub async fn primary_pos(backends: &Backends, shard: ShardId) -> Result<Gtid, String> {
    let mut c = backends
        .wire(shard, None, false)
        .await
        .map_err(|e| e.to_string())?;
    let text = c
        .query_first("SELECT @@gtid_binlog_pos")
        .await
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(text.as_deref().unwrap_or_default());
    Gtid::parse(&text).ok_or_else(|| format!("unreadable GTID {text:?}"))
}

async fn replica_status(
    backends: &Backends,
    server: Server,
    primary: Option<Gtid>,
) -> Result<Seen, String> {
    let mut c = backends
        .wire_on(server, None, false, &Setup::from([]))
        .await
        .map_err(|e| e.to_string())?;
    let (columns, rows) = c
        .query_table("SHOW SLAVE STATUS")
        .await
        .map_err(|e| e.to_string())?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(Seen {
            is_replica: false,
            io_running: false,
            sql_running: false,
            lag_s: None,
            pos: Gtid::default(),
            caught_up: false,
        });
    };
    let text = |name: &str| crate::backend::wire::named_text(&columns, &row, name);
    let io_running = text("Slave_IO_Running").eq_ignore_ascii_case("Yes");
    let sql_running = text("Slave_SQL_Running").eq_ignore_ascii_case("Yes");
    let lag_s = text("Seconds_Behind_Master").parse().ok();
    let mut pos = Gtid::parse(&text("Gtid_Slave_Pos")).unwrap_or_default();
    let mut caught_up = false;
    if let Some(p) = primary
        && sql_running
    {
        caught_up = pos.covers(&p);
        if !caught_up {
            // A replica under write load trails its primary by a few transactions: a short
            // wait tells whether it is keeping up.
            let waited = c
                .query_first(format!("SELECT MASTER_GTID_WAIT('{p}', 0.1)"))
                .await
                .map_err(|e| e.to_string())?;
            if waited.as_deref() == Some(b"0".as_slice()) {
                caught_up = true;
                pos.advance(&p);
            }
        }
    }
    Ok(Seen {
        is_replica: true,
        io_running,
        sql_running,
        lag_s,
        pos,
        caught_up,
    })
}

#[cfg(test)]
mod tests {
    use super::{Candidate, least_loaded};

    fn c(replica: Option<usize>, weight: u32, load: usize) -> Candidate {
        Candidate {
            replica,
            weight,
            load,
        }
    }

    /// How often each candidate is chosen over `n` turns.
    fn spread(cands: &[Candidate], n: u64) -> Vec<u64> {
        let mut out = vec![0; cands.len()];
        for turn in 0..n {
            let got = least_loaded(cands, turn);
            let i = cands
                .iter()
                .position(|c| c.replica == got)
                .expect("a candidate");
            out[i] += 1;
        }
        out
    }

    #[test]
    fn idle_servers_share_reads_by_weight() {
        let s = spread(&[c(Some(0), 1, 0), c(Some(1), 3, 0)], 40_000);
        assert!((9_000..11_000).contains(&s[0]), "{s:?}");
        assert!((29_000..31_000).contains(&s[1]), "{s:?}");
        let s = spread(&[c(Some(0), 1, 2), c(Some(1), 1, 2), c(None, 1, 2)], 30_000);
        assert!(s.iter().all(|n| (9_000..11_000).contains(n)), "{s:?}");
    }

    #[test]
    fn the_least_busy_server_per_weight_wins() {
        for turn in 0..1000 {
            assert_eq!(
                least_loaded(&[c(Some(0), 1, 1), c(Some(1), 1, 0)], turn),
                Some(1)
            );
            assert_eq!(least_loaded(&[c(Some(0), 1, 5), c(None, 1, 4)], turn), None);
            // 3 outstanding on weight 4 (0.75 each) is less busy than 1 on weight 1.
            assert_eq!(
                least_loaded(&[c(Some(0), 1, 1), c(Some(1), 4, 3)], turn),
                Some(1)
            );
        }
        // Equal load per weight: drawn by weight again.
        let s = spread(&[c(Some(0), 1, 1), c(Some(1), 2, 2)], 30_000);
        assert!((9_000..11_000).contains(&s[0]), "{s:?}");
    }

    #[test]
    fn nothing_to_choose_from() {
        assert_eq!(least_loaded(&[], 7), None);
        assert_eq!(least_loaded(&[c(Some(2), 1, 0)], 7), Some(2));
    }
}
