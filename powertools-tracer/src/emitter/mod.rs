//! Where finished documents go: the X-Ray daemon over UDP, or memory in tests.
//!
//! Every datagram is the daemon's header line followed by one segment document
//! ([`DATAGRAM_HEADER`]), at most [`MAX_DATAGRAM_BYTES`] long.

mod memory;
mod udp;

pub use memory::MemoryEmitter;
pub use udp::UdpEmitter;

/// The line every datagram starts with, newline included.
pub const DATAGRAM_HEADER: &[u8] = b"{\"format\": \"json\", \"version\": 1}\n";

/// The largest datagram sent: the largest UDP payload over IPv4, below the daemon's 64 KiB buffer.
pub const MAX_DATAGRAM_BYTES: usize = 65_507;

/// The largest document that fits in one datagram.
pub const MAX_DOCUMENT_BYTES: usize = MAX_DATAGRAM_BYTES - DATAGRAM_HEADER.len();

/// Receives each finished datagram (header line + one document).
///
/// Implementations must not block and must not panic: they run on the handler's path. The tracer
/// calls [`Emitter::emit`] before the invocation's response is returned.
///
/// # Example
/// ```
/// use powertools_tracer::emitter::{Emitter, DATAGRAM_HEADER};
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// #[derive(Default)]
/// struct CountBytes(AtomicUsize);
///
/// impl Emitter for CountBytes {
///     fn emit(&self, datagram: &[u8]) {
///         assert!(datagram.starts_with(DATAGRAM_HEADER));
///         self.0.fetch_add(datagram.len(), Ordering::Relaxed);
///     }
/// }
/// ```
pub trait Emitter: Send + Sync + 'static {
    /// Sends one datagram. Errors are the emitter's to report (a warning line), never the
    /// caller's.
    fn emit(&self, datagram: &[u8]);
}

/// The document inside a datagram, when it starts with [`DATAGRAM_HEADER`].
///
/// ```
/// use powertools_tracer::emitter::document_of;
/// let datagram = b"{\"format\": \"json\", \"version\": 1}\n{\"id\":\"1\"}";
/// assert_eq!(document_of(datagram), Some(&b"{\"id\":\"1\"}"[..]));
/// ```
pub fn document_of(datagram: &[u8]) -> Option<&[u8]> {
    datagram.strip_prefix(DATAGRAM_HEADER)
}
