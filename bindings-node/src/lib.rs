//! Node binding (placeholder).
