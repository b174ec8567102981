//! The registry's contract gate: may a candidate replace the running version?
//!
//! The candidate's contract is diffed against the running version's. Two kinds of breaking
//! change are left out here, because they cannot break this host or the running version's
//! callers: requirement changes (the candidate's requirements were already checked against
//! this very host when it compiled) and raised limits (the host enforces the limits the
//! candidate's manifest declares; `wasmplug diff` still flags them for review in CI). What
//! remains breaking refuses the candidate unless the registry allows it; the refusal is logged, counted per change kind
//! (`wasmplug_contract_breaking_total{plugin, change}`) and named in the
//! [`crate::RegistryEvent::Rejected`] reason. The error is
//! - [`Error::CapabilityEscalation`] when the candidate asks for more grants (unless
//!   escalations alone are allowed),
//! - [`Error::InvalidPlugin`] when it removes functions the running version serves (as
//!   before the diff existed, so callers matching on it keep working),
//! - [`Error::BreakingContract`] for every other breaking change.

use super::{Change, ChangeKind, Contract, Diff};
use crate::error::{Error, Result};

/// What the registry lets through.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Allowed {
    /// Capability escalations.
    pub escalation: bool,
    /// Every breaking change.
    pub breaking: bool,
    /// Compare only the grants: `running` is the last version that served before the
    /// plugin was unloaded, and an unload is how an interface may change on purpose.
    pub grants_only: bool,
}

/// Checks `candidate` against `running` (see the module docs).
pub(crate) fn check(running: &Contract, candidate: &Contract, allowed: Allowed) -> Result<()> {
    let plugin = &candidate.name;
    let diff = Diff::between(running, candidate);
    let breaking: Vec<&Change> = diff
        .breaking()
        .filter(|c| {
            !matches!(
                c.kind,
                ChangeKind::RequirementAdded
                    | ChangeKind::RequirementRaised
                    | ChangeKind::LimitRaised
            )
        })
        .filter(|c| !allowed.grants_only || c.kind == ChangeKind::CapabilityAdded)
        .filter(|c| !(allowed.escalation && c.kind == ChangeKind::CapabilityAdded))
        .collect();
    if breaking.is_empty() {
        return Ok(());
    }
    let list = || {
        breaking
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    };
    if allowed.breaking {
        tracing::info!(plugin, "accepting breaking changes (allowed): {}", list());
        return Ok(());
    }
    tracing::warn!(plugin, "candidate breaks the contract: {}", list());
    for c in &breaking {
        crate::metrics::breaking_change(plugin, c.kind.as_str());
    }
    let subjects = |kind: ChangeKind| -> Vec<String> {
        breaking
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.subject.clone())
            .collect()
    };
    let added = subjects(ChangeKind::CapabilityAdded);
    if !added.is_empty() {
        return Err(Error::CapabilityEscalation {
            plugin: plugin.clone(),
            added,
        });
    }
    let removed = subjects(ChangeKind::FunctionRemoved);
    if !removed.is_empty() {
        return Err(Error::invalid_plugin(format!(
            "the new version of `{plugin}` lacks function(s) {} that the running version serves; callers would break (unload the plugin first to change its interface). Breaking changes: {}",
            removed
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", "),
            list()
        )));
    }
    Err(Error::BreakingContract {
        plugin: plugin.clone(),
        changes: breaking.into_iter().cloned().collect(),
    })
}
