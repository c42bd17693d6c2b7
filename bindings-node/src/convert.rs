//! JavaScript values at the API edge: arguments of the wrong type, strings, whole numbers and
//! points in time.
//!
//! napi-rs converts a method's arguments before the method runs and throws its own codes
//! (`NumberExpected`, `InvalidArg`, …) for a value of the wrong type, without naming the
//! argument, and reads strings as UTF-8, turning a lone surrogate into U+FFFD (two different ids,
//! one item). So every public method takes its arguments as [`Arg`]: the conversion never fails
//! there, and the method reads each argument by name, which makes a wrong value an `EINVAL`
//! error ("leaseSecs must be a number, got a string ("30")"), thrown by constructors and sync
//! methods and rejected by the ones that return a Promise, like every other error of theirs.
//!
//! Seconds go through the core's own `leaseq::from_secs_f64`/`lease_from_secs_f64`; what is here
//! only turns JavaScript's one number type into the integers and times the core takes, refusing
//! what would otherwise be truncated or wrapped silently.

use std::ffi::CString;
use std::ptr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::{
    Either, FromNapiRef, FromNapiValue, Function, FunctionRef, Null, ToNapiValue, TypeName,
    Uint8Array, ValidateNapiValue,
};
use napi::{check_status, sys, Status, ValueType};

/// Why a JavaScript value is not what an argument takes: where inside the argument (`""` for the
/// argument itself, `".block"`, `"[2]"`) and what is wrong with it.
pub struct Mismatch {
    path: String,
    problem: String,
}

impl Mismatch {
    /// `value` is not `expected` (a phrase: "a number", "an instance of Item").
    ///
    /// # Safety
    /// On the JavaScript thread, with a value of `env`.
    unsafe fn expected(env: sys::napi_env, expected: &str, value: sys::napi_value) -> Mismatch {
        Mismatch {
            path: String::new(),
            problem: format!("must be {expected}, got {}", unsafe {
                describe(env, value)
            }),
        }
    }

    /// The same mismatch, inside a property or an element (`step` is `".name"` or `"[3]"`).
    fn within(mut self, step: &str) -> Mismatch {
        self.path.insert_str(0, step);
        self
    }

    /// The `EINVAL` error for the argument `name`.
    pub fn into_error(self, name: &str) -> leaseq::Error {
        leaseq::Error::invalid_argument(format!("{name}{} {}", self.path, self.problem))
    }
}

/// What a value is, for messages: its type, and for a short primitive its value.
///
/// # Safety
/// On the JavaScript thread, with a value of `env`.
unsafe fn describe(env: sys::napi_env, value: sys::napi_value) -> String {
    let mut kind = sys::ValueType::napi_undefined;
    if unsafe { sys::napi_typeof(env, value, &mut kind) } != sys::Status::napi_ok {
        return "a value of unknown type".to_owned();
    }
    match kind {
        sys::ValueType::napi_undefined => "undefined".to_owned(),
        sys::ValueType::napi_null => "null".to_owned(),
        sys::ValueType::napi_boolean => {
            let mut flag = false;
            unsafe { sys::napi_get_value_bool(env, value, &mut flag) };
            format!("a boolean ({flag})")
        }
        sys::ValueType::napi_number => {
            let mut number = 0.0;
            unsafe { sys::napi_get_value_double(env, value, &mut number) };
            format!("a number ({number})")
        }
        sys::ValueType::napi_string => match unsafe { utf16(env, value) } {
            Ok(units) if units.len() <= 40 => {
                format!("a string ({:?})", String::from_utf16_lossy(&units))
            }
            _ => "a string".to_owned(),
        },
        sys::ValueType::napi_symbol => "a symbol".to_owned(),
        sys::ValueType::napi_function => "a function".to_owned(),
        sys::ValueType::napi_bigint => "a bigint".to_owned(),
        _ => {
            let mut is_array = false;
            unsafe { sys::napi_is_array(env, value, &mut is_array) };
            if is_array {
                "an array".to_owned()
            } else {
                "an object".to_owned()
            }
        }
    }
}

