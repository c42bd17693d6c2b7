//! Stress: concurrent workers and cleaners never lose an item nor complete one twice, and a
//! light clean never hands out an item whose lease is being taken at that moment.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{keys_under, queue};
use leaseq::{Item, WorkQueue};

const ITEMS: usize = 3000;

async fn add_all(queue: &WorkQueue) -> Vec<String> {
    let items: Vec<Item> = (0..ITEMS).map(|i| Item::new(i.to_string())).collect();
    assert_eq!(queue.add_items(&items).await.unwrap(), ITEMS as u64);
    items.into_iter().map(|item| item.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cleaners_racing_leases_never_cause_a_second_delivery() {
    let (_connection, queue, prefix) = queue("race").await;
    let ids = add_all(&queue).await;
    let deliveries: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let queue = queue.clone();
        let deliveries = deliveries.clone();
        tasks.push(tokio::spawn(async move {
            // Leases are long: any second delivery could only come from a clean stealing one.
            while let Some(item) = queue
                .lease(Duration::from_secs(60), false, None)
                .await
                .unwrap()
            {
                *deliveries
                    .lock()
                    .unwrap()
                    .entry(item.id.clone())
                    .or_default() += 1;
                assert!(queue.complete(&item).await.unwrap());
            }
        }));
    }
    let cleaner = {
        let queue = queue.clone();
        tokio::spawn(async move {
            let mut requeued = 0;
            while queue.queue_len().await.unwrap() > 0 {
                requeued += queue.light_clean().await.unwrap().requeued;
            }
            requeued
        })
    };
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(cleaner.await.unwrap(), 0, "a clean requeued a live lease");
    let deliveries = deliveries.lock().unwrap();
    assert_eq!(deliveries.len(), ITEMS);
    assert!(ids.iter().all(|id| deliveries[id] == 1));
    assert!(keys_under(&prefix).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn short_leases_and_abandoned_work_lose_nothing_and_complete_once() {
    let (_connection, queue, prefix) = queue("abandon").await;
    let ids = add_all(&queue).await;
    let completed: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let mut tasks = Vec::new();
    for worker in 0..8u64 {
        let queue = queue.clone();
        let completed = completed.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            loop {
                let Some(item) = queue
                    .lease(
                        Duration::from_millis(30),
                        true,
                        Some(Duration::from_millis(300)),
                    )
                    .await
                    .unwrap()
                else {
                    if queue.queue_len().await.unwrap() + queue.processing().await.unwrap() == 0 {
                        return;
                    }
                    continue;
                };
                n += 1;
                // Every 7th lease is abandoned (a crashed worker); every 11th outlives its lease.
                if (n + worker).is_multiple_of(7) {
                    continue;
                }
                if (n + worker).is_multiple_of(11) {
                    tokio::time::sleep(Duration::from_millis(40)).await;
                }
                if queue.complete(&item).await.unwrap() {
                    *completed.lock().unwrap().entry(item.id).or_default() += 1;
                }
            }
        }));
    }
    let cleaner = {
        let queue = queue.clone();
        tokio::spawn(async move {
            loop {
                queue.light_clean().await.unwrap();
                if queue.queue_len().await.unwrap() + queue.processing().await.unwrap() == 0 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    for task in tasks {
        task.await.unwrap();
    }
    cleaner.await.unwrap();
    let completed = completed.lock().unwrap();
    assert_eq!(completed.len(), ITEMS, "every item completed");
    assert!(ids.iter().all(|id| completed[id] == 1), "each exactly once");
    assert!(keys_under(&prefix).is_empty());
}
