//! `probe`: the client library alone, with no queue in it: `--tasks` tasks each sending
//! `--script` (a trivial script, by default) twice per "operation" over one shared connection,
//! through redis 1.x's ConnectionManager (what leaseq uses), its MultiplexedConnection, or
//! redis 0.26's MultiplexedConnection (what the crate `redis-work-queue` is given). Tells how much
//! of a lease+complete's time is the client library and the round trips rather than the scripts.

use std::time::Instant;

use redis::aio::{ConnectionManager, MultiplexedConnection};
use tokio::task::JoinSet;

use crate::args::Args;
use crate::common::{deadline_after, emit, rate_json, BenchResult};

pub async fn probe(args: &Args) -> BenchResult<()> {
    let url = args.required("url")?;
    let tasks = args.get("tasks", 1usize)?;
    let deadline = deadline_after(args.get("seconds", 2.0f64)?);
    let body = args.string("script", "return 1");
    let client = args.string("client", "manager");
    let started = Instant::now();
    let mut set = JoinSet::new();
    match client.as_str() {
        "manager" => {
            let manager = ConnectionManager::new(redis::Client::open(url.as_str())?).await?;
            spawn_loops(&mut set, tasks, manager, &body, deadline);
        }
        "multiplexed" => {
            let shared: MultiplexedConnection = redis::Client::open(url.as_str())?
                .get_multiplexed_async_connection()
                .await?;
            spawn_loops(&mut set, tasks, shared, &body, deadline);
        }
        "redis026" => {
            let shared = redis026::Client::open(url.as_str())?
                .get_multiplexed_async_connection()
                .await?;
            for _ in 0..tasks {
                let (mut connection, script) = (shared.clone(), redis026::Script::new(&body));
                set.spawn(async move {
                    let mut ops = 0u64;
                    while Instant::now() < deadline {
                        for _ in 0..2 {
                            let _: redis026::Value =
                                script.key("k").invoke_async(&mut connection).await?;
                        }
                        ops += 1;
                    }
                    BenchResult::Ok(ops)
                });
            }
        }
        other => return Err(format!("unknown --client {other:?}").into()),
    }
    let mut ops = 0;
    while let Some(result) = set.join_next().await {
        ops += result??;
    }
    emit(rate_json(ops, started.elapsed(), false));
    Ok(())
}

/// `tasks` loops over clones of one redis 1.x connection, each counting its operations (two
/// script calls) until `deadline`. (redis 0.26's types are another crate's: its loop is above.)
fn spawn_loops<C>(
    set: &mut JoinSet<BenchResult<u64>>,
    tasks: usize,
    connection: C,
    body: &str,
    deadline: Instant,
) where
    C: redis::aio::ConnectionLike + Clone + Send + 'static,
{
    for _ in 0..tasks {
        let (mut connection, script) = (connection.clone(), redis::Script::new(body));
        set.spawn(async move {
            let mut ops = 0u64;
            while Instant::now() < deadline {
                for _ in 0..2 {
                    let _: redis::Value = script.key("k").invoke_async(&mut connection).await?;
                }
                ops += 1;
            }
            BenchResult::Ok(ops)
        });
    }
}
