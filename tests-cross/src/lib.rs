//! Shared by the Rust actors of the cross-language run: arguments and the append-only log.
//!
//! Every actor, in every language, takes the same arguments and writes the same log lines, so
//! `tests-cross/driver.py` can check the run without knowing who did what:
//! `added <id>`, `delivered <id>`, `completing <id>` (just before `complete`), and
//! `completed <id>` (only when `complete` returned true); cleaners log `light <requeued>` or
//! `deep <requeued>` per clean call.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;

/// `--name value` pairs after the role.
pub struct Args {
    pub role: String,
    values: HashMap<String, String>,
}

impl Args {
    pub fn parse() -> Args {
        let mut argv = std::env::args().skip(1);
        let role = argv
            .next()
            .expect("usage: actor ROLE --url U --prefix P --log F ...");
        let mut values = HashMap::new();
        while let Some(name) = argv.next() {
            let value = argv
                .next()
                .unwrap_or_else(|| panic!("{name} needs a value"));
            values.insert(name.trim_start_matches("--").to_string(), value);
        }
        Args { role, values }
    }

    pub fn get(&self, name: &str) -> String {
        self.values
            .get(name)
            .unwrap_or_else(|| panic!("--{name} is required"))
            .clone()
    }

    pub fn get_or(&self, name: &str, default: &str) -> String {
        self.values
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }

    pub fn number(&self, name: &str, default: f64) -> f64 {
        self.values
            .get(name)
            .map(|value| value.parse().expect("a number"))
            .unwrap_or(default)
    }
}

/// An append-only log; each line is one `write` so a SIGKILL never leaves half a line.
pub struct Log(File);

impl Log {
    pub fn open(path: &str) -> Log {
        Log(OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("cannot open the log"))
    }

    pub fn line(&mut self, event: &str, id: &str) {
        self.0
            .write_all(format!("{event} {id}\n").as_bytes())
            .expect("cannot write the log");
    }
}

/// The data of an item no handler can finish: leaseq workers `fail` it every time, so it must
/// end in the dead letters with its error.
pub const POISON: &str = "poison";

/// The options every leaseq actor uses: few attempts and short backoffs, so poison items die
/// and flaky ones retry within the run.
pub fn queue_options() -> leaseq::QueueOptions {
    leaseq::QueueOptions {
        max_attempts: 10,
        backoff_base: std::time::Duration::from_millis(50),
        backoff_max: std::time::Duration::from_millis(400),
        ..leaseq::QueueOptions::default()
    }
}

/// What a worker does with a leased item, drawn at random with the configured odds.
pub enum Misbehaviour {
    /// Complete it.
    None,
    /// Never complete it (the lease runs out).
    SkipComplete,
    /// Sleep past the lease, then complete it.
    OutliveLease,
    /// Exit at once, between lease and complete, as a crash would.
    Crash,
    /// Report a failure (`fail`), so the item is retried after a backoff.
    Fail,
}

pub fn misbehaviour(args: &Args) -> Misbehaviour {
    let roll = fastrand::f64();
    let skip = args.number("skip", 0.0);
    let outlive = args.number("outlive", 0.0);
    let crash = args.number("crash", 0.0);
    let fail = args.number("fail", 0.0);
    if roll < skip {
        Misbehaviour::SkipComplete
    } else if roll < skip + outlive {
        Misbehaviour::OutliveLease
    } else if roll < skip + outlive + crash {
        Misbehaviour::Crash
    } else if roll < skip + outlive + crash + fail {
        Misbehaviour::Fail
    } else {
        Misbehaviour::None
    }
}
