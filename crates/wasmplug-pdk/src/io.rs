//! Conversions between a plugin function's bytes and its Rust argument and return types.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Json};

/// A type a plugin function can take as its input, built from the raw input bytes.
///
/// Implemented for `Vec<u8>` (the bytes as they are), `String` (invalid UTF-8 is an error
/// value), [`Json<T>`] (invalid JSON is an error value) and `()` (the input is ignored).
/// Implement it for your own types to accept other encodings.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a plugin function input",
    label = "`{Self}` does not implement `wasmplug_pdk::FromInput`",
    note = "use `Vec<u8>`, `String`, `Json<T>`, `()`, or implement `FromInput`"
)]
pub trait FromInput: Sized {
    /// Builds the value from the input bytes, which it owns.
    fn from_input(input: Vec<u8>) -> Result<Self, Error>;
}

/// A type a plugin function can return as its output, turned into the output bytes.
///
/// Implemented for `Vec<u8>`, `String`, `&str`, [`Json<T>`] and `()` (empty output).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a plugin function output",
    label = "`{Self}` does not implement `wasmplug_pdk::IntoOutput`",
    note = "use `Vec<u8>`, `String`, `Json<T>`, `()`, or implement `IntoOutput`"
)]
pub trait IntoOutput {
    /// Converts the value into the output bytes.
    fn into_output(self) -> Result<Vec<u8>, Error>;
}

impl FromInput for Vec<u8> {
    fn from_input(input: Vec<u8>) -> Result<Self, Error> {
        Ok(input)
    }
}

impl FromInput for String {
    fn from_input(input: Vec<u8>) -> Result<Self, Error> {
        String::from_utf8(input).map_err(|e| Error::new(format!("input is not valid UTF-8: {e}")))
    }
}

impl<T: DeserializeOwned> FromInput for Json<T> {
    fn from_input(input: Vec<u8>) -> Result<Self, Error> {
        serde_json::from_slice(&input)
            .map(Json)
            .map_err(|e| Error::new(format!("invalid JSON input: {e}")))
    }
}

impl FromInput for () {
    fn from_input(_input: Vec<u8>) -> Result<Self, Error> {
        Ok(())
    }
}

impl IntoOutput for Vec<u8> {
    fn into_output(self) -> Result<Vec<u8>, Error> {
        Ok(self)
    }
}

impl IntoOutput for String {
    fn into_output(self) -> Result<Vec<u8>, Error> {
        Ok(self.into_bytes())
    }
}

impl IntoOutput for &str {
    fn into_output(self) -> Result<Vec<u8>, Error> {
        Ok(self.as_bytes().to_vec())
    }
}

impl<T: Serialize> IntoOutput for Json<T> {
    fn into_output(self) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(&self.0)
            .map_err(|e| Error::new(format!("cannot serialize JSON output: {e}")))
    }
}

impl IntoOutput for () {
    fn into_output(self) -> Result<Vec<u8>, Error> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn bytes_roundtrip() {
        let v = Vec::<u8>::from_input(vec![0, 255, 10]).unwrap();
        assert_eq!(v.into_output().unwrap(), vec![0, 255, 10]);
    }

    #[test]
    fn string_input() {
        assert_eq!(String::from_input(b"hi".to_vec()).unwrap(), "hi");
        let e = String::from_input(vec![b'a', 0xff]).unwrap_err();
        assert!(e.message().starts_with("input is not valid UTF-8: "), "{e}");
        assert_eq!(e.code(), 0);
        assert_eq!(
            "héllo".to_string().into_output().unwrap(),
            "héllo".as_bytes()
        );
        assert_eq!("x".into_output().unwrap(), b"x");
    }

    #[test]
    fn json_input_and_output() {
        let Json(v) = Json::<Vec<i64>>::from_input(b"[1, -2]".to_vec()).unwrap();
        assert_eq!(v, vec![1, -2]);
        let e = Json::<Vec<i64>>::from_input(b"{".to_vec()).unwrap_err();
        assert_eq!(
            e.message(),
            "invalid JSON input: invalid type: map, expected a sequence at line 1 column 0"
        );
        let map = BTreeMap::from([("a", 1), ("b", 2)]);
        assert_eq!(Json(map).into_output().unwrap(), br#"{"a":1,"b":2}"#);
        let bad = BTreeMap::from([(vec![1u8], 1)]);
        let e = Json(bad).into_output().unwrap_err();
        assert!(
            e.message().starts_with("cannot serialize JSON output: "),
            "{e}"
        );
    }

    #[test]
    fn unit() {
        <()>::from_input(b"ignored".to_vec()).unwrap();
        assert!(().into_output().unwrap().is_empty());
    }
}
