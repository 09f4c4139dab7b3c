//! Log buffering: verbose lines held per invocation and written only when something fails.

use std::collections::VecDeque;

use powertools_core::config::LogLevel;

/// How lines are buffered (off unless configured).
///
/// Inside an invocation, a line at `buffer_at_level` or more verbose (and enabled by the log
/// level) is held in memory instead of written. The held lines are written — in order, with their
/// original timestamps — when an ERROR line is logged (if `flush_on_error_log`) or when the
/// handler returns `Err` or panics; they are discarded when the invocation succeeds. The buffer
/// is bounded: when a line does not fit, the oldest lines are evicted and one warning line says
/// how many (at a level Lambda's log-level filter keeps, `ERROR` under
/// `AWS_LAMBDA_LOG_LEVEL=ERROR`). Held lines are already within CloudWatch's event size (see the
/// crate documentation). Outside an invocation nothing is buffered.
///
/// # Example
/// ```
/// use powertools_core::config::LogLevel;
/// use powertools_logger::{BufferConfig, Logger};
///
/// let logger = Logger::new()
///     .level(LogLevel::Debug)
///     .buffer(BufferConfig::new().max_bytes(20 * 1024).buffer_at_level(LogLevel::Debug));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferConfig {
    max_bytes: usize,
    buffer_at_level: LogLevel,
    flush_on_error_log: bool,
}

impl Default for BufferConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl BufferConfig {
    /// 20 KiB, DEBUG and more verbose, flushed on an ERROR line.
    pub fn new() -> Self {
        Self {
            max_bytes: 20 * 1024,
            buffer_at_level: LogLevel::Debug,
            flush_on_error_log: true,
        }
    }

    /// The most bytes held per invocation.
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Lines at this level and more verbose are held.
    pub fn buffer_at_level(mut self, level: LogLevel) -> Self {
        self.buffer_at_level = level;
        self
    }

    /// Whether an ERROR line writes the held lines first (default true).
    pub fn flush_on_error_log(mut self, flush: bool) -> Self {
        self.flush_on_error_log = flush;
        self
    }

    /// The configured byte bound.
    pub fn max_bytes_value(&self) -> usize {
        self.max_bytes
    }

    /// Whether a line at `level` is held.
    pub fn holds(&self, level: LogLevel) -> bool {
        level >= self.buffer_at_level
    }

    /// Whether an ERROR line flushes.
    pub fn flushes_on_error_log(&self) -> bool {
        self.flush_on_error_log
    }
}

/// The lines held for one invocation.
#[derive(Debug, Default)]
pub(crate) struct LogBuffer {
    lines: VecDeque<Box<[u8]>>,
    bytes: usize,
    evicted: usize,
    warned: bool,
}

/// What [`LogBuffer::push`] did beyond holding the line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Held, nothing lost.
    Held,
    /// Lines were evicted for the first time in this invocation: warn now.
    FirstEviction,
    /// Lines were evicted again (already warned).
    Evicted,
}

impl LogBuffer {
    /// Holds `line`, evicting the oldest lines to stay within `max_bytes`.
    pub(crate) fn push(&mut self, line: &[u8], max_bytes: usize) -> Pushed {
        let mut evicted = 0;
        if line.len() > max_bytes {
            // Larger than the whole buffer: it is the one evicted.
            evicted += 1;
        } else {
            while self.bytes + line.len() > max_bytes {
                match self.lines.pop_front() {
                    Some(old) => {
                        self.bytes -= old.len();
                        evicted += 1;
                    }
                    None => break,
                }
            }
            self.bytes += line.len();
            self.lines.push_back(line.into());
        }
        if evicted == 0 {
            return Pushed::Held;
        }
        self.evicted += evicted;
        if self.warned {
            Pushed::Evicted
        } else {
            self.warned = true;
            Pushed::FirstEviction
        }
    }

    /// Takes the held lines, oldest first.
    pub(crate) fn take(&mut self) -> VecDeque<Box<[u8]>> {
        self.bytes = 0;
        std::mem::take(&mut self.lines)
    }

    /// Drops the held lines.
    pub(crate) fn clear(&mut self) {
        self.lines.clear();
        self.bytes = 0;
    }

    /// How many lines were evicted so far in this invocation.
    #[cfg(test)]
    pub(crate) fn evicted(&self) -> usize {
        self.evicted
    }

    /// How many lines were evicted since the last call (and resets the count).
    pub(crate) fn take_evicted(&mut self) -> usize {
        std::mem::take(&mut self.evicted)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lines.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_and_warns_once() {
        let mut b = LogBuffer::default();
        assert_eq!(b.push(b"aaaa\n", 12), Pushed::Held);
        assert_eq!(b.push(b"bbbb\n", 12), Pushed::Held);
        assert_eq!(b.push(b"cccc\n", 12), Pushed::FirstEviction);
        assert_eq!(b.push(b"dddd\n", 12), Pushed::Evicted);
        assert_eq!(b.evicted(), 2);
        let held: Vec<_> = b.take().into_iter().collect();
        assert_eq!(
            held,
            [b"cccc\n".as_slice().into(), b"dddd\n".as_slice().into()]
        );
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn a_line_larger_than_the_buffer_is_the_one_evicted() {
        let mut b = LogBuffer::default();
        b.push(b"ab\n", 4);
        assert_eq!(b.push(b"too long\n", 4), Pushed::FirstEviction);
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn holds_levels_at_and_below() {
        let c = BufferConfig::new().buffer_at_level(LogLevel::Info);
        assert!(c.holds(LogLevel::Info) && c.holds(LogLevel::Trace));
        assert!(!c.holds(LogLevel::Warn));
    }
}
