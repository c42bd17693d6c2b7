//! `worker.rs`: the C ABI refuses what it cannot use instead of following it.

use std::ptr::{null, null_mut};

use crate::*;

#[test]
fn null_handles_and_a_missing_callback_are_refused_not_followed() {
    let (mut made, mut error) = (null_mut(), null_mut());
    let code = unsafe {
        leaseq_worker_new(
            null(),
            1,
            None,
            false,
            null(),
            0,
            null(),
            false,
            false,
            &mut made,
            &mut error,
        )
    };
    assert_ne!(code, 0);
    assert!(made.is_null());
    unsafe { leaseq_error_free(error) };
    assert!(!unsafe { leaseq_worker_job_done(null(), 1, true, null(), 0) });
    unsafe { leaseq_worker_stop(null()) };
    unsafe { leaseq_worker_free(null_mut()) };
}
