//! An emitter that keeps datagrams in memory, for tests.

use std::sync::{Arc, Mutex, PoisonError};

use super::{Emitter, document_of};

/// Keeps every datagram in memory. Clones share the same store, so a test keeps one clone and
/// hands the other to the tracer.
///
/// # Example
/// ```
/// use powertools_tracer::emitter::{Emitter, MemoryEmitter};
///
/// let captured = MemoryEmitter::new();
/// captured.emit(b"{\"format\": \"json\", \"version\": 1}\n{\"name\":\"x\"}");
/// assert_eq!(captured.documents()[0]["name"], "x");
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryEmitter {
    datagrams: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl MemoryEmitter {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The datagrams received so far, exact bytes.
    pub fn datagrams(&self) -> Vec<Vec<u8>> {
        self.lock().clone()
    }

    /// The documents received so far, parsed. A datagram without the header line or with a
    /// document that is not JSON shows as a JSON string holding its text (so a test sees it).
    pub fn documents(&self) -> Vec<serde_json::Value> {
        self.lock().iter().map(|d| parse(d)).collect()
    }

    /// Takes the documents received so far, leaving the store empty.
    pub fn take_documents(&self) -> Vec<serde_json::Value> {
        std::mem::take(&mut *self.lock())
            .iter()
            .map(|d| parse(d))
            .collect()
    }

    /// Forgets everything received.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        self.datagrams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn parse(datagram: &[u8]) -> serde_json::Value {
    document_of(datagram)
        .and_then(|doc| serde_json::from_slice(doc).ok())
        .unwrap_or_else(|| {
            serde_json::Value::String(String::from_utf8_lossy(datagram).into_owned())
        })
}

impl Emitter for MemoryEmitter {
    fn emit(&self, datagram: &[u8]) {
        self.lock().push(datagram.to_vec());
    }
}
