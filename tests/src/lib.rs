//! The end-to-end harness of powertools-rs.
//!
//! - [`runtime_api::LocalRuntimeApi`]: a local Lambda Runtime API serving scripted events.
//! - [`function::FunctionHarness`]: runs a real function binary against it with the Lambda
//!   environment, a UDP socket as X-Ray daemon, and captures everything ([`capture::Captured`]);
//!   [`capture::Captured::cloudwatch`] is what CloudWatch Logs keeps of it (lines over
//!   [`capture::MAX_LINE_BYTES`] cut into several events, Lambda's application log-level filter
//!   applied). With [`function::FunctionHarness::enforce_deadlines`] it behaves like Lambda at the
//!   deadline: the process is killed, the invocation is [`runtime_api::Outcome::TimedOut`], and
//!   the next one runs in a new process ([`capture::Captured::restarts`]).
//! - [`schema`]: EMF and X-Ray schema validation.
//!
//! The same pieces power `powertools-local`, the local runner of the README's first command.

pub mod capture;
pub mod function;
pub mod render;
pub mod runtime_api;
pub mod schema;
