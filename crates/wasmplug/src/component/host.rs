//! The `wasmplug:plugin/host` interface: thin adapters from WIT values to the host
//! functions' one implementation ([`crate::host_fn::ops`]), the same checks, quotas,
//! deadlines and rate limits as the core ABI's `wasmplug.*` imports.

use super::bindings::wasmplug::plugin::host::{Host, Level, Request, Response};
use crate::host::{HostState, HostTrap};
use crate::host_fn::{HttpRequest, Services, ops};

impl Host for HostState {
    async fn panic(&mut self, message: String) -> wasmtime::Result<()> {
        let mut end = message.len().min(crate::abi::MAX_ERROR_MESSAGE_LEN);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        Err(HostTrap::Panic(message[..end].to_string()).into())
    }

    async fn log(&mut self, level: Level, message: String) {
        let level = match level {
            Level::Trace => 0,
            Level::Debug => 1,
            Level::Info => 2,
            Level::Warn => 3,
            Level::Error => 4,
        };
        ops::log(&self.services, &self.context(), level, message.as_bytes());
    }

    async fn config_get(&mut self, key: String) -> Option<String> {
        ops::config(&self.services, key.as_bytes()).cloned()
    }

    async fn kv_get(&mut self, key: Vec<u8>) -> Result<Option<Vec<u8>>, String> {
        ops::kv(&self.services, move |ns| ns.get(&key)).await
    }

    async fn kv_set(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), String> {
        ops::kv(&self.services, move |ns| ns.set(&key, &value)).await
    }

    async fn kv_delete(&mut self, key: Vec<u8>) -> Result<bool, String> {
        ops::kv(&self.services, move |ns| ns.delete(&key)).await
    }

    async fn kv_list(&mut self, prefix: Vec<u8>) -> Result<Vec<Vec<u8>>, String> {
        ops::kv(&self.services, move |ns| ns.list(&prefix)).await
    }

    async fn http_request(&mut self, request: Request) -> Result<Response, String> {
        let deadline = Services::call_deadline(self.call_started, self.call_timeout);
        let request = HttpRequest {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        let response = ops::http(self.services.clone(), deadline, request).await?;
        Ok(Response {
            status: response.status,
            headers: response.headers,
            body: response.body,
        })
    }
}

impl super::bindings::wasmplug::plugin::types::Host for HostState {}
