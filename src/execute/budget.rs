//! The memory a buffered cross-shard result may hold in the proxy while its merge waits for
//! every shard (`merge_memory_limit_mb`): one budget per statement, shared by the shards'
//! readers. Past it the rows are dropped and the rest of each result is drained, so the
//! connections (and a transaction on them) stay usable, and the statement fails with 1038.

use mysql_async::Value;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One statement's budget, counted in approximate bytes of the rows held.
#[derive(Debug)]
pub struct MergeBudget {
    used: AtomicUsize,
    limit: usize,
    limit_mb: u64,
}

impl MergeBudget {
    /// A budget of `limit_mb` megabytes.
    pub fn new(limit_mb: u64) -> MergeBudget {
        let limit = usize::try_from(limit_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX);
        MergeBudget {
            used: AtomicUsize::new(0),
            limit,
            limit_mb,
        }
    }

    /// Counts `row` as held; `false` once the statement's rows together pass the limit (then
    /// for every shard's next row too).
    pub fn hold(&self, row: &[Value]) -> bool {
        let n = row_bytes(row);
        let before = self.used.fetch_add(n, Ordering::Relaxed);
        before.saturating_add(n) <= self.limit
    }

    /// The limit, for the error message.
    pub fn limit_mb(&self) -> u64 {
        self.limit_mb
    }
}

/// Approximate bytes a decoded row takes: each value's payload plus the value itself, plus the
/// row's vector.
fn row_bytes(row: &[Value]) -> usize {
    let payload: usize = row
        .iter()
        .map(|v| match v {
            Value::Bytes(b) => b.len(),
            _ => 0,
        })
        .sum();
    std::mem::size_of::<Vec<Value>>() + std::mem::size_of_val(row) + payload
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_the_limit_once_rows_add_up() {
        let b = MergeBudget::new(1);
        let row = vec![Value::Bytes(vec![b'x'; 100 * 1024]), Value::Int(1)];
        let held = (0..20).take_while(|_| b.hold(&row)).count();
        assert_eq!(
            held, 10,
            "ten rows of 100 KiB fit in 1 MiB, the eleventh passes it"
        );
        assert!(!b.hold(&[Value::NULL]), "and stay past it");
        assert_eq!(b.limit_mb(), 1);
    }
}
