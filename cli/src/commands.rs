//! One function per command.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use leaseq::{Connection, ConnectionOptions, DeadItem, Item, QueueStats, WorkQueue};
use serde_json::{json, Value};

use crate::dead::{self, BulkAction, DeadFilter};
use crate::view::{self, QueueSummary};
use crate::{Cli, CliError, CliResult, Command, DataFormat, DeadFilterArgs};

/// Queues read at once by `queues` and the dashboard.
pub(crate) const STATS_CONCURRENCY: usize = 32;

pub(crate) async fn connect(url: &str) -> CliResult<Connection> {
    let options = ConnectionOptions {
        connect_timeout: Duration::from_secs(3),
        response_timeout: Some(Duration::from_secs(15)),
    };
    Ok(Connection::open_with(url, options).await?)
}

/// A queue that exists: some item in some state, a pause, or counters of the last two hours.
pub(crate) async fn existing_queue(
    connection: &Connection,
    name: &str,
) -> CliResult<(WorkQueue, QueueStats)> {
    let queue = WorkQueue::new(connection, name)?;
    let stats = queue.stats().await?;
    let empty = stats.queued + stats.processing + stats.delayed + stats.dead == 0
        && !stats.paused
        && stats.completed_last_hour() + stats.failed_last_hour() == 0;
    if empty {
        return Err(CliError(format!(
            "unknown queue {name:?}: no items, no pause and no activity in the last hour under that prefix"
        )));
    }
    Ok((queue, stats))
}

/// Stats of every queue on the server, sorted by name.
pub(crate) async fn all_stats(
    connection: &Connection,
    names: &[String],
) -> CliResult<Vec<QueueStats>> {
    let mut stats: Vec<QueueStats> = stream::iter(names.iter().cloned())
        .map(|name| async move {
            let queue = WorkQueue::new(connection, &name)?;
            queue.stats().await
        })
        .buffer_unordered(STATS_CONCURRENCY)
        .try_collect()
        .await?;
    stats.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(stats)
}

fn spinner(message: &str) -> ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    bar.set_message(message.to_owned());
    bar
}

fn counting_bar(total: u64, what: &str) -> ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(total)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}}, {{eta}} left)"
    )) {
        bar.set_style(style);
    }
    bar
}

pub(crate) async fn run(cli: Cli) -> CliResult<()> {
    if let Command::Dashboard {
        listen,
        read_only,
        auth,
        queue,
    } = &cli.command
    {
        let connection = connect(&cli.url).await?;
        return crate::dashboard::serve(
            connection,
            listen,
            *read_only,
            auth.clone(),
            queue.clone(),
        )
        .await;
    }
    let connection = connect(&cli.url).await?;
    let json = cli.json;
    match cli.command {
        Command::Queues { scan } => queues(&connection, scan, json).await,
        Command::Stats { queue, watch } => stats(&connection, &queue, watch, json).await,
        Command::Peek {
            queue,
            count,
            format,
        } => peek(&connection, &queue, count, format, json).await,
        Command::Item { queue, id, format } => item(&connection, &queue, &id, format, json).await,
        Command::Dead {
            queue,
            filter,
            limit,
        } => dead_list(&connection, &queue, filter, limit, json).await,
        Command::Requeue {
            queue,
            filter,
            dry_run,
        } => {
            bulk(
                &connection,
                &queue,
                filter,
                BulkAction::Requeue,
                dry_run,
                true,
                json,
            )
            .await
        }
        Command::Purge {
            queue,
            filter,
            dry_run,
            yes,
        } => {
            bulk(
                &connection,
                &queue,
                filter,
                BulkAction::Purge,
                dry_run,
                yes,
                json,
            )
            .await
        }
        Command::Pause { queue } => {
            WorkQueue::new(&connection, &queue)?.pause().await?;
            report(json, json!({ "queue": queue, "paused": true }), "paused");
            Ok(())
        }
        Command::Resume { queue } => {
            let was_paused = WorkQueue::new(&connection, &queue)?.resume().await?;
            report(
                json,
                json!({ "queue": queue, "paused": false, "was_paused": was_paused }),
                if was_paused {
                    "resumed"
                } else {
                    "was not paused"
                },
            );
            Ok(())
        }
        Command::Clean { queue, deep } => clean(&connection, &queue, deep, json).await,
        Command::Add { queue, file, batch } => add(&connection, &queue, file, batch, json).await,
        Command::Dashboard { .. } => unreachable!("handled above"),
    }
}

