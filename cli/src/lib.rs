//! The `leaseq` command line and dashboard. [`run_from_args`] is the whole program: the `leaseq`
//! binary, the Python console script and the npm `bin` all call it with the process's arguments.

use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

mod commands;
mod dashboard;
mod dead;
mod metrics;
mod view;

/// The exit status of a failed command (a usage error exits with 2, as clap does).
pub const EXIT_FAILURE: i32 = 1;

#[derive(Parser, Debug)]
#[command(name = "leaseq", version, about = "Inspect and steer leaseq queues")]
pub(crate) struct Cli {
    /// Redis URL (redis://host:port/db, rediss://..., unix:///path)
    #[arg(
        long,
        global = true,
        env = "LEASEQ_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub url: String,
    /// Print JSON instead of tables
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// How `peek` and `item` show item data.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum DataFormat {
    /// JSON when the data parses as JSON, else text when UTF-8, else hex
    Auto,
    Json,
    Text,
    Hex,
}

/// The dead-letter filter shared by `dead`, `requeue` and `purge`.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct DeadFilterArgs {
    /// Only items whose data contains this text
    #[arg(long)]
    pub grep: Option<String>,
    /// Only items whose last error contains this text
    #[arg(long)]
    pub error: Option<String>,
    /// Only these ids (repeatable)
    #[arg(long = "id")]
    pub ids: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// The queues on the server, with counts: those leaseq has added to (its registry), or all
    /// of them with --scan
    Queues {
        /// Also walk the keyspace (SCAN in batches: no KEYS, no long command) for queues only
        /// redis-work-queue clients or an older leaseq wrote to; done anyway while no queue is
        /// registered
        #[arg(long)]
        scan: bool,
    },
    /// One queue's counts and throughput
    Stats {
        queue: String,
        /// Refresh every second in place until Ctrl-C
        #[arg(long)]
        watch: bool,
    },
    /// The next items to be leased
    Peek {
        queue: String,
        #[arg(long, short = 'n', default_value_t = 10)]
        count: u64,
        #[arg(long, value_enum, default_value_t = DataFormat::Auto)]
        format: DataFormat,
    },
    /// One item's state: queued, delayed, leased (by whom, for how long), dead (with its error)
    Item {
        queue: String,
        id: String,
        #[arg(long, value_enum, default_value_t = DataFormat::Auto)]
        format: DataFormat,
    },
    /// Dead letters, optionally filtered
    Dead {
        queue: String,
        #[command(flatten)]
        filter: DeadFilterArgs,
        /// Show at most this many
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Give the filtered dead letters another life (attempts reset)
    Requeue {
        queue: String,
        #[command(flatten)]
        filter: DeadFilterArgs,
        /// Show what would be requeued, change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete the filtered dead letters for good (asks on a terminal)
    Purge {
        queue: String,
        #[command(flatten)]
        filter: DeadFilterArgs,
        #[arg(long)]
        dry_run: bool,
        /// Do not ask (needed when stdin is not a terminal)
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Stop leases on a queue (adds still succeed)
    Pause { queue: String },
    /// Let leases resume
    Resume { queue: String },
    /// Return abandoned work (light clean); --deep also finds orphaned items
    Clean {
        queue: String,
        #[arg(long)]
        deep: bool,
    },
    /// Add items: one JSON value per line, from a file or stdin
    Add {
        queue: String,
        /// A JSON-lines file (default: stdin)
        #[arg(long, short = 'f')]
        file: Option<std::path::PathBuf>,
        /// Items per round trip
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
    /// Serve the web dashboard, its JSON API (/api) and Prometheus metrics (/metrics)
    Dashboard {
        #[arg(long, default_value = "127.0.0.1:7799")]
        listen: String,
        /// No actions: every button and POST is gone
        #[arg(long)]
        read_only: bool,
        /// user:password (HTTP Basic) or a bearer token, required on everything but /health
        #[arg(long, env = "LEASEQ_DASHBOARD_AUTH")]
        auth: Option<String>,
        /// Open this queue's page first (printed URL)
        #[arg(long)]
        queue: Option<String>,
    },
}

/// Runs the command line with these arguments (the first is the program name) and returns the
/// process exit status. Errors are one line on stderr; nothing panics out of here.
pub fn run_from_args(args: Vec<String>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() { 2 } else { 0 };
        }
    };
    std::panic::set_hook(Box::new(|info| {
        eprintln!("leaseq: error: internal error (a bug: please report it): {info}");
    }));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("leaseq: error: cannot start the runtime: {err}");
            return EXIT_FAILURE;
        }
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(commands::run(cli))
    }));
    runtime.shutdown_timeout(Duration::from_millis(100));
    match outcome {
        Ok(Ok(())) => 0,
        Ok(Err(err)) => {
            eprintln!("leaseq: error: {err}");
            EXIT_FAILURE
        }
        Err(_) => EXIT_FAILURE,
    }
}

/// An error for people: one line.
#[derive(Debug)]
pub(crate) struct CliError(pub String);

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<leaseq::Error> for CliError {
    fn from(err: leaseq::Error) -> CliError {
        let message = err.message().replace('\n', " ");
        CliError(match err.kind() {
            leaseq::ErrorKind::Internal if message.contains("WRONGTYPE") => {
                "a key under this queue's prefix holds the wrong type of value (not a leaseq queue, \
                 or written by something else)"
                    .to_owned()
            }
            _ => message,
        })
    }
}

impl From<std::io::Error> for CliError {
    fn from(err: std::io::Error) -> CliError {
        CliError(err.to_string())
    }
}

pub(crate) type CliResult<T> = Result<T, CliError>;