/// `typeof value`, as napi numbers it.
///
/// # Safety
/// On the JavaScript thread, with a value of `env`.
unsafe fn type_of(env: sys::napi_env, value: sys::napi_value) -> sys::napi_valuetype {
    let mut kind = sys::ValueType::napi_undefined;
    unsafe { sys::napi_typeof(env, value, &mut kind) };
    kind
}

/// A JavaScript string as it is: UTF-16 code units, lone surrogates included.
///
/// # Safety
/// On the JavaScript thread, with a string of `env`.
unsafe fn utf16(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Vec<u16>> {
    let mut len = 0;
    check_status!(unsafe {
        sys::napi_get_value_string_utf16(env, value, ptr::null_mut(), 0, &mut len)
    })?;
    // napi writes a terminating 0 and counts it out of the buffer's size.
    let mut units = vec![0u16; len + 1];
    let mut written = 0;
    check_status!(unsafe {
        sys::napi_get_value_string_utf16(env, value, units.as_mut_ptr(), len + 1, &mut written)
    })?;
    units.truncate(written);
    Ok(units)
}

/// The index of the first UTF-16 code unit that is half of no pair, if any: a string with one is
/// not well formed (`String.prototype.isWellFormed` is false) and has no UTF-8 form.
pub fn lone_surrogate(units: &[u16]) -> Option<usize> {
    let mut index = 0;
    while index < units.len() {
        match units[index] {
            0xD800..=0xDBFF if matches!(units.get(index + 1), Some(0xDC00..=0xDFFF)) => {
                index += 2;
            }
            0xD800..=0xDFFF => return Some(index),
            _ => index += 1,
        }
    }
    None
}

/// A value a method argument (or a property of one) can be read as.
pub trait FromJs: Sized {
    /// # Safety
    /// On the JavaScript thread, with a value of `env`.
    unsafe fn from_js(env: sys::napi_env, value: sys::napi_value) -> Result<Self, Mismatch>;
}

/// A method's argument, converted by napi without ever failing; read it with [`Arg::read`].
///
/// Declare the TypeScript type of each with `#[napi(ts_arg_type = "…")]` (napi-rs cannot see
/// through this wrapper), and an optional argument as `Option<Arg<T>>` (napi-rs reads
/// `undefined` and `null` as `None`).
pub struct Arg<T>(Result<T, Mismatch>);

impl<T> Arg<T> {
    /// The value, or an `EINVAL` error naming the argument `name` and what is wrong with it.
    pub fn read(self, name: &str) -> leaseq::Result<T> {
        self.0.map_err(|mismatch| mismatch.into_error(name))
    }
}

/// An optional argument's value ([`Arg::read`]); `None` when it was `undefined` or `null`.
pub fn read_optional<T>(arg: Option<Arg<T>>, name: &str) -> leaseq::Result<Option<T>> {
    arg.map(|arg| arg.read(name)).transpose()
}

impl<T: FromJs> FromNapiValue for Arg<T> {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
        Ok(Arg(unsafe { T::from_js(env, value) }))
    }
}

impl FromJs for f64 {
    unsafe fn from_js(env: sys::napi_env, value: sys::napi_value) -> Result<f64, Mismatch> {
        let mut number = 0.0;
        if unsafe { type_of(env, value) } != sys::ValueType::napi_number
            || unsafe { sys::napi_get_value_double(env, value, &mut number) }
                != sys::Status::napi_ok
        {
            return Err(unsafe { Mismatch::expected(env, "a number", value) });
        }
        Ok(number)
    }
}

impl FromJs for bool {
    unsafe fn from_js(env: sys::napi_env, value: sys::napi_value) -> Result<bool, Mismatch> {
        let mut flag = false;
        if unsafe { type_of(env, value) } != sys::ValueType::napi_boolean
            || unsafe { sys::napi_get_value_bool(env, value, &mut flag) } != sys::Status::napi_ok
        {
            return Err(unsafe { Mismatch::expected(env, "a boolean", value) });
        }
        Ok(flag)
    }
}

