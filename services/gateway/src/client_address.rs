//! The address of the client behind the load balancer.
//!
//! Behind the ALB every TCP peer is the load balancer, so a limit keyed on
//! the peer is one bucket for everybody: one abuser could make every
//! partner's link answer 429. The balancer appends the address it saw to
//! `X-Forwarded-For`; anyone can write the entries to its left. So the
//! header is read only when the peer is a configured proxy
//! (`SWITCHBOARD_TRUSTED_PROXIES`, CIDRs), from the right, skipping the
//! proxies' own addresses: the first address that is not a trusted proxy
//! is the client. An entry that is not an address ends the walk at the
//! last trusted hop, which is then limited as the client (stricter, never
//! looser).

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The header proxies append the client's address to.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// A configured proxy range that is not a CIDR.
#[derive(Debug, thiserror::Error)]
#[error("{value:?} is not an address range (CIDR such as 10.0.0.0/16): {source}")]
pub struct BadProxyRange {
    value: String,
    source: ipnet::AddrParseError,
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Ranges from a comma-separated list of CIDRs (a bare address is its
    /// own /32 or /128); empty: no proxy is trusted.
    pub fn parse(list: &str) -> Result<Self, BadProxyRange> {
        let ranges = list
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| {
                r.parse::<IpNet>()
                    .or_else(|e| r.parse::<IpAddr>().map(IpNet::from).map_err(|_| e))
                    .map_err(|source| BadProxyRange { value: r.to_owned(), source })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self(ranges))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|range| range.contains(&ip))
    }

    /// The client of a request that came from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        // Several headers are one list, in order.
        let hops = headers.get_all(FORWARDED_FOR).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','));
        let hops: Vec<&str> = hops.collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => client = ip,
                Ok(ip) => return ip,
                Err(_) => return client,
            }
        }
        client
    }
}

/// The client's address, as [`TrustedProxies::client`] found it; in the
/// request's extensions once [`resolve`] ran (absent for a router driven
/// without connection info, as tests do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

/// The middleware that finds the client's address for every later layer.
pub(crate) async fn resolve(
    axum::extract::State(proxies): axum::extract::State<std::sync::Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let client = proxies.client(peer.ip(), request.headers());
        request.extensions_mut().insert(ClientAddress(client));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(FORWARDED_FOR, HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_peer_that_is_not_a_trusted_proxy_is_the_client_whatever_it_forwards() {
        let proxies = TrustedProxies::parse("10.0.0.0/16").unwrap();
        assert_eq!(proxies.client(ip("203.0.113.9"), &forwarded(&["198.51.100.1"])), ip("203.0.113.9"));
        assert_eq!(TrustedProxies::default().client(ip("10.0.0.5"), &forwarded(&["198.51.100.1"])), ip("10.0.0.5"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/16, 192.0.2.7").unwrap();
        // The client wrote a fake first entry; the balancer appended the real one.
        let headers = forwarded(&["1.2.3.4, 198.51.100.1"]);
        assert_eq!(proxies.client(ip("10.0.3.4"), &headers), ip("198.51.100.1"));
        // Trusted hops to the right are skipped, across several headers.
        let headers = forwarded(&["1.2.3.4, 198.51.100.1", "192.0.2.7"]);
        assert_eq!(proxies.client(ip("10.0.3.4"), &headers), ip("198.51.100.1"));
    }

    #[test]
    fn without_a_usable_forwarded_address_the_last_trusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/16").unwrap();
        assert_eq!(proxies.client(ip("10.0.3.4"), &HeaderMap::new()), ip("10.0.3.4"));
        assert_eq!(proxies.client(ip("10.0.3.4"), &forwarded(&["not-an-address, 10.0.9.9"])), ip("10.0.9.9"));
        assert_eq!(proxies.client(ip("10.0.3.4"), &forwarded(&["10.0.1.1"])), ip("10.0.1.1"));
    }

    #[test]
    fn ipv4_mapped_peers_and_ipv6_ranges_are_understood() {
        let proxies = TrustedProxies::parse("10.0.0.0/8,2001:db8::/32").unwrap();
        assert_eq!(proxies.client(ip("::ffff:10.1.2.3"), &forwarded(&["198.51.100.1"])), ip("198.51.100.1"));
        assert_eq!(proxies.client(ip("2001:db8::1"), &forwarded(&["2001:db9::5"])), ip("2001:db9::5"));
    }

    #[test]
    fn a_range_that_is_not_a_cidr_is_refused_naming_it() {
        let error = TrustedProxies::parse("10.0.0.0/16, vpc").unwrap_err();
        assert!(error.to_string().contains("\"vpc\""), "{error}");
        assert_eq!(TrustedProxies::parse(" ").unwrap(), TrustedProxies::default());
    }
}
