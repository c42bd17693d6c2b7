//! The `leaseq` command of the npm package (`bin/leaseq.js`, so `npx leaseq`): the same Rust code
//! as the `leaseq` binary of the `leaseq-cli` crate.

use napi_derive::napi;

/// Runs the `leaseq` command line with `args` (the first is the program name) and returns its
/// exit status. Blocks the calling thread until the command ends: for `bin/leaseq.js`, not for
/// use inside an application.
#[napi(catch_unwind)]
pub fn run_cli(args: Vec<String>) -> i32 {
    leaseq_cli::run_from_args(args)
}
