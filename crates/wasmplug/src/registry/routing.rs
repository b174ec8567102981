//! The routing table: named plugins, their loaded versions and weights. A table is
//! immutable; every change builds a new one and swaps it in atomically, so a call sees one
//! consistent table and keeps the version it picked (an `Arc`) until it finishes.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::rules::{DefaultRoute, Matched, RoutingRules, newest_match};
use super::version::LoadedVersion;
use crate::error::{Error, Result};

/// One named plugin: its versions, oldest first, each with a weight.
#[derive(Clone, Default)]
pub(crate) struct Entry {
    pub(crate) routes: Vec<Weighted>,
    /// Where [`crate::Registry::rollback`] sends the traffic: the version that served before
    /// the latest deploy (or before the latest rollback, so a second rollback undoes the
    /// first). Weight changes do not move it.
    pub(crate) rollback_to: Option<semver::Version>,
    /// Rollout rules, tried before the weights.
    pub(crate) rules: Option<Arc<RoutingRules>>,
}

/// Which part of the routing chose a call's version (the `X-Wasmplug-Route` header).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// The caller pinned the version.
    Pin,
    /// A rollout rule matched (`rule:<name>`).
    Rule(Arc<str>),
    /// No rule matched: the weights, or the rules' default requirement.
    Default,
}

impl Route {
    /// The route's name, as in `X-Wasmplug-Route`: `pin`, the rule's name, or `default`.
    pub fn as_str(&self) -> &str {
        match self {
            Route::Pin => "pin",
            Route::Rule(name) => name,
            Route::Default => "default",
        }
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version and its share of traffic.
#[derive(Clone)]
pub(crate) struct Weighted {
    pub(crate) version: Arc<LoadedVersion>,
    pub(crate) weight: u32,
}

/// All plugins, by name.
#[derive(Clone, Default)]
pub(crate) struct Table {
    pub(crate) plugins: BTreeMap<String, Entry>,
}

/// How a call picks its version.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Pin an exact version (`"1.2.0"`); weights are ignored.
    pub version: Option<semver::Version>,
    /// Route by key: the same key goes to the same version while the weights stay the same
    /// (e.g. a user id, for consistent canary exposure).
    pub sticky_key: Option<String>,
    /// The request this call serves: host functions see it and the plugin's log lines
    /// carry it.
    pub request_id: Option<String>,
    /// Request headers rollout rules may match on (names compared case-insensitively).
    pub headers: Vec<(String, String)>,
    /// Query parameters rollout rules may match on.
    pub query: Vec<(String, String)>,
    /// Labels the caller sets for rollout rules (e.g. an experiment group).
    pub labels: Vec<(String, String)>,
}

impl CallOptions {
    /// The value of header `name` (case-insensitive), if given.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of query parameter `name`, if given.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of label `name`, if set.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Entry {
    /// The version that serves this call, and which part of the routing chose it.
    pub(crate) fn select(
        &self,
        name: &str,
        opts: &CallOptions,
    ) -> Result<(&Arc<LoadedVersion>, Route)> {
        if let Some(wanted) = &opts.version {
            return self
                .routes
                .iter()
                .find(|r| &r.version.version == wanted)
                .map(|r| (&r.version, Route::Pin))
                .ok_or_else(|| Error::VersionNotFound {
                    name: name.to_string(),
                    version: wanted.to_string(),
                    loaded: self.versions(),
                });
        }
        if let Some(rules) = &self.rules {
            let versions: Vec<&semver::Version> =
                self.routes.iter().map(|r| &r.version.version).collect();
            let (req, route) = match rules.pick(opts, &versions) {
                Matched::Rule { index, rule } => {
                    (Some(&rule.to), Route::Rule(rule.route_name(index).into()))
                }
                Matched::Default => match &rules.default {
                    Some(DefaultRoute::Version(req)) => (Some(req), Route::Default),
                    _ => (None, Route::Default),
                },
            };
            if let Some(req) = req {
                let version = newest_match(req, &versions).ok_or_else(|| Error::NoRoute {
                    name: name.to_string(),
                })?;
                let chosen = self.route(version).expect("a loaded version");
                return Ok((&chosen.version, route));
            }
        }
        self.by_weight(name, opts).map(|v| (v, Route::Default))
    }

