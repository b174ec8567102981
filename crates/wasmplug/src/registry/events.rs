//! Registry events: what changed and why, for logs, admin APIs and tests.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};

use serde::Serialize;

use crate::breaker::BreakerState;

/// Something that happened to a plugin in the registry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RegistryEvent {
    /// A version was loaded and now serves with the given weight.
    Loaded {
        /// Plugin name.
        plugin: String,
        /// Version.
        version: String,
        /// sha256 of the module.
        sha256: String,
    },
    /// A candidate was refused; the running version (if any) keeps serving.
    Rejected {
        /// Plugin name (or the folder name when the manifest could not be read).
        plugin: String,
        /// Error class ([`crate::Error::class`]).
        class: String,
        /// The full reason.
        reason: String,
    },
    /// A plugin was removed; its in-flight calls finish first.
    Unloaded {
        /// Plugin name.
        plugin: String,
    },
    /// One version was removed (the plugin keeps its other versions).
    VersionRemoved {
        /// Plugin name.
        plugin: String,
        /// The removed version.
        version: String,
    },
    /// Routing weights changed.
    WeightsChanged {
        /// Plugin name.
        plugin: String,
        /// `(version, weight)` pairs.
        weights: Vec<(String, u32)>,
    },
    /// A version was taken out of rotation (explicit rollback or automatic canary rollback).
    RolledBack {
        /// Plugin name.
        plugin: String,
        /// The version that lost its traffic.
        from: String,
        /// The version that serves instead.
        to: String,
        /// Why.
        reason: String,
    },
    /// The newest version of a plugin failed to load; an older version serves instead.
    Degraded {
        /// Plugin name.
        plugin: String,
        /// The version that failed.
        failed: String,
        /// The version that serves.
        serving: String,
        /// Why the newest failed.
        reason: String,
    },
    /// The rollout rules changed.
    RoutingChanged {
        /// Plugin name.
        plugin: String,
    },
    /// A version's circuit breaker changed state.
    Breaker {
        /// Plugin name.
        plugin: String,
        /// Version.
        version: String,
        /// New state.
        state: BreakerState,
    },
}

/// Fan-out of events to subscribers; a subscriber that went away is dropped.
#[derive(Debug, Default)]
pub(crate) struct Events {
    subscribers: Mutex<Vec<Sender<RegistryEvent>>>,
}

impl Events {
    pub(crate) fn subscribe(&self) -> Receiver<RegistryEvent> {
        let (tx, rx) = channel();
        self.lock().push(tx);
        rx
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Sender<RegistryEvent>>> {
        self.subscribers.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn emit(&self, event: RegistryEvent) {
        match &event {
            RegistryEvent::Rejected { plugin, reason, .. } => {
                tracing::warn!(plugin, "plugin candidate rejected: {reason}");
            }
            other => tracing::info!(event = ?other, "registry"),
        }
        self.lock().retain(|tx| tx.send(event.clone()).is_ok());
    }
}
