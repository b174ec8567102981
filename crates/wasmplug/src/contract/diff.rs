//! [`Diff`]: every change between two contracts, each classified.
//!
//! | change | class |
//! |---|---|
//! | function added | compatible |
//! | function removed | **breaking** (callers of it fail) |
//! | import added / removed | compatible (the host checks every import at load) |
//! | import signature changed | **breaking** |
//! | capability added (escalation; `ro` → `rw` counts) | **breaking** |
//! | capability removed | compatible |
//! | limit lowered | compatible |
//! | limit raised (the plugin asks the host for more) | **breaking** |
//! | requirement added, or raised (the new range drops host versions) | **breaking** |
//! | requirement removed, or relaxed | compatible |
//! | name or ABI version changed | **breaking** |

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use semver::VersionReq;
use serde::Serialize;

use super::range::widens;
use super::{Contract, Mount, Unit};
use crate::units::ByteSize;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)] // the names say it; the module docs classify them
pub enum ChangeKind {
    NameChanged,
    AbiChanged,
    FunctionAdded,
    FunctionRemoved,
    ImportAdded,
    ImportRemoved,
    ImportChanged,
    CapabilityAdded,
    CapabilityRemoved,
    LimitLowered,
    LimitRaised,
    RequirementAdded,
    RequirementRemoved,
    RequirementRaised,
    RequirementRelaxed,
}

impl ChangeKind {
    /// Whether a change of this kind breaks callers or asks the host for more.
    pub fn is_breaking(self) -> bool {
        use ChangeKind::*;
        matches!(
            self,
            NameChanged
                | AbiChanged
                | FunctionRemoved
                | ImportChanged
                | CapabilityAdded
                | LimitRaised
                | RequirementAdded
                | RequirementRaised
        )
    }

    /// The snake_case name (JSON, metric labels).
    pub fn as_str(self) -> &'static str {
        use ChangeKind::*;
        match self {
            NameChanged => "name_changed",
            AbiChanged => "abi_changed",
            FunctionAdded => "function_added",
            FunctionRemoved => "function_removed",
            ImportAdded => "import_added",
            ImportRemoved => "import_removed",
            ImportChanged => "import_changed",
            CapabilityAdded => "capability_added",
            CapabilityRemoved => "capability_removed",
            LimitLowered => "limit_lowered",
            LimitRaised => "limit_raised",
            RequirementAdded => "requirement_added",
            RequirementRemoved => "requirement_removed",
            RequirementRaised => "requirement_raised",
            RequirementRelaxed => "requirement_relaxed",
        }
    }
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What changed.
    pub kind: ChangeKind,
    /// Whether it is breaking ([`ChangeKind::is_breaking`]).
    pub breaking: bool,
    /// What it is about: a function name, `module::name`, `env SECRET`, `memory`,
    /// `host shop`, ...
    pub subject: String,
    /// The old value, when there was one.
    pub old: Option<String>,
    /// The new value, when there is one.
    pub new: Option<String>,
}

impl Change {
    fn new(kind: ChangeKind, subject: impl Into<String>) -> Change {
        Change {
            kind,
            breaking: kind.is_breaking(),
            subject: subject.into(),
            old: None,
            new: None,
        }
    }

    fn values(mut self, old: Option<String>, new: Option<String>) -> Change {
        self.old = old;
        self.new = new;
        self
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.subject;
        let (old, new) = (
            self.old.as_deref().unwrap_or("-"),
            self.new.as_deref().unwrap_or("-"),
        );
        use ChangeKind::*;
        match self.kind {
            NameChanged => write!(f, "plugin name changed from `{old}` to `{new}`"),
            AbiChanged => write!(f, "ABI version changed from {old} to {new}"),
            FunctionAdded => write!(f, "function `{s}` added"),
            FunctionRemoved => write!(f, "function `{s}` removed"),
            ImportAdded => write!(f, "import `{s}` added ({new})"),
            ImportRemoved => write!(f, "import `{s}` removed"),
            ImportChanged => write!(f, "import `{s}` changed from `{old}` to `{new}`"),
            CapabilityAdded => write!(f, "capability `{s}` added"),
            CapabilityRemoved => write!(f, "capability `{s}` removed"),
            LimitLowered => write!(f, "limit `{s}` lowered from {old} to {new}"),
            LimitRaised => write!(f, "limit `{s}` raised from {old} to {new}"),
            RequirementAdded => write!(f, "requirement `{s}` `{new}` added"),
            RequirementRemoved => write!(f, "requirement `{s}` `{old}` removed"),
            RequirementRaised => write!(f, "requirement `{s}` raised from `{old}` to `{new}`"),
            RequirementRelaxed => write!(f, "requirement `{s}` relaxed from `{old}` to `{new}`"),
        }
    }
}

/// The changes from one contract to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// Version of the old contract.
    pub old_version: String,
    /// Version of the new contract.
    pub new_version: String,
    /// Every change, breaking or not, grouped by what they are about.
    pub changes: Vec<Change>,
}

impl Diff {
    /// Compares `old` with `new`.
    pub fn between(old: &Contract, new: &Contract) -> Diff {
        let mut changes = Vec::new();
        if old.name != new.name {
            changes.push(
                Change::new(ChangeKind::NameChanged, "name")
                    .values(Some(old.name.clone()), Some(new.name.clone())),
            );
        }
        if old.abi_version != new.abi_version {
            changes.push(Change::new(ChangeKind::AbiChanged, "abi").values(
                Some(old.abi_version.to_string()),
                Some(new.abi_version.to_string()),
            ));
        }
        functions(old, new, &mut changes);
        imports(old, new, &mut changes);
        capabilities(old, new, &mut changes);
        limits(old, new, &mut changes);
        requirements(old, new, &mut changes);
        Diff {
            old_version: old.version.clone(),
            new_version: new.version.clone(),
            changes,
        }
    }

