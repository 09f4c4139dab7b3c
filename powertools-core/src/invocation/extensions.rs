//! Per-invocation state of the utilities, attached to the [`Invocation`](super::Invocation).

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::OnceLock;

const SLOTS: usize = 8;

type Slot = OnceLock<(TypeId, Box<dyn Any + Send + Sync>)>;

/// A small, lock-free, typed map: one value per type, inserted once, read without locking.
///
/// Each utility keeps its per-invocation state here (the logger's invocation keys, the metrics
/// aggregated so far, the tracer's subsegment tree), so that state lives and dies with the
/// invocation and is never shared with another one. Interior mutability is up to the stored type.
///
/// # Example
/// ```
/// use powertools_core::Invocation;
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// #[derive(Default)]
/// struct Counter(AtomicU32);
///
/// let invocation = Invocation::for_test("req-1");
/// invocation.extensions().get_or_init(Counter::default).0.fetch_add(1, Ordering::Relaxed);
/// let seen = invocation.extensions().get::<Counter>().unwrap().0.load(Ordering::Relaxed);
/// assert_eq!(seen, 1);
/// ```
#[derive(Default)]
pub struct Extensions {
    slots: [Slot; SLOTS],
}

impl Extensions {
    /// The value of type `T`, if one was inserted.
    #[inline]
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        for slot in &self.slots {
            match slot.get() {
                Some((tid, value)) if *tid == id => return value.downcast_ref(),
                Some(_) => {}
                None => return None,
            }
        }
        None
    }

    /// The value of type `T`, inserting `init()` first if there is none.
    ///
    /// Returns `None` only if all slots are taken by other types (more than 8 distinct types,
    /// which the toolkit never does).
    #[inline]
    pub fn try_get_or_init<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> Option<&T> {
        // Read without initialising first: the value is nearly always there already.
        if let Some(value) = self.get::<T>() {
            return Some(value);
        }
        self.init_slow(init)
    }

    /// [`Extensions::try_get_or_init`] where no value of type `T` was found.
    #[inline(never)]
    fn init_slow<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> Option<&T> {
        let id = TypeId::of::<T>();
        let mut init = Some(init);
        for slot in &self.slots {
            let (tid, value) = slot.get_or_init(|| {
                let value = (init.take().expect("initialiser used once"))();
                (id, Box::new(value))
            });
            if *tid == id {
                return value.downcast_ref();
            }
        }
        None
    }

    /// Like [`Extensions::try_get_or_init`], for the toolkit's own types.
    ///
    /// # Panics
    /// If more than 8 distinct types are stored on one invocation: a toolkit bug, never caused by
    /// user input (the toolkit stores at most one type per utility).
    pub fn get_or_init<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> &T {
        self.try_get_or_init(init)
            .expect("powertools: more than 8 extension types on one invocation")
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let used = self.slots.iter().filter(|s| s.get().is_some()).count();
        f.debug_struct("Extensions").field("used", &used).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_type() {
        let e = Extensions::default();
        assert!(e.get::<u32>().is_none());
        assert_eq!(*e.get_or_init(|| 7u32), 7);
        assert_eq!(*e.get_or_init(|| 9u32), 7, "second init is ignored");
        assert_eq!(*e.get_or_init(|| String::from("s")), "s");
        assert_eq!(e.get::<u32>(), Some(&7));
        assert_eq!(e.get::<String>().map(String::as_str), Some("s"));
        assert!(e.get::<u64>().is_none());
    }

    #[test]
    fn full_map_returns_none() {
        let e = Extensions::default();
        e.get_or_init(|| 0u8);
        e.get_or_init(|| 0u16);
        e.get_or_init(|| 0u32);
        e.get_or_init(|| 0u64);
        e.get_or_init(|| 0i8);
        e.get_or_init(|| 0i16);
        e.get_or_init(|| 0i32);
        e.get_or_init(|| 0i64);
        assert!(e.try_get_or_init(|| 0u128).is_none());
        assert_eq!(e.get::<i64>(), Some(&0));
    }
}
