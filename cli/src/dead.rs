//! Dead letters filtered by data text, error text and ids; bulk actions act only on the ids that
//! were shown AND still match the filter when the action runs.

use std::collections::HashSet;

use leaseq::{DeadItem, WorkQueue};
use serde::Deserialize;

use crate::CliResult;

/// A dead-letter filter; empty fields match everything.
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct DeadFilter {
    #[serde(default)]
    pub grep: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub ids: Vec<String>,
}

impl DeadFilter {
    pub fn matches(&self, dead: &DeadItem) -> bool {
        let non_empty =
            |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        if let Some(text) = non_empty(&self.grep) {
            if !String::from_utf8_lossy(&dead.item.data).contains(&text) {
                return false;
            }
        }
        if let Some(text) = non_empty(&self.error) {
            if !dead.error.contains(&text) {
                return false;
            }
        }
        self.ids.is_empty() || self.ids.contains(&dead.item.id)
    }
}

/// Walks the dead letters 1000 at a time (one bounded script call each) and keeps the matches.
/// `progress(done, total)` after each page.
pub(crate) async fn select(
    queue: &WorkQueue,
    filter: &DeadFilter,
    mut progress: impl FnMut(u64, u64),
) -> CliResult<(u64, Vec<DeadItem>)> {
    let total = queue.dead_len().await?;
    let mut offset = 0;
    let mut matched = Vec::new();
    loop {
        let page = queue.dead_items(offset, 1000).await?;
        if page.is_empty() {
            break;
        }
        offset += page.len() as u64;
        matched.extend(page.into_iter().filter(|dead| filter.matches(dead)));
        progress(offset.min(total), total);
    }
    Ok((total, matched))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BulkAction {
    Requeue,
    Purge,
}

/// Applies `action` to the ids in `shown` that still match `filter` now; returns how many it
/// changed. Ids not shown are never touched, nor shown ones that no longer match.
pub(crate) async fn apply(
    queue: &WorkQueue,
    filter: &DeadFilter,
    shown: &[String],
    action: BulkAction,
) -> CliResult<u64> {
    let shown: HashSet<&String> = shown.iter().collect();
    let (_, now) = select(queue, filter, |_, _| {}).await?;
    let ids: Vec<String> = now
        .into_iter()
        .map(|dead| dead.item.id)
        .filter(|id| shown.contains(id))
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(match action {
        BulkAction::Requeue => queue.requeue_dead(&ids).await?,
        BulkAction::Purge => queue.purge_dead(&ids).await?,
    })
}
