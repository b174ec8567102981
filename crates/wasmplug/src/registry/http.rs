//! [`Registry::handle_http`]: a request for a `wasi:http` plugin, routed like a call (the
//! version by pins, rules and weights; its breaker, metrics and canary accounting), served
//! by [`crate::Plugin::handle_http`] on a fresh instance.

use crate::component::http::{HTTP_FUNCTION, HttpBody};
use crate::error::Result;
use crate::plugin::CallOutput;

use super::{CallOptions, Registry};

impl Registry {
    /// Serves `request` with plugin `name` (a `kind = "wasi-http"` plugin) on the version
    /// chosen by `opts`. Returns the serving version and the response, whose body streams
    /// from the guest. The call counts as succeeded once the handler has set its response.
    ///
    /// # Errors
    /// As [`Registry::call`]; [`crate::Error::FunctionNotFound`] when the plugin is not a
    /// `wasi:http` component.
    pub async fn handle_http<B>(
        &self,
        name: &str,
        request: http::Request<B>,
        opts: CallOptions,
    ) -> Result<(semver::Version, http::Response<HttpBody>)>
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let (call, index) = self.begin(name, HTTP_FUNCTION, &opts)?;
        let mut response = None;
        let result = match index {
            Ok(_) => call.version.plugin.handle_http(request).await.map(|r| {
                response = Some(r);
                (Ok(Vec::new()), CallOutput::default())
            }),
            Err(e) => Err(e),
        };
        let routed = self.finish(name, call, result)?;
        let response = response.expect("a successful call has its response");
        Ok((routed.version, response))
    }
}
