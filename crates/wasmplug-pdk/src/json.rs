//! The [`Json`] newtype for JSON input and output.

/// JSON input or output: `Json<T>` is parsed from / serialised to JSON with `serde_json`.
///
/// As an input type, a parse failure becomes a guest error value naming the serde error
/// (the user function is not called). As an output type, `T` is serialised to compact JSON.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use wasmplug_pdk::{FnResult, Json, plugin_fn};
///
/// #[derive(Deserialize)]
/// struct Request {
///     a: i64,
///     b: i64,
/// }
///
/// #[derive(Serialize)]
/// struct Response {
///     sum: i64,
/// }
///
/// #[plugin_fn]
/// fn add(Json(req): Json<Request>) -> FnResult<Json<Response>> {
///     Ok(Json(Response { sum: req.a + req.b }))
/// }
/// # fn main() {}
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// Returns the wrapped value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Json<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}
