//! Which addresses a webhook may reach, against server-side request
//! forgery: a tenant's URL must not make Switchboard call its own
//! network. Loopback, private (RFC 1918, IPv6 unique local), link-local
//! (the cloud metadata service at 169.254.169.254 among them), shared
//! (CGNAT), multicast, broadcast, unspecified, reserved and documentation
//! ranges are refused, in IPv4, IPv6, and IPv4 written as IPv6 (mapped,
//! compatible, NAT64), unless the deployment allows a range explicitly.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The refused ranges and why, IPv4.
const REFUSED_V4: &[(&str, &str)] = &[
    ("0.0.0.0/8", "an unspecified (this-network) address"),
    ("10.0.0.0/8", "a private address"),
    ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address"),
    ("172.16.0.0/12", "a private address"),
    ("192.0.0.0/24", "a reserved (IETF protocol) address"),
    ("192.0.2.0/24", "a documentation address"),
    ("192.88.99.0/24", "a reserved (6to4 relay) address"),
    ("192.168.0.0/16", "a private address"),
    ("198.18.0.0/15", "a reserved (benchmarking) address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("240.0.0.0/4", "a reserved (or broadcast) address"),
];

/// The refused ranges and why, IPv6 (IPv4 inside IPv6 is checked as IPv4).
const REFUSED_V6: &[(&str, &str)] = &[
    ("::/128", "an unspecified address"),
    ("::1/128", "a loopback address"),
    ("100::/64", "a reserved (discard) address"),
    ("2001:db8::/32", "a documentation address"),
    ("fc00::/7", "a private (unique local) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a reserved (site-local) address"),
    ("ff00::/8", "a multicast address"),
];

/// Why an address may not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{address} is {why}")]
pub struct Refused {
    /// The address as resolved.
    pub address: IpAddr,
    /// What kind of address it is.
    pub why: &'static str,
}

/// The refused ranges, less the ones the deployment allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    allowed: Vec<IpNet>,
}

impl TargetPolicy {
    /// Refuses every range above except those in `allowed`
    /// (`SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE_CIDRS`).
    pub fn new(allowed: Vec<IpNet>) -> Self {
        Self { allowed }
    }

    /// Parses comma-separated CIDRs (`127.0.0.0/8,::1/128`); empty: none allowed.
    pub fn parse(cidrs: &str) -> Result<Self, ipnet::AddrParseError> {
        let allowed = cidrs.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::parse).collect::<Result<_, _>>()?;
        Ok(Self::new(allowed))
    }

    /// Whether `address` may be reached.
    pub fn check(&self, address: IpAddr) -> Result<(), Refused> {
        let address = canonical(address);
        if self.allowed.iter().any(|net| net.contains(&address)) {
            return Ok(());
        }
        let ranges = match address {
            IpAddr::V4(_) => REFUSED_V4,
            IpAddr::V6(_) => REFUSED_V6,
        };
        for (range, why) in ranges {
            if range.parse::<IpNet>().is_ok_and(|net| net.contains(&address)) {
                return Err(Refused { address, why });
            }
        }
        Ok(())
    }
}

/// IPv4 written as IPv6 (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`,
/// NAT64 `64:ff9b::a.b.c.d`) is the IPv4 address it reaches.
fn canonical(address: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = address else { return address };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    let segments = v6.segments();
    let embedded = || {
        let o = v6.octets();
        Ipv4Addr::new(o[12], o[13], o[14], o[15])
    };
    // Compatible (deprecated): the first 96 bits zero, but not :: and ::1.
    if segments[..6].iter().all(|s| *s == 0) && v6 != Ipv6Addr::UNSPECIFIED && v6 != Ipv6Addr::LOCALHOST {
        return IpAddr::V4(embedded());
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return IpAddr::V4(embedded());
    }
    address
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &TargetPolicy, address: &str) -> bool {
        policy.check(address.parse().unwrap()).is_err()
    }

    #[test]
    fn internal_addresses_are_refused_in_every_spelling() {
        let policy = TargetPolicy::default();
        for address in [
            "10.1.2.3",
            "127.0.0.1",
            "169.254.169.254",
            "172.31.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(refused(&policy, address), "{address} should be refused");
        }
        for address in ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(!refused(&policy, address), "{address} should be allowed");
        }
        let why = policy.check("169.254.169.254".parse().unwrap()).unwrap_err().to_string();
        assert_eq!(why, "169.254.169.254 is a link-local address");
    }

    #[test]
    fn an_allowed_range_opens_only_itself() {
        let policy = TargetPolicy::parse("127.0.0.0/8").unwrap();
        assert!(!refused(&policy, "127.0.0.1"));
        assert!(!refused(&policy, "::ffff:127.0.0.1"), "the same address, spelled in IPv6");
        assert!(refused(&policy, "::1"));
        assert!(refused(&policy, "10.0.0.1"));
        assert!(TargetPolicy::parse("127.0.0.0/33").is_err());
        assert_eq!(TargetPolicy::parse(" ").unwrap(), TargetPolicy::default());
    }
}
