//! The built-in host functions of module `wasmplug` (docs/abi.md section 5).

use std::future::Future;

use serde::{Deserialize, Serialize};
use wasmparser::ValType::{self, I32};
use wasmtime::{Caller, Linker};

use super::guest::{Guest, Reply};
use super::http::HttpRequest;
use super::kv::{KvError, KvNamespace};
use super::ops;
use crate::abi::{HOST_MODULE, MAX_ERROR_MESSAGE_LEN};
use crate::host::{Flavour, HostState, HostTrap};
use crate::plugin::block_on;

/// Signatures of the built-in host functions: `(name, params, results)`.
const BUILTINS: &[(&str, &[ValType], &[ValType])] = &[
    ("set_error", &[I32, I32, I32], &[]),
    ("panic", &[I32, I32], &[]),
    ("log", &[I32, I32, I32], &[]),
    ("config_get", &[I32, I32, I32], &[I32]),
    ("kv_get", &[I32, I32, I32], &[I32]),
    ("kv_set", &[I32, I32, I32, I32, I32], &[I32]),
    ("kv_delete", &[I32, I32, I32], &[I32]),
    ("kv_list", &[I32, I32, I32], &[I32]),
    ("http_request", &[I32, I32, I32, I32, I32], &[I32]),
];

/// The signature of built-in host function `name`, if there is one.
pub(crate) fn builtin_signature(name: &str) -> Option<(&'static [ValType], &'static [ValType])> {
    BUILTINS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, p, r)| (*p, *r))
}

/// Request head of `http_request`, JSON in guest memory.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestHead {
    #[serde(default = "get")]
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
}

fn get() -> String {
    "GET".into()
}

/// Response head of `http_request`, JSON before the body.
#[derive(Serialize)]
struct ResponseHead<'a> {
    status: u16,
    headers: &'a [(String, String)],
}

type Ctx<'c> = Caller<'c, HostState>;

/// Links the built-in host functions in `flavour`.
pub(crate) fn link_builtins(
    linker: &mut Linker<HostState>,
    flavour: Flavour,
) -> wasmtime::Result<()> {
    let m = HOST_MODULE;
    linker.func_wrap(
        m,
        "set_error",
        |mut c: Ctx<'_>, ptr: u32, len: u32, code: i32| {
            let guest = Guest::new(&mut c)?;
            let message = lossy(guest.bytes("error message", ptr, len)?);
            c.data_mut().guest_error = Some((message, code));
            wasmtime::Result::<()>::Ok(())
        },
    )?;
    linker.func_wrap(m, "panic", |mut c: Ctx<'_>, ptr: u32, len: u32| {
        let guest = Guest::new(&mut c)?;
        let message = lossy(guest.bytes("panic message", ptr, len)?);
        wasmtime::Result::<()>::Err(HostTrap::Panic(message).into())
    })?;
    linker.func_wrap(
        m,
        "log",
        |mut c: Ctx<'_>, level: i32, ptr: u32, len: u32| {
            let guest = Guest::new(&mut c)?;
            let message = guest.bytes("log message", ptr, len)?;
            let state = guest.state();
            ops::log(&state.services, &state.context(), level, message);
            wasmtime::Result::<()>::Ok(())
        },
    )?;
    define_waiting(
        linker,
        flavour,
        "config_get",
        |mut c: Ctx<'_>, (kp, kl, out): (u32, u32, u32)| {
            Box::new(async move {
                let mut guest = Guest::new(&mut c)?;
                guest.check_slot(out)?;
                let key = guest.bytes("config key", kp, kl)?;
                let value = ops::config(&guest.state().services, key);
                let reply = match value {
                    Some(v) => Reply::Bytes(v.clone().into_bytes()),
                    None => Reply::None,
                };
                guest.reply(out, reply).await
            })
        },
    )?;
    define_waiting(
        linker,
        flavour,
        "kv_get",
        |c: Ctx<'_>, (kp, kl, out): (u32, u32, u32)| {
            kv_op(c, ("kv key", kp, kl), None, out, |ns, key, _| {
                ns.get(key).map(|v| v.map_or(Reply::None, Reply::Bytes))
            })
        },
    )?;
    define_waiting(
        linker,
        flavour,
        "kv_set",
        |c: Ctx<'_>, (kp, kl, vp, vl, out): (u32, u32, u32, u32, u32)| {
            kv_op(
                c,
                ("kv key", kp, kl),
                Some(("kv value", vp, vl)),
                out,
                |ns, key, value| ns.set(key, value).map(|()| Reply::Unit),
            )
        },
    )?;
    define_waiting(
        linker,
        flavour,
        "kv_delete",
        |c: Ctx<'_>, (kp, kl, out): (u32, u32, u32)| {
            kv_op(c, ("kv key", kp, kl), None, out, |ns, key, _| {
                ns.delete(key)
                    .map(|existed| if existed { Reply::Unit } else { Reply::None })
            })
        },
    )?;
    define_waiting(
        linker,
        flavour,
        "kv_list",
        |c: Ctx<'_>, (pp, pl, out): (u32, u32, u32)| {
            kv_op(c, ("kv prefix", pp, pl), None, out, |ns, prefix, _| {
                ns.list(prefix).map(|keys| Reply::Bytes(encode_list(&keys)))
            })
        },
    )?;
    define_waiting(
        linker,
        flavour,
        "http_request",
        |mut c: Ctx<'_>, (hp, hl, bp, bl, out): (u32, u32, u32, u32, u32)| {
            Box::new(async move {
                let (head, body, state) = {
                    let guest = Guest::new(&mut c)?;
                    guest.check_slot(out)?;
                    let head = guest.bytes("http request head", hp, hl)?;
                    let head: Result<RequestHead, _> = serde_json::from_slice(head);
                    let body = guest.bytes("http request body", bp, bl)?.to_vec();
                    let state = guest.state();
                    let deadline =
                        super::Services::call_deadline(state.call_started, state.call_timeout);
                    (head, body, (state.services.clone(), deadline))
                };
                let reply = match head {
                    Err(e) => Reply::Error(format!(
                        "invalid http request head (expected JSON {{\"method\", \"url\", \"headers\": [[name, value]]}}): {e}"
                    )),
                    Ok(head) => http(state, head, body).await,
                };
                Guest::new(&mut c)?.reply(out, reply).await
            })
        },
    )?;
    Ok(())
}

