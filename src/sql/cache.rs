//! The plan cache: statement text → its [`Analysis`], so that a statement is parsed once however
//! often it runs. Bounded (LRU) and shared by every session.

use super::analyze::{Analysis, AnalyzeError, analyze};
use super::normalize::normalize;
use lru::LruCache;
use mysql_async::Value;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// A bounded, shared cache of analyses keyed by statement text (exact, or with its literals
/// normalised to placeholders: see [`super::normalize`]).
pub struct PlanCache {
    inner: Mutex<LruCache<String, Entry>>,
    /// Counted lookups: found, and analysed afresh (see [`PlanCache::counting`]).
    counters: Option<(prometheus::IntCounter, prometheus::IntCounter)>,
}

#[derive(Clone)]
enum Entry {
    Ready(Arc<Analysis>),
    /// A normalised text that does not analyse like its original (the parser refuses a
    /// placeholder there, or the literal count differs): use the original text instead.
    Unusable,
}

impl PlanCache {
    /// A cache holding up to `capacity` statements (at least one).
    pub fn new(capacity: usize) -> Self {
        let cap = NonZeroUsize::new(capacity.max(1)).unwrap_or(NonZeroUsize::MIN);
        PlanCache {
            inner: Mutex::new(LruCache::new(cap)),
            counters: None,
        }
    }

    /// Counts each statement found in the cache in `hits` and each analysed afresh in `misses`.
    pub fn counting(
        mut self,
        hits: prometheus::IntCounter,
        misses: prometheus::IntCounter,
    ) -> Self {
        self.counters = Some((hits, misses));
        self
    }

    fn count(&self, hit: bool) {
        if let Some((h, m)) = &self.counters {
            if hit { h.inc() } else { m.inc() }
        }
    }

    /// The analysis of `sql`, parsing it on a miss. Parse errors are not cached.
    pub fn get(&self, sql: &str) -> Result<Arc<Analysis>, AnalyzeError> {
        if let Some(Entry::Ready(a)) = self.lookup(sql) {
            self.count(true);
            return Ok(a);
        }
        self.count(false);
        let a = Arc::new(analyze(sql)?);
        self.put(sql, Entry::Ready(a.clone()));
        Ok(a)
    }

    /// For a text-protocol statement: the analysis of its normalised form and the literals to
    /// bind as its parameters, or the analysis of the text itself with no parameters.
    pub fn get_text(&self, sql: &str) -> Result<(Arc<Analysis>, Vec<Value>), AnalyzeError> {
        if let Some((norm, lits)) = normalize(sql) {
            match self.lookup(&norm) {
                Some(Entry::Ready(a)) => {
                    self.count(true);
                    return Ok((a, lits));
                }
                Some(Entry::Unusable) => {}
                None => match analyze(&norm) {
                    Ok(a) if a.param_count == lits.len() => {
                        self.count(false);
                        let a = Arc::new(a);
                        self.put(&norm, Entry::Ready(a.clone()));
                        return Ok((a, lits));
                    }
                    _ => self.put(&norm, Entry::Unusable),
                },
            }
        }
        Ok((self.get(sql)?, Vec::new()))
    }

    fn lookup(&self, key: &str) -> Option<Entry> {
        self.inner.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: &str, e: Entry) {
        if let Ok(mut c) = self.inner.lock() {
            c.put(key.to_string(), e);
        }
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

    #[test]
    fn literals_share_one_analysis() {
        let c = PlanCache::new(8);
        let (a, l1) = c.get_text("SELECT c FROM t WHERE id = 1").unwrap();
        let (b, l2) = c.get_text("SELECT c FROM t WHERE id = 2").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!((l1, l2), (vec![Value::Int(1)], vec![Value::Int(2)]));
        // A placeholder where the parser takes none: the text is analysed as it is.
        let (a, l) = c
            .get_text("SELECT CAST(c AS CHAR(10)) FROM t WHERE id = 3")
            .unwrap();
        assert!(l.is_empty());
        assert_eq!(a.param_count, 0);
    }
}
