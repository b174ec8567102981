//! The one error type of the library.
//!
//! Every failure a plugin host can meet has its own variant with structured fields, so
//! callers match on variants, never on message text. Each message says what went wrong
//! *and* what to do about it. Guest-reported errors ([`Error::Guest`]) and traps
//! ([`Error::Trap`]) are different classes: the first is a value the plugin chose to return,
//! the second means the plugin broke and its instance was discarded.

use std::fmt;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

/// `Result` with [`Error`] as the error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while loading or calling a plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A plugin file (manifest or module) does not exist.
    #[error("file not found: `{}`; check the path (relative paths in a manifest are relative to the manifest's folder)", path.display())]
    FileNotFound {
        /// The path that was looked up.
        path: PathBuf,
    },

    /// A file exists but could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },

    /// A `plugin.toml` manifest is malformed (syntax, unknown key, bad value).
    #[error("invalid manifest `{}`: {message}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong, with line and column when known.
        message: String,
    },

    /// The module's sha256 differs from the pin in its manifest.
    #[error("sha256 mismatch for `{}`: the manifest pins {expected} but the file hashes to {found}; rebuild the plugin or update the `sha256` pin", path.display())]
    ChecksumMismatch {
        /// The module file.
        path: PathBuf,
        /// The pinned hash (lowercase hex).
        expected: String,
        /// The actual hash (lowercase hex).
        found: String,
    },

    /// The module is larger than the configured `max_module_size`.
    #[error(
        "module is {size} bytes, over the limit of {limit} bytes (`max_module_size`); shrink the module (release build, strip debug info) or raise the limit"
    )]
    ModuleTooLarge {
        /// Size of the module in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },

    /// The bytes are not a valid WebAssembly module.
    #[error("invalid wasm{}: {message}; rebuild the plugin for `wasm32-wasip1` (or check that the file is not truncated)", section.as_ref().map(|s| format!(" in the {s} section")).unwrap_or_default())]
    InvalidWasm {
        /// The section where decoding or validation failed, when known.
        section: Option<String>,
        /// Byte offset of the failure, when known.
        offset: Option<usize>,
        /// The decoder's or validator's message.
        message: String,
    },

    /// The module lacks an export the ABI requires.
    #[error(
        "missing export `{name}` ({expected}); a wasmplug plugin must export it, see docs/abi.md"
    )]
    MissingExport {
        /// Name of the missing export.
        name: String,
        /// What was expected, e.g. `function (i32) -> i32`.
        expected: String,
    },

    /// An export exists but has the wrong kind or signature.
    #[error(
        "export `{name}` has the wrong type: expected {expected}, found {found}; see docs/abi.md"
    )]
    ExportType {
        /// Name of the export.
        name: String,
        /// What the ABI requires.
        expected: String,
        /// What the module has.
        found: String,
    },

    /// The module's ABI version is not supported by this host.
    #[error("plugin ABI version {found} is not supported (this host supports {}..={}); rebuild the plugin with a guest kit (or `wasmplug build`) for a supported version, or upgrade the host", supported.start(), supported.end())]
    AbiVersionMismatch {
        /// Version found in the `wasmplug.abi` section.
        found: u32,
        /// Versions this host supports.
        supported: RangeInclusive<u32>,
    },

    /// The module is valid wasm but not a valid wasmplug plugin (missing or malformed
    /// custom section, reserved name, unsupported import, ...).
    #[error("not a valid wasmplug plugin: {reason}")]
    InvalidPlugin {
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// A capability grant cannot be honoured (e.g. a mounted directory does not exist).
    #[error("invalid capability grant: {reason}")]
    Capability {
        /// What is wrong.
        reason: String,
    },

    /// The module could not be instantiated (for example its initial memory is over the
    /// memory limit).
    #[error("cannot instantiate plugin `{plugin}`: {message}")]
    Instantiate {
        /// Plugin name.
        plugin: String,
        /// The cause.
        message: String,
    },

    /// The requested function is not one of the plugin's functions.
    #[error("plugin `{plugin}` has no function `{function}`; available: {}", if available.is_empty() { "none".to_string() } else { available.join(", ") })]
    FunctionNotFound {
        /// Plugin name.
        plugin: String,
        /// The requested function.
        function: String,
        /// The plugin's functions.
        available: Vec<String>,
    },

    /// A component's own typed export cannot be called as asked
    /// ([`crate::Plugin::call_export`]): the types do not match its WIT type, the name is
    /// the plugin protocol's, or the plugin has no typed exports (a core module). No guest
    /// code ran.
    #[error("cannot call export `{export}` of plugin `{plugin}`: {reason}")]
    TypedExport {
        /// Plugin name.
        plugin: String,
        /// The export, as passed to `call_export`.
        export: String,
        /// Why, e.g. wasmtime's type-check message.
        reason: String,
    },

    /// A pointer/length from the guest does not fit in its memory.
    #[error(
        "guest memory access out of bounds in `{function}`: {what} at {ptr}+{len} but memory is {memory_size} bytes; the plugin returned a bad pointer (check its allocate and return values)"
    )]
    MemoryOutOfBounds {
        /// The function being called.
        function: String,
        /// Which buffer: `input`, `output`, `error message`, ...
        what: &'static str,
        /// Guest pointer.
        ptr: u64,
        /// Length in bytes.
        len: u64,
        /// Size of the guest memory in bytes.
        memory_size: u64,
    },

    /// All instances of the plugin were busy for the whole acquire timeout, or so many calls
    /// were already waiting that this one was turned away at once (backpressure).
    #[error("plugin `{plugin}` is busy: all {max_instances} instances {}; retry later or raise `instances.max`", busy_detail(*waited, *waiting))]
    Busy {
        /// Plugin name.
        plugin: String,
        /// The pool's `max`.
        max_instances: usize,
        /// How long the call waited (zero when it was turned away at once).
        waited: Duration,
        /// Calls that were already waiting when this one was turned away at once
        /// (`instances.max_waiting`), or 0 when it waited out its acquire timeout.
        waiting: usize,
    },

    /// The guest's `allocate` returned 0 (it could not allocate).
    #[error(
        "plugin `{plugin}` could not allocate {len} bytes for the input of `{function}`; raise the memory limit or send less data"
    )]
    GuestAllocFailed {
        /// Plugin name.
        plugin: String,
        /// The function being called.
        function: String,
        /// Requested size.
        len: u64,
    },

    /// The input is larger than `max_input`.
    #[error(
        "input of {size} bytes exceeds `max_input` of {limit} bytes; send less or raise the limit"
    )]
    InputTooLarge {
        /// Input size.
        size: u64,
        /// The limit.
        limit: u64,
    },

    /// The guest returned more than `max_output` bytes.
    #[error(
        "output of {size} bytes from `{function}` exceeds `max_output` of {limit} bytes; raise the limit if this is expected"
    )]
    OutputTooLarge {
        /// The function.
        function: String,
        /// Output size claimed by the guest.
        size: u64,
        /// The limit.
        limit: u64,
    },

    /// The plugin reported an error value (`wasmplug.set_error`).
    #[error("plugin function `{function}` failed: {message}{}", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
    Guest {
        /// The function that failed.
        function: String,
        /// The plugin's message.
        message: String,
        /// The plugin's error code, if it gave one.
        code: Option<i32>,
    },

    /// The guest trapped (panic, `unreachable`, out-of-bounds access, stack overflow, ...).
    /// The instance was discarded.
    #[error("plugin trapped in `{function}`: {kind}: {message}{}", if backtrace.is_empty() { String::new() } else { format!("\nwasm backtrace:\n{}", Frame::format_all(backtrace)) })]
    Trap {
        /// The function being called (or `init`, `allocate`, ...).
        function: String,
        /// The class of trap.
        kind: TrapKind,
        /// Human-readable detail (the panic message for [`TrapKind::Panic`]).
        message: String,
        /// Wasm frames, innermost first.
        backtrace: Vec<Frame>,
    },

    /// An application host function aborted the plugin call
    /// ([`crate::HostError::abort`]). The instance was discarded.
    #[error(
        "plugin function `{function}` was aborted by host function `{host_function}`: {message}"
    )]
    HostFunction {
        /// The plugin function being called.
        function: String,
        /// `module::name` of the host function.
        host_function: String,
        /// The host function's message.
        message: String,
    },

    /// A host function could not be registered (reserved module, duplicate, bad name).
    #[error("cannot register host function: {reason}")]
    HostFunctionDefinition {
        /// What is wrong.
        reason: String,
    },

    /// The call ran past its wall-clock deadline and was interrupted.
    #[error(
        "plugin function `{function}` timed out: the `timeout` limit is {limit:?} and it ran for {elapsed:?}; look for an endless loop or raise the limit"
    )]
    Timeout {
        /// The function.
        function: String,
        /// The configured limit.
        limit: Duration,
        /// How long it ran before it was stopped.
        elapsed: Duration,
    },

    /// The guest tried to grow its memory or tables past the `memory` limit and then trapped.
    #[error(
        "plugin function `{function}` exceeded the memory limit of {limit} bytes (it asked for {attempted} bytes); raise `memory` or fix the plugin's allocation"
    )]
    MemoryLimit {
        /// The function.
        function: String,
        /// The limit in bytes.
        limit: u64,
        /// The size the guest tried to reach, in bytes.
        attempted: u64,
    },

    /// The call used up its fuel budget.
    #[error(
        "plugin function `{function}` ran out of fuel after {consumed} units (`fuel` limit); raise the limit or look for an endless loop"
    )]
    OutOfFuel {
        /// The function.
        function: String,
        /// Fuel consumed.
        consumed: u64,
    },

    /// No plugin of that name is loaded in the registry.
    #[error("no plugin named `{name}` is loaded; check the name or the plugin directory")]
    PluginNotFound {
        /// The requested name.
        name: String,
    },

    /// The requested version of a plugin is not loaded.
    #[error("plugin `{name}` has no loaded version `{version}`; loaded: {}", loaded.join(", "))]
    VersionNotFound {
        /// Plugin name.
        name: String,
        /// The requested version.
        version: String,
        /// The loaded versions.
        loaded: Vec<String>,
    },

    /// Every loaded version of the plugin has weight 0, so no call can be routed.
    #[error("plugin `{name}` has no version with a non-zero weight; set weights or roll back")]
    NoRoute {
        /// Plugin name.
        name: String,
    },

    /// The version's circuit breaker is open: recent calls kept failing.
    #[error(
        "circuit open for `{plugin}` {version} after repeated failures; retry in {retry_after:?}"
    )]
    CircuitOpen {
        /// Plugin name.
        plugin: String,
        /// The version.
        version: String,
        /// When a probe call will be allowed.
        retry_after: Duration,
    },

    /// A new version asks for capabilities the running version does not have.
    #[error("new version of `{plugin}` asks for more than the running one ({}); refused (allow escalations in the registry config to accept)", added.join(", "))]
    CapabilityEscalation {
        /// Plugin name.
        plugin: String,
        /// The grants it adds.
        added: Vec<String>,
    },

    /// JSON (de)serialisation failed in [`crate::Plugin::call_json`].
    #[error("JSON {direction} for `{function}` failed: {source}")]
    Json {
        /// The function.
        function: String,
        /// `input` or `output`.
        direction: &'static str,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },

    /// A limit has a value the host cannot enforce (e.g. a `timeout` of centuries).
    #[error("limit `{limit}` = {value} is out of range: {reason}")]
    InvalidLimit {
        /// The limit's name, as in `[limits]`.
        limit: &'static str,
        /// The value given, as written back.
        value: String,
        /// What is allowed.
        reason: String,
    },

    /// The engine could not be configured.
    #[error("engine configuration failed: {message}")]
    Engine {
        /// The cause.
        message: String,
    },

    /// A plugin path names something other than a regular file (a directory, a FIFO, a
    /// device, ...), which the host refuses before reading it.
    #[error("`{}` is {kind}, not a regular file; point at the plugin's `plugin.toml` or module file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead (`"a directory"`, `"a FIFO (named pipe)"`, ...).
        kind: &'static str,
    },

    /// A rollback was asked for but the plugin has no earlier version to go back to.
    #[error("plugin `{name}` has no earlier version to roll back to (loaded: {}); deploy the version to go back to instead", loaded.join(", "))]
    NoPreviousVersion {
        /// Plugin name.
        name: String,
        /// The loaded versions.
        loaded: Vec<String>,
    },

    /// Rollout rules that cannot be applied (malformed, or a target with no loaded
    /// version).
    #[error("invalid routing for `{plugin}`: {reason}")]
    InvalidRouting {
        /// Plugin name.
        plugin: String,
        /// What is wrong.
        reason: String,
    },

    /// Compiling and validating a candidate took longer than the load deadline.
    #[error("loading `{}` took longer than the load deadline of {limit:?} and was abandoned; the module is too big or too complex (split it, or raise `load_timeout`)", path.display())]
    LoadTimeout {
        /// The module or manifest being loaded.
        path: PathBuf,
        /// The deadline.
        limit: Duration,
    },

    /// The trust policy refused the module (docs/trust.md): unsigned, signed by an unknown
    /// key or by a key that may not publish this name, or modified after signing.
    #[error("plugin `{plugin}` {version} refused by the trust policy: {reason}")]
    Untrusted {
        /// Plugin name (from the manifest or the module's metadata; `?` if unreadable).
        plugin: String,
        /// Plugin version (`?` if unreadable).
        version: String,
        /// Why.
        reason: crate::trust::UntrustedReason,
    },

    /// A signing or public key file is not a usable Ed25519 key.
    #[error("key `{}` is unusable: {reason}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// A trust policy is invalid (bad plugin-name glob, duplicate publisher, ...).
    #[error("invalid trust policy: {reason}")]
    TrustPolicy {
        /// What is wrong.
        reason: String,
    },

    /// The plugin requires a version of the plugin API or of an application host module
    /// that this host does not provide (`[requires]`, docs/abi.md).
    #[error("plugin `{plugin}` requires {requirement} `{range}` but {}; upgrade the host or build the plugin against what it provides", match provided { Some(v) => format!("this host provides {v}"), None => "this host does not declare it".to_string() })]
    RequirementNotMet {
        /// Plugin name.
        plugin: String,
        /// What is required: `the plugin API (wasmplug)` or `host module `shop``.
        requirement: String,
        /// The required version range, e.g. `^9`.
        range: semver::VersionReq,
        /// The version the host provides, if it declares one (kept as text so that `Error`
        /// stays small).
        provided: Option<String>,
    },

    /// A new version breaks the contract of the running one (docs/contract.md) and the
    /// registry does not allow breaking changes.
    #[error("new version of `{plugin}` breaks the contract of the running one: {}; refused (allow breaking changes in the registry config to accept)", changes.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    BreakingContract {
        /// Plugin name.
        plugin: String,
        /// The breaking changes.
        changes: Vec<crate::contract::Change>,
    },
}