/// A string, refused when it holds a lone surrogate: it has no UTF-8 form, and reading it as
/// UTF-8 (what napi-rs does) would turn it into U+FFFD, so two different ids would name one item.
impl FromJs for String {
    unsafe fn from_js(env: sys::napi_env, value: sys::napi_value) -> Result<String, Mismatch> {
        if unsafe { type_of(env, value) } != sys::ValueType::napi_string {
            return Err(unsafe { Mismatch::expected(env, "a string", value) });
        }
        let units = unsafe { utf16(env, value) }
            .map_err(|_| unsafe { Mismatch::expected(env, "a readable string", value) })?;
        String::from_utf16(&units).map_err(|_| {
            let index = lone_surrogate(&units).unwrap_or_default();
            Mismatch {
                path: String::new(),
                problem: format!(
                    "has a lone surrogate (\\u{:04x} at index {index}): a string that is not \
                     well formed has no UTF-8 form",
                    units[index]
                ),
            }
        })
    }
}

/// Item data as JavaScript passes it: bytes (a Buffer is a Uint8Array), or a string stored as
/// UTF-8.
pub struct Data(pub Vec<u8>);

impl FromJs for Data {
    unsafe fn from_js(env: sys::napi_env, value: sys::napi_value) -> Result<Data, Mismatch> {
        let mut is_typed_array = false;
        unsafe { sys::napi_is_typedarray(env, value, &mut is_typed_array) };
        if is_typed_array {
            if let Ok(bytes) = unsafe { Uint8Array::from_napi_value(env, value) } {
                return Ok(Data(bytes.to_vec()));
            }
        } else if unsafe { type_of(env, value) } == sys::ValueType::napi_string {
            return Ok(Data(unsafe { String::from_js(env, value) }?.into_bytes()));
        }
        Err(unsafe { Mismatch::expected(env, "a Buffer, a Uint8Array or a string", value) })
    }
}

/// Any value JSON can hold (`undefined`, a function, a symbol or a bigint cannot).
impl FromJs for serde_json::Value {
    unsafe fn from_js(env: sys::napi_env, value: sys::napi_value) -> Result<Self, Mismatch> {
        let mismatch = || unsafe { Mismatch::expected(env, "a value JSON can hold", value) };
        if unsafe { type_of(env, value) } == sys::ValueType::napi_undefined {
            return Err(mismatch());
        }
        unsafe { serde_json::Value::from_napi_value(env, value) }.map_err(|_| mismatch())
    }
}

/// An instance of one of leaseq's classes (`Item`, `Connection`, `WorkQueue`), borrowed for the
/// call (napi-rs keeps the object alive until an async method settles).
impl<T: FromNapiRef + TypeName + 'static> FromJs for &'static T {
    unsafe fn from_js(env: sys::napi_env, value: sys::napi_value) -> Result<Self, Mismatch> {
        if unsafe { type_of(env, value) } == sys::ValueType::napi_object {
            if let Ok(instance) = unsafe { T::from_napi_ref(env, value) } {
                return Ok(instance);
            }
        }
        let expected = format!("an instance of {}", T::type_name());
        Err(unsafe { Mismatch::expected(env, &expected, value) })
    }
}

/// An array, each element read as `T`.
impl<T: FromJs> FromJs for Vec<T> {
    unsafe fn from_js(env: sys::napi_env, value: sys::napi_value) -> Result<Vec<T>, Mismatch> {
        let mut is_array = false;
        let mut len = 0;
        if unsafe { sys::napi_is_array(env, value, &mut is_array) } != sys::Status::napi_ok
            || !is_array
            || unsafe { sys::napi_get_array_length(env, value, &mut len) } != sys::Status::napi_ok
        {
            return Err(unsafe { Mismatch::expected(env, "an array", value) });
        }
        (0..len)
            .map(|index| {
                let mut element = ptr::null_mut();
                let step = format!("[{index}]");
                if unsafe { sys::napi_get_element(env, value, index, &mut element) }
                    != sys::Status::napi_ok
                {
                    return Err(Mismatch {
                        path: step,
                        problem: "cannot be read".to_owned(),
                    });
                }
                unsafe { T::from_js(env, element) }.map_err(|mismatch| mismatch.within(&step))
            })
            .collect()
    }
}

/// A property that may be left out: `undefined` or `null` is `None`.
impl<T: FromJs> FromJs for Option<T> {
    unsafe fn from_js(env: sys::napi_env, value: sys::napi_value) -> Result<Option<T>, Mismatch> {
        match unsafe { type_of(env, value) } {
            sys::ValueType::napi_undefined | sys::ValueType::napi_null => Ok(None),
            _ => Ok(Some(unsafe { T::from_js(env, value) }?)),
        }
    }
}

