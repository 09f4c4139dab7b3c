//! Where the X-Ray daemon listens: `AWS_XRAY_DAEMON_ADDRESS`.

use std::fmt;
use std::str::FromStr;

/// The `warn_once` key of every warning about the daemon (a malformed address, a socket that
/// cannot be opened, a failed send): one line at most per process.
pub(crate) const DAEMON_WARNING: &str = "powertools_tracer.daemon";

/// The default daemon address, `127.0.0.1:2000`.
pub const DEFAULT_DAEMON_ADDRESS: &str = powertools_core::config::DEFAULT_XRAY_DAEMON_ADDRESS;

/// The X-Ray daemon's addresses: UDP for segment documents (what this crate sends), TCP for
/// sampling rules (kept for completeness; this crate does not use it).
///
/// Parsed from `host:port` (both protocols) or `tcp:host:port udp:host:port` (either order).
///
/// # Example
/// ```
/// use powertools_tracer::DaemonAddress;
///
/// let a: DaemonAddress = "169.254.79.129:2000".parse()?;
/// assert_eq!(a.udp(), "169.254.79.129:2000");
/// let b: DaemonAddress = "tcp:127.0.0.1:3000 udp:127.0.0.2:2001".parse()?;
/// assert_eq!((b.udp(), b.tcp()), ("127.0.0.2:2001", "127.0.0.1:3000"));
/// # Ok::<(), powertools_tracer::DaemonAddressError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonAddress {
    udp: String,
    tcp: String,
}

/// Why an `AWS_XRAY_DAEMON_ADDRESS` value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("X-Ray daemon address {value:?} is not host:port or \"tcp:host:port udp:host:port\"")]
pub struct DaemonAddressError {
    /// The rejected value.
    pub value: String,
}

impl DaemonAddress {
    /// The UDP `host:port` segment documents are sent to.
    pub fn udp(&self) -> &str {
        &self.udp
    }

    /// The TCP `host:port` of the daemon's sampling API.
    pub fn tcp(&self) -> &str {
        &self.tcp
    }
}

impl Default for DaemonAddress {
    fn default() -> Self {
        Self {
            udp: DEFAULT_DAEMON_ADDRESS.to_owned(),
            tcp: DEFAULT_DAEMON_ADDRESS.to_owned(),
        }
    }
}

/// Whether `s` is `host:port` with a non-empty host and a port in `1..=65535`
/// (`[v6]:port` accepted).
fn is_host_port(s: &str) -> bool {
    let Some((host, port)) = s.rsplit_once(':') else {
        return false;
    };
    let host_ok = if let Some(inner) = host.strip_prefix('[') {
        inner.strip_suffix(']').is_some_and(|h| !h.is_empty())
    } else {
        !host.is_empty() && !host.contains(':') && !host.contains(char::is_whitespace)
    };
    host_ok && port.parse::<u16>().is_ok_and(|p| p > 0)
}

impl FromStr for DaemonAddress {
    type Err = DaemonAddressError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let err = || DaemonAddressError {
            value: value.to_owned(),
        };
        let parts: Vec<&str> = value.split_whitespace().collect();
        match parts.as_slice() {
            [single] if is_host_port(single) => Ok(Self {
                udp: (*single).to_owned(),
                tcp: (*single).to_owned(),
            }),
            [a, b] => {
                let (mut udp, mut tcp) = (None, None);
                for part in [a, b] {
                    if let Some(addr) = part.strip_prefix("udp:") {
                        if udp.replace(addr).is_some() {
                            return Err(err());
                        }
                    } else if let Some(addr) = part.strip_prefix("tcp:") {
                        if tcp.replace(addr).is_some() {
                            return Err(err());
                        }
                    } else {
                        return Err(err());
                    }
                }
                match (udp, tcp) {
                    (Some(u), Some(t)) if is_host_port(u) && is_host_port(t) => Ok(Self {
                        udp: u.to_owned(),
                        tcp: t.to_owned(),
                    }),
                    _ => Err(err()),
                }
            }
            _ => Err(err()),
        }
    }
}

impl fmt::Display for DaemonAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.udp == self.tcp {
            f.write_str(&self.udp)
        } else {
            write!(f, "tcp:{} udp:{}", self.tcp, self.udp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_address_serves_both() {
        let a: DaemonAddress = "localhost:2000".parse().unwrap();
        assert_eq!((a.udp(), a.tcp()), ("localhost:2000", "localhost:2000"));
        assert_eq!(a.to_string(), "localhost:2000");
        let v6: DaemonAddress = "[::1]:2000".parse().unwrap();
        assert_eq!(v6.udp(), "[::1]:2000");
    }

    #[test]
    fn tcp_and_udp_in_either_order() {
        let a: DaemonAddress = "udp:10.0.0.1:2000 tcp:10.0.0.2:2001".parse().unwrap();
        assert_eq!((a.udp(), a.tcp()), ("10.0.0.1:2000", "10.0.0.2:2001"));
        let b: DaemonAddress = "  tcp:10.0.0.2:2001   udp:10.0.0.1:2000 ".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "tcp:10.0.0.2:2001 udp:10.0.0.1:2000");
    }

    #[test]
    fn default_is_loopback_2000() {
        assert_eq!(DaemonAddress::default().udp(), "127.0.0.1:2000");
    }

    #[test]
    fn malformed_values_are_typed_errors() {
        for bad in [
            "",
            "2000",
            "host:",
            ":2000",
            "host:0",
            "host:70000",
            "host:port",
            "udp:1.2.3.4:2000",
            "udp:1.2.3.4:2000 udp:1.2.3.4:2001",
            "udp:1.2.3.4:2000 tcp:1.2.3.4",
            "udp:1.2.3.4:2000 http:1.2.3.4:2000",
            "a:1 b:2 c:3",
            "::1:2000",
        ] {
            let e = bad.parse::<DaemonAddress>().unwrap_err();
            assert_eq!(e.value, bad);
        }
    }
}