fn report(json: bool, value: Value, text: &str) {
    if json {
        view::print_json(&value);
    } else {
        println!("{text}");
    }
}

async fn queues(connection: &Connection, scan: bool, json: bool) -> CliResult<()> {
    let bar = spinner("reading the registry of queues");
    let names = leaseq::find_queues(connection, scan, |visited| {
        bar.set_message(format!("scanning keys: {visited} visited"));
        bar.tick();
    })
    .await?;
    bar.finish_and_clear();
    let stats = all_stats(connection, &names).await?;
    let summaries: Vec<QueueSummary> = stats.iter().map(QueueSummary::from).collect();
    if json {
        view::print_json(&summaries);
        return Ok(());
    }
    if summaries.is_empty() {
        println!("no queues");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = summaries.iter().map(summary_row).collect();
    view::print_table(&SUMMARY_HEADER, &rows);
    Ok(())
}

/// The columns of `summary_row`, shared by `queues` and `stats`.
const SUMMARY_HEADER: [&str; 12] = [
    "QUEUE",
    "QUEUED",
    "BY PRIORITY",
    "PROCESSING",
    "DELAYED",
    "DEAD",
    "PAUSED",
    "OLDEST",
    "DONE/1M",
    "FAIL/1M",
    "DONE/1H",
    "FAIL/1H",
];

fn summary_row(s: &QueueSummary) -> Vec<String> {
    let by_priority = if s.queued_by_priority.len() <= 1 && s.queued_by_priority.contains_key("0") {
        "-".to_owned()
    } else {
        s.queued_by_priority
            .iter()
            .map(|(level, count)| format!("p{level}:{count}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    vec![
        s.name.clone(),
        s.queued.to_string(),
        by_priority,
        s.processing.to_string(),
        s.delayed.to_string(),
        s.dead.to_string(),
        if s.paused { "yes" } else { "no" }.into(),
        view::age(s.oldest_queued_age_ms),
        s.completed_last_minute.to_string(),
        s.failed_last_minute.to_string(),
        s.completed_last_hour.to_string(),
        s.failed_last_hour.to_string(),
    ]
}

async fn stats(connection: &Connection, name: &str, watch: bool, json: bool) -> CliResult<()> {
    let (queue, mut stats) = existing_queue(connection, name).await?;
    loop {
        if json {
            let value = view::stats_json(&stats);
            if watch {
                // One JSON document per line, so a script can read the stream.
                println!("{value}");
            } else {
                view::print_json(&value);
            }
        } else {
            if watch {
                print!("\x1b[H\x1b[2J");
            }
            let summary = QueueSummary::from(&stats);
            view::print_table(&SUMMARY_HEADER, &[summary_row(&summary)]);
        }
        let _ = std::io::stdout().flush();
        if !watch {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
        stats = queue.stats().await?;
    }
}

async fn peek(
    connection: &Connection,
    name: &str,
    count: u64,
    format: DataFormat,
    json: bool,
) -> CliResult<()> {
    if count == 0 || count > 1000 {
        return Err(CliError("--count must be between 1 and 1000".into()));
    }
    let (queue, _) = existing_queue(connection, name).await?;
    // Higher priorities are leased first, then the plain queue.
    let mut items = queue
        .items_in(leaseq::ItemList::Prioritized, 0, count)
        .await?;
    if (items.len() as u64) < count {
        let rest = count - items.len() as u64;
        items.extend(queue.items_in(leaseq::ItemList::Queued, 0, rest).await?);
    }
    if json {
        let values: Vec<Value> = items.iter().map(|i| view::item_json(i, format)).collect();
        view::print_json(&values);
    } else if items.is_empty() {
        println!("nothing queued");
    } else {
        let rows: Vec<Vec<String>> = items
            .iter()
            .map(|i| {
                vec![
                    i.id.clone(),
                    i.attempts.to_string(),
                    view::data_preview(&i.data, format, 80),
                ]
            })
            .collect();
        view::print_table(&["ID", "ATTEMPTS", "DATA"], &rows);
    }
    Ok(())
}

pub(crate) fn item_info_json(info: &leaseq::ItemInfo, format: DataFormat) -> Value {
    let mut value = serde_json::to_value(info).unwrap_or(Value::Null);
    if let (Value::Object(map), Some(data)) = (&mut value, &info.data) {
        let (encoding, data) = view::data_value(data, format);
        map.insert("encoding".into(), json!(encoding));
        map.insert("data".into(), data);
    }
    value
}

async fn item(
    connection: &Connection,
    name: &str,
    id: &str,
    format: DataFormat,
    json: bool,
) -> CliResult<()> {
    let (queue, _) = existing_queue(connection, name).await?;
    let info = queue.item_info(id).await?;
    if json {
        view::print_json(&item_info_json(&info, format));
        return Ok(());
    }
    use leaseq::ItemState::*;
    let state = match &info.state {
        Queued { priority } => format!("queued at priority {priority}"),
        Delayed { due_ms } => format!("delayed, due at {due_ms} ms (Redis clock)"),
        Leased {
            session,
            expires_in_ms,
        } => format!(
            "leased by session {session}, lease ends in {}",
            view::age(Some((*expires_in_ms).max(0) as u64))
        ),
        LeaseExpired => "lease expired, waiting for a clean or the next lease to requeue it".into(),
        Dead { died_ms } => format!("dead since {died_ms} ms"),
        Unknown => "unknown (never added, completed or purged)".into(),
    };
    println!("id:         {}", info.id);
    println!("state:      {state}");
    println!("attempts:   {}", info.attempts);
    if let Some(error) = &info.last_error {
        println!("last error: {error}");
    }
    if let Some(data) = &info.data {
        let (_, value) = view::data_value(data, format);
        let text = match value {
            Value::String(s) => s,
            other => serde_json::to_string_pretty(&other).unwrap_or_default(),
        };
        println!("data:\n{text}");
    }
    Ok(())
}

fn filter_of(args: DeadFilterArgs) -> DeadFilter {
    DeadFilter {
        grep: args.grep,
        error: args.error,
        ids: args.ids,
    }
}

fn dead_json(dead: &leaseq::DeadItem) -> Value {
    let mut value = view::item_json(&dead.item, DataFormat::Auto);
    let died_ms = dead
        .died_at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    if let Value::Object(map) = &mut value {
        map.insert("error".into(), json!(dead.error));
        map.insert("died_ms".into(), json!(died_ms));
    }
    value
}

/// The queue's dead letters that match the filter (with a progress bar while reading), and the
/// total number of dead letters: what `dead` lists and what `requeue`/`purge` act on.
async fn read_dead(
    connection: &Connection,
    name: &str,
    args: DeadFilterArgs,
) -> CliResult<(WorkQueue, DeadFilter, u64, Vec<DeadItem>)> {
    let (queue, stats) = existing_queue(connection, name).await?;
    let filter = filter_of(args);
    let bar = counting_bar(stats.dead, "dead letters read");
    let (total, matched) = dead::select(&queue, &filter, |done, _| bar.set_position(done)).await?;
    bar.finish_and_clear();
    Ok((queue, filter, total, matched))
}

async fn dead_list(
    connection: &Connection,
    name: &str,
    args: DeadFilterArgs,
    limit: usize,
    json: bool,
) -> CliResult<()> {
    let (_, _, total, matched) = read_dead(connection, name, args).await?;
    if json {
        let items: Vec<Value> = matched.iter().take(limit).map(dead_json).collect();
        view::print_json(&json!({ "dead": total, "matching": matched.len(), "items": items }));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = matched
        .iter()
        .take(limit)
        .map(|d| {
            vec![
                d.item.id.clone(),
                d.item.attempts.to_string(),
                view::data_preview(d.error.as_bytes(), DataFormat::Text, 40),
                view::data_preview(&d.item.data, DataFormat::Auto, 60),
            ]
        })
        .collect();
    view::print_table(&["ID", "ATTEMPTS", "ERROR", "DATA"], &rows);
    println!("{} of {} dead letters match", matched.len(), total);
    Ok(())
}

async fn bulk(
    connection: &Connection,
    name: &str,
    args: DeadFilterArgs,
    action: BulkAction,
    dry_run: bool,
    yes: bool,
    json: bool,
) -> CliResult<()> {
    let (queue, filter, total, matched) = read_dead(connection, name, args).await?;
    let ids: Vec<String> = matched.iter().map(|d| d.item.id.clone()).collect();
    let verb = match action {
        BulkAction::Requeue => "requeue",
        BulkAction::Purge => "purge",
    };
    if dry_run {
        if json {
            view::print_json(
                &json!({ "dry_run": true, "action": verb, "dead": total, "ids": ids }),
            );
        } else {
            for id in &ids {
                println!("{id}");
            }
            println!("would {verb} {} of {} dead letters", ids.len(), total);
        }
        return Ok(());
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(CliError(format!(
                "{verb} needs --yes when stdin is not a terminal ({} items match; --dry-run lists them)",
                ids.len()
            )));
        }
        eprint!(
            "{verb} {} of {} dead letters in {name:?}? [y/N] ",
            ids.len(),
            total
        );
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err(CliError("cancelled".into()));
        }
    }
    let done = dead::apply(&queue, &filter, &ids, action).await?;
    let past = match action {
        BulkAction::Requeue => "requeued",
        BulkAction::Purge => "purged",
    };
    report(
        json,
        json!({ "action": verb, "matched": ids.len(), past: done }),
        &format!("{past} {done} of {} matching dead letters", ids.len()),
    );
    Ok(())
}

async fn clean(connection: &Connection, name: &str, deep: bool, json: bool) -> CliResult<()> {
    let (queue, _) = existing_queue(connection, name).await?;
    let bar = spinner(if deep { "deep clean" } else { "light clean" });
    bar.enable_steady_tick(Duration::from_millis(120));
    let report_ = if deep {
        queue.deep_clean().await?
    } else {
        queue.light_clean().await?
    };
    let trimmed = queue.trim_stats(deep).await?;
    bar.finish_and_clear();
    report(
        json,
        json!({ "requeued": report_.requeued, "dropped": report_.dropped, "dead": report_.dead,
                "stats_fields_trimmed": trimmed }),
        &format!(
            "requeued {}, dropped {}, dead {}",
            report_.requeued, report_.dropped, report_.dead
        ),
    );
    Ok(())
}

async fn add(
    connection: &Connection,
    name: &str,
    file: Option<std::path::PathBuf>,
    batch: usize,
    json: bool,
) -> CliResult<()> {
    if batch == 0 || batch > 10_000 {
        return Err(CliError("--batch must be between 1 and 10000".into()));
    }
    let queue = WorkQueue::new(connection, name)?;
    let (reader, total_bytes): (Box<dyn BufRead>, Option<u64>) = match &file {
        Some(path) => {
            let opened = std::fs::File::open(path)
                .map_err(|err| CliError(format!("cannot read {}: {err}", path.display())))?;
            let size = opened.metadata().ok().map(|m| m.len());
            (Box::new(std::io::BufReader::new(opened)), size)
        }
        None => (Box::new(std::io::BufReader::new(std::io::stdin())), None),
    };
    let bar = match total_bytes {
        Some(total) => counting_bar(total, "bytes"),
        None => spinner("adding"),
    };
    let mut pending = Vec::with_capacity(batch);
    let (mut lines, mut added, mut read_bytes) = (0u64, 0u64, 0u64);
    for (number, line) in reader.lines().enumerate() {
        let line = line?;
        read_bytes += line.len() as u64 + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(trimmed).map_err(|err| {
            CliError(format!(
                "line {}: not JSON ({err}); nothing after it was added",
                number + 1
            ))
        })?;
        pending.push(Item::new(serde_json::to_vec(&value).unwrap_or_default()));
        lines += 1;
        if pending.len() == batch {
            added += queue.add_items(&pending).await?;
            pending.clear();
            bar.set_position(read_bytes);
            bar.set_message(format!("{added} added"));
        }
    }
    if !pending.is_empty() {
        added += queue.add_items(&pending).await?;
    }
    bar.finish_and_clear();
    report(
        json,
        json!({ "queue": name, "read": lines, "added": added }),
        &format!("added {added} of {lines} items to {name}"),
    );
    Ok(())
}
