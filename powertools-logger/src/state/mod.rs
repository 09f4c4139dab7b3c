//! The logger's state: appended keys (process-wide and per invocation) and what else one
//! invocation carries (correlation id, sampling decision, log buffer).

mod invocation;
mod keys;

pub(crate) use invocation::InvocationLogState;
pub use keys::{
    AppendKeyError, append_key, append_persistent_key, correlation_id, remove_key,
    remove_persistent_key, set_correlation_id,
};
pub(crate) use keys::{AppendedKeys, persistent_keys};
