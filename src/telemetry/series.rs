//! Metric handles of the per-call series, registered once per label combination and kept, so
//! that recording a call is a map lookup and a few atomic adds instead of a registry lookup
//! (label vectors built, keys compared) for each of its ten or so series.
//!
//! A combination is found by the call's raw label values joined in a reused buffer; each handle
//! is registered on its first use (a series nobody incremented stays absent from the
//! exposition, as before). The map is capped: past `MAX_ENTRIES` combinations, calls take the
//! slow path of registering per call, which the label bounds in `metrics.rs` keep finite.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use metrics::{Counter, Histogram};

/// Most label combinations kept.
const MAX_ENTRIES: usize = 4096;

/// The handles of one label combination, each registered on first use.
#[derive(Default)]
pub struct Series {
    pub requests: OnceLock<Counter>,
    /// By token kind: input, output, cache_read, cache_write, reasoning.
    pub tokens: [OnceLock<Counter>; 5],
    pub cost: OnceLock<Counter>,
    pub cost_unknown: OnceLock<Counter>,
    pub retries: OnceLock<Counter>,
    pub fallbacks: OnceLock<Counter>,
    pub cache: OnceLock<Counter>,
    pub duration: OnceLock<Histogram>,
    pub ttft: OnceLock<Histogram>,
    pub tpot: OnceLock<Histogram>,
    pub overhead: OnceLock<Histogram>,
}

/// Label combinations -> their handles (foldhash, seeded per process: the keys are bounded label
/// values, and the map is capped).
#[derive(Default)]
pub struct SeriesCache {
    map: RwLock<HashMap<Box<str>, Arc<Series>, foldhash::fast::RandomState>>,
}

thread_local! {
    static KEY: RefCell<String> = RefCell::new(String::with_capacity(256));
}

impl SeriesCache {
    /// The series of the combination `parts`; `None` when the cache is full and it is new.
    pub fn get(&self, parts: &[&str]) -> Option<Arc<Series>> {
        KEY.with(|k| {
            let mut k = k.try_borrow_mut().ok()?;
            k.clear();
            for p in parts {
                k.push_str(p);
                k.push('\u{1f}');
            }
            if let Some(s) = self.map.read().ok()?.get(k.as_str()) {
                return Some(s.clone());
            }
            let mut map = self.map.write().ok()?;
            if map.len() >= MAX_ENTRIES {
                return map.get(k.as_str()).cloned();
            }
            Some(map.entry(k.as_str().into()).or_default().clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_parts_same_series_and_parts_do_not_run_together() {
        let c = SeriesCache::default();
        let a = c.get(&["a", "bc"]).expect("room");
        let b = c.get(&["a", "bc"]).expect("room");
        assert!(Arc::ptr_eq(&a, &b));
        let other = c.get(&["ab", "c"]).expect("room");
        assert!(!Arc::ptr_eq(&a, &other));
    }

    #[test]
    fn a_full_cache_keeps_what_it_has_and_takes_nothing_new() {
        let c = SeriesCache::default();
        for i in 0..MAX_ENTRIES {
            assert!(c.get(&[&i.to_string()]).is_some());
        }
        assert!(c.get(&["new"]).is_none());
        assert!(c.get(&["7"]).is_some());
    }
}
