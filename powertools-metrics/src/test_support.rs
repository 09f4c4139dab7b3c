//! Test helpers shared with the integration tests.

#[path = "../tests/support/emf.rs"]
mod emf;

pub(crate) use emf::{check_document, schema_json};
