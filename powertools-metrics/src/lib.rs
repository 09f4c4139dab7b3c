//! powertools-metrics (work in progress).
