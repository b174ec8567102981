//! Typed closures as host functions: how Rust argument and return types map onto wasm
//! values and guest memory (docs/abi.md section 5.3).
//!
//! | Rust type | wasm parameters | result slot |
//! |---|---|---|
//! | `i32`, `u32`, `bool` | one `i32` | the value, zero-extended |
//! | `i64`, `u64` | one `i64` | the value |
//! | `f32`, `f64` | one `f32` / `f64` | the IEEE bits |
//! | `Vec<u8>`, `String`, `Json<T>` | `(ptr: i32, len: i32)` | `(ptr, len)` of a guest-owned buffer |
//! | `()` (result only) | | zero |

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasmtime::Val;

use super::HostError;
use crate::abi::memory;
use crate::host::HostTrap;
use crate::host_fn::context::CallContext;
use crate::host_fn::guest::Reply;

/// A wasm value type of a host function parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
}

/// The wasm arguments of one host function call and the guest memory they point into.
#[doc(hidden)]
pub struct Args<'a> {
    pub(crate) vals: std::slice::Iter<'a, Val>,
    pub(crate) memory: &'a [u8],
    pub(crate) position: usize,
}

/// Why an argument could not be read.
#[doc(hidden)]
pub enum LiftError {
    /// The guest passed something that is not a valid value: an error value for it.
    Value(String),
    /// The guest passed a pointer outside its memory: the call ends.
    Trap(HostTrap),
}

impl Args<'_> {
    fn next(&mut self) -> Val {
        // The linker checked the import's signature, so the values are there.
        self.vals.next().cloned().unwrap_or(Val::I32(0))
    }

    fn bytes(&mut self) -> Result<&[u8], LiftError> {
        self.position += 1;
        let ptr = self.next().unwrap_i32() as u32;
        let len = self.next().unwrap_i32() as u32;
        memory::read(self.memory, ptr, len).ok_or(LiftError::Trap(HostTrap::OutOfBounds {
            what: "host function argument",
            ptr,
            len,
            memory_size: self.memory.len(),
        }))
    }

    fn scalar(&mut self) -> Val {
        self.position += 1;
        self.next()
    }
}

/// A type a host function can take as an argument.
pub trait HostArg: Sized + Send + 'static {
    /// The wasm parameters it occupies.
    const PARAMS: &'static [WasmType];
    /// Reads it from the call's arguments.
    #[doc(hidden)]
    fn lift(args: &mut Args<'_>) -> Result<Self, LiftError>;
}

/// A type a host function can return.
pub trait HostReturn: Send + 'static {
    /// Converts it for the result slot.
    #[doc(hidden)]
    fn lower(self) -> Result<Reply, HostError>;
}

macro_rules! scalar {
    ($ty:ty, $wasm:ident, $val:ident, |$v:ident| $from:expr, |$r:ident| $to:expr) => {
        impl HostArg for $ty {
            const PARAMS: &'static [WasmType] = &[WasmType::$wasm];
            fn lift(args: &mut Args<'_>) -> Result<Self, LiftError> {
                let $v = args.scalar();
                Ok($from)
            }
        }
        impl HostReturn for $ty {
            fn lower(self) -> Result<Reply, HostError> {
                let $r = self;
                Ok(Reply::Scalar($to))
            }
        }
    };
}

scalar!(i32, I32, I32, |v| v.unwrap_i32(), |r| u64::from(r as u32));
scalar!(u32, I32, I32, |v| v.unwrap_i32() as u32, |r| u64::from(r));
scalar!(bool, I32, I32, |v| v.unwrap_i32() != 0, |r| u64::from(r));
scalar!(i64, I64, I64, |v| v.unwrap_i64(), |r| r as u64);
scalar!(u64, I64, I64, |v| v.unwrap_i64() as u64, |r| r);
scalar!(f32, F32, F32, |v| v.unwrap_f32(), |r| u64::from(
    r.to_bits()
));
scalar!(f64, F64, F64, |v| v.unwrap_f64(), |r| r.to_bits());

impl HostArg for Vec<u8> {
    const PARAMS: &'static [WasmType] = &[WasmType::I32, WasmType::I32];
    fn lift(args: &mut Args<'_>) -> Result<Self, LiftError> {
        args.bytes().map(<[u8]>::to_vec)
    }
}

impl HostArg for String {
    const PARAMS: &'static [WasmType] = &[WasmType::I32, WasmType::I32];
    fn lift(args: &mut Args<'_>) -> Result<Self, LiftError> {
        let position = args.position + 1;
        let bytes = args.bytes()?;
        String::from_utf8(bytes.to_vec())
            .map_err(|e| LiftError::Value(format!("argument {position} is not UTF-8: {e}")))
    }
}

/// JSON argument or result: serialised with `serde_json` as a `(ptr, len)` buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + Send + 'static> HostArg for Json<T> {
    const PARAMS: &'static [WasmType] = &[WasmType::I32, WasmType::I32];
    fn lift(args: &mut Args<'_>) -> Result<Self, LiftError> {
        let position = args.position + 1;
        serde_json::from_slice(args.bytes()?)
            .map(Json)
            .map_err(|e| {
                LiftError::Value(format!("argument {position} is not the expected JSON: {e}"))
            })
    }
}

