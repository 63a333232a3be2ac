//! The plan cache: statement text → its [`Analysis`], so that a statement is parsed once however
//! often it runs. Bounded (LRU) and shared by every session.

use super::analyze::{Analysis, AnalyzeError, analyze};
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// A bounded, shared cache of analyses keyed by the exact statement text.
pub struct PlanCache {
    inner: Mutex<LruCache<String, Arc<Analysis>>>,
}

impl PlanCache {
    /// A cache holding up to `capacity` statements (at least one).
    pub fn new(capacity: usize) -> Self {
        let cap = NonZeroUsize::new(capacity.max(1)).unwrap_or(NonZeroUsize::MIN);
        PlanCache {
            inner: Mutex::new(LruCache::new(cap)),
        }
    }

    /// The analysis of `sql`, parsing it on a miss. Parse errors are not cached.
    pub fn get(&self, sql: &str) -> Result<Arc<Analysis>, AnalyzeError> {
        if let Ok(mut c) = self.inner.lock()
            && let Some(a) = c.get(sql)
        {
            return Ok(a.clone());
        }
        let a = Arc::new(analyze(sql)?);
        if let Ok(mut c) = self.inner.lock() {
            c.put(sql.to_string(), a.clone());
        }
        Ok(a)
    }

    /// Number of cached statements.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_and_bounds() {
        let c = PlanCache::new(2);
        let a = c.get("SELECT 1").unwrap();
        let b = c.get("SELECT 1").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        c.get("SELECT 2").unwrap();
        c.get("SELECT 3").unwrap();
        assert_eq!(c.len(), 2);
        assert!(c.get("SELEC").is_err());
    }
}
