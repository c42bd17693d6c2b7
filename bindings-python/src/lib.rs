//! leaseq for Python: pyo3 glue over the `leaseq` core crate.
//!
//! Every method converts its arguments, calls the core, and maps the error; queue behaviour lives
//! in the core. The blocking classes release the GIL around each Redis call (`bridge::run`); the
//! asyncio classes return awaitables resolved from leaseq's runtime (`bridge::Operation`). The
//! `Worker` runs the core's worker runtime with a Python handler (`worker.rs`).

use pyo3::prelude::*;

#[macro_use]
mod docs;

mod aio;
mod bridge;
mod cli;
mod connection;
mod convert;
mod error;
mod item;
mod operations;
mod queue;
mod worker;

/// The compiled part of leaseq. Import from ``leaseq`` and ``leaseq.aio`` instead.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<connection::Connection>()?;
    module.add_class::<queue::WorkQueue>()?;
    module.add_class::<item::Item>()?;
    module.add_class::<item::CleanReport>()?;
    module.add_class::<item::FailOutcome>()?;
    module.add_class::<item::DeadItem>()?;
    module.add_class::<worker::Worker>()?;
    module.add_class::<worker::WorkerCounters>()?;
    // Named `Connection` and `WorkQueue` in `leaseq.aio`; distinct attribute names here.
    module.add(
        "AsyncConnection",
        py.get_type::<connection::AsyncConnection>(),
    )?;
    module.add("AsyncWorkQueue", py.get_type::<aio::AsyncWorkQueue>())?;
    module.add("ERROR_KINDS", error::error_kinds(py)?)?;
    module.add_function(wrap_pyfunction!(error::exception_class, module)?)?;
    module.add_function(wrap_pyfunction!(bridge::_panic_for_tests, module)?)?;
    // The console script's entry (leaseq._cli), not the library's API: out of __all__ and the stub.
    module.setattr("_run_cli", wrap_pyfunction!(cli::_run_cli, module)?)?;
    bridge::register(py)?;
    Ok(())
}
