//! Round trips per operation, observed: a MONITOR connection records every command Redis runs,
//! telling those a client sent from those a script ran (`[0 lua]`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use leaseq::{Connection, WorkQueue};
use redis::aio::MultiplexedConnection;
use redis_work_queue as rwq;

use crate::args::Args;
use crate::common::{admin, emit, item, payload, BenchResult, IdStyle, LEASE};

const END_MARK: &str = "bench-phase:end";

struct Monitor {
    lines: Arc<Mutex<Vec<String>>>,
    reader: JoinHandle<std::io::Result<()>>,
}

impl Monitor {
    fn start(url: &str) -> BenchResult<Monitor> {
        let address = url
            .strip_prefix("redis://")
            .ok_or("round trips need a redis:// URL")?
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let mut stream = TcpStream::connect(address)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.write_all(b"MONITOR\r\n")?;
        let mut reader = BufReader::new(stream);
        let mut ok = String::new();
        reader.read_line(&mut ok)?;
        if !ok.starts_with("+OK") {
            return Err(format!("MONITOR answered {ok:?}").into());
        }
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                let done = line.contains(END_MARK);
                sink.lock().expect("monitor lines").push(line.clone());
                if done {
                    return Ok(());
                }
            }
        });
        Ok(Monitor { lines, reader })
    }

    fn finish(self) -> BenchResult<Vec<String>> {
        self.reader
            .join()
            .map_err(|_| "the MONITOR reader panicked")??;
        Ok(std::mem::take(
            &mut *self.lines.lock().expect("monitor lines"),
        ))
    }
}

async fn mark(admin: &mut MultiplexedConnection, phase: &str) -> BenchResult<()> {
    let _: String = redis::cmd("ECHO")
        .arg(format!("bench-phase:{phase}"))
        .query_async(admin)
        .await?;
    Ok(())
}

/// The quoted words of a MONITOR line: `+1.2 [0 127.0.0.1:5] "EVALSHA" "ab…" "4" …`.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.chars();
    while chars.by_ref().any(|c| c == '"') {
        let mut word = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => word.extend(chars.next()),
                other => word.push(other),
            }
        }
        words.push(word);
    }
    words
}

/// Commands per operation in each phase: those clients sent, and those scripts ran; and the
/// first command sent in each phase, word by word (the harness gives redis-benchmark the same
/// shape).
fn tally(lines: &[String], ops: &BTreeMap<String, u64>) -> serde_json::Value {
    let mut phases: BTreeMap<String, (BTreeMap<String, u64>, u64)> = BTreeMap::new();
    let mut samples: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut phase = String::new();
    for line in lines {
        let Some(command_start) = line.find("] \"") else {
            continue;
        };
        let from_script = line[..command_start].ends_with("lua");
        let command = line[command_start + 3..]
            .split('"')
            .next()
            .unwrap_or_default()
            .to_uppercase();
        if command == "ECHO" {
            if let Some(name) = line.split("bench-phase:").nth(1) {
                phase = name.trim_end().trim_end_matches('"').to_owned();
            }
            continue;
        }
        let entry = phases.entry(phase.clone()).or_default();
        if from_script {
            entry.1 += 1;
        } else {
            *entry.0.entry(command).or_default() += 1;
            samples
                .entry(phase.clone())
                .or_insert_with(|| words(&line[command_start..]));
        }
    }
    let mut result = serde_json::Map::new();
    for (name, count) in ops {
        let (sent, scripted) = phases.remove(name).unwrap_or_default();
        let per_op = |n: u64| n as f64 / *count as f64;
        let by_command: serde_json::Map<_, _> = sent
            .iter()
            .map(|(command, n)| (command.clone(), per_op(*n).into()))
            .collect();
        result.insert(
            name.clone(),
            serde_json::json!({
                "ops": count,
                "commands_sent_per_op": per_op(sent.values().sum()),
                "by_command": by_command,
                "commands_in_scripts_per_op": per_op(scripted),
                "sample": samples.remove(name).unwrap_or_default(),
            }),
        );
    }
    result.into()
}

