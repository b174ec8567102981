//! Validation of plugin names, versions and function names (ABI sections 1 and 2).

/// Export names that plugin functions cannot use.
pub(crate) const RESERVED: &[&str] = &[
    "memory",
    "allocate",
    "deallocate",
    "init",
    "_initialize",
    "_start",
];

/// Longest plugin function name, in bytes.
pub(crate) const MAX_FUNCTION_NAME: usize = 128;

/// Checks a plugin name: 1–64 chars of `a-z`, `0-9`, `-`, `_`, starting with a letter.
pub(crate) fn check_plugin_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err(format!(
            "plugin name `{name}` must be 1 to 64 characters long"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!(
            "plugin name `{name}` must start with a lowercase letter `a-z`"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'))
    {
        return Err(format!(
            "plugin name `{name}` contains `{c}`: only `a-z`, `0-9`, `-` and `_` are allowed"
        ));
    }
    Ok(())
}

/// Checks a semver version: `MAJOR.MINOR.PATCH` (no leading zeros), then an optional
/// `-pre.release` and an optional `+build.metadata`.
pub(crate) fn check_version(version: &str) -> Result<(), String> {
    let error = || {
        format!(
            "version `{version}` is not a semver version: expected `MAJOR.MINOR.PATCH` with an optional `-prerelease` and `+build`, e.g. `1.2.0`"
        )
    };
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    if numbers.len() != 3 || !numbers.iter().all(|n| is_numeric_identifier(n)) {
        return Err(error());
    }
    if let Some(pre) = pre {
        let ok = pre.split('.').all(|id| {
            is_identifier(id)
                && (!id.bytes().all(|b| b.is_ascii_digit()) || is_numeric_identifier(id))
        });
        if !ok {
            return Err(error());
        }
    }
    if let Some(build) = build
        && !build.split('.').all(is_identifier)
    {
        return Err(error());
    }
    Ok(())
}

/// A non-empty run of `0-9A-Za-z-`.
fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Digits without a leading zero (except `0` itself) that fit in a `u64`.
fn is_numeric_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'))
        && s.parse::<u64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names() {
        for ok in [
            "a",
            "greet",
            "json-transformer",
            "pdk_probe",
            "a1-b2",
            &"x".repeat(64),
        ] {
            assert_eq!(check_plugin_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "-a",
            "_a",
            "Greet",
            "gr eet",
            "grüß",
            &"x".repeat(65),
        ] {
            assert!(check_plugin_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions() {
        for ok in [
            "0.0.0",
            "1.2.3",
            "10.20.30",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-0.3.7",
            "1.0.0-x-y.z",
            "1.0.0+20130313144700",
            "1.0.0-beta+exp.sha.5114f85",
            "1.0.0+001",
        ] {
            assert_eq!(check_version(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.02.3",
            "v1.2.3",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-01",
            "1.2.3-a..b",
            "1.2.3-a b",
            "1.2.x",
            " 1.2.3",
            "99999999999999999999.0.0",
        ] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }
}
