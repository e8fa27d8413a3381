//! Outbound HTTP to addresses customers choose (media URLs; later webhooks), guarded
//! against SSRF: every address a name resolves to is checked when the connection is made
//! (so a DNS answer cannot switch to an internal address after a check), IP literals are
//! checked before any request, and redirects are not followed.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

/// Whether an address is private, loopback, link-local, multicast, reserved or otherwise
/// not a public unicast address (IPv4 and IPv6, including IPv4-mapped and embedded forms).
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240 // reserved
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let embedded =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0) // Teredo
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
        // IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address.
        || (s[..6] == [0, 0, 0, 0, 0, 0] && forbidden_v4(embedded(s[6], s[7])))
        || (s[0] == 0x0064 && s[1] == 0xff9b && forbidden_v4(embedded(s[6], s[7])))
        // 6to4 (2002:a.b.c.d::) carries one too.
        || (s[0] == 0x2002 && forbidden_v4(embedded(s[1], s[2])))
}

/// A DNS resolver that drops forbidden addresses, so a connection can only go to a
/// public one.
struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !is_forbidden(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(
                    format!("{host} resolves only to private or reserved addresses").into(),
                );
            }
            Ok(Box::new(addrs.into_iter()) as Box<dyn Iterator<Item = SocketAddr> + Send>)
        })
    }
}

/// Why a URL may not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("must be an http or https URL")]
    Scheme,
    #[error("points to a private or reserved address")]
    Forbidden,
}

/// Checks a URL before fetching: http(s) only, no forbidden IP literal, no credentials.
pub fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, UrlError> {
    let url = url::Url::parse(raw.trim()).map_err(|_| UrlError::Scheme)?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(UrlError::Scheme);
    }
    let forbidden_literal = match url.host() {
        Some(url::Host::Ipv4(ip)) => is_forbidden(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_forbidden(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        None => return Err(UrlError::Scheme),
    };
    if forbidden_literal && !allow_private {
        return Err(UrlError::Forbidden);
    }
    Ok(url)
}

/// The `User-Agent` of requests to customer-chosen URLs.
pub const USER_AGENT: &str = concat!("wasp/", env!("CARGO_PKG_VERSION"));

/// A client for customer-chosen URLs.
pub fn guarded_client(allow_private: bool, timeout: Duration) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT)
        .no_proxy();
    if !allow_private {
        builder = builder.dns_resolver(Arc::new(GuardedResolver));
    }
    builder.build().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_and_reserved_addresses_are_forbidden() {
        for s in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "172.16.5.4",
            "172.31.255.255",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "192.0.2.1",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "2001:0:4136:e378::1",
        ] {
            assert!(is_forbidden(ip(s)), "{s}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for s in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(!is_forbidden(ip(s)), "{s}");
        }
    }

    #[test]
    fn urls_are_checked_before_any_request() {
        assert!(check_url("https://example.com/a.jpg", false).is_ok());
        assert_eq!(
            check_url("ftp://example.com/a", false),
            Err(UrlError::Scheme)
        );
        assert_eq!(
            check_url("file:///etc/passwd", false),
            Err(UrlError::Scheme)
        );
        assert_eq!(
            check_url("https://user:pw@example.com/", false),
            Err(UrlError::Scheme)
        );
        assert_eq!(
            check_url("http://127.0.0.1:8080/x", false),
            Err(UrlError::Forbidden)
        );
        assert_eq!(check_url("http://[::1]/x", false), Err(UrlError::Forbidden));
        assert_eq!(
            check_url("http://localhost/x", false),
            Err(UrlError::Forbidden)
        );
        assert_eq!(
            check_url("http://169.254.169.254/latest/meta-data", false),
            Err(UrlError::Forbidden)
        );
        assert!(check_url("http://127.0.0.1:8080/x", true).is_ok());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_cannot_be_reached() {
        // localhost.localdomain style names resolve through the system resolver; the guard
        // must drop the loopback answer even though the name passed the literal check.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = guarded_client(false, Duration::from_secs(2));
        let err = client
            .get(format!("http://localhost.:{port}/"))
            .send()
            .await
            .expect_err("loopback through DNS is refused");
        assert!(
            err.is_connect() || err.to_string().contains("private"),
            "{err}"
        );
    }
}