/// The class of a trap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrapKind {
    /// The guest panicked (it called `wasmplug.panic`).
    Panic,
    /// The `unreachable` instruction ran (also how Rust aborts).
    Unreachable,
    /// The guest itself accessed memory out of bounds.
    MemoryOutOfBounds,
    /// The wasm stack was exhausted (deep recursion).
    StackOverflow,
    /// Integer division by zero.
    DivisionByZero,
    /// Integer overflow (e.g. `i32::MIN / -1`).
    IntegerOverflow,
    /// Float to integer conversion out of range.
    BadConversion,
    /// Indirect call through a null or out-of-range table entry, or with the wrong signature.
    BadIndirectCall,
    /// Table access out of bounds.
    TableOutOfBounds,
    /// The guest called `proc_exit`.
    Exit,
    /// A host function failed while the guest was calling it.
    HostFunction,
    /// Anything else.
    Other,
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrapKind::Panic => "panic",
            TrapKind::Unreachable => "unreachable executed",
            TrapKind::MemoryOutOfBounds => "out-of-bounds memory access",
            TrapKind::StackOverflow => "stack overflow",
            TrapKind::DivisionByZero => "integer division by zero",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::BadConversion => "invalid conversion to integer",
            TrapKind::BadIndirectCall => "bad indirect call",
            TrapKind::TableOutOfBounds => "out-of-bounds table access",
            TrapKind::Exit => "exit",
            TrapKind::HostFunction => "host function error",
            TrapKind::Other => "trap",
        })
    }
}

