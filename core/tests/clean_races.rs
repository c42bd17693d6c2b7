//! Cleans racing live producers on a long backlog: nothing is ever queued twice.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{keys_under, queue, raw};

/// A producer writes each item's data and pushes its id in one MULTI (never an orphan, not
/// even for a moment) onto a backlog far longer than the 1000 ids the orphan script searches at
/// each end of the queue, while deep cleans run back to back. An id pushed after a clean's
/// snapshot sinks deep into the backlog before the clean reaches its key: it must not be taken
/// for an orphan and queued a second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_clean_never_requeues_ids_added_during_it_to_a_long_backlog() {
    let (_connection, queue, p) = queue("deepmiddle").await;
    let mut backlog = redis::pipe();
    for n in 0..5_000 {
        add_raw(&mut backlog, &p, &format!("b-{n}"));
    }
    let () = backlog.query(&mut raw()).unwrap();

    let producer = {
        let p = p.clone();
        std::thread::spawn(move || {
            let mut redis = raw();
            let mut n = 0u64;
            // At most 25,000 ids a second for 4 s: the backlog grows by tens of thousands, while
            // the test stays short.
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(4) && n < 100_000 {
                std::thread::sleep(Duration::from_millis(2));
                let mut batch = redis::pipe();
                batch.atomic();
                for _ in 0..50 {
                    add_raw(&mut batch, &p, &format!("p-{n}"));
                    n += 1;
                }
                let () = batch.query(&mut redis).unwrap();
            }
            n
        })
    };
    let (mut cleans, mut requeued) = (0, 0);
    while cleans == 0 || !producer.is_finished() {
        requeued += queue.deep_clean().await.unwrap().requeued;
        cleans += 1;
    }
    let produced = producer.join().unwrap();

    let ids: Vec<String> = redis::cmd("LRANGE")
        .arg(format!("{p}:queue"))
        .arg(0)
        .arg(-1)
        .query(&mut raw())
        .unwrap();
    let distinct: HashSet<&String> = ids.iter().collect();
    eprintln!(
        "{cleans} deep cleans, {produced} ids produced, queue {} long, requeued {requeued}",
        ids.len()
    );
    assert_eq!(requeued, 0, "ids queued twice by the deep cleans");
    assert_eq!(distinct.len(), ids.len(), "an id is queued twice");
    assert_eq!(ids.len() as u64, 5_000 + produced, "an id is lost");
    assert!(
        cleans >= 1 && produced > 10_000,
        "the cleans must overlap the producer"
    );
    // Other tests' deep cleans SCAN the same server: leave no keys behind.
    for keys in keys_under(&p).chunks(1000) {
        let () = redis::cmd("UNLINK").arg(keys).query(&mut raw()).unwrap();
    }
}

/// Adds to `pipe` what a raw producer sends for one item: its data, then its id at the head.
fn add_raw(pipe: &mut redis::Pipeline, prefix: &str, id: &str) {
    pipe.cmd("SET")
        .arg(format!("{prefix}:item:{id}"))
        .arg("x")
        .ignore();
    pipe.cmd("LPUSH")
        .arg(format!("{prefix}:queue"))
        .arg(id)
        .ignore();
}
