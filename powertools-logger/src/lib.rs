//! powertools-logger (work in progress).