impl HostReturn for () {
    fn lower(self) -> Result<Reply, HostError> {
        Ok(Reply::Unit)
    }
}

impl HostReturn for Vec<u8> {
    fn lower(self) -> Result<Reply, HostError> {
        Ok(Reply::Bytes(self))
    }
}

impl HostReturn for String {
    fn lower(self) -> Result<Reply, HostError> {
        Ok(Reply::Bytes(self.into_bytes()))
    }
}

impl<T: Serialize + Send + 'static> HostReturn for Json<T> {
    fn lower(self) -> Result<Reply, HostError> {
        serde_json::to_vec(&self.0)
            .map(Reply::Bytes)
            .map_err(|e| HostError::abort(format!("cannot serialise the result as JSON: {e}")))
    }
}

/// What a synchronous host function produced.
#[doc(hidden)]
pub enum Outcome {
    /// A reply for the guest (a value or an error value).
    Reply(Reply),
    /// The call ends with [`crate::Error::HostFunction`].
    Abort(String),
    /// The call ends with a trap (bad pointer).
    Trap(HostTrap),
}

impl Outcome {
    fn from_result<R: HostReturn>(result: Result<R, HostError>) -> Outcome {
        match result.and_then(HostReturn::lower) {
            Ok(reply) => Outcome::Reply(reply),
            Err(e) if e.abort => Outcome::Abort(e.message),
            Err(e) => Outcome::Reply(Reply::Error(e.message)),
        }
    }
}

impl From<LiftError> for Outcome {
    fn from(e: LiftError) -> Outcome {
        match e {
            LiftError::Value(message) => Outcome::Reply(Reply::Error(message)),
            LiftError::Trap(trap) => Outcome::Trap(trap),
        }
    }
}

/// The future of an async host function, converted for the result slot.
#[doc(hidden)]
pub type HostFuture = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// A closure usable as a synchronous host function: `Fn(&CallContext, A1, .., An) ->
/// Result<R, HostError>` with up to 8 [`HostArg`] arguments and a [`HostReturn`] result.
pub trait IntoHostFn<Args, R>: Send + Sync + 'static {
    /// The wasm parameters of the arguments (without the result slot).
    fn params() -> Vec<WasmType>;
    /// Reads the arguments and runs the closure.
    #[doc(hidden)]
    fn invoke(&self, ctx: &CallContext, args: &mut self::Args<'_>) -> Outcome;
}

/// A closure usable as an async host function: `Fn(CallContext, A1, .., An) -> impl
/// Future<Output = Result<R, HostError>>`.
pub trait IntoAsyncHostFn<Args, R>: Send + Sync + 'static {
    /// The wasm parameters of the arguments (without the result slot).
    fn params() -> Vec<WasmType>;
    /// Reads the arguments and starts the closure's future.
    #[doc(hidden)]
    fn start(&self, ctx: CallContext, args: &mut self::Args<'_>) -> Result<HostFuture, Outcome>;
}

macro_rules! closures {
    ($($a:ident),*) => {
        impl<F, R, $($a,)*> IntoHostFn<($($a,)*), R> for F
        where
            F: Fn(&CallContext, $($a),*) -> Result<R, HostError> + Send + Sync + 'static,
            R: HostReturn,
            $($a: HostArg,)*
        {
            fn params() -> Vec<WasmType> {
                let lists: &[&[WasmType]] = &[$($a::PARAMS),*];
                lists.concat()
            }

            #[allow(non_snake_case, unused_variables)]
            fn invoke(&self, ctx: &CallContext, args: &mut self::Args<'_>) -> Outcome {
                $(let $a = match $a::lift(args) {
                    Ok(v) => v,
                    Err(e) => return e.into(),
                };)*
                Outcome::from_result(self(ctx, $($a),*))
            }
        }

        impl<F, Fut, R, $($a,)*> IntoAsyncHostFn<($($a,)*), R> for F
        where
            F: Fn(CallContext, $($a),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<R, HostError>> + Send + 'static,
            R: HostReturn,
            $($a: HostArg,)*
        {
            fn params() -> Vec<WasmType> {
                let lists: &[&[WasmType]] = &[$($a::PARAMS),*];
                lists.concat()
            }

            #[allow(non_snake_case, unused_variables)]
            fn start(&self, ctx: CallContext, args: &mut self::Args<'_>) -> Result<HostFuture, Outcome> {
                $(let $a = $a::lift(args).map_err(Outcome::from)?;)*
                let future = self(ctx, $($a),*);
                Ok(Box::pin(async move { Outcome::from_result(future.await) }))
            }
        }
    };
}

closures!();
closures!(A1);
closures!(A1, A2);
closures!(A1, A2, A3);
closures!(A1, A2, A3, A4);
closures!(A1, A2, A3, A4, A5);
closures!(A1, A2, A3, A4, A5, A6);
closures!(A1, A2, A3, A4, A5, A6, A7);
closures!(A1, A2, A3, A4, A5, A6, A7, A8);