/// One wasm frame of a trap's backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Index of the function in the module.
    pub func_index: u32,
    /// The function's name from the `name` section, demangled, when present.
    pub func_name: Option<String>,
    /// Byte offset of the instruction in the module, when known.
    pub module_offset: Option<usize>,
}

impl Frame {
    fn format_all(frames: &[Frame]) -> String {
        frames
            .iter()
            .enumerate()
            .map(|(i, f)| format!("  {i}: {f}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.func_name {
            Some(name) => write!(f, "{name}")?,
            None => write!(f, "<func {}>", self.func_index)?,
        }
        if let Some(offset) = self.module_offset {
            write!(f, " @ {offset:#x}")?;
        }
        Ok(())
    }
}

impl Error {
    /// A short, stable, machine-readable name for the error class (`"timeout"`,
    /// `"trap"`, ...), for metrics labels, JSON error bodies and exit codes.
    pub fn class(&self) -> &'static str {
        match self {
            Error::FileNotFound { .. } => "file_not_found",
            Error::Io { .. } => "io",
            Error::Manifest { .. } => "manifest",
            Error::ChecksumMismatch { .. } => "checksum_mismatch",
            Error::ModuleTooLarge { .. } => "module_too_large",
            Error::InvalidWasm { .. } => "invalid_wasm",
            Error::MissingExport { .. } => "missing_export",
            Error::ExportType { .. } => "export_type",
            Error::AbiVersionMismatch { .. } => "abi_version_mismatch",
            Error::InvalidPlugin { .. } => "invalid_plugin",
            Error::Capability { .. } => "capability",
            Error::Instantiate { .. } => "instantiate",
            Error::FunctionNotFound { .. } => "function_not_found",
            Error::TypedExport { .. } => "typed_export",
            Error::MemoryOutOfBounds { .. } => "memory_out_of_bounds",
            Error::Busy { .. } => "busy",
            Error::GuestAllocFailed { .. } => "guest_alloc_failed",
            Error::InputTooLarge { .. } => "input_too_large",
            Error::OutputTooLarge { .. } => "output_too_large",
            Error::Guest { .. } => "guest",
            Error::Trap { .. } => "trap",
            Error::Timeout { .. } => "timeout",
            Error::HostFunction { .. } => "host_function",
            Error::HostFunctionDefinition { .. } => "host_function_definition",
            Error::MemoryLimit { .. } => "memory_limit",
            Error::OutOfFuel { .. } => "out_of_fuel",
            Error::Json { .. } => "json",
            Error::PluginNotFound { .. } => "plugin_not_found",
            Error::VersionNotFound { .. } => "version_not_found",
            Error::NoRoute { .. } => "no_route",
            Error::CircuitOpen { .. } => "circuit_open",
            Error::CapabilityEscalation { .. } => "capability_escalation",
            Error::InvalidLimit { .. } => "invalid_limit",
            Error::Engine { .. } => "engine",
            Error::NotAFile { .. } => "not_a_file",
            Error::NoPreviousVersion { .. } => "no_previous_version",
            Error::LoadTimeout { .. } => "load_timeout",
            Error::InvalidRouting { .. } => "invalid_routing",
            Error::Untrusted { .. } => "untrusted",
            Error::Key { .. } => "key",
            Error::TrustPolicy { .. } => "trust_policy",
            Error::RequirementNotMet { .. } => "requirement_not_met",
            Error::BreakingContract { .. } => "breaking_contract",
        }
    }

