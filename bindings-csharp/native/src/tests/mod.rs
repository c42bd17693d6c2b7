//! The native library's unit tests, one module per source file (kept apart so that the binding's
//! weight counts only what ships).

mod async_ops;
mod boundary;
mod handles;
mod item;
mod ops;
mod options;
