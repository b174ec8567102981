//! Rollout rules: an ordered list per plugin, first match wins, then a default.
//!
//! ```toml
//! # wasmplug.toml (the admin API takes the same model as JSON)
//! [routing.greet]
//! default = { weights = { "1.0.0" = 90, "1.1.0" = 10 } }   # or: default = { version = "^1" }
//!
//! [[routing.greet.rules]]
//! name = "experiment-b"
//! header = { name = "X-Experiment", equals = "B" }           # or query = / label =
//! to = "=1.3.0-beta"                                         # newest loaded match
//!
//! [[routing.greet.rules]]
//! name = "canary-5pct"
//! bucket = { header = "X-User-Id", below = 5 }               # stable hash of the key, of 100
//! to = "1.2.x"
//! ```
//!
//! A rule matches on one request attribute: a header (names are case-insensitive), a query
//! parameter, or a label set by the caller ([`CallOptions::labels`]); or on the stable
//! hash bucket (0..100) of such a key, so the same user always gets the same answer, on
//! every replica and after restarts. Its target is a semver requirement: the newest loaded
//! version that satisfies it serves. A rule whose target has no loaded version does not
//! match (the request falls through to the next rule). The default is weights (the
//! registry's weights, also set by [`crate::Registry::set_weights`]) or a requirement.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::routing::CallOptions;

/// The rules of one plugin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRules {
    /// Tried in order; the first that matches (and has a loaded target) routes the call.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Where calls no rule matched go. `None`: the registry's weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultRoute>,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Shown in `X-Wasmplug-Route` (`rule:<name>`); by default `rule-<index>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Matches when this header has this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<Equals>,
    /// Matches when this query parameter has this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<Equals>,
    /// Matches when this caller-set label has this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Equals>,
    /// Matches when the key's stable hash bucket is below a threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<Bucket>,
    /// The versions it sends to: the newest loaded one satisfying this requirement.
    pub to: semver::VersionReq,
}

/// `name` must equal `equals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equals {
    /// Header, query parameter or label name.
    pub name: String,
    /// The value that matches.
    pub equals: String,
}

/// The key (exactly one of `header`, `query`, `label`) hashes into 0..100; the rule matches
/// below `below`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// Header holding the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Query parameter holding the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Label holding the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Buckets 0..`below` of 100 match (5 = 5 %).
    pub below: u32,
}

/// Where unmatched calls go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum DefaultRoute {
    /// Weights by exact version (replace the registry's weights when applied).
    Weights(BTreeMap<semver::Version, u32>),
    /// The newest loaded version satisfying this requirement.
    Version(semver::VersionReq),
}

/// What a rule matched on, resolved against one call.
pub(crate) enum Matched<'a> {
    /// Rule number `index` matched; route to the newest loaded match of `to`.
    Rule { index: usize, rule: &'a Rule },
    /// No rule matched.
    Default,
}

impl Rule {
    /// The name shown in `X-Wasmplug-Route`.
    pub fn route_name(&self, index: usize) -> String {
        match &self.name {
            Some(n) => format!("rule:{n}"),
            None => format!("rule:rule-{index}"),
        }
    }

    fn matches(&self, opts: &CallOptions) -> bool {
        let eq = |e: &Option<Equals>, get: &dyn Fn(&str) -> Option<String>| {
            e.as_ref()
                .is_none_or(|e| get(&e.name).as_deref() == Some(&e.equals))
        };
        eq(&self.header, &|n| opts.header(n).map(str::to_string))
            && eq(&self.query, &|n| opts.query(n).map(str::to_string))
            && eq(&self.label, &|n| opts.label(n).map(str::to_string))
            && self
                .bucket
                .as_ref()
                .is_none_or(|b| b.key(opts).is_some_and(|key| bucket_of(key) < b.below))
    }

    /// Checks the rule's own shape (one condition at least, one bucket key).
    fn validate(&self, index: usize) -> Result<(), String> {
        let conditions = [
            self.header.is_some(),
            self.query.is_some(),
            self.label.is_some(),
            self.bucket.is_some(),
        ];
        if !conditions.contains(&true) {
            return Err(format!(
                "{} has no condition: give it `header`, `query`, `label` or `bucket`",
                self.route_name(index)
            ));
        }
        if let Some(b) = &self.bucket {
            let keys = [&b.header, &b.query, &b.label]
                .iter()
                .filter(|k| k.is_some())
                .count();
            if keys != 1 {
                return Err(format!(
                    "{}: `bucket` needs exactly one of `header`, `query`, `label` as its key",
                    self.route_name(index)
                ));
            }
            if b.below > 100 {
                return Err(format!(
                    "{}: `bucket.below` is {} but buckets are 0..100",
                    self.route_name(index),
                    b.below
                ));
            }
        }
        Ok(())
    }
}