    /// Whether this error happened while loading a plugin (as opposed to calling one).
    pub fn is_load_error(&self) -> bool {
        matches!(
            self,
            Error::FileNotFound { .. }
                | Error::Io { .. }
                | Error::Manifest { .. }
                | Error::ChecksumMismatch { .. }
                | Error::ModuleTooLarge { .. }
                | Error::InvalidWasm { .. }
                | Error::MissingExport { .. }
                | Error::ExportType { .. }
                | Error::AbiVersionMismatch { .. }
                | Error::InvalidPlugin { .. }
                | Error::Capability { .. }
                | Error::CapabilityEscalation { .. }
                | Error::HostFunctionDefinition { .. }
                | Error::Instantiate { .. }
                | Error::InvalidLimit { .. }
                | Error::Engine { .. }
                | Error::NotAFile { .. }
                | Error::LoadTimeout { .. }
                | Error::Untrusted { .. }
                | Error::Key { .. }
                | Error::TrustPolicy { .. }
                | Error::RequirementNotMet { .. }
                | Error::BreakingContract { .. }
        )
    }

    /// Whether the instance that produced this error must be discarded (it trapped, was
    /// interrupted, hit a limit, or broke the ABI) rather than reused.
    pub fn poisons_instance(&self) -> bool {
        !matches!(
            self,
            Error::Guest { .. }
                | Error::Busy { .. }
                | Error::FunctionNotFound { .. }
                | Error::TypedExport { .. }
                | Error::InputTooLarge { .. }
                | Error::Json { .. }
        )
    }

