//! Outbound network patterns: `scheme://host[:port]`, with `*.` wildcards for subdomains.
//!
//! Plugins never get sockets; the `http` host function (a later feature) checks each URL,
//! and each redirect hop, against these patterns. They are parsed and validated when the
//! plugin loads so that a typo is a load error, not a silent denial later.
//!
//! Rules: the scheme is `http` or `https`; the host is an exact name, an IP literal, or
//! `*.example.com` (any subdomain, not `example.com` itself); without a port the scheme's
//! default port (80 / 443) is the only one allowed; `:*` allows any port. No path, query or
//! user info.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, de};

/// An allowed outbound destination.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NetPattern {
    scheme: String,
    host: HostPattern,
    /// `None` means any port.
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum HostPattern {
    Exact(String),
    /// Matches any name ending in `.suffix`.
    Subdomains(String),
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" { 443 } else { 80 }
}

impl NetPattern {
    /// Whether `url` (`scheme://host[:port][/path...]`) is allowed by this pattern.
    pub fn allows(&self, url: &str) -> bool {
        let Some((scheme, rest)) = url.split_once("://") else {
            return false;
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme != self.scheme {
            return false;
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return false;
        }
        let Ok((host, port)) = split_host_port(authority) else {
            return false;
        };
        let port = port.unwrap_or_else(|| default_port(&scheme));
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        let host = host.to_ascii_lowercase();
        match &self.host {
            HostPattern::Exact(h) => *h == host,
            HostPattern::Subdomains(suffix) => host
                .strip_suffix(suffix.as_str())
                .is_some_and(|prefix| !prefix.is_empty()),
        }
    }

    /// Whether this pattern names the IP address `ip` itself, for a URL with `scheme` and
    /// `port` (the scheme's default port when the URL has none). Only an exact IP-literal
    /// pattern does (`http://127.0.0.1:8080`, `https://[::1]`); a `*.` pattern never matches
    /// an address. Addresses are compared as addresses, so `[::0001]` and `[::1]` are equal,
    /// while `127.0.0.1` and `[::ffff:127.0.0.1]` are not.
    pub fn allows_ip(&self, scheme: &str, ip: IpAddr, port: u16) -> bool {
        if !scheme.eq_ignore_ascii_case(&self.scheme) || self.port.is_some_and(|p| p != port) {
            return false;
        }
        match &self.host {
            HostPattern::Exact(h) => h.parse::<IpAddr>().is_ok_and(|named| named == ip),
            HostPattern::Subdomains(_) => false,
        }
    }
}

/// Splits `host[:port]`, keeping `[v6]` literals whole.
fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or("unclosed `[`")?;
        (v6, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("invalid port `{p}`"))?,
        ),
    };
    Ok((host, port))
}

impl FromStr for NetPattern {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            format!(
                "invalid network pattern `{s}`: {why}; expected e.g. `https://api.example.com` or `http://*.internal:8080`"
            )
        };
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| bad("missing `scheme://`"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(bad("the scheme must be http or https"));
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@']) {
            return Err(bad("no path, query or user info allowed"));
        }
        let (host, port) = match authority.strip_suffix(":*") {
            Some(host) => (host, None),
            None => {
                let (host, port) = split_host_port(authority).map_err(|e| bad(&e))?;
                (host, Some(port.unwrap_or_else(|| default_port(&scheme))))
            }
        };
        let host = host.to_ascii_lowercase();
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        let host = match host.strip_prefix("*.") {
            Some(suffix) if !suffix.is_empty() && !suffix.contains('*') => {
                HostPattern::Subdomains(format!(".{suffix}"))
            }
            Some(_) => return Err(bad("`*.` must be followed by a domain")),
            None if host.contains('*') => return Err(bad("`*` is only allowed as a leading `*.`")),
            None => HostPattern::Exact(host),
        };
        Ok(NetPattern { scheme, host, port })
    }
}

impl fmt::Display for NetPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        match &self.host {
            HostPattern::Exact(h) if h.contains(':') => write!(f, "[{h}]")?,
            HostPattern::Exact(h) => f.write_str(h)?,
            HostPattern::Subdomains(s) => write!(f, "*{s}")?,
        }
        match self.port {
            Some(p) => write!(f, ":{p}"),
            None => f.write_str(":*"),
        }
    }
}

impl<'de> Deserialize<'de> for NetPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> NetPattern {
        s.parse().unwrap()
    }

    #[test]
    fn exact_host_with_default_port() {
        let pat = p("https://api.example.com");
        assert!(pat.allows("https://api.example.com/v1/items?x=1"));
        assert!(pat.allows("https://API.example.com:443/"));
        assert!(!pat.allows("http://api.example.com/"), "scheme must match");
        assert!(
            !pat.allows("https://api.example.com:8443/"),
            "only the default port"
        );
        assert!(!pat.allows("https://api.example.com.evil.net/"));
        assert!(!pat.allows("https://evil.net/?https://api.example.com"));
        assert!(
            !pat.allows("https://api.example.com@evil.net/"),
            "user info refused"
        );
    }

    #[test]
    fn wildcard_subdomains_and_explicit_port() {
        let pat = p("http://*.internal:8080");
        assert!(pat.allows("http://a.internal:8080/x"));
        assert!(pat.allows("http://a.b.internal:8080"));
        assert!(
            !pat.allows("http://internal:8080"),
            "the bare domain is not a subdomain"
        );
        assert!(!pat.allows("http://xinternal:8080"));
        assert!(!pat.allows("http://a.internal/"), "port 80 is not 8080");
        let any = p("http://127.0.0.1:*");
        assert!(any.allows("http://127.0.0.1:5000/"));
        assert!(p("http://[::1]:9000").allows("http://[::1]:9000/"));
    }

    #[test]
    fn ip_literal_patterns_name_addresses() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        assert!(p("http://127.0.0.1:8080").allows_ip("http", v4, 8080));
        assert!(p("HTTP://127.0.0.1:8080").allows_ip("http", v4, 8080));
        assert!(!p("http://127.0.0.1:8080").allows_ip("https", v4, 8080));
        assert!(!p("http://127.0.0.1:8080").allows_ip("http", v4, 8081));
        assert!(p("http://127.0.0.1:*").allows_ip("http", v4, 1));
        assert!(p("https://[::1]").allows_ip("https", v6, 443));
        assert!(p("https://[0:0::0001]").allows_ip("https", v6, 443));
        assert!(!p("https://[::ffff:127.0.0.1]").allows_ip("https", v4, 443));
        assert!(
            !p("http://*.0.1:*").allows_ip("http", v4, 80),
            "no wildcard IPs"
        );
        assert!(!p("http://localhost:*").allows_ip("http", v4, 80));
    }

    #[test]
    fn malformed_patterns_are_rejected_with_reason() {
        assert!(
            "api.example.com"
                .parse::<NetPattern>()
                .unwrap_err()
                .contains("scheme://")
        );
        assert!(
            "ftp://x"
                .parse::<NetPattern>()
                .unwrap_err()
                .contains("http or https")
        );
        assert!(
            "https://x/path"
                .parse::<NetPattern>()
                .unwrap_err()
                .contains("no path")
        );
        assert!(
            "https://a.*.com"
                .parse::<NetPattern>()
                .unwrap_err()
                .contains("leading")
        );
        assert!(
            "https://x:99999"
                .parse::<NetPattern>()
                .unwrap_err()
                .contains("port")
        );
        assert_eq!(
            p("https://*.example.com/").to_string(),
            "https://*.example.com:443"
        );
    }
}
