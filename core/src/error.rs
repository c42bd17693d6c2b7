//! The one error type of leaseq, and the error-kind table every binding mirrors.

use std::fmt;

/// What went wrong, as a fixed number that every binding maps to its own exception type.
///
/// The numbers are part of the C ABI and the spec (`spec/key-schema.md`, "Errors"): never reuse or
/// renumber one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ErrorKind {
    /// Redis could not be reached, the connection broke, or it was closed.
    Connection = 1,
    /// Redis did not answer within the configured time.
    Timeout = 2,
    /// The caller passed a value leaseq refuses (empty prefix, bad duration, oversized item, …).
    InvalidArgument = 3,
    /// The caller's lease on an item is gone (expired and taken by another worker, or completed).
    LeaseLost = 4,
    /// Anything else: a Redis error reply, a bug, a panic caught at a binding boundary.
    Internal = 5,
}

impl ErrorKind {
    /// Every kind, in number order: bindings assert that each has a counterpart.
    pub const ALL: [ErrorKind; 5] = [
        ErrorKind::Connection,
        ErrorKind::Timeout,
        ErrorKind::InvalidArgument,
        ErrorKind::LeaseLost,
        ErrorKind::Internal,
    ];

    /// The fixed number of this kind.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The kind with this number, if any.
    pub fn from_code(code: u32) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// A stable name for messages and for the Node `err.code` (`ECONNECTION`, `EINVAL`, …).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Connection => "ECONNECTION",
            ErrorKind::Timeout => "ETIMEOUT",
            ErrorKind::InvalidArgument => "EINVAL",
            ErrorKind::LeaseLost => "ELEASE_LOST",
            ErrorKind::Internal => "EINTERNAL",
        }
    }
}

/// A leaseq error: a kind from the fixed table and a message meant for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// `std::result::Result` with leaseq's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// An [`ErrorKind::InvalidArgument`] error.
    pub fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<redis::RedisError> for Error {
    fn from(err: redis::RedisError) -> Error {
        let kind = if let Some(code @ ("NOPERM" | "NOAUTH" | "WRONGPASS")) = err.code() {
            // The server refuses this user (ACL): a connection error, with what to check.
            return Error::new(
                ErrorKind::Connection,
                format!(
                    "redis refused the user ({code}: check the user's ACL rules allow the \
                     queue's keys and commands): {err}"
                ),
            );
        } else if err.is_timeout() {
            ErrorKind::Timeout
        } else if err.is_io_error() || err.is_connection_refusal() || err.is_connection_dropped() {
            ErrorKind::Connection
        } else if err.kind() == redis::ErrorKind::InvalidClientConfig {
            ErrorKind::InvalidArgument
        } else {
            ErrorKind::Internal
        };
        Error::new(kind, format!("redis: {err}"))
    }
}

impl From<redis::ParsingError> for Error {
    fn from(err: redis::ParsingError) -> Error {
        Error::new(
            ErrorKind::Internal,
            format!("unexpected reply from Redis: {err}"),
        )
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Error {
        Error::invalid_argument(format!("json: {err}"))
    }
}
