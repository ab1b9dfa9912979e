//! The client's address. Behind a reverse proxy every request comes from the
//! proxy, so per-address throttling would lock the whole clinic out together;
//! `X-Forwarded-For` is believed only when the peer is a configured trusted
//! proxy, and then the right-most address that is not itself trusted is used
//! (the left part of the header is whatever the client chose to send).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// The address to audit and throttle.
pub fn client_ip(peer: Option<SocketAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> String {
    let Some(peer) = peer.map(|p| p.ip()) else {
        return "unknown".into();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .copied()
        .unwrap_or(peer)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert("x-forwarded-for", HeaderValue::from_str(xff).unwrap());
        map
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let trusted = ["127.0.0.1".parse().unwrap()];
        assert_eq!(
            client_ip(Some(proxy), &headers("203.0.113.9"), &trusted),
            "203.0.113.9"
        );
        assert_eq!(
            client_ip(Some(proxy), &headers("203.0.113.9"), &[]),
            "127.0.0.1"
        );
        // A client-supplied prefix cannot choose the address.
        assert_eq!(
            client_ip(Some(proxy), &headers("1.2.3.4, 203.0.113.9"), &trusted),
            "203.0.113.9"
        );
        assert_eq!(
            client_ip(Some(proxy), &headers("garbage, 127.0.0.1"), &trusted),
            "127.0.0.1"
        );
        assert_eq!(client_ip(None, &HeaderMap::new(), &trusted), "unknown");
    }
}