    /// The version chosen by the weights (sticky key or random point).
    fn by_weight(&self, name: &str, opts: &CallOptions) -> Result<&Arc<LoadedVersion>> {
        let total: u64 = self.routes.iter().map(|r| u64::from(r.weight)).sum();
        if total == 0 {
            return Err(Error::NoRoute {
                name: name.to_string(),
            });
        }
        let point = match &opts.sticky_key {
            Some(key) => stable_hash(key) % total,
            None => next_random() % total,
        };
        let mut acc = 0u64;
        for route in &self.routes {
            acc += u64::from(route.weight);
            if point < acc {
                return Ok(&route.version);
            }
        }
        unreachable!("point < total")
    }

    /// The version with the most weight (the newest on ties): the "current" one.
    pub(crate) fn primary(&self) -> Option<&Weighted> {
        // `max_by_key` returns the last of equal maxima: routes are oldest first.
        self.routes.iter().max_by_key(|r| r.weight)
    }

    /// The route of `version`, if loaded.
    pub(crate) fn route(&self, version: &semver::Version) -> Option<&Weighted> {
        self.routes.iter().find(|r| &r.version.version == version)
    }

    /// The loaded versions, oldest first.
    pub(crate) fn versions(&self) -> Vec<String> {
        self.routes
            .iter()
            .map(|r| r.version.version.to_string())
            .collect()
    }

    /// Gives all traffic to `version` (others get weight 0).
    pub(crate) fn serve_only(&mut self, version: &semver::Version) {
        for r in &mut self.routes {
            r.weight = if &r.version.version == version {
                100
            } else {
                0
            };
        }
    }

    /// Drops the oldest versions without traffic until at most `keep` remain. Versions a
    /// rule routes to are never dropped; the rollback target goes last.
    pub(crate) fn prune(&mut self, keep: usize) {
        let versions: Vec<semver::Version> = self
            .routes
            .iter()
            .map(|r| r.version.version.clone())
            .collect();
        let refs: Vec<&semver::Version> = versions.iter().collect();
        let targets: Vec<semver::Version> = self
            .rules
            .as_deref()
            .map(|rules| rules.targets(&refs).into_iter().cloned().collect())
            .unwrap_or_default();
        let prunable = |r: &Weighted| r.weight == 0 && !targets.contains(&r.version.version);
        while self.routes.iter().filter(|r| prunable(r)).count() > keep {
            let target = self.rollback_to.as_ref();
            let victim = self
                .routes
                .iter()
                .position(|r| prunable(r) && Some(&r.version.version) != target)
                .or_else(|| self.routes.iter().position(prunable));
            let Some(victim) = victim else { return };
            let removed = self.routes.remove(victim);
            if Some(&removed.version.version) == self.rollback_to.as_ref() {
                self.rollback_to = None;
            }
        }
    }
}

pub(crate) fn stable_hash(key: &str) -> u64 {
    // FNV-1a: stable across runs and processes (std's default hasher is randomly seeded).
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    key.hash(&mut h);
    h.0
}

struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A cheap, well-spread pseudo-random number (splitmix64 over a global counter).
fn next_random() -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    let mut z = STATE.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_is_spread() {
        let mut buckets = [0u32; 10];
        for _ in 0..10_000 {
            buckets[(next_random() % 10) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|b| (800..1200).contains(b)),
            "{buckets:?}"
        );
    }

    #[test]
    fn stable_hash_is_stable() {
        assert_eq!(stable_hash("user-42"), stable_hash("user-42"));
        assert_ne!(stable_hash("user-42"), stable_hash("user-43"));
    }
}
