//! The instance of a `wasi:http/proxy` component: created for one request, armed like any
//! call (the same store set-up, deadline, fuel and error mapping as [`super::instance`]),
//! and dropped when its handler returns.

use wasmtime::Store;
use wasmtime::component::Resource;
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use wasmtime_wasi_http::p2::types::{HostIncomingRequest, HostResponseOutparam};

use super::compiled::CompiledPlugin;
use super::drive::SliceUsed;
use super::instance::{instantiate_failed, new_store};
use super::invoke::{arm, checked};
use crate::component::http::HTTP_FUNCTION;
use crate::error::Result;
use crate::host::HostState;
use crate::host_fn::Services;

/// A fresh `wasi:http` instance.
pub(crate) struct HttpInstance {
    store: Store<HostState>,
    proxy: Proxy,
}

impl HttpInstance {
    /// Instantiates `pre` with `compiled`'s limits and grants, for an async caller.
    pub(crate) async fn new(
        compiled: &CompiledPlugin,
        pre: &ProxyPre<HostState>,
        slice: Option<&SliceUsed>,
    ) -> Result<HttpInstance> {
        let mut store = new_store(compiled, slice, true, crate::host::Flavour::Async)?;
        let proxy = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| instantiate_failed(compiled, &store, e))?;
        Ok(HttpInstance { store, proxy })
    }

    /// The store data (to create the request's resources).
    pub(crate) fn state(&mut self) -> &mut HostState {
        self.store.data_mut()
    }

    /// Runs `incoming-handler.handle` under the plugin's deadline.
    pub(crate) async fn handle(
        mut self,
        compiled: &CompiledPlugin,
        request: Resource<HostIncomingRequest>,
        out: Resource<HostResponseOutparam>,
        slice: &SliceUsed,
    ) -> Result<()> {
        self.store.data_mut().slice = Some(slice.clone());
        let start = arm(&mut self.store, compiled)?;
        let state = self.store.data_mut();
        let deadline = Services::call_deadline(state.call_started, state.call_timeout);
        state.set_http_deadline(deadline);
        let result = self
            .proxy
            .wasi_http_incoming_handler()
            .call_handle(&mut self.store, request, out)
            .await;
        checked(&mut self.store, compiled, HTTP_FUNCTION, start, result)
    }
}
