//! The client's DNS resolver: the only place names become addresses, so the addresses it
//! approves are exactly the ones connected to (no second lookup a rebinding DNS server
//! could answer differently).
//!
//! Rule: every address a name resolves to must be public ([`addr::non_public_range`]);
//! one non-public answer refuses the whole name. The single exception is the name
//! `localhost`, which may resolve to loopback addresses. IP literals in URLs never reach
//! the resolver (the connector uses them directly); they are explicit grants, checked
//! against the allow-list before any connection.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::addr;

/// A name resolved (by DNS or an override) to an address plugins may not reach.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{host}` resolves to {addr} ({range})")]
pub(super) struct Refused {
    pub(super) host: String,
    pub(super) addr: IpAddr,
    pub(super) range: &'static str,
}

/// Resolver for [`reqwest::ClientBuilder::dns_resolver`]: overrides first, then the
/// system resolver, then the public-address rule on whatever was found.
#[derive(Debug, Clone, Default)]
pub(super) struct GuardedResolver {
    overrides: Arc<HashMap<String, Vec<IpAddr>>>,
}

/// How names are compared: ASCII-lowercase, without a trailing dot.
pub(super) fn normalize(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

impl GuardedResolver {
    /// `overrides` maps a name (any case, optional trailing dot) to its addresses.
    pub(super) fn new(overrides: &HashMap<String, Vec<IpAddr>>) -> GuardedResolver {
        let overrides = overrides
            .iter()
            .map(|(name, addrs)| (normalize(name), addrs.clone()))
            .collect();
        GuardedResolver {
            overrides: Arc::new(overrides),
        }
    }

    /// The addresses `host` may be connected to, or why not.
    pub(super) async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
        let key = normalize(host);
        let addrs = match self.overrides.get(&key) {
            Some(addrs) => addrs.clone(),
            None => tokio::net::lookup_host((host, 0))
                .await
                .map_err(|e| ResolveError::Lookup(format!("cannot resolve `{host}`: {e}")))?
                .map(|sa| sa.ip())
                .collect(),
        };
        if addrs.is_empty() {
            return Err(ResolveError::Lookup(format!("`{host}` has no addresses")));
        }
        check(&key, host, &addrs)?;
        Ok(addrs)
    }
}

/// Applies the public-address rule to all of `addrs` (`key` is the normalized name).
fn check(key: &str, host: &str, addrs: &[IpAddr]) -> Result<(), Refused> {
    for &ip in addrs {
        if key == "localhost" && addr::is_loopback(ip) {
            continue;
        }
        if let Some(range) = addr::non_public_range(ip) {
            tracing::debug!(host, %ip, range, "http_request: refused a non-public address");
            return Err(Refused {
                host: host.to_string(),
                addr: ip,
                range,
            });
        }
    }
    Ok(())
}

/// Why a name did not resolve to connectable addresses.
#[derive(Debug, thiserror::Error)]
pub(super) enum ResolveError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("{0}")]
    Lookup(String),
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let addrs = this.lookup(name.as_str()).await.map_err(|e| match e {
                // Boxed as itself so that the client can find it in the error chain.
                ResolveError::Refused(r) => Box::new(r) as Box<dyn std::error::Error + Send + Sync>,
                other => Box::new(other),
            })?;
            // The connector replaces port 0 with the URL's port.
            let addrs: Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn resolver(pairs: &[(&str, &[&str])]) -> GuardedResolver {
        let map = pairs
            .iter()
            .map(|(n, a)| (n.to_string(), a.iter().map(|s| ip(s)).collect()))
            .collect();
        GuardedResolver::new(&map)
    }

    fn lookup(r: &GuardedResolver, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(r.lookup(host))
    }

    #[test]
    fn overrides_are_checked_like_dns_answers() {
        let r = resolver(&[
            ("Evil.Test.", &["127.0.0.1"]),
            ("mixed.test", &["8.8.8.8", "10.0.0.1"]),
            ("public.test", &["8.8.8.8", "2606:4700:4700::1111"]),
            ("empty.test", &[]),
        ]);
        match lookup(&r, "evil.test") {
            Err(ResolveError::Refused(Refused { host, addr, range })) => {
                assert_eq!((host.as_str(), addr), ("evil.test", ip("127.0.0.1")));
                assert!(range.contains("loopback"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            lookup(&r, "EVIL.test."),
            Err(ResolveError::Refused(_))
        ));
        let err = lookup(&r, "mixed.test").unwrap_err().to_string();
        assert_eq!(
            err,
            "`mixed.test` resolves to 10.0.0.1 (private 10.0.0.0/8)"
        );
        assert_eq!(lookup(&r, "public.test").unwrap().len(), 2);
        assert!(
            lookup(&r, "empty.test")
                .unwrap_err()
                .to_string()
                .contains("no addresses")
        );
    }

    #[test]
    fn localhost_may_be_loopback_but_nothing_else_private() {
        let r = resolver(&[
            ("localhost", &["127.0.0.1", "::1"]),
            ("sub.localhost", &["127.0.0.1"]),
        ]);
        assert_eq!(lookup(&r, "localhost").unwrap().len(), 2);
        assert!(matches!(
            lookup(&r, "sub.localhost"),
            Err(ResolveError::Refused(_))
        ));
        let r = resolver(&[("localhost", &["127.0.0.1", "192.168.0.1"])]);
        assert!(matches!(
            lookup(&r, "localhost"),
            Err(ResolveError::Refused(_))
        ));
    }
}
