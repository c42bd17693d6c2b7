"""leaseq.metrics: a worker's counters as prometheus_client reads them, checked through the text
format a Prometheus server scrapes, parsed by prometheus_client's own parser."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

import leaseq
from leaseq.metrics import WorkerCollector


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting")
        time.sleep(0.01)


def samples(registry: CollectorRegistry) -> list[tuple[str, str, dict[str, str], float]]:
    """(sample name, its family's type, labels, value) of each sample in the registry's text
    exposition."""
    text = generate_latest(registry).decode()
    return [
        (sample.name, family.type, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def scrape(registry: CollectorRegistry) -> dict[str, tuple[str, dict[str, str], float]]:
    """Sample name -> (type, labels, value), for a registry with one collector."""
    return {name: (kind, labels, value) for name, kind, labels, value in samples(registry)}


def values(registry: CollectorRegistry) -> dict[str, float]:
    return {name: value for name, _, _, value in samples(registry)}


def test_the_collector_reports_the_workers_counters(conn: leaseq.Connection, prefix: str) -> None:
    queue = leaseq.WorkQueue(conn, prefix, max_attempts=3, backoff_base=0.01, backoff_max=0.01)
    failed_once: set[str] = set()
    release_slow = threading.Event()

    def handler(item: leaseq.Item) -> None:
        if item.id == "b" and "b" not in failed_once:
            failed_once.add("b")
            raise ValueError("first attempt of b")
        if item.id == "slow":
            release_slow.wait(10)

    worker = leaseq.Worker(queue, handler, clean_every=None)
    registry = CollectorRegistry()
    registry.register(WorkerCollector(worker, queue="emails"))
    assert values(registry) == {
        "leaseq_worker_leased_total": 0,
        "leaseq_worker_completed_total": 0,
        "leaseq_worker_failed_total": 0,
        "leaseq_worker_retried_total": 0,
        "leaseq_worker_renewed_total": 0,
        "leaseq_worker_in_flight": 0,
    }

    for item_id in ("a", "b", "c"):
        queue.add_item(leaseq.Item(item_id.encode(), id=item_id))
    running = threading.Thread(target=worker.run, daemon=True)
    running.start()
    try:
        wait_until(lambda: worker.counters.completed == 3)
        queue.add_item(leaseq.Item(b"slow", id="slow"))
        wait_until(lambda: worker.counters.in_flight == 1)

        samples = scrape(registry)
        assert samples == {
            "leaseq_worker_leased_total": ("counter", {"queue": "emails"}, 5),
            "leaseq_worker_completed_total": ("counter", {"queue": "emails"}, 3),
            "leaseq_worker_failed_total": ("counter", {"queue": "emails"}, 1),
            "leaseq_worker_retried_total": ("counter", {"queue": "emails"}, 1),
            "leaseq_worker_renewed_total": ("counter", {"queue": "emails"}, 0),
            "leaseq_worker_in_flight": ("gauge", {"queue": "emails"}, 1),
        }
    finally:
        release_slow.set()
    wait_until(lambda: worker.counters.completed == 4)
    worker.stop()
    running.join(10)
    assert not running.is_alive()
    after = values(registry)
    assert (after["leaseq_worker_completed_total"], after["leaseq_worker_in_flight"]) == (4, 0)


def test_added_workers_are_reported_per_queue_and_summed_within_one(
    conn: leaseq.Connection, prefix: str
) -> None:
    emails = leaseq.WorkQueue(conn, f"{prefix}:emails")
    resize = leaseq.WorkQueue(conn, f"{prefix}:resize")
    for number in range(3):
        emails.add_item(leaseq.Item(b"mail", id=f"mail-{number}"))
    resize.add_item(leaseq.Item(b"photo", id="photo"))
    workers = {
        "emails 1": leaseq.Worker(emails, lambda item: None),
        "emails 2": leaseq.Worker(emails, lambda item: None),
        "resize": leaseq.Worker(resize, lambda item: None),
    }
    collector = WorkerCollector(workers["emails 1"], queue="emails")
    collector.add(workers["emails 2"], queue="emails")
    collector.add(workers["resize"], queue="resize")
    registry = CollectorRegistry()
    registry.register(collector)

    threads = [threading.Thread(target=worker.run, daemon=True) for worker in workers.values()]
    for thread in threads:
        thread.start()
    wait_until(lambda: sum(worker.counters.completed for worker in workers.values()) == 4)
    for worker in workers.values():
        worker.stop()
    for thread in threads:
        thread.join(10)
    completed = [
        (labels, value)
        for name, _, labels, value in samples(registry)
        if name == "leaseq_worker_completed_total"
    ]
    assert completed == [({"queue": "emails"}, 3), ({"queue": "resize"}, 1)]


def test_a_registry_refuses_a_second_collector_with_the_same_names(
    queue: leaseq.WorkQueue,
) -> None:
    registry = CollectorRegistry()
    registry.register(WorkerCollector(leaseq.Worker(queue, lambda item: None), queue="emails"))
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        registry.register(WorkerCollector(leaseq.Worker(queue, lambda item: None), queue="resize"))


def test_a_worker_is_required(queue: leaseq.WorkQueue) -> None:
    with pytest.raises(TypeError, match=r"leaseq\.Worker"):
        WorkerCollector(queue, queue="emails")  # type: ignore[arg-type]
    collector = WorkerCollector(leaseq.Worker(queue, lambda item: None), queue="emails")
    with pytest.raises(TypeError, match=r"leaseq\.Worker"):
        collector.add(None, queue="emails")  # type: ignore[arg-type]


def test_without_prometheus_client_the_error_says_what_to_install(
    queue: leaseq.WorkQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # import raises ImportError
    worker = leaseq.Worker(queue, lambda item: None)
    with pytest.raises(ImportError, match="pip install prometheus-client"):
        WorkerCollector(worker, queue="emails")
