//! The console's event history: the registry's events (loads, rejections with their
//! reasons, rollbacks, breaker changes, ...) in a bounded in-memory ring.
//!
//! Invariants: at most [`CAPACITY`] entries (the oldest go first); sequence numbers start
//! at 1 and grow by one per event, so a client can ask for what came after the last one it
//! saw; an entry is the event's JSON (`{"event": "rejected", "plugin": .., ..}`) with
//! `seq` and `at` (Unix milliseconds) added.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::Value;
use wasmplug::RegistryEvent;

/// Events kept.
pub(crate) const CAPACITY: usize = 1000;

/// One recorded event.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) seq: u64,
    /// The plugin it is about (`""` if the event names none).
    pub(crate) plugin: String,
    /// The event's JSON with `seq` and `at`.
    pub(crate) json: Value,
}

/// The ring of recent events.
#[derive(Debug, Default)]
pub(crate) struct History {
    ring: Mutex<(VecDeque<Entry>, u64)>,
}

impl History {
    /// Records `event`, seen at `at_ms`.
    pub(crate) fn push(&self, event: &RegistryEvent, at_ms: u64) -> Entry {
        let mut json = serde_json::to_value(event).unwrap_or(Value::Null);
        let plugin = json
            .get("plugin")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        ring.1 += 1;
        let seq = ring.1;
        if let Value::Object(map) = &mut json {
            map.insert("seq".into(), seq.into());
            map.insert("at".into(), at_ms.into());
        }
        let entry = Entry { seq, plugin, json };
        if ring.0.len() == CAPACITY {
            ring.0.pop_front();
        }
        ring.0.push_back(entry.clone());
        entry
    }

    /// Up to `limit` of the newest entries after `after`, about `plugin` if given, oldest
    /// first.
    pub(crate) fn list(&self, plugin: Option<&str>, after: u64, limit: usize) -> Vec<Value> {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<Value> = ring
            .0
            .iter()
            .rev()
            .filter(|e| e.seq > after && plugin.is_none_or(|p| e.plugin == p))
            .take(limit)
            .map(|e| e.json.clone())
            .collect();
        out.reverse();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unloaded(plugin: &str) -> RegistryEvent {
        RegistryEvent::Unloaded {
            plugin: plugin.into(),
        }
    }

    #[test]
    fn keeps_the_newest_capacity_events_in_order() {
        let history = History::default();
        for i in 0..CAPACITY + 5 {
            history.push(&unloaded(if i % 2 == 0 { "a" } else { "b" }), i as u64);
        }
        let all = history.list(None, 0, usize::MAX);
        assert_eq!(all.len(), CAPACITY);
        assert_eq!(all[0]["seq"], 6, "the 5 oldest were dropped");
        assert_eq!(all[CAPACITY - 1]["seq"], CAPACITY as u64 + 5);
        assert_eq!(all[0]["event"], "unloaded");
        let a = history.list(Some("a"), 0, 3);
        assert_eq!(a.len(), 3);
        assert!(a.iter().all(|e| e["plugin"] == "a"));
        assert_eq!(a[2]["seq"], CAPACITY as u64 + 5, "newest last");
        let after = history.list(None, CAPACITY as u64 + 3, 10);
        assert_eq!(after.len(), 2);
    }
}
