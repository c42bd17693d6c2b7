//! A producer or worker using the published crate `redis-work-queue` 0.3 on a leaseq queue.

use std::time::Duration;

use leaseq_cross::{misbehaviour, Args, Log, Misbehaviour};
use redis_work_queue::{Item, KeyPrefix, WorkQueue};

#[tokio::main]
async fn main() -> redis026::RedisResult<()> {
    let args = Args::parse();
    let client = redis026::Client::open(args.get("url"))?;
    let mut db = client.get_multiplexed_async_connection().await?;
    let queue = WorkQueue::new(KeyPrefix::new(args.get("prefix")));
    let mut log = Log::open(&args.get("log"));
    // The crate takes whole seconds.
    let lease = Duration::from_secs((args.number("lease-ms", 1000.0) / 1000.0).ceil() as u64);
    match args.role.as_str() {
        "producer" => {
            let id_prefix = args.get("id-prefix");
            for n in 0..args.number("count", 0.0) as usize {
                let item = Item {
                    id: format!("{id_prefix}-{n}"),
                    data: format!("payload {n}").into_bytes().into(),
                };
                assert!(queue.add_item(&mut db, &item).await?);
                log.line("added", &item.id);
            }
        }
        "worker" => loop {
            let Some(item) = queue
                .lease(&mut db, Some(Duration::from_secs(1)), lease)
                .await?
            else {
                continue;
            };
            log.line("delivered", &item.id);
            // This client cannot fail an item: a poison item simply never completes here.
            if &*item.data == leaseq_cross::POISON.as_bytes() {
                continue;
            }
            match misbehaviour(&args) {
                Misbehaviour::Fail => continue,
                Misbehaviour::SkipComplete => continue,
                Misbehaviour::Crash => std::process::exit(3),
                Misbehaviour::OutliveLease => tokio::time::sleep(lease + lease / 2).await,
                Misbehaviour::None => {}
            }
            tokio::time::sleep(Duration::from_millis(args.number("work-ms", 0.0) as u64)).await;
            log.line("completing", &item.id);
            if queue.complete(&mut db, &item).await? {
                log.line("completed", &item.id);
            }
        },
        role => panic!("unknown role {role}"),
    }
    Ok(())
}