    /// Whether any change is breaking.
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(|c| c.breaking)
    }

    /// The breaking changes.
    pub fn breaking(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.breaking)
    }
}

fn functions(old: &Contract, new: &Contract, out: &mut Vec<Change>) {
    for f in old.functions.iter().filter(|f| !new.functions.contains(f)) {
        out.push(Change::new(ChangeKind::FunctionRemoved, f));
    }
    for f in new.functions.iter().filter(|f| !old.functions.contains(f)) {
        out.push(Change::new(ChangeKind::FunctionAdded, f));
    }
}

fn imports(old: &Contract, new: &Contract, out: &mut Vec<Change>) {
    let index = |c: &Contract| -> BTreeMap<String, String> {
        c.imports
            .iter()
            .map(|i| (format!("{}::{}", i.module, i.name), i.signature.clone()))
            .collect()
    };
    let (a, b) = (index(old), index(new));
    for (name, sig) in &a {
        match b.get(name) {
            None => out
                .push(Change::new(ChangeKind::ImportRemoved, name).values(Some(sig.clone()), None)),
            Some(s) if s != sig => out.push(
                Change::new(ChangeKind::ImportChanged, name)
                    .values(Some(sig.clone()), Some(s.clone())),
            ),
            Some(_) => {}
        }
    }
    for (name, sig) in b.iter().filter(|(n, _)| !a.contains_key(*n)) {
        out.push(Change::new(ChangeKind::ImportAdded, name).values(None, Some(sig.clone())));
    }
}

/// `a` grants at least what `m` asks: same host and guest path, and writable if `m` is.
fn covers(a: &Mount, m: &Mount) -> bool {
    a.host == m.host && a.guest == m.guest && (a.writable || !m.writable)
}

fn capabilities(old: &Contract, new: &Contract, out: &mut Vec<Change>) {
    let (o, n) = (&old.capabilities, &new.capabilities);
    for m in n.fs.iter().filter(|m| !o.fs.iter().any(|a| covers(a, m))) {
        out.push(Change::new(ChangeKind::CapabilityAdded, format!("fs {m}")));
    }
    for m in o.fs.iter().filter(|m| !n.fs.iter().any(|a| covers(a, m))) {
        out.push(Change::new(
            ChangeKind::CapabilityRemoved,
            format!("fs {m}"),
        ));
    }
    for (kind, a, b) in [("env", &o.env, &n.env), ("net", &o.net, &n.net)] {
        for x in b.iter().filter(|x| !a.contains(x)) {
            out.push(Change::new(
                ChangeKind::CapabilityAdded,
                format!("{kind} {x}"),
            ));
        }
        for x in a.iter().filter(|x| !b.contains(x)) {
            out.push(Change::new(
                ChangeKind::CapabilityRemoved,
                format!("{kind} {x}"),
            ));
        }
    }
}

fn show(value: Option<u64>, unit: Unit) -> String {
    match (value, unit) {
        (None, _) => "unlimited".into(),
        (Some(v), Unit::Bytes) => ByteSize(v).to_string(),
        (Some(v), Unit::Millis) => humantime::format_duration(Duration::from_millis(v)).to_string(),
        (Some(v), Unit::Count) => v.to_string(),
    }
}

fn limits(old: &Contract, new: &Contract, out: &mut Vec<Change>) {
    for ((name, a, unit), (_, b, _)) in old.limits.entries().into_iter().zip(new.limits.entries()) {
        let kind = match (a, b) {
            _ if a == b => continue,
            (None, _) => ChangeKind::LimitLowered,
            (_, None) => ChangeKind::LimitRaised,
            (Some(a), Some(b)) if b < a => ChangeKind::LimitLowered,
            _ => ChangeKind::LimitRaised,
        };
        out.push(Change::new(kind, name).values(Some(show(a, unit)), Some(show(b, unit))));
    }
}

fn requirements(old: &Contract, new: &Contract, out: &mut Vec<Change>) {
    let index = |c: &Contract| -> BTreeMap<String, VersionReq> {
        let mut m: BTreeMap<String, VersionReq> = c
            .requires
            .host
            .iter()
            .map(|(k, v)| (format!("host {k}"), v.clone()))
            .collect();
        if let Some(api) = &c.requires.wasmplug {
            m.insert("wasmplug".into(), api.clone());
        }
        m
    };
    let (a, b) = (index(old), index(new));
    let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for name in names {
        let text = |r: Option<&VersionReq>| r.map(ToString::to_string);
        let (x, y) = (a.get(name), b.get(name));
        let kind = match (x, y) {
            (None, Some(_)) => ChangeKind::RequirementAdded,
            (Some(_), None) => ChangeKind::RequirementRemoved,
            (Some(x), Some(y)) if x == y => continue,
            (Some(x), Some(y)) if widens(x, y) => ChangeKind::RequirementRelaxed,
            (Some(_), Some(_)) => ChangeKind::RequirementRaised,
            (None, None) => continue,
        };
        out.push(Change::new(kind, name.as_str()).values(text(x), text(y)));
    }
}
