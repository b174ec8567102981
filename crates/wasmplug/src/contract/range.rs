//! Whether a changed version requirement accepts fewer host versions than before.
//!
//! Two ranges are compared on their boundary versions: every version a comparator of either
//! range names, and its neighbours one patch, minor and major step up and down. A change is
//! a relaxation when every probe the old range accepts is accepted by the new one too, and a
//! raise (breaking) otherwise. For Cargo-style ranges (`^`, `~`, `=`, `>=`, `<`, `*`) the
//! boundaries are exactly where acceptance can change, so the probes decide correctly.

use semver::{Comparator, Version, VersionReq};

/// Whether `new` accepts every host version `old` accepts.
pub(crate) fn widens(old: &VersionReq, new: &VersionReq) -> bool {
    probes(old, new)
        .iter()
        .filter(|v| old.matches(v))
        .all(|v| new.matches(v))
}

fn probes(a: &VersionReq, b: &VersionReq) -> Vec<Version> {
    let mut out = vec![Version::new(0, 0, 0), Version::new(u64::MAX / 2, 0, 0)];
    for c in a.comparators.iter().chain(&b.comparators) {
        out.extend(neighbours(c));
    }
    out.sort();
    out.dedup();
    out
}

fn neighbours(c: &Comparator) -> Vec<Version> {
    let (major, minor, patch) = (c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
    let mut v = vec![
        Version::new(major, minor, patch),
        Version::new(major, minor, patch + 1),
        Version::new(major, minor + 1, 0),
        Version::new(major + 1, 0, 0),
    ];
    if patch > 0 {
        v.push(Version::new(major, minor, patch - 1));
    }
    if minor > 0 {
        v.push(Version::new(major, minor - 1, u64::MAX / 2));
    }
    if major > 0 {
        v.push(Version::new(major - 1, u64::MAX / 2, 0));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(old: &str, new: &str) -> bool {
        widens(&old.parse().unwrap(), &new.parse().unwrap())
    }

    #[test]
    fn raised_and_narrowed_ranges_do_not_widen() {
        assert!(!w("^1", "^2"));
        assert!(!w("^0.2", "^0.3"));
        assert!(!w("^1.2", "~1.2"), "the upper bound came down");
        assert!(!w(">=1.0.0", ">=1.0.1"));
        assert!(!w("*", "^1"));
    }

    #[test]
    fn relaxed_and_equal_ranges_widen() {
        assert!(w("^1.2", "^1.1"));
        assert!(w("~1.2", "^1.2"));
        assert!(w("^1", ">=1"));
        assert!(w("^1", "*"));
        assert!(w("^0.2", "^0.2"));
        assert!(w("=1.2.3", "^1.2"));
    }
}
