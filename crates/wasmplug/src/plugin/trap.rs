//! Turns a failed wasmtime call into the library's typed [`Error`].
//!
//! The order matters: the interrupt and fuel traps become [`Error::Timeout`] /
//! [`Error::OutOfFuel`]; any other trap after a refused memory growth in the same call is
//! reported as [`Error::MemoryLimit`] (the root cause, even if the guest then panicked);
//! then a host function's own error (panic message, bad pointer); everything else is an
//! [`Error::Trap`] with its kind and backtrace.

use std::time::Duration;

use crate::error::{Error, Frame, TrapKind};
use crate::host::HostTrap;

/// Facts about the call that failed, used to fill in the error.
pub(crate) struct CallFacts<'a> {
    pub function: &'a str,
    pub elapsed: Duration,
    pub timeout: Option<Duration>,
    pub fuel_consumed: u64,
    pub memory_limit: u64,
    pub memory_refused: Option<u64>,
}

pub(crate) fn classify(err: wasmtime::Error, facts: &CallFacts<'_>) -> Error {
    let function = facts.function.to_string();
    let backtrace = backtrace(&err);
    let trap = err.downcast_ref::<wasmtime::Trap>().copied();
    match trap {
        Some(wasmtime::Trap::Interrupt) => {
            return Error::Timeout {
                function,
                limit: facts.timeout.unwrap_or_default(),
                elapsed: facts.elapsed,
            };
        }
        Some(wasmtime::Trap::OutOfFuel) => {
            return Error::OutOfFuel {
                function,
                consumed: facts.fuel_consumed,
            };
        }
        _ => {}
    }
    if let Some(attempted) = facts.memory_refused {
        return Error::MemoryLimit {
            function,
            limit: facts.memory_limit,
            attempted,
        };
    }
    if let Some(host) = err.downcast_ref::<HostTrap>() {
        return match host {
            HostTrap::Panic(message) => Error::Trap {
                function,
                kind: TrapKind::Panic,
                message: message.clone(),
                backtrace,
            },
            HostTrap::OutOfBounds {
                what,
                ptr,
                len,
                memory_size,
            } => Error::MemoryOutOfBounds {
                function,
                what,
                ptr: u64::from(*ptr),
                len: u64::from(*len),
                memory_size: *memory_size as u64,
            },
            HostTrap::Deadline => Error::Timeout {
                function,
                limit: facts.timeout.unwrap_or_default(),
                elapsed: facts.elapsed,
            },
            HostTrap::Abort {
                function: host_function,
                message,
            } => Error::HostFunction {
                function,
                host_function: host_function.clone(),
                message: message.clone(),
            },
            HostTrap::NoMemory
            | HostTrap::NoAllocate
            | HostTrap::AllocFailed { .. }
            | HostTrap::ResultTooLarge { .. } => Error::Trap {
                function,
                kind: TrapKind::HostFunction,
                message: host.to_string(),
                backtrace,
            },
        };
    }
    if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Error::Trap {
            function,
            kind: TrapKind::Exit,
            message: format!("the plugin called exit({})", exit.0),
            backtrace,
        };
    }
    let (kind, message) = match trap {
        Some(t) => (trap_kind(t), t.to_string()),
        None => (TrapKind::HostFunction, format!("{err:#}")),
    };
    Error::Trap {
        function,
        kind,
        message,
        backtrace,
    }
}

fn trap_kind(trap: wasmtime::Trap) -> TrapKind {
    use wasmtime::Trap as T;
    match trap {
        T::StackOverflow => TrapKind::StackOverflow,
        T::MemoryOutOfBounds | T::HeapMisaligned => TrapKind::MemoryOutOfBounds,
        T::UnreachableCodeReached => TrapKind::Unreachable,
        T::IntegerDivisionByZero => TrapKind::DivisionByZero,
        T::IntegerOverflow => TrapKind::IntegerOverflow,
        T::BadConversionToInteger => TrapKind::BadConversion,
        T::IndirectCallToNull | T::BadSignature => TrapKind::BadIndirectCall,
        T::TableOutOfBounds => TrapKind::TableOutOfBounds,
        _ => TrapKind::Other,
    }
}

fn backtrace(err: &wasmtime::Error) -> Vec<Frame> {
    let Some(bt) = err.downcast_ref::<wasmtime::WasmBacktrace>() else {
        return Vec::new();
    };
    bt.frames()
        .iter()
        .map(|f| Frame {
            func_index: f.func_index(),
            func_name: f
                .func_name()
                .map(|n| format!("{:#}", rustc_demangle::demangle(n))),
            module_offset: f.module_offset(),
        })
        .collect()
}
