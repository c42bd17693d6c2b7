//! Durations at the API edge: leases and timeouts keep millisecond precision.

use std::time::Duration;

use crate::error::{Error, Result};

/// The longest lease accepted: 365 days. Longer leases are almost always a unit mistake.
pub const MAX_LEASE: Duration = Duration::from_secs(365 * 24 * 3600);

/// Checks a lease duration and returns it in whole milliseconds (what `PX`/`PEXPIRE` take).
///
/// Sub-millisecond parts are rounded up, so a positive duration never becomes a zero lease.
pub fn lease_millis(lease_duration: Duration) -> Result<u64> {
    if lease_duration.is_zero() {
        return Err(Error::invalid_argument("lease duration must be positive"));
    }
    if lease_duration > MAX_LEASE {
        return Err(Error::invalid_argument(format!(
            "lease duration {lease_duration:?} is longer than the maximum of 365 days"
        )));
    }
    let nanos = lease_duration.as_nanos();
    Ok(nanos.div_ceil(1_000_000) as u64)
}

/// Converts float seconds (what Python, Node and .NET users pass) into a [`Duration`].
///
/// `what` names the argument in the error message. Refuses NaN, infinities and negatives.
pub fn from_secs_f64(what: &str, secs: f64) -> Result<Duration> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(Error::invalid_argument(format!(
            "{what} must be a finite, non-negative number of seconds, got {secs}"
        )));
    }
    Duration::try_from_secs_f64(secs)
        .map_err(|_| Error::invalid_argument(format!("{what} of {secs} seconds is too large")))
}

/// Converts float seconds into a lease duration, checked as [`lease_millis`] checks it.
pub fn lease_from_secs_f64(secs: f64) -> Result<Duration> {
    let duration = from_secs_f64("lease duration", secs)?;
    lease_millis(duration)?;
    Ok(duration)
}
