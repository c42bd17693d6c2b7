//! Options across the boundary, field for field the core's (see their docs): a connection's
//! timeouts, a queue's retry and uniqueness options, an add's priority and due time, a worker's
//! options. Durations are float seconds (`…_secs`, checked by the core's `from_secs_f64`),
//! optional ones a `has_…` flag (0 or 1) beside the value; integers are `i32`,
//! what .NET users write, and a value the core's type cannot hold is an InvalidArgument error here.
//! Flags are `u8`, not `bool`: a struct with a `bool` is not blittable, and .NET Core refuses a
//! pointer to one.

use std::time::{Duration, UNIX_EPOCH};

use leaseq::{AddOptions, ConnectionOptions, Error, QueueOptions, Result, WorkerOptions};

use crate::boundary::write_out;

/// A connection's timeouts; see `leaseq::ConnectionOptions`.
#[repr(C)]
pub struct LeaseqConnectionOptions {
    pub connect_timeout_secs: f64,
    pub has_response_timeout: u8,
    pub response_timeout_secs: f64,
}

/// A queue's options; see `leaseq::QueueOptions`.
#[repr(C)]
pub struct LeaseqQueueOptions {
    pub max_attempts: i32,
    pub backoff_base_secs: f64,
    pub backoff_max_secs: f64,
    /// 0: off.
    pub unique_window_secs: f64,
    pub clean_grace_secs: f64,
    /// 0: off; negative is an InvalidArgument error.
    pub wait_replicas: i32,
    pub wait_timeout_secs: f64,
    pub fencing: u8,
}

/// Where and when an added item becomes leasable; see `leaseq::AddOptions`.
#[repr(C)]
pub struct LeaseqAddOptions {
    /// 0 (default) to `leaseq::MAX_PRIORITY`.
    pub priority: i32,
    pub has_delay: u8,
    pub delay_secs: f64,
    pub has_at: u8,
    /// In milliseconds since the Unix epoch (Redis server clock).
    pub at_unix_ms: i64,
}

/// A worker's options; see `leaseq::WorkerOptions`.
#[repr(C)]
pub struct LeaseqWorkerOptions {
    pub concurrency: i32,
    pub lease_secs: f64,
    pub has_job_timeout: u8,
    pub job_timeout_secs: f64,
    pub shutdown_timeout_secs: f64,
    pub has_clean_every: u8,
    pub clean_every_secs: f64,
}

/// Writes the core's default options (`Default::default()` of `leaseq::ConnectionOptions`,
/// `QueueOptions` and `WorkerOptions`) to each of `out_connection`, `out_queue` and `out_worker`
/// that is not null.
///
/// # Safety
/// Each non-null pointer must be writable.
#[no_mangle]
pub unsafe extern "C" fn leaseq_options_default(
    out_connection: *mut LeaseqConnectionOptions,
    out_queue: *mut LeaseqQueueOptions,
    out_worker: *mut LeaseqWorkerOptions,
) {
    let _ = std::panic::catch_unwind(|| {
        let connection = ConnectionOptions::default();
        let (has_response_timeout, response_timeout_secs) = secs(connection.response_timeout);
        let queue = QueueOptions::default();
        let worker = WorkerOptions::default();
        let (has_job_timeout, job_timeout_secs) = secs(worker.job_timeout);
        let (has_clean_every, clean_every_secs) = secs(worker.clean_every);
        // SAFETY: each null or writable per the contract (write_out skips null).
        unsafe {
            let _ = write_out(
                out_connection,
                LeaseqConnectionOptions {
                    connect_timeout_secs: connection.connect_timeout.as_secs_f64(),
                    has_response_timeout,
                    response_timeout_secs,
                },
                "",
            );
            let _ = write_out(
                out_queue,
                LeaseqQueueOptions {
                    max_attempts: i32::try_from(queue.max_attempts).unwrap_or(i32::MAX),
                    backoff_base_secs: queue.backoff_base.as_secs_f64(),
                    backoff_max_secs: queue.backoff_max.as_secs_f64(),
                    unique_window_secs: queue.unique_window.as_secs_f64(),
                    clean_grace_secs: queue.clean_grace.as_secs_f64(),
                    wait_replicas: i32::try_from(queue.wait_replicas).unwrap_or(i32::MAX),
                    wait_timeout_secs: queue.wait_timeout.as_secs_f64(),
                    fencing: queue.fencing.into(),
                },
                "",
            );
            let _ = write_out(
                out_worker,
                LeaseqWorkerOptions {
                    has_job_timeout,
                    job_timeout_secs,
                    has_clean_every,
                    clean_every_secs,
                    lease_secs: worker.lease_duration.as_secs_f64(),
                    shutdown_timeout_secs: worker.shutdown_timeout.as_secs_f64(),
                    concurrency: i32::try_from(worker.concurrency).unwrap_or(i32::MAX),
                },
                "",
            );
        }
    });
}

