//! The `leaseq` console script of the Python package (`leaseq._cli:main`): the same Rust code as
//! the `leaseq` binary of the `leaseq-cli` crate, so `pip install leaseq` brings the command line.

use pyo3::prelude::*;

/// Runs the `leaseq` command line with ``args`` (the first is the program name) and returns its
/// exit status. Blocks until the command ends, with the GIL released.
#[pyfunction]
pub fn _run_cli(py: Python<'_>, args: Vec<String>) -> i32 {
    py.detach(|| leaseq_cli::run_from_args(args))
}