impl Bucket {
    fn key<'a>(&self, opts: &'a CallOptions) -> Option<&'a str> {
        if let Some(h) = &self.header {
            return opts.header(h);
        }
        if let Some(q) = &self.query {
            return opts.query(q);
        }
        self.label.as_ref().and_then(|l| opts.label(l))
    }
}

/// The stable bucket (0..100) of `key`: the same on every replica, run and platform.
pub fn bucket_of(key: &str) -> u32 {
    (super::routing::stable_hash(key) % 100) as u32
}

impl RoutingRules {
    /// The first rule that matches `opts` and has a loaded target in `versions`.
    pub(crate) fn pick<'a>(
        &'a self,
        opts: &CallOptions,
        versions: &[&semver::Version],
    ) -> Matched<'a> {
        for (index, rule) in self.rules.iter().enumerate() {
            if rule.matches(opts) && newest_match(&rule.to, versions).is_some() {
                return Matched::Rule { index, rule };
            }
        }
        Matched::Default
    }

    /// The versions the rules route to now (the newest loaded match of each target).
    pub(crate) fn targets<'a>(&self, versions: &[&'a semver::Version]) -> Vec<&'a semver::Version> {
        let mut reqs: Vec<&semver::VersionReq> = self.rules.iter().map(|r| &r.to).collect();
        if let Some(DefaultRoute::Version(req)) = &self.default {
            reqs.push(req);
        }
        reqs.into_iter()
            .filter_map(|req| newest_match(req, versions))
            .collect()
    }

    /// Checks what can be checked without knowing the loaded versions: every rule has one
    /// condition kind at least and a well-formed bucket, a default of weights is not empty.
    ///
    /// # Errors
    /// A message naming the rule and what is wrong.
    pub fn check_shape(&self) -> Result<(), String> {
        for (index, rule) in self.rules.iter().enumerate() {
            rule.validate(index)?;
        }
        if let Some(DefaultRoute::Weights(weights)) = &self.default
            && weights.values().all(|w| *w == 0)
        {
            return Err(
                "default: the weights are empty or all 0, so no call could be routed".into(),
            );
        }
        Ok(())
    }

    /// Checks the rules against the loaded `versions`: every rule well-formed and with a
    /// loaded target, a default that can serve.
    ///
    /// # Errors
    /// A message naming the rule and what is wrong.
    pub fn validate(&self, versions: &[&semver::Version]) -> Result<(), String> {
        let loaded = || {
            versions
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (index, rule) in self.rules.iter().enumerate() {
            rule.validate(index)?;
            if newest_match(&rule.to, versions).is_none() {
                return Err(format!(
                    "{}: no loaded version matches `{}` (loaded: {})",
                    rule.route_name(index),
                    rule.to,
                    loaded()
                ));
            }
        }
        match &self.default {
            None => Ok(()),
            Some(DefaultRoute::Version(req)) => match newest_match(req, versions) {
                Some(_) => Ok(()),
                None => Err(format!(
                    "default: no loaded version matches `{req}` (loaded: {})",
                    loaded()
                )),
            },
            Some(DefaultRoute::Weights(weights)) => {
                if weights.values().all(|w| *w == 0) {
                    return Err(
                        "default: the weights are empty or all 0, so no call could be routed"
                            .into(),
                    );
                }
                for v in weights.keys() {
                    if !versions.contains(&v) {
                        return Err(format!(
                            "default: version {v} is not loaded (loaded: {})",
                            loaded()
                        ));
                    }
                }
                Ok(())
            }
        }
    }
}

/// The newest of `versions` satisfying `req`.
pub(crate) fn newest_match<'a>(
    req: &semver::VersionReq,
    versions: &[&'a semver::Version],
) -> Option<&'a semver::Version> {
    versions.iter().copied().filter(|v| req.matches(v)).max()
}
