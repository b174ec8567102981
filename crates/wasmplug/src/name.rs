//! Validated plugin names.
//!
//! A plugin name is 1–64 characters of `a-z`, `0-9`, `-` and `_`, starting with a letter.
//! It appears in URLs, metric labels, file names and log fields, so it is checked once,
//! when parsed, and carried as a [`PluginName`] afterwards.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// Longest accepted plugin name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// A validated plugin name (see the module docs for the rules).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PluginName(String);

impl PluginName {
    /// Validates `name`.
    ///
    /// # Errors
    /// Returns a message saying which rule `name` breaks.
    pub fn new(name: impl Into<String>) -> Result<Self, String> {
        let name = name.into();
        let Some(first) = name.chars().next() else {
            return Err("plugin name is empty".into());
        };
        if name.len() > MAX_NAME_LEN {
            return Err(format!(
                "plugin name `{name}` is {} bytes long; the limit is {MAX_NAME_LEN}",
                name.len()
            ));
        }
        if !first.is_ascii_lowercase() {
            return Err(format!(
                "plugin name `{name}` must start with a lowercase letter"
            ));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
        {
            return Err(format!(
                "plugin name `{name}` contains `{bad}`; use only a-z, 0-9, `-` and `_`"
            ));
        }
        Ok(PluginName(name))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PluginName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PluginName::new(s)
    }
}

impl fmt::Display for PluginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PluginName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for PluginName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PluginName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        PluginName::new(String::deserialize(d)?).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        for ok in ["a", "json-transformer", "greet_v2", "x9"] {
            assert_eq!(PluginName::new(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_invalid_names_with_reason() {
        assert!(PluginName::new("").unwrap_err().contains("empty"));
        assert!(
            PluginName::new("9lives")
                .unwrap_err()
                .contains("start with")
        );
        assert!(PluginName::new("Greet").unwrap_err().contains("start with"));
        assert!(PluginName::new("a b").unwrap_err().contains("` `"));
        assert!(PluginName::new("a/../b").unwrap_err().contains("`/`"));
        assert!(PluginName::new("a".repeat(65)).unwrap_err().contains("64"));
    }
}