    /// Whether this error counts against the plugin version that produced it (for circuit
    /// breakers and canary rollback): faults of the guest and error values it returned, but
    /// not backpressure, unknown functions, oversized input, an open breaker or an abort by
    /// an application host function (the host's failure, not the plugin's).
    pub fn counts_against_plugin(&self) -> bool {
        !matches!(
            self,
            Error::Busy { .. }
                | Error::FunctionNotFound { .. }
                | Error::TypedExport { .. }
                | Error::InputTooLarge { .. }
                | Error::Json { .. }
                | Error::CircuitOpen { .. }
                | Error::HostFunction { .. }
                | Error::PluginNotFound { .. }
                | Error::VersionNotFound { .. }
                | Error::NoRoute { .. }
                | Error::NoPreviousVersion { .. }
                | Error::InvalidRouting { .. }
        )
    }

    pub(crate) fn invalid_plugin(reason: impl Into<String>) -> Self {
        Error::InvalidPlugin {
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::FileNotFound { path }
        } else {
            Error::Io { path, source }
        }
    }
}

/// The middle of [`Error::Busy`]'s message.
fn busy_detail(waited: Duration, waiting: usize) -> String {
    if waiting > 0 {
        format!(
            "are in use and {waiting} calls are already waiting (`instances.max_waiting`), so this one was not queued"
        )
    } else {
        format!("stayed in use for {waited:?}")
    }
}
