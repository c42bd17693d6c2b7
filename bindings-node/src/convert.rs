//! JavaScript numbers and dates at the API edge: whole numbers, and points in time.
//!
//! Seconds go through the core's own `leaseq::from_secs_f64`/`lease_from_secs_f64`; what is here
//! only turns JavaScript's one number type into the integers and times the core takes, refusing
//! what would otherwise be truncated or wrapped silently.

use std::ptr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::{FromNapiValue, ToNapiValue, TypeName, ValidateNapiValue};
use napi::{check_status, sys, Status, ValueType};

/// The largest whole number a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A whole number from a JavaScript number: refuses fractions, negatives, NaN and values over
/// `max` with an `EINVAL` error naming `what`.
pub fn whole(what: &str, value: f64, max: u64) -> leaseq::Result<u64> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= max as f64 {
        Ok(value as u64)
    } else {
        Err(leaseq::Error::invalid_argument(format!(
            "{what} must be a whole number from 0 to {max}, got {value}"
        )))
    }
}

/// A point in time as JavaScript passes it: a `Date`, or a number of milliseconds since the Unix
/// epoch (what `Date.now()` returns).
pub struct Timestamp(f64);

impl Timestamp {
    /// The time as the core takes it; `what` names the argument in the error.
    pub fn system_time(&self, what: &str) -> leaseq::Result<SystemTime> {
        let millis = self.0;
        if !millis.is_finite() {
            return Err(leaseq::Error::invalid_argument(format!(
                "{what} must be a valid Date or a finite number of milliseconds, got {millis}"
            )));
        }
        let offset = Duration::try_from_secs_f64(millis.abs() / 1000.0).map_err(|_| {
            leaseq::Error::invalid_argument(format!("{what} of {millis} ms is out of range"))
        })?;
        // A time before 1970 is passed on as such: the core says why it refuses it.
        let time = if millis >= 0.0 {
            UNIX_EPOCH.checked_add(offset)
        } else {
            UNIX_EPOCH.checked_sub(offset)
        };
        time.ok_or_else(|| {
            leaseq::Error::invalid_argument(format!("{what} of {millis} ms is out of range"))
        })
    }
}

impl TypeName for Timestamp {
    fn type_name() -> &'static str {
        "Date | number"
    }

    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ValidateNapiValue for Timestamp {}

impl FromNapiValue for Timestamp {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        let mut is_date = false;
        check_status!(unsafe { sys::napi_is_date(env, value, &mut is_date) })?;
        let mut millis = 0.0;
        if is_date {
            check_status!(unsafe { sys::napi_get_date_value(env, value, &mut millis) })?;
            return Ok(Timestamp(millis));
        }
        let mut kind = 0;
        check_status!(unsafe { sys::napi_typeof(env, value, &mut kind) })?;
        if kind != sys::ValueType::napi_number {
            return Err(napi::Error::new(
                Status::DateExpected,
                "expected a Date or a number of milliseconds since the epoch",
            ));
        }
        check_status!(unsafe { sys::napi_get_value_double(env, value, &mut millis) })?;
        Ok(Timestamp(millis))
    }
}

/// A time the core returns, handed to JavaScript as a `Date`.
pub struct JsDate(pub SystemTime);

impl TypeName for JsDate {
    fn type_name() -> &'static str {
        "Date"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for JsDate {
    unsafe fn to_napi_value(env: sys::napi_env, date: Self) -> napi::Result<sys::napi_value> {
        let millis = match date.0.duration_since(UNIX_EPOCH) {
            Ok(after) => after.as_secs_f64() * 1000.0,
            Err(before) => -before.duration().as_secs_f64() * 1000.0,
        };
        let mut value = ptr::null_mut();
        check_status!(unsafe { sys::napi_create_date(env, millis.round(), &mut value) })?;
        Ok(value)
    }
}
