//! powertools-tracer (work in progress).
