//! [`OciReference`]: `oci://host[:port]/repository:tag` or `oci://host[:port]/repository@sha256:…`.

use std::fmt;
use std::str::FromStr;

use oci_client::Reference;

use super::OciError;

/// URL scheme of a plugin reference.
pub const OCI_SCHEME: &str = "oci://";

/// A parsed plugin reference: a registry host (with optional port), a repository, and a tag
/// or a sha256 digest (a digest pins the content; a tag may move). A reference without
/// either is refused rather than defaulting to `latest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciReference {
    text: String,
    inner: Reference,
}

impl OciReference {
    /// `host[:port]` of the registry.
    pub fn registry(&self) -> &str {
        self.inner.registry()
    }

    /// The repository (`greet`, `team/greet`).
    pub fn repository(&self) -> &str {
        self.inner.repository()
    }

    /// The tag, when the reference has one.
    pub fn tag(&self) -> Option<&str> {
        self.inner.tag()
    }

    /// The pinned digest (`sha256:<hex>`), when the reference has one.
    pub fn digest(&self) -> Option<&str> {
        self.inner.digest()
    }

    /// The same repository pinned to `digest`.
    pub fn with_digest(&self, digest: &str) -> OciReference {
        let text = format!(
            "{OCI_SCHEME}{}/{}@{digest}",
            self.registry(),
            self.repository()
        );
        OciReference {
            inner: Reference::with_digest(
                self.registry().to_owned(),
                self.repository().to_owned(),
                digest.to_owned(),
            ),
            text,
        }
    }

    /// The same repository at `tag`.
    pub fn with_tag(&self, tag: &str) -> OciReference {
        let text = format!(
            "{OCI_SCHEME}{}/{}:{tag}",
            self.registry(),
            self.repository()
        );
        OciReference {
            inner: Reference::with_tag(
                self.registry().to_owned(),
                self.repository().to_owned(),
                tag.to_owned(),
            ),
            text,
        }
    }

    /// Whether the registry is on a loopback address (`localhost`, `127.0.0.0/8`), which is
    /// reached over plain HTTP. (IPv6 literals are not valid in image references.)
    pub fn is_loopback(&self) -> bool {
        let registry = self.registry();
        let host = registry.rsplit_once(':').map_or(registry, |(h, _)| h);
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    pub(super) fn client_reference(&self) -> &Reference {
        &self.inner
    }
}

impl fmt::Display for OciReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for OciReference {
    type Err = OciError;

    fn from_str(text: &str) -> Result<OciReference, OciError> {
        let invalid = |reason: &str| OciError::InvalidReference {
            reference: text.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = text
            .strip_prefix(OCI_SCHEME)
            .ok_or_else(|| invalid("it must start with `oci://`"))?;
        let (host, path) = rest
            .split_once('/')
            .ok_or_else(|| invalid("it names no repository after the registry host"))?;
        if host.is_empty() {
            return Err(invalid("the registry host is empty"));
        }
        // Without a dot, a port or `localhost`, docker-style parsing would read the host as
        // a repository on Docker Hub; a plugin reference always names its registry.
        if !(host.contains('.') || host.contains(':') || host == "localhost") {
            return Err(invalid(
                "the registry host needs a dot, a port or to be `localhost` (as in registry.example.com or 127.0.0.1:5000)",
            ));
        }
        let (name, digest) = match path.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (path, None),
        };
        let tagged = name
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'));
        match digest {
            None if !tagged => {
                return Err(invalid(
                    "it has neither a tag (`:1.0.0`) nor a digest (`@sha256:…`)",
                ));
            }
            Some(digest) => {
                let hex = digest
                    .strip_prefix("sha256:")
                    .ok_or_else(|| invalid("only sha256 digests are supported"))?;
                if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    return Err(invalid("a sha256 digest has 64 lowercase hex digits"));
                }
            }
            None => {}
        }
        let inner: Reference = rest
            .parse()
            .map_err(|e: oci_client::ParseError| invalid(&e.to_string()))?;
        if inner.registry() != host {
            return Err(invalid("the registry host is not valid"));
        }
        Ok(OciReference {
            text: text.to_owned(),
            inner,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<OciReference, String> {
        text.parse::<OciReference>().map_err(|e| e.to_string())
    }

    #[test]
    fn tags_and_digests_parse() {
        let tagged = parse("oci://127.0.0.1:5000/greet:1.0.0").unwrap();
        assert_eq!(
            (
                tagged.registry(),
                tagged.repository(),
                tagged.tag(),
                tagged.digest()
            ),
            ("127.0.0.1:5000", "greet", Some("1.0.0"), None)
        );
        assert!(tagged.is_loopback());
        assert_eq!(tagged.to_string(), "oci://127.0.0.1:5000/greet:1.0.0");
        let digest = format!("sha256:{}", "ab".repeat(32));
        let pinned = parse(&format!("oci://registry.example.com/team/greet@{digest}")).unwrap();
        assert_eq!(pinned.repository(), "team/greet");
        assert_eq!(pinned.digest(), Some(digest.as_str()));
        assert!(!pinned.is_loopback());
        let repinned = tagged.with_digest(&digest);
        assert_eq!(
            repinned.to_string(),
            format!("oci://127.0.0.1:5000/greet@{digest}")
        );
        assert_eq!(repinned.digest(), Some(digest.as_str()));
        assert!(parse("oci://localhost:5000/greet:1").unwrap().is_loopback());
        assert!(parse("oci://127.1.2.3/greet:1").unwrap().is_loopback());
        assert!(
            !parse("oci://localhost.example.com:5000/greet:1")
                .unwrap()
                .is_loopback()
        );
    }

    #[test]
    fn bad_references_say_why() {
        let cases = [
            ("127.0.0.1:5000/greet:1", "must start with `oci://`"),
            ("oci://127.0.0.1:5000", "no repository"),
            ("oci:///greet:1", "host is empty"),
            ("oci://registry/greet:1", "needs a dot, a port"),
            ("oci://127.0.0.1:5000/greet", "neither a tag"),
            ("oci://127.0.0.1:5000/team:x/greet", "neither a tag"),
            ("oci://127.0.0.1:5000/greet@md5:abc", "only sha256"),
            ("oci://127.0.0.1:5000/greet@sha256:abc", "64 lowercase hex"),
            ("oci://127.0.0.1:5000/Greet:1", "invalid OCI reference"),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(err.contains(&format!("`{text}`")), "{text}: {err}");
        }
    }
}
