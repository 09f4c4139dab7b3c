//! The keys the logger owns: a user field or appended key with one of these names is renamed
//! (`field_<name>`) so it can never forge them, and the user is told once per name.

use std::sync::atomic::{AtomicU32, Ordering};

use super::json;

/// The keys every line may carry and no user value may overwrite.
pub const RESERVED_KEYS: [&str; 17] = [
    "level",
    "location",
    "message",
    "timestamp",
    "service",
    "sampling_rate",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "correlation_id",
    "xray_trace_id",
    "tenant_id",
    "exception",
    "exception_name",
    "exception_chain",
];

/// The prefix a reserved name gets when a user field carries it.
pub const RENAMED_PREFIX: &str = "field_";

static WARNED: AtomicU32 = AtomicU32::new(0);

/// The index of `name` in [`RESERVED_KEYS`], if it is reserved.
#[inline]
pub(crate) fn reserved_index(name: &str) -> Option<usize> {
    // Cheap rejection first: every reserved key starts with one of these letters.
    match name.as_bytes().first() {
        Some(b'l' | b'm' | b't' | b's' | b'c' | b'f' | b'x' | b'e') => {}
        _ => return None,
    }
    RESERVED_KEYS.iter().position(|k| *k == name)
}

/// Whether `name` is one of the logger's own keys.
///
/// ```
/// assert!(powertools_logger::is_reserved_key("function_arn"));
/// assert!(!powertools_logger::is_reserved_key("order_id"));
/// ```
pub fn is_reserved_key(name: &str) -> bool {
    reserved_index(name).is_some()
}

/// Appends `,"<name>":` for a user-supplied name, renaming a reserved one.
#[inline]
pub(crate) fn write_user_key(out: &mut Vec<u8>, name: &str) {
    match reserved_index(name) {
        None => json::write_key(out, name),
        Some(index) => {
            warn_renamed(index);
            out.extend_from_slice(b",\"");
            out.extend_from_slice(RENAMED_PREFIX.as_bytes());
            json::escape_into(out, name);
            out.extend_from_slice(b"\":");
        }
    }
}

fn warn_renamed(index: usize) {
    let bit = 1u32 << index;
    if WARNED.fetch_or(bit, Ordering::Relaxed) & bit == 0 {
        let name = RESERVED_KEYS[index];
        powertools_core::warning::warn(
            "powertools_logger",
            &format!(
                "the key \"{name}\" is reserved by the logger; the user value is logged as \
                 \"{RENAMED_PREFIX}{name}\" instead"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_are_renamed() {
        for name in RESERVED_KEYS {
            let mut out = Vec::new();
            write_user_key(&mut out, name);
            assert_eq!(out, format!(",\"field_{name}\":").into_bytes());
        }
        let mut out = Vec::new();
        write_user_key(&mut out, "order \"id\"");
        assert_eq!(out, br#","order \"id\"":"#);
        assert!(!is_reserved_key("levels"));
        assert!(!is_reserved_key(""));
    }
}
