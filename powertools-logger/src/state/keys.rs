//! Appended keys: extra members on every line, kept either for the process or for one invocation.

use std::sync::{LazyLock, PoisonError, RwLock, RwLockReadGuard};

use powertools_core::Invocation;
use serde::Serialize;

use super::InvocationLogState;

/// Why a key could not be appended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppendKeyError {
    /// The value could not be rendered as JSON (a map with non-string keys, a failing
    /// `Serialize` implementation).
    #[error("the value of the appended key {key:?} cannot be rendered as JSON: {source}")]
    NotJson {
        /// The key.
        key: String,
        /// What `serde_json` said.
        #[source]
        source: serde_json::Error,
    },
    /// [`append_key`] was called where no invocation is in scope: at init, or in a task spawned
    /// without the invocation's scope. The key is appended nowhere (before, it silently became a
    /// key of the process, and the next requests' lines carried it).
    #[error(
        "append_key({key:?}) was called outside an invocation (at init, or in a task spawned \
         without the invocation's scope), so the key is on no line: call \
         `append_persistent_key` for a key on every line of the process, or run the task in the \
         invocation's scope with `Invocation::scope` (`Invocation::current()` in the handler \
         gives the invocation)"
    )]
    NoInvocation {
        /// The key.
        key: String,
    },
}

/// An ordered list of `(name, JSON text)` pairs; a name appears at most once.
#[derive(Debug, Default)]
pub(crate) struct AppendedKeys {
    entries: RwLock<Vec<(Box<str>, Box<str>)>>,
}

impl AppendedKeys {
    pub(crate) fn insert(&self, name: &str, json: String) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        match entries.iter_mut().find(|(n, _)| &**n == name) {
            Some(slot) => slot.1 = json.into_boxed_str(),
            None => entries.push((name.into(), json.into_boxed_str())),
        }
    }

    pub(crate) fn remove(&self, name: &str) -> bool {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let before = entries.len();
        entries.retain(|(n, _)| &**n != name);
        entries.len() != before
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Vec<(Box<str>, Box<str>)>> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }
}

static PERSISTENT: LazyLock<AppendedKeys> = LazyLock::new(AppendedKeys::default);

/// The process-wide appended keys.
pub(crate) fn persistent_keys() -> &'static AppendedKeys {
    &PERSISTENT
}

fn to_json(name: &str, value: &impl Serialize) -> Result<String, AppendKeyError> {
    serde_json::to_string(value).map_err(|source| AppendKeyError::NotJson {
        key: name.to_owned(),
        source,
    })
}

/// Appends a key to every line of the current invocation; it is gone when the invocation ends.
///
/// A key the logger owns (`level`, `service`, …; see [`RESERVED_KEYS`](crate::RESERVED_KEYS)) is
/// logged as `field_<name>`. Concurrent invocations never see each other's keys.
///
/// # Errors
/// - [`AppendKeyError::NoInvocation`] where no invocation is in scope: at init, or in a task
///   spawned with a plain `tokio::spawn` inside the handler. For a key on every line of the
///   process, call [`append_persistent_key`]; for a spawned task, run it in the invocation's scope
///   (`Invocation::current()`, then `invocation.scope(task)`), and its key goes on the
///   invocation's lines.
/// - [`AppendKeyError::NotJson`] when the value cannot be rendered as JSON.
///
/// # Example
/// ```
/// use powertools_core::Invocation;
/// use powertools_logger::AppendKeyError;
///
/// Invocation::for_test("req-1").sync_scope(|| {
///     powertools_logger::append_key("order_id", "o-1").unwrap();
///     powertools_logger::append_key("items", &[1, 2, 3]).unwrap();
///     // … every line of this invocation now carries "order_id":"o-1","items":[1,2,3]
///     assert!(powertools_logger::remove_key("items"));
/// });
///
/// // Outside an invocation the key would belong to no request: an error, not a process-wide key.
/// let outside = powertools_logger::append_key("user_id", "u-1");
/// assert!(matches!(outside, Err(AppendKeyError::NoInvocation { .. })));
/// ```
///
/// A task spawned by the handler carries the invocation explicitly:
/// ```
/// # async fn handler() {
/// use powertools_core::Invocation;
///
/// let invocation = Invocation::current().expect("inside the handler");
/// tokio::spawn(invocation.scope(async {
///     powertools_logger::append_key("user_id", "u-1").unwrap(); // on this invocation's lines
///     tracing::info!("from the task");
/// }));
/// # }
/// ```
pub fn append_key(name: &str, value: impl Serialize) -> Result<(), AppendKeyError> {
    Invocation::with_current(|invocation| {
        let json = to_json(name, &value)?;
        InvocationLogState::of(invocation).keys.insert(name, json);
        Ok(())
    })
    .unwrap_or_else(|| {
        Err(AppendKeyError::NoInvocation {
            key: name.to_owned(),
        })
    })
}

/// Appends a key to every line of the process, across invocations (like Powertools for Python's
/// `append_keys` at module level): for values that are the same for every request (deployment,
/// region, version). An invocation's own key of the same name wins on its lines.
///
/// ```
/// powertools_logger::append_persistent_key("deployment", "blue").unwrap();
/// assert!(powertools_logger::remove_persistent_key("deployment"));
/// ```
pub fn append_persistent_key(name: &str, value: impl Serialize) -> Result<(), AppendKeyError> {
    persistent_keys().insert(name, to_json(name, &value)?);
    Ok(())
}

/// Removes a key appended to the current invocation. Returns whether there was one: false
/// outside an invocation, where no key is removed (persistent keys are removed with
/// [`remove_persistent_key`] only).
///
/// ```
/// powertools_logger::append_persistent_key("region", "eu-west-1").unwrap();
/// assert!(!powertools_logger::remove_key("region"), "not an invocation's key");
/// assert!(powertools_logger::remove_persistent_key("region"));
/// ```
pub fn remove_key(name: &str) -> bool {
    Invocation::with_current(|invocation| InvocationLogState::of(invocation).keys.remove(name))
        .unwrap_or(false)
}

/// Removes a persistent key. Returns whether there was one.
pub fn remove_persistent_key(name: &str) -> bool {
    persistent_keys().remove(name)
}

/// Sets the `correlation_id` of the current invocation's lines (overriding the one taken from the
/// event). Returns false outside an invocation, where there is nothing to correlate.
///
/// ```
/// use powertools_core::Invocation;
///
/// assert!(!powertools_logger::set_correlation_id("abc"));
/// Invocation::for_test("req-1").sync_scope(|| {
///     assert!(powertools_logger::set_correlation_id("abc"));
///     assert_eq!(powertools_logger::correlation_id().as_deref(), Some("abc"));
/// });
/// ```
pub fn set_correlation_id(id: &str) -> bool {
    Invocation::with_current(|invocation| {
        InvocationLogState::of(invocation).set_correlation_id(Some(id));
    })
    .is_some()
}

/// The current invocation's correlation id, if it has one.
pub fn correlation_id() -> Option<String> {
    Invocation::with_current(|invocation| {
        invocation
            .extensions()
            .get::<InvocationLogState>()
            .and_then(InvocationLogState::correlation_id)
    })
    .flatten()
}
