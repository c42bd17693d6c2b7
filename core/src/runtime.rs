//! The tokio runtime behind the blocking API and the Python and .NET bindings.
//!
//! Created lazily and re-created in a child after `fork()`: tokio's worker threads do not survive
//! a fork, and pre-forked worker pools (gunicorn, celery-style prefork) are how queues are consumed.
//! No lock is taken to find it: a lock held by another thread at the instant of a fork stays held
//! for ever in the child.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;

use tokio::runtime::Runtime;

/// The runtime of the process that made it. Each generation is leaked on purpose: a child must
/// not drop its parent's runtime (that would wait on threads the child does not have).
struct Owned {
    pid: u32,
    runtime: Arc<Runtime>,
}

static RUNTIME: AtomicPtr<Owned> = AtomicPtr::new(std::ptr::null_mut());

/// The process's leaseq runtime, built on first use and again in a forked child.
pub fn runtime() -> Arc<Runtime> {
    let pid = std::process::id();
    loop {
        let current = RUNTIME.load(Ordering::Acquire);
        // SAFETY: every pointer stored in RUNTIME comes from Box::into_raw and is never freed.
        if let Some(owned) = unsafe { current.as_ref() } {
            if owned.pid == pid {
                return owned.runtime.clone();
            }
        }
        let runtime = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("leaseq-runtime")
                .enable_all()
                .build()
                .expect("leaseq: cannot start the tokio runtime (out of threads?)"),
        );
        let fresh = Box::into_raw(Box::new(Owned { pid, runtime }));
        match RUNTIME.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
            // The previous generation (if any) is the parent's: leaked, see `Owned`.
            Ok(_) => {}
            Err(_) => {
                // Another thread of this process won the race; use its runtime.
                // SAFETY: `fresh` was never shared.
                drop(unsafe { Box::from_raw(fresh) });
            }
        }
    }
}
