//! Options across the boundary: a connection's timeouts, a queue's retry and uniqueness options,
//! an add's priority and due time, a worker's options. Durations are float seconds (checked by the core's
//! `from_secs_f64`), optional ones a `has_…` flag (0 or 1) beside the value; integers are `i32`,
//! what .NET users write, and a value the core's type cannot hold is an InvalidArgument error here.
//! Flags are `u8`, not `bool`: a struct with a `bool` is not blittable, and .NET Core refuses a
//! pointer to one.

use std::time::{Duration, UNIX_EPOCH};

use leaseq::{AddOptions, ConnectionOptions, Error, QueueOptions, Result, WorkerOptions};

use crate::boundary::write_out;

/// A connection's timeouts; see `leaseq::ConnectionOptions`.
/// [`leaseq_connection_options_default`] gives the core's defaults.
#[repr(C)]
pub struct LeaseqConnectionOptions {
    /// How long opening a TCP/TLS connection may take, in seconds (positive).
    pub connect_timeout_secs: f64,
    /// Whether `response_timeout_secs` is given (0 or 1; without it an operation waits for ever).
    pub has_response_timeout: u8,
    /// How long one operation may wait for Redis's answer before it is a Timeout error, in
    /// seconds (positive).
    pub response_timeout_secs: f64,
}

/// A queue's options; see `leaseq::QueueOptions`. [`leaseq_queue_options_default`] gives the
/// core's defaults.
#[repr(C)]
pub struct LeaseqQueueOptions {
    /// Leases an item gets before a failure sends it to the dead letters (at least 1).
    pub max_attempts: i32,
    /// The first retry's backoff, in seconds; each later one doubles, with jitter.
    pub backoff_base_secs: f64,
    /// The longest backoff, in seconds.
    pub backoff_max_secs: f64,
    /// How long after an item is completed `add_item` refuses its id, in seconds (0: off).
    pub unique_window_secs: f64,
    /// How long a clean leaves alone an id in processing without a lease (or an item in no
    /// list) before it reclaims it, in seconds.
    pub clean_grace_secs: f64,
    /// Replicas that must acknowledge each add and complete (Redis `WAIT`; 0: off, not negative).
    pub wait_replicas: i32,
    /// How long adds and completes wait for `wait_replicas`, in seconds (positive when set).
    pub wait_timeout_secs: f64,
    /// Whether renew, complete, fail and release of a superseded delivery fail with LeaseLost
    /// (0 or 1).
    pub fencing: u8,
}

/// Where and when an added item becomes leasable; see `leaseq::AddOptions`.
#[repr(C)]
pub struct LeaseqAddOptions {
    /// 0 (default) to `leaseq::MAX_PRIORITY`.
    pub priority: i32,
    /// Whether `delay_secs` is given (0 or 1).
    pub has_delay: u8,
    /// Not leasable until this many seconds after the add (Redis server time).
    pub delay_secs: f64,
    /// Whether `at_unix_ms` is given (0 or 1; give a delay or a time, not both).
    pub has_at: u8,
    /// Not leasable before this time, in milliseconds since the Unix epoch (Redis server clock).
    pub at_unix_ms: i64,
}

/// A worker's options; see `leaseq::WorkerOptions`. [`leaseq_worker_options_default`] gives the
/// core's defaults.
#[repr(C)]
pub struct LeaseqWorkerOptions {
    /// Items run at once (at least 1).
    pub concurrency: i32,
    /// The lease taken on each item, in seconds; renewed every third of it while the handler runs.
    pub lease_secs: f64,
    /// Whether `job_timeout_secs` is given (0 or 1; without it a handler may run for ever).
    pub has_job_timeout: u8,
    /// A handler running longer is abandoned and the item failed with a timeout.
    pub job_timeout_secs: f64,
    /// After a stop, how long running handlers may still finish, in seconds.
    pub shutdown_timeout_secs: f64,
    /// Whether `clean_every_secs` is given (0 or 1; without it the worker never runs a light clean).
    pub has_clean_every: u8,
    /// How often the worker runs a light clean, in seconds.
    pub clean_every_secs: f64,
}

