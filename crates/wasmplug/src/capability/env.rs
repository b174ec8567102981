//! Environment grants: `NAME=VALUE` (an explicit value) or `NAME` (pass the host's value).
//!
//! The guest's environment holds exactly the granted variables, nothing inherited.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, de};

/// One environment variable granted to a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EnvGrant {
    /// The guest sees `name=value`.
    Value {
        /// Variable name.
        name: String,
        /// Its value.
        value: String,
    },
    /// The guest sees the host's value of `name`, if the host has one.
    Inherit {
        /// Variable name.
        name: String,
    },
}

impl EnvGrant {
    /// The variable's name.
    pub fn name(&self) -> &str {
        match self {
            EnvGrant::Value { name, .. } | EnvGrant::Inherit { name } => name,
        }
    }

    /// The `(name, value)` pair the guest sees, `None` for an inherited variable the host
    /// does not have.
    pub fn resolve(&self) -> Option<(String, String)> {
        match self {
            EnvGrant::Value { name, value } => Some((name.clone(), value.clone())),
            EnvGrant::Inherit { name } => std::env::var(name).ok().map(|v| (name.clone(), v)),
        }
    }
}

impl FromStr for EnvGrant {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, value) = match s.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (s, None),
        };
        if name.is_empty() || name.contains('\0') || value.is_some_and(|v| v.contains('\0')) {
            return Err(format!(
                "invalid environment grant `{s}`: expected NAME or NAME=VALUE"
            ));
        }
        Ok(match value {
            Some(v) => EnvGrant::Value {
                name: name.into(),
                value: v.into(),
            },
            None => EnvGrant::Inherit { name: name.into() },
        })
    }
}

impl fmt::Display for EnvGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvGrant::Value { name, .. } => write!(f, "{name}=<value>"),
            EnvGrant::Inherit { name } => write!(f, "{name} (from host)"),
        }
    }
}

impl<'de> Deserialize<'de> for EnvGrant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values_and_pass_through() {
        assert_eq!(
            "A=b=c".parse::<EnvGrant>().unwrap(),
            EnvGrant::Value {
                name: "A".into(),
                value: "b=c".into()
            }
        );
        assert_eq!(
            "HOME".parse::<EnvGrant>().unwrap(),
            EnvGrant::Inherit {
                name: "HOME".into()
            }
        );
        assert!("=x".parse::<EnvGrant>().is_err());
    }

    #[test]
    fn display_never_shows_secret_values() {
        let g: EnvGrant = "TOKEN=hunter2".parse().unwrap();
        assert!(!g.to_string().contains("hunter2"));
    }

    #[test]
    fn missing_inherited_variable_resolves_to_nothing() {
        let g: EnvGrant = "WASMPLUG_SURELY_UNSET_VARIABLE".parse().unwrap();
        assert_eq!(g.resolve(), None);
    }
}