/// `FromJs` for an options object, each field read from its property with [`JsObject::get`] or
/// [`JsObject::get_nullable`]: `from_js_object!(Options { lease_secs: get("leaseSecs") })`.
macro_rules! from_js_object {
    ($type:ident { $($field:ident: $get:ident($name:literal)),* $(,)? }) => {
        impl $crate::convert::FromJs for $type {
            unsafe fn from_js(
                env: napi::sys::napi_env,
                value: napi::sys::napi_value,
            ) -> std::result::Result<Self, $crate::convert::Mismatch> {
                // SAFETY: the caller's, as `FromJs::from_js` requires.
                let object = unsafe { $crate::convert::JsObject::new(env, value) }?;
                Ok($type { $($field: object.$get($name)?),* })
            }
        }
    };
}
pub(crate) use from_js_object;

/// A JavaScript function kept for later calls; `Args`/`Return` are not used (calls are made with
/// raw values, to get at what a function throws).
pub type JsFunction = FunctionRef<(), ()>;

impl FromJs for JsFunction {
    unsafe fn from_js(env: sys::napi_env, value: sys::napi_value) -> Result<JsFunction, Mismatch> {
        if unsafe { type_of(env, value) } == sys::ValueType::napi_function {
            let function = unsafe { Function::<(), ()>::from_napi_value(env, value) };
            if let Ok(function) = function.and_then(|function| function.create_ref()) {
                return Ok(function);
            }
        }
        Err(unsafe { Mismatch::expected(env, "a function", value) })
    }
}

/// An options object, read property by property (napi-rs's own conversion would throw its codes).
pub struct JsObject {
    env: sys::napi_env,
    value: sys::napi_value,
}

impl JsObject {
    /// # Safety
    /// On the JavaScript thread, with a value of `env`.
    pub unsafe fn new(env: sys::napi_env, value: sys::napi_value) -> Result<JsObject, Mismatch> {
        if unsafe { type_of(env, value) } != sys::ValueType::napi_object {
            return Err(unsafe { Mismatch::expected(env, "an object", value) });
        }
        Ok(JsObject { env, value })
    }

    fn property(&self, name: &str) -> Result<sys::napi_value, Mismatch> {
        let unreadable = || Mismatch {
            path: format!(".{name}"),
            problem: "cannot be read".to_owned(),
        };
        let key = CString::new(name).map_err(|_| unreadable())?;
        let mut value = ptr::null_mut();
        // SAFETY: `new` was given a value of `env`, on the JavaScript thread.
        let status =
            unsafe { sys::napi_get_named_property(self.env, self.value, key.as_ptr(), &mut value) };
        if status != sys::Status::napi_ok {
            return Err(unreadable());
        }
        Ok(value)
    }

    /// The property `name` (its JavaScript name) read as `T`.
    pub fn get<T: FromJs>(&self, name: &str) -> Result<T, Mismatch> {
        let value = self.property(name)?;
        // SAFETY: as in `property`.
        unsafe { T::from_js(self.env, value) }
            .map_err(|mismatch| mismatch.within(&format!(".{name}")))
    }

    /// The property `name` that may be left out (`None`: the default) or set to `null` (none at
    /// all), else read as `T`.
    pub fn get_nullable<T: FromJs>(&self, name: &str) -> Result<Option<Either<T, Null>>, Mismatch> {
        let value = self.property(name)?;
        // SAFETY: as in `property`.
        Ok(match unsafe { type_of(self.env, value) } {
            sys::ValueType::napi_undefined => None,
            sys::ValueType::napi_null => Some(Either::B(Null)),
            _ => Some(Either::A(self.get(name)?)),
        })
    }
}

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

impl FromJs for Timestamp {
    unsafe fn from_js(env: sys::napi_env, value: sys::napi_value) -> Result<Timestamp, Mismatch> {
        unsafe { Timestamp::from_napi_value(env, value) }.map_err(|_| unsafe {
            Mismatch::expected(
                env,
                "a Date or a number of milliseconds since the epoch",
                value,
            )
        })
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
