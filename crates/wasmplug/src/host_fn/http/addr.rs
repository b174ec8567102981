//! Which IP addresses a plugin may reach through a DNS name: only public ones.
//!
//! `std`'s `is_global` is unstable, so the special-purpose ranges (IANA IPv4 and IPv6
//! special-purpose address registries) are listed here. IPv6 forms that embed an IPv4
//! address (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged
//! by the embedded address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `None` if `ip` is a public unicast address; otherwise the name of the range it is in,
/// for error messages.
pub(super) fn non_public_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => v6_range(v6),
    }
}

/// Whether `ip` is a loopback address (`127.0.0.0/8`, `::1`, or a mapped `127.x`).
pub(super) fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

fn v4_in(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from_be_bytes(net) & mask
}

fn v6_in(ip: Ipv6Addr, net: [u16; 8], prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    let net = Ipv6Addr::new(
        net[0], net[1], net[2], net[3], net[4], net[5], net[6], net[7],
    );
    u128::from(ip) & mask == u128::from(net) & mask
}

const V4_RANGES: &[([u8; 4], u32, &str)] = &[
    ([0, 0, 0, 0], 8, "\"this network\" 0.0.0.0/8"),
    ([10, 0, 0, 0], 8, "private 10.0.0.0/8"),
    ([100, 64, 0, 0], 10, "shared/CGNAT 100.64.0.0/10"),
    ([127, 0, 0, 0], 8, "loopback 127.0.0.0/8"),
    ([169, 254, 0, 0], 16, "link-local 169.254.0.0/16"),
    ([172, 16, 0, 0], 12, "private 172.16.0.0/12"),
    ([192, 0, 0, 0], 24, "IETF protocol assignments 192.0.0.0/24"),
    ([192, 0, 2, 0], 24, "documentation 192.0.2.0/24"),
    ([192, 88, 99, 0], 24, "6to4 relay anycast 192.88.99.0/24"),
    ([192, 168, 0, 0], 16, "private 192.168.0.0/16"),
    ([198, 18, 0, 0], 15, "benchmarking 198.18.0.0/15"),
    ([198, 51, 100, 0], 24, "documentation 198.51.100.0/24"),
    ([203, 0, 113, 0], 24, "documentation 203.0.113.0/24"),
    ([224, 0, 0, 0], 4, "multicast 224.0.0.0/4"),
    ([255, 255, 255, 255], 32, "broadcast 255.255.255.255"),
    ([240, 0, 0, 0], 4, "reserved 240.0.0.0/4"),
];

fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    V4_RANGES
        .iter()
        .find(|(net, prefix, _)| v4_in(ip, *net, *prefix))
        .map(|(_, _, name)| *name)
}

const V6_RANGES: &[([u16; 8], u32, &str)] = &[
    ([0, 0, 0, 0, 0, 0, 0, 0], 128, "unspecified ::"),
    ([0, 0, 0, 0, 0, 0, 0, 1], 128, "loopback ::1"),
    ([0, 0, 0, 0, 0, 0, 0, 0], 96, "IPv4-compatible ::/96"),
    (
        [0x64, 0xff9b, 1, 0, 0, 0, 0, 0],
        48,
        "local-use NAT64 64:ff9b:1::/48",
    ),
    ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard-only 100::/64"),
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "Teredo 2001::/32"),
    (
        [0x2001, 2, 0, 0, 0, 0, 0, 0],
        48,
        "benchmarking 2001:2::/48",
    ),
    ([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28, "ORCHID 2001:10::/28"),
    (
        [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
        32,
        "documentation 2001:db8::/32",
    ),
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "documentation 3fff::/20"),
    ([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, "SRv6 SIDs 5f00::/16"),
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "unique-local fc00::/7"),
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local fe80::/10"),
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local fec0::/10"),
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast ff00::/8"),
];

fn v6_range(ip: Ipv6Addr) -> Option<&'static str> {
    // Forms that carry an IPv4 address: judged by that address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_range(v4).map(|_| "IPv4-mapped non-public ::ffff:0:0/96");
    }
    let seg = ip.segments();
    if v6_in(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        let v4 = Ipv4Addr::from(u128::from(ip) as u32);
        return v4_range(v4).map(|_| "NAT64 of a non-public IPv4 64:ff9b::/96");
    }
    if seg[0] == 0x2002 {
        let [a, b] = seg[1].to_be_bytes();
        let [c, d] = seg[2].to_be_bytes();
        return v4_range(Ipv4Addr::new(a, b, c, d)).map(|_| "6to4 of a non-public IPv4 2002::/16");
    }
    V6_RANGES
        .iter()
        .find(|(net, prefix, _)| v6_in(ip, *net, *prefix))
        .map(|(_, _, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> Option<&'static str> {
        non_public_range(s.parse().unwrap())
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:82a::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert_eq!(range(ip), None, "{ip} is public");
        }
    }

    #[test]
    fn non_public_ipv4_ranges_are_named() {
        for (ip, name) in [
            ("0.0.0.0", "this network"),
            ("0.1.2.3", "this network"),
            ("10.1.2.3", "private 10."),
            ("100.64.0.1", "CGNAT"),
            ("100.127.255.255", "CGNAT"),
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("169.254.169.254", "link-local"),
            ("172.16.0.1", "private 172.16"),
            ("172.31.255.255", "private 172.16"),
            ("192.168.1.1", "private 192.168"),
            ("192.0.0.8", "IETF"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
        ] {
            let got = range(ip).unwrap_or_else(|| panic!("{ip} must be refused"));
            assert!(got.contains(name), "{ip}: {got} should mention {name}");
        }
    }

    #[test]
    fn non_public_ipv6_ranges_are_named() {
        for (ip, name) in [
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::7f00:1", "IPv4-compatible"),
            ("::ffff:127.0.0.1", "IPv4-mapped"),
            ("::ffff:10.0.0.1", "IPv4-mapped"),
            ("::ffff:169.254.169.254", "IPv4-mapped"),
            ("64:ff9b::7f00:1", "NAT64"),
            ("64:ff9b:1::1", "local-use NAT64"),
            ("2002:7f00:1::", "6to4"),
            ("2002:c0a8:101::1", "6to4"),
            ("100::1", "discard"),
            ("2001::1", "Teredo"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
        ] {
            let got = range(ip).unwrap_or_else(|| panic!("{ip} must be refused"));
            assert!(got.contains(name), "{ip}: {got} should mention {name}");
        }
    }

    #[test]
    fn loopback_detection_covers_mapped_addresses() {
        for ip in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["10.0.0.1", "::", "0.0.0.0", "::ffff:10.0.0.1", "8.8.8.8"] {
            assert!(!is_loopback(ip.parse().unwrap()), "{ip}");
        }
    }
}