/// Writes the core's default connection options (`leaseq::ConnectionOptions::default()`) to
/// `out_options`.
///
/// # Safety
/// `out_options` must be writable (null is ignored).
#[no_mangle]
pub unsafe extern "C" fn leaseq_connection_options_default(
    out_options: *mut LeaseqConnectionOptions,
) {
    let _ = std::panic::catch_unwind(|| {
        let defaults = ConnectionOptions::default();
        let raw = LeaseqConnectionOptions {
            connect_timeout_secs: defaults.connect_timeout.as_secs_f64(),
            has_response_timeout: defaults.response_timeout.is_some().into(),
            response_timeout_secs: defaults
                .response_timeout
                .map_or(0.0, |timeout| timeout.as_secs_f64()),
        };
        // SAFETY: null or writable per the contract.
        let _ = unsafe { write_out(out_options, raw, "out_options") };
    });
}

/// Writes the core's default queue options (`leaseq::QueueOptions::default()`) to `out_options`.
///
/// # Safety
/// `out_options` must be writable (null is ignored).
#[no_mangle]
pub unsafe extern "C" fn leaseq_queue_options_default(out_options: *mut LeaseqQueueOptions) {
    let _ = std::panic::catch_unwind(|| {
        let defaults = QueueOptions::default();
        let raw = LeaseqQueueOptions {
            max_attempts: i32::try_from(defaults.max_attempts).unwrap_or(i32::MAX),
            backoff_base_secs: defaults.backoff_base.as_secs_f64(),
            backoff_max_secs: defaults.backoff_max.as_secs_f64(),
            unique_window_secs: defaults.unique_window.as_secs_f64(),
            clean_grace_secs: defaults.clean_grace.as_secs_f64(),
            wait_replicas: i32::try_from(defaults.wait_replicas).unwrap_or(i32::MAX),
            wait_timeout_secs: defaults.wait_timeout.as_secs_f64(),
            fencing: defaults.fencing.into(),
        };
        // SAFETY: null or writable per the contract.
        let _ = unsafe { write_out(out_options, raw, "out_options") };
    });
}

/// Writes the core's default worker options (`leaseq::WorkerOptions::default()`) to `out_options`.
///
/// # Safety
/// `out_options` must be writable (null is ignored).
#[no_mangle]
pub unsafe extern "C" fn leaseq_worker_options_default(out_options: *mut LeaseqWorkerOptions) {
    let _ = std::panic::catch_unwind(|| {
        let defaults = WorkerOptions::default();
        let raw = LeaseqWorkerOptions {
            concurrency: i32::try_from(defaults.concurrency).unwrap_or(i32::MAX),
            lease_secs: defaults.lease_duration.as_secs_f64(),
            has_job_timeout: defaults.job_timeout.is_some().into(),
            job_timeout_secs: defaults
                .job_timeout
                .map_or(0.0, |timeout| timeout.as_secs_f64()),
            shutdown_timeout_secs: defaults.shutdown_timeout.as_secs_f64(),
            has_clean_every: defaults.clean_every.is_some().into(),
            clean_every_secs: defaults
                .clean_every
                .map_or(0.0, |every| every.as_secs_f64()),
        };
        // SAFETY: null or writable per the contract.
        let _ = unsafe { write_out(out_options, raw, "out_options") };
    });
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
    let response_timeout = if options.has_response_timeout != 0 {
        Some(leaseq::from_secs_f64(
            "response timeout",
            options.response_timeout_secs,
        )?)
    } else {
        None
    };
    Ok(ConnectionOptions {
        connect_timeout: leaseq::from_secs_f64("connect timeout", options.connect_timeout_secs)?,
        response_timeout,
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
    let delay = if options.has_delay != 0 {
        Some(leaseq::from_secs_f64("delay", options.delay_secs)?)
    } else {
        None
    };
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
    let optional = |given: u8, what: &str, secs: f64| -> Result<Option<Duration>> {
        if given != 0 {
            Ok(Some(leaseq::from_secs_f64(what, secs)?))
        } else {
            Ok(None)
        }
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
