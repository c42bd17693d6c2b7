fn main() {
    std::process::exit(leaseq_cli::run_from_args(std::env::args().collect()));
}