/// An optional duration as a `has_…` flag and seconds.
fn secs(duration: Option<Duration>) -> (u8, f64) {
    (
        duration.is_some().into(),
        duration.map_or(0.0, |d| d.as_secs_f64()),
    )
}

/// A duration given (flag `given` not 0) as float seconds, checked by the core.
pub(crate) fn optional(given: u8, what: &str, secs: f64) -> Result<Option<Duration>> {
    (given != 0)
        .then(|| leaseq::from_secs_f64(what, secs))
        .transpose()
}

/// The highest priority level, `leaseq::MAX_PRIORITY` (0 is the default).
#[no_mangle]
pub extern "C" fn leaseq_max_priority() -> u32 {
    leaseq::MAX_PRIORITY.into()
}

/// A negative count becomes 0, which the core refuses with its own message.
fn non_negative(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

/// Copies connection options; the core checks them (zero timeouts) when the connection opens.
///
/// # Safety
/// A non-null `options` must be readable.
pub(crate) unsafe fn connection_options(
    options: *const LeaseqConnectionOptions,
) -> Result<ConnectionOptions> {
    // SAFETY: null or readable per the contract.
    let Some(options) = (unsafe { options.as_ref() }) else {
        return Ok(ConnectionOptions::default());
    };
    Ok(ConnectionOptions {
        connect_timeout: leaseq::from_secs_f64("connect timeout", options.connect_timeout_secs)?,
        response_timeout: optional(
            options.has_response_timeout,
            "response timeout",
            options.response_timeout_secs,
        )?,
    })
}

/// Copies queue options; the core checks them when the queue is made.
///
/// # Safety
/// A non-null `options` must be readable.
pub(crate) unsafe fn queue_options(options: *const LeaseqQueueOptions) -> Result<QueueOptions> {
    // SAFETY: null or readable per the contract.
    let Some(options) = (unsafe { options.as_ref() }) else {
        return Ok(QueueOptions::default());
    };
    Ok(QueueOptions {
        max_attempts: non_negative(options.max_attempts),
        backoff_base: leaseq::from_secs_f64("backoff_base", options.backoff_base_secs)?,
        backoff_max: leaseq::from_secs_f64("backoff_max", options.backoff_max_secs)?,
        unique_window: leaseq::from_secs_f64("unique_window", options.unique_window_secs)?,
        clean_grace: leaseq::from_secs_f64("clean_grace", options.clean_grace_secs)?,
        // Not `non_negative`: a negative count would become 0, which turns the wait off.
        wait_replicas: u32::try_from(options.wait_replicas).map_err(|_| {
            Error::invalid_argument(format!(
                "wait_replicas must not be negative, got {}",
                options.wait_replicas
            ))
        })?,
        wait_timeout: leaseq::from_secs_f64("wait_timeout", options.wait_timeout_secs)?,
        fencing: options.fencing != 0,
    })
}

/// Copies add options; the core checks the priority and the schedule.
///
/// # Safety
/// A non-null `options` must be readable.
pub(crate) unsafe fn add_options(options: *const LeaseqAddOptions) -> Result<AddOptions> {
    // SAFETY: null or readable per the contract.
    let Some(options) = (unsafe { options.as_ref() }) else {
        return Ok(AddOptions::default());
    };
    let priority = u8::try_from(options.priority).map_err(|_| {
        Error::invalid_argument(format!(
            "priority {} is outside 0 to {}",
            options.priority,
            leaseq::MAX_PRIORITY
        ))
    })?;
    let delay = optional(options.has_delay, "delay", options.delay_secs)?;
    let at = if options.has_at != 0 {
        let offset = Duration::from_millis(options.at_unix_ms.unsigned_abs());
        let at = if options.at_unix_ms >= 0 {
            UNIX_EPOCH.checked_add(offset)
        } else {
            UNIX_EPOCH.checked_sub(offset)
        };
        Some(at.ok_or_else(|| Error::invalid_argument("the due time is out of range"))?)
    } else {
        None
    };
    Ok(AddOptions {
        priority,
        delay,
        at,
    })
}

/// Copies worker options; the core checks them when the worker is made.
///
/// # Safety
/// A non-null `options` must be readable.
pub(crate) unsafe fn worker_options(options: *const LeaseqWorkerOptions) -> Result<WorkerOptions> {
    // SAFETY: null or readable per the contract.
    let Some(options) = (unsafe { options.as_ref() }) else {
        return Ok(WorkerOptions::default());
    };
    Ok(WorkerOptions {
        concurrency: non_negative(options.concurrency) as usize,
        lease_duration: leaseq::lease_from_secs_f64(options.lease_secs)?,
        job_timeout: optional(
            options.has_job_timeout,
            "job timeout",
            options.job_timeout_secs,
        )?,
        shutdown_timeout: leaseq::from_secs_f64("shutdown timeout", options.shutdown_timeout_secs)?,
        clean_every: optional(
            options.has_clean_every,
            "clean interval",
            options.clean_every_secs,
        )?,
    })
}
