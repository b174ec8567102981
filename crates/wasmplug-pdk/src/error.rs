//! The error type of plugin functions.

use std::fmt;

/// The result type of plugin functions: `Ok` is the output, `Err` becomes a guest error value.
pub type FnResult<T> = Result<T, Error>;

/// An error value reported to the host (ABI section 4): a message and a plugin-defined code.
///
/// Returning `Err(error)` from a [`plugin_fn`](crate::plugin_fn) makes the PDK call the
/// host's `wasmplug.set_error` import; the host sees `Error::Guest { message, code, .. }` and
/// the plugin instance stays usable.
///
/// Like `anyhow::Error`, this type does **not** implement [`std::error::Error`], so that any
/// error type can be converted into it with `?`:
///
/// ```
/// use wasmplug_pdk::{Error, FnResult};
///
/// fn parse(input: &[u8]) -> FnResult<u32> {
///     let text = std::str::from_utf8(input)?; // Utf8Error -> Error
///     let n: u32 = text.trim().parse()?; // ParseIntError -> Error
///     if n == 0 {
///         return Err(Error::new("n must be positive").with_code(22));
///     }
///     Ok(n)
/// }
///
/// assert_eq!(parse(b" 7 ").unwrap(), 7);
/// assert_eq!(parse(b"0").unwrap_err().code(), 22);
/// assert!(parse(b"x").unwrap_err().message().contains("invalid digit"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Error {
    message: String,
    code: i32,
}

impl Error {
    /// Creates an error value with this message and code `0` ("no code").
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 0,
        }
    }

    /// Sets the plugin-defined error code passed to the host (`0` means "no code").
    #[must_use]
    pub fn with_code(mut self, code: i32) -> Self {
        self.code = code;
        self
    }

    /// The message reported to the host.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The plugin-defined error code; `0` means "no code".
    pub fn code(&self) -> i32 {
        self.code
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.code != 0 {
            write!(f, " (code {})", self.code)?;
        }
        Ok(())
    }
}

/// Converts any standard error into an error value with code `0`. The message is the error's
/// `Display` text followed by its `source()` chain, separated by `": "`.
impl<E: std::error::Error> From<E> for Error {
    fn from(error: E) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::new(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("outer")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn new_and_code() {
        let e = Error::new("bad");
        assert_eq!((e.message(), e.code()), ("bad", 0));
        assert_eq!(e.to_string(), "bad");
        let e = e.with_code(-3);
        assert_eq!(e.code(), -3);
        assert_eq!(e.to_string(), "bad (code -3)");
    }

    #[test]
    fn from_std_errors() {
        let e: Error = String::from_utf8(vec![0xff]).unwrap_err().into();
        assert!(e.message().contains("invalid utf-8"), "{e}");
        assert_eq!(e.code(), 0);

        let e: Error = serde_json::from_str::<u8>("nope").unwrap_err().into();
        assert_eq!(e.message(), "expected ident at line 1 column 2");

        let e: Error = Outer(std::io::Error::other("inner")).into();
        assert_eq!(e.message(), "outer: inner");
    }

    #[test]
    fn question_mark_works() {
        fn f() -> FnResult<u8> {
            Ok("300".parse::<u8>()?)
        }
        assert_eq!(
            f().unwrap_err().message(),
            "number too large to fit in target type"
        );
    }
}