/// A host function's future: it waits for a kv backend, an HTTP response or the guest's
/// `allocate`.
type HostFuture<'a> = Box<dyn Future<Output = wasmtime::Result<i32>> + Send + 'a>;

/// Defines built-in `name`, whose body waits: awaited on the call's fiber in the async
/// flavour, run to completion on the calling thread in the sync one (see [`Flavour`]).
fn define_waiting<P: FromVals>(
    linker: &mut Linker<HostState>,
    flavour: Flavour,
    name: &str,
    body: impl for<'a> Fn(Ctx<'a>, P) -> HostFuture<'a> + Send + Sync + 'static,
) -> wasmtime::Result<()> {
    match flavour {
        Flavour::Async => {
            linker.func_wrap_async(HOST_MODULE, name, body)?;
        }
        Flavour::Sync => {
            let (params, results) = builtin_signature(name).expect("a built-in's name");
            // Every built-in takes and returns `i32`s only.
            let i32s = |n: usize| std::iter::repeat_n(wasmtime::ValType::I32, n);
            let ty =
                wasmtime::FuncType::new(linker.engine(), i32s(params.len()), i32s(results.len()));
            linker.func_new(HOST_MODULE, name, ty, move |c, vals, out| {
                let status = block_on(Box::into_pin(body(c, P::from_vals(vals))))?;
                out[0] = wasmtime::Val::I32(status);
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// The parameters of a waiting built-in (all `i32`, read as `u32`), from untyped values.
trait FromVals: wasmtime::WasmTyList + Send + 'static {
    fn from_vals(vals: &[wasmtime::Val]) -> Self;
}

fn u32_at(vals: &[wasmtime::Val], i: usize) -> u32 {
    vals[i].unwrap_i32() as u32
}

impl FromVals for (u32, u32, u32) {
    fn from_vals(v: &[wasmtime::Val]) -> Self {
        (u32_at(v, 0), u32_at(v, 1), u32_at(v, 2))
    }
}

impl FromVals for (u32, u32, u32, u32, u32) {
    fn from_vals(v: &[wasmtime::Val]) -> Self {
        (
            u32_at(v, 0),
            u32_at(v, 1),
            u32_at(v, 2),
            u32_at(v, 3),
            u32_at(v, 4),
        )
    }
}

async fn http(
    (services, deadline): (std::sync::Arc<super::Services>, std::time::Instant),
    head: RequestHead,
    body: Vec<u8>,
) -> Reply {
    let request = HttpRequest {
        method: head.method,
        url: head.url,
        headers: head.headers,
        body,
    };
    match ops::http(services, deadline, request).await {
        Ok(response) => {
            let head = ResponseHead {
                status: response.status,
                headers: &response.headers,
            };
            let head = serde_json::to_vec(&head).expect("string pairs serialise");
            let mut buf = Vec::with_capacity(4 + head.len() + response.body.len());
            buf.extend_from_slice(&(head.len() as u32).to_le_bytes());
            buf.extend_from_slice(&head);
            buf.extend_from_slice(&response.body);
            Reply::Bytes(buf)
        }
        Err(e) => Reply::Error(e),
    }
}

/// What a kv operation does with the namespace, the key (or prefix) and the value.
type KvWork = fn(&KvNamespace, &[u8], &[u8]) -> Result<Reply, KvError>;

/// One kv host function: checks the result slot, copies the key (or prefix) and the value
/// out of guest memory (a bad pointer traps before anything is written), runs `work` on the
/// plugin's namespace on the host's blocking pool (a redb write waits for its fsync; an
/// async caller's fiber waits, no worker does), and replies with its result or error value.
fn kv_op<'a>(
    mut caller: Ctx<'a>,
    (what, ptr, len): (&'static str, u32, u32),
    value: Option<(&'static str, u32, u32)>,
    out: u32,
    work: KvWork,
) -> HostFuture<'a> {
    Box::new(async move {
        let (services, key, value) = {
            let guest = Guest::new(&mut caller)?;
            guest.check_slot(out)?;
            let key = guest.bytes(what, ptr, len)?.to_vec();
            let value = match value {
                Some((what, ptr, len)) => guest.bytes(what, ptr, len)?.to_vec(),
                None => Vec::new(),
            };
            (guest.state().services.clone(), key, value)
        };
        let reply = ops::kv(&services, move |ns| work(ns, &key, &value))
            .await
            .unwrap_or_else(Reply::Error);
        Guest::new(&mut caller)?.reply(out, reply).await
    })
}

/// `kv_list` result: for each key, its length (`u32` LE) then its bytes.
fn encode_list(keys: &[Vec<u8>]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(keys.iter().map(|k| 4 + k.len()).sum());
    for key in keys {
        buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
        buf.extend_from_slice(key);
    }
    buf
}

/// A guest string, lossily decoded and cut at [`MAX_ERROR_MESSAGE_LEN`].
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_ERROR_MESSAGE_LEN)]).into_owned()
}