/// `roundtrips`: each operation of leaseq and of the crate `redis-work-queue`, `--ops` times,
/// under MONITOR.
pub async fn roundtrips(args: &Args) -> BenchResult<()> {
    let url = args.required("url")?;
    let name = args.required("queue")?;
    let ops = args.get("ops", 200u64)?;
    let batch = args.get("batch", 100usize)?;
    let data = payload();
    let connection = Connection::open(&url).await?;
    let queue = WorkQueue::new(&connection, &name)?;
    let peer = rwq::WorkQueue::new(rwq::KeyPrefix::from(format!("{name}-crate")));
    let mut db = redis026::Client::open(url.as_str())?
        .get_multiplexed_async_connection()
        .await?;
    let mut admin = admin(&url).await?;

    // Warm up: the first call of each script loads it (NOSCRIPT, SCRIPT LOAD, EVALSHA again).
    queue.add_item(&item(IdStyle::Uuid, &data)).await?;
    queue.add_items(&[item(IdStyle::Uuid, &data)]).await?;
    while let Some(leased) = queue.lease(LEASE, false, None).await? {
        queue.complete(&leased).await?;
    }

    let monitor = Monitor::start(&url)?;
    let mut counts = BTreeMap::new();
    mark(&mut admin, "leaseq add_item").await?;
    for _ in 0..ops {
        queue.add_item(&item(IdStyle::Uuid, &data)).await?;
    }
    counts.insert("leaseq add_item".to_owned(), ops);
    mark(&mut admin, "leaseq add_items (per batch)").await?;
    let batches = (ops / 10).max(1);
    for _ in 0..batches {
        let items: Vec<_> = (0..batch).map(|_| item(IdStyle::Uuid, &data)).collect();
        queue.add_items(&items).await?;
    }
    counts.insert("leaseq add_items (per batch)".to_owned(), batches);
    let mut leased = Vec::new();
    mark(&mut admin, "leaseq lease").await?;
    for _ in 0..ops {
        leased.push(
            queue
                .lease(LEASE, false, None)
                .await?
                .ok_or("queue empty")?,
        );
    }
    counts.insert("leaseq lease".to_owned(), ops);
    mark(&mut admin, "leaseq complete").await?;
    for item in &leased {
        queue.complete(item).await?;
    }
    counts.insert("leaseq complete".to_owned(), ops);

    mark(&mut admin, "crate add_item").await?;
    for _ in 0..ops {
        let item = rwq::Item::new(data.clone().into_boxed_slice());
        peer.add_item(&mut db, &item).await?;
    }
    counts.insert("crate add_item".to_owned(), ops);
    let mut leased = Vec::new();
    mark(&mut admin, "crate lease").await?;
    for _ in 0..ops {
        let item = peer.lease(&mut db, Some(Duration::ZERO), LEASE).await?;
        leased.push(item.ok_or("crate queue empty")?);
    }
    counts.insert("crate lease".to_owned(), ops);
    mark(&mut admin, "crate complete").await?;
    for item in &leased {
        peer.complete(&mut db, item).await?;
    }
    counts.insert("crate complete".to_owned(), ops);
    mark(&mut admin, "end").await?;
    let lines = monitor.finish()?;
    let mut result = tally(&lines, &counts);

    // Again without MONITOR (which slows every command down): Redis's own time per operation,
    // from INFO commandstats. A script's time includes the commands it runs.
    let mut server = BTreeMap::new();
    reset_stats(&mut admin).await?;
    for _ in 0..ops {
        queue.add_item(&item(IdStyle::Uuid, &data)).await?;
    }
    server.insert("leaseq add_item", server_usec(&mut admin, ops).await?);
    for _ in 0..batches {
        let items: Vec<_> = (0..batch).map(|_| item(IdStyle::Uuid, &data)).collect();
        queue.add_items(&items).await?;
    }
    server.insert(
        "leaseq add_items (per batch)",
        server_usec(&mut admin, batches).await?,
    );
    let mut leased = Vec::new();
    for _ in 0..ops {
        leased.push(
            queue
                .lease(LEASE, false, None)
                .await?
                .ok_or("queue empty")?,
        );
    }
    server.insert("leaseq lease", server_usec(&mut admin, ops).await?);
    for item in &leased {
        queue.complete(item).await?;
    }
    server.insert("leaseq complete", server_usec(&mut admin, ops).await?);
    for _ in 0..ops {
        let item = rwq::Item::new(data.clone().into_boxed_slice());
        peer.add_item(&mut db, &item).await?;
    }
    server.insert("crate add_item", server_usec(&mut admin, ops).await?);
    let mut leased = Vec::new();
    for _ in 0..ops {
        let item = peer.lease(&mut db, Some(Duration::ZERO), LEASE).await?;
        leased.push(item.ok_or("crate queue empty")?);
    }
    server.insert("crate lease", server_usec(&mut admin, ops).await?);
    for item in &leased {
        peer.complete(&mut db, item).await?;
    }
    server.insert("crate complete", server_usec(&mut admin, ops).await?);
    for (name, usec) in server {
        if let Some(entry) = result.get_mut(name) {
            entry["server_usec_per_op"] = usec.into();
        }
    }
    emit(result);
    Ok(())
}

async fn reset_stats(admin: &mut MultiplexedConnection) -> BenchResult<()> {
    let () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(admin)
        .await?;
    Ok(())
}

/// Microseconds Redis spent per operation since the last reset (then resets again): the time of
/// every command clients sent, not counting the commands scripts ran (inside their script's).
async fn server_usec(admin: &mut MultiplexedConnection, ops: u64) -> BenchResult<f64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(admin)
        .await?;
    let mut total = 0.0;
    for line in info.lines() {
        let Some((name, fields)) = line
            .strip_prefix("cmdstat_")
            .and_then(|rest| rest.split_once(':'))
        else {
            continue;
        };
        // Ours (INFO, CONFIG) and those only scripts send here (the peers never call them).
        if matches!(name, "info" | "config|resetstat" | "echo") {
            continue;
        }
        let usec = fields
            .split(',')
            .find_map(|field| field.strip_prefix("usec="))
            .and_then(|usec| usec.parse::<f64>().ok())
            .unwrap_or(0.0);
        let from_scripts_only = name != "evalsha" && name != "eval" && has_scripts(&info);
        if !from_scripts_only {
            total += usec;
        }
    }
    reset_stats(admin).await?;
    Ok(total / ops as f64)
}

/// When a phase ran scripts, every other command in it ran inside them.
fn has_scripts(info: &str) -> bool {
    info.contains("cmdstat_evalsha:")
}
