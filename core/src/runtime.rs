//! The tokio runtime behind the blocking API and the Python and .NET bindings.
//!
//! Created lazily and re-created in a child after `fork()`: tokio's worker threads do not survive
//! a fork, and pre-forked worker pools (gunicorn, celery-style prefork) are how queues are consumed.

use std::sync::{Arc, Mutex};

use tokio::runtime::Runtime;

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The process's leaseq runtime, built on first use and again in a forked child.
pub fn runtime() -> Arc<Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((owner, runtime)) = slot.as_ref() {
        if *owner == pid {
            return runtime.clone();
        }
    }
    if let Some((_, inherited)) = slot.take() {
        // The parent's runtime has no threads in this child; dropping it would wait on them.
        std::mem::forget(inherited);
    }
    let runtime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("leaseq-runtime")
            .enable_all()
            .build()
            .expect("leaseq: cannot start the tokio runtime (out of threads?)"),
    );
    *slot = Some((pid, runtime.clone()));
    runtime
}
