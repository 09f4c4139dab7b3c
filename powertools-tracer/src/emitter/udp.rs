//! The emitter used in Lambda: one non-blocking UDP socket to the X-Ray daemon.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::OnceLock;

use powertools_core::warning::warn_once;

use super::Emitter;
use crate::DaemonAddress;

/// Sends datagrams to the X-Ray daemon's UDP address.
///
/// The socket is opened on first use (resolving the address once), is non-blocking, and a send
/// that fails is dropped with one warning line per process: tracing never fails or stalls the
/// handler.
///
/// # Example
/// ```
/// use powertools_tracer::emitter::{Emitter, UdpEmitter};
///
/// let receiver = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let emitter = UdpEmitter::new(receiver.local_addr()?.to_string().parse()?);
/// emitter.emit(b"{\"format\": \"json\", \"version\": 1}\n{}");
/// let mut buf = [0u8; 64];
/// let n = receiver.recv(&mut buf)?;
/// assert_eq!(&buf[..n], b"{\"format\": \"json\", \"version\": 1}\n{}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct UdpEmitter {
    address: DaemonAddress,
    socket: OnceLock<Option<UdpSocket>>,
}

impl UdpEmitter {
    /// An emitter for the daemon at `address` (nothing is opened until the first datagram).
    pub fn new(address: DaemonAddress) -> Self {
        Self {
            address,
            socket: OnceLock::new(),
        }
    }

    /// The daemon's address.
    pub fn address(&self) -> &DaemonAddress {
        &self.address
    }

    fn socket(&self) -> Option<&UdpSocket> {
        self.socket.get_or_init(|| match open(self.address.udp()) {
            Ok(socket) => Some(socket),
            Err(e) => {
                warn_once(
                    crate::daemon_address::DAEMON_WARNING,
                    "powertools_tracer",
                    &format!(
                        "cannot open a UDP socket to the X-Ray daemon at {}: {e}; no trace data will be sent",
                        self.address.udp()
                    ),
                );
                None
            }
        })
        .as_ref()
    }
}

fn open(address: &str) -> std::io::Result<UdpSocket> {
    let target: SocketAddr = address
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("the address resolves to nothing"))?;
    let local: SocketAddr = if target.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local)?;
    socket.connect(target)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

impl Emitter for UdpEmitter {
    fn emit(&self, datagram: &[u8]) {
        let Some(socket) = self.socket() else { return };
        if let Err(e) = socket.send(datagram) {
            warn_once(
                crate::daemon_address::DAEMON_WARNING,
                "powertools_tracer",
                &format!(
                    "sending a trace document to the X-Ray daemon at {} failed: {e}; this and later failures drop the document (warned once)",
                    self.address.udp()
                ),
            );
        }
    }
}
