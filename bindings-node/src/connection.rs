//! One shared connection to a Redis server.

use napi::bindgen_prelude::{
    Either, FnArgs, Function, JsObjectValue, Null, Object, ToNapiValue, Unknown,
};
use napi::{sys, Env};
use napi_derive::napi;

use crate::convert::{from_js_object, read_optional, Arg};
use crate::error::{settle, Settled};

/// How {@link Connection.open} waits on Redis; each is optional (omitted = the default).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ConnectionOptions {
    /// Seconds: how long one attempt at opening a TCP/TLS connection may take; after three
    /// failed attempts it is an `ECONNECTION` error. Default 5.
    pub connect_timeout: Option<f64>,
    /// Seconds: how long one operation may wait for Redis's answer before it rejects with an
    /// `ETIMEOUT` error (the connection stays usable); `null` waits for ever. Default 30. A
    /// blocking lease's wait is not bounded by it (its own `timeout` is). After a timeout the
    /// operation's outcome is unknown: it may still run, as after any lost answer.
    #[napi(ts_type = "number | null")]
    pub response_timeout: Option<Either<f64, Null>>,
}

from_js_object!(ConnectionOptions {
    connect_timeout: get("connectTimeout"),
    response_timeout: get_nullable("responseTimeout"),
});

impl ConnectionOptions {
    fn to_core(&self) -> leaseq::Result<leaseq::ConnectionOptions> {
        let mut options = leaseq::ConnectionOptions::default();
        if let Some(secs) = self.connect_timeout {
            options.connect_timeout = leaseq::from_secs_f64("connectTimeout", secs)?;
        }
        match self.response_timeout {
            None => {}
            Some(Either::A(secs)) => {
                options.response_timeout = Some(leaseq::from_secs_f64("responseTimeout", secs)?)
            }
            Some(Either::B(Null)) => options.response_timeout = None,
        }
        Ok(options)
    }
}

/// A connection to one Redis server, shared by any number of {@link WorkQueue}s.
///
/// Operations are multiplexed over one socket that reconnects by itself; a blocking lease waits
/// on a connection of its own so it never stalls the others. Nothing in it keeps Node's event
/// loop alive: a process whose work is done exits, connection open or not.
#[napi]
pub struct Connection {
    pub(crate) inner: leaseq::Connection,
}

#[napi]
impl Connection {
    /// Opens a connection from a URL: `redis://[user:password@]host:port[/db]`,
    /// `rediss://…` (TLS) or `unix:///path/to/redis.sock`, with timeouts other than the
    /// defaults if `options` gives them.
    ///
    /// Connects at once, so a server that cannot be reached is an `ECONNECTION` error here
    /// rather than at the first operation. A timeout that is 0, negative or not finite is an
    /// `EINVAL` error.
    ///
    /// Reads Redis's `maxmemory-policy` once: under any policy but `noeviction` Redis may evict
    /// queue keys and lose items, so opening emits a process warning with code
    /// `LEASEQ_EVICTION` (`process.on('warning', …)` sees it); `?eviction=refuse` in the URL
    /// rejects with `ECONNECTION` instead, `?eviction=ignore` skips the check. A server that
    /// refuses `INFO` is the same warning, saying the policy could not be checked.
    #[napi(catch_unwind, ts_return_type = "Promise<Connection>")]
    pub async fn open(
        #[napi(ts_arg_type = "string")] url: Arg<String>,
        #[napi(ts_arg_type = "ConnectionOptions | undefined | null")] options: Option<
            Arg<ConnectionOptions>,
        >,
    ) -> Settled<Opened> {
        settle(async move {
            let url = url.read("url")?;
            let options = read_optional(options, "options")?
                .unwrap_or_default()
                .to_core()?;
            let inner = leaseq::Connection::open_with(&url, options).await?;
            Ok(Opened(Connection { inner }))
        })
        .await
    }

    /// Closes the connection: every queue using it fails with an `ECONNECTION` error from now
    /// on, and blocking leases waiting on it end with that error at once. Dropping the last
    /// handle closes it too.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.inner.close();
    }

    /// True once {@link Connection.close} was called.
    #[napi(catch_unwind)]
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

/// A connection just opened, handed to JavaScript on its thread: there each of the core's
/// `warnings()` (Redis may evict keys, or its policy could not be read) is emitted once, with
/// `process.emitWarning(message, { code: 'LEASEQ_EVICTION' })`, as Node's own runtime warnings are.
pub struct Opened(Connection);

impl ToNapiValue for Opened {
    unsafe fn to_napi_value(env: sys::napi_env, opened: Self) -> napi::Result<sys::napi_value> {
        let warnings = opened.0.inner.warnings();
        if !warnings.is_empty() {
            let env = Env::from_raw(env);
            let process: Object = env.get_global()?.get_named_property("process")?;
            let emit: Function<'_, FnArgs<(&str, Object)>, Unknown<'_>> =
                process.get_named_property("emitWarning")?;
            for warning in &warnings {
                let mut options = Object::new(&env)?;
                options.set_named_property("code", "LEASEQ_EVICTION")?;
                emit.apply(process, FnArgs::from((warning.as_str(), options)))?;
            }
        }
        unsafe { Connection::to_napi_value(env, opened.0) }
    }
}
