//! Checking a parsed URL against the plugin's net grants.
//!
//! The check runs on the URL as the client will use it (parsed by `url`, the WHATWG
//! parser reqwest connects with), rebuilt as `scheme://host:port`, so that the allow-list
//! and the connector can never disagree about the host: `http://0x7f.1/` is
//! `127.0.0.1` for both, `http://a.example.com\@b.example.com/` has host
//! `a.example.com` for both.

use std::net::IpAddr;

use reqwest::Url;

use crate::capability::NetPattern;

/// Longest URL quoted in an error message; longer ones are cut with `…`.
const QUOTE_LIMIT: usize = 200;

/// Whether a pattern in `allow` permits connecting to `url`. A URL whose host is an IP
/// address needs a pattern naming that address ([`NetPattern::allows_ip`]).
pub(super) fn permits(allow: &[NetPattern], url: &Url) -> bool {
    let Some(port) = url.port_or_known_default() else {
        return false;
    };
    let scheme = url.scheme();
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    match bare.unwrap_or(host).parse::<IpAddr>() {
        Ok(ip) => allow.iter().any(|p| p.allows_ip(scheme, ip, port)),
        Err(_) => {
            let origin = format!("{scheme}://{host}:{port}");
            allow.iter().any(|p| p.allows(&origin))
        }
    }
}

/// `scheme://host:port` of `url`, the pattern that would grant it.
pub(super) fn origin(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        _ => format!("{}:", url.scheme()),
    }
}

/// The grants, for error messages: "`a`, `b`" or "it has none".
pub(super) fn describe(allow: &[NetPattern]) -> String {
    if allow.is_empty() {
        return "it has none".to_string();
    }
    let list: Vec<String> = allow.iter().map(|p| format!("`{p}`")).collect();
    list.join(", ")
}

/// `s` for an error message, cut to [`QUOTE_LIMIT`] characters.
pub(super) fn quote(s: &str) -> String {
    match s.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(patterns: &[&str]) -> Vec<NetPattern> {
        patterns.iter().map(|p| p.parse().unwrap()).collect()
    }

    fn permits_str(patterns: &[&str], url: &str) -> bool {
        permits(&allow(patterns), &Url::parse(url).unwrap())
    }

    #[test]
    fn domains_and_ports_follow_the_patterns() {
        let p = ["https://api.example.com", "http://*.internal:8080"];
        assert!(permits_str(&p, "https://API.example.com/x?y"));
        assert!(permits_str(&p, "https://api.example.com:443/"));
        assert!(!permits_str(&p, "https://api.example.com:444/"));
        assert!(!permits_str(&p, "http://api.example.com/"));
        assert!(permits_str(&p, "http://a.internal:8080/"));
        assert!(!permits_str(&p, "http://internal:8080/"));
        assert!(!permits_str(&p, "ftp://api.example.com/"));
        assert!(!permits_str(&p, "data:text/plain,hi"));
        // The host the connector would use is the one checked.
        assert!(!permits_str(&p, "https://evil.net\\@api.example.com/"));
        assert!(permits_str(&p, "https://api.example.com\\@evil.net/"));
        assert!(!permits_str(&p, "https://api.example.com.evil.net/"));
    }

    #[test]
    fn ip_hosts_need_a_pattern_naming_the_address() {
        let p = ["http://127.0.0.1:*", "http://[::1]:8080", "http://*.0.1:*"];
        assert!(permits_str(&p, "http://127.0.0.1:9/"));
        assert!(
            permits_str(&p, "http://0x7f.1:9/"),
            "same address, other spelling"
        );
        assert!(permits_str(&p, "http://2130706433:9/"));
        assert!(
            !permits_str(&p, "http://10.0.0.1:9/"),
            "wildcards never match IPs"
        );
        assert!(permits_str(&p, "http://[0::1]:8080/"));
        assert!(!permits_str(&p, "http://[::ffff:127.0.0.1]:9/"));
        assert!(!permits_str(&["http://example.com"], "http://127.0.0.1/"));
    }

    #[test]
    fn messages_name_the_origin_and_the_grants() {
        let url = Url::parse("https://Api.Example.com/a/b?c").unwrap();
        assert_eq!(origin(&url), "https://api.example.com:443");
        let url = Url::parse("http://[::1]:81/").unwrap();
        assert_eq!(origin(&url), "http://[::1]:81");
        assert_eq!(describe(&[]), "it has none");
        assert_eq!(
            describe(&allow(&["https://a.com", "http://*.b:*"])),
            "`https://a.com:443`, `http://*.b:*`"
        );
        assert_eq!(quote("short"), "short");
        let long = "é".repeat(300);
        assert_eq!(quote(&long).chars().count(), QUOTE_LIMIT + 1);
    }
}
