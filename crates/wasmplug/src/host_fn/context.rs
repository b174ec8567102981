//! [`CallContext`]: who is calling a host function.

use std::sync::Arc;

/// The plugin call a host function runs in: which plugin, which version, which function,
/// and the request id the application passed with the call (for example the gateway's
/// `x-request-id`). Cheap to clone (reference-counted strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    pub(crate) plugin: Arc<str>,
    pub(crate) version: Arc<str>,
    pub(crate) function: Arc<str>,
    pub(crate) request_id: Option<Arc<str>>,
}

impl CallContext {
    /// Name of the calling plugin.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// Version of the calling plugin.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The plugin function being called (`init` while the instance initialises).
    pub fn function(&self) -> &str {
        &self.function
    }

    /// The request id of the call, if the application gave one.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}
