//! The README's Rust worker quick-start: run a handler over the "jobs" queue until Ctrl-C.
//! `LEASEQ_REDIS_URL=redis://127.0.0.1:6379 cargo run --example worker`

use leaseq::{Connection, Item, WorkQueue, Worker, WorkerOptions};

#[tokio::main]
async fn main() -> leaseq::Result<()> {
    let url = std::env::var("LEASEQ_REDIS_URL").unwrap_or("redis://127.0.0.1:6379".into());
    let queue = WorkQueue::new(&Connection::open(&url).await?, "jobs")?;
    let handler = |item: Item| async move {
        println!("working on {}", String::from_utf8_lossy(&item.data));
        Ok(())
    };
    let options = WorkerOptions {
        concurrency: 8,
        ..WorkerOptions::default()
    };
    Worker::new(&queue, handler, options)?.run(true).await
}
