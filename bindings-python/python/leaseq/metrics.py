"""A worker's counters for Prometheus: a ``prometheus_client`` collector.

    from prometheus_client import REGISTRY, start_http_server
    import leaseq.metrics

    worker = leaseq.Worker(queue, handle)
    REGISTRY.register(leaseq.metrics.WorkerCollector(worker, queue="jobs"))
    start_http_server(9100)
    worker.run(stop_on_signals=True)

Each scrape reads ``worker.counters`` (a snapshot; no Redis call) and reports, with the label
``queue``, the counters ``leaseq_worker_leased_total``, ``..._completed_total``,
``..._failed_total``, ``..._retried_total`` and ``..._renewed_total``, and the gauge
``leaseq_worker_in_flight``; ``collector.add(other_worker, queue="resize")`` reports one more
worker. They count what this process's workers did since they were made; the queue's own
figures (queued, dead, ...) are the dashboard's ``/metrics`` (``leaseq dashboard``).

``prometheus_client`` is an optional dependency (``pip install prometheus-client``), imported
when a collector is made, so ``import leaseq`` works without it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from leaseq._native import Worker, WorkerCounters

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric
    from prometheus_client.registry import Collector as _CollectorBase
else:
    # prometheus_client's Collector is an ABC that registries do not check for: at run time a
    # class with collect() and describe() is enough, and leaseq imports without the library.
    _CollectorBase = object

__all__ = ["WorkerCollector"]

# (counter, help text): each is leaseq_worker_<counter>_total, read from WorkerCounters.<counter>.
_COUNTERS = (
    ("leased", "Items the worker leased."),
    ("completed", "Items the worker completed (the handler succeeded and complete returned true)."),
    ("failed", "Handler failures and timeouts."),
    ("retried", "Failures scheduled for a retry (the rest went to the dead letters)."),
    ("renewed", "Successful lease renewals (heartbeats)."),
)
_IN_FLIGHT_HELP = "Items held now: the handler running, or the complete on its way."
_NAMES = (*(name for name, _ in _COUNTERS), "in_flight")


def _require_prometheus_client() -> None:
    try:
        import prometheus_client  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "leaseq.metrics.WorkerCollector needs the prometheus_client library: "
            "pip install prometheus-client"
        ) from exc


class WorkerCollector(_CollectorBase):
    """A ``prometheus_client`` collector of workers' counters (see the module's docstring):
    register it with a ``CollectorRegistry`` (``prometheus_client.REGISTRY.register(...)``).

    A registry takes each metric name from one collector only, so the workers of a process
    share one collector: ``add`` the others to it. Workers added with the same ``queue`` are
    reported as one (their counters summed).

    Args:
        worker: a worker whose ``counters`` are read at each scrape.
        queue: the value of its ``queue`` label (the queue's name, or what dashboards call it).

    Raises:
        ImportError: if ``prometheus_client`` is not installed.
        TypeError: if ``worker`` is not a ``leaseq.Worker``.
    """

    def __init__(self, worker: Worker, *, queue: str) -> None:
        _require_prometheus_client()
        self._workers: list[tuple[str, Worker]] = []
        self.add(worker, queue=queue)

    def add(self, worker: Worker, *, queue: str) -> None:
        """Reports one more worker's counters, from the next scrape on. A worker stays until
        the collector is unregistered: its counters must not fall back, as a counter's may not.

        Raises:
            TypeError: if ``worker`` is not a ``leaseq.Worker``.
        """
        if not isinstance(worker, Worker):
            raise TypeError(f"worker must be a leaseq.Worker, not {type(worker).__name__}")
        # A new list rather than append: a scrape on another thread iterates the old one.
        self._workers = [*self._workers, (queue, worker)]

    def describe(self) -> Iterator[Metric]:
        """The metrics collect() yields, without samples: a registry checks names with it
        without reading the counters."""
        return self._families({})

    def collect(self) -> Iterator[Metric]:
        """The workers' counters now, one metric family each, a sample per queue."""
        per_queue: dict[str, dict[str, int]] = {}
        for queue, worker in self._workers:
            totals = per_queue.setdefault(queue, dict.fromkeys(_NAMES, 0))
            for name, value in _values(worker.counters).items():
                totals[name] += value
        return self._families(per_queue)

    def _families(self, per_queue: Mapping[str, Mapping[str, int]]) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        for name, help_text in _COUNTERS:
            counter = CounterMetricFamily(f"leaseq_worker_{name}", help_text, labels=["queue"])
            for queue, totals in per_queue.items():
                counter.add_metric([queue], totals[name])
            yield counter
        gauge = GaugeMetricFamily("leaseq_worker_in_flight", _IN_FLIGHT_HELP, labels=["queue"])
        for queue, totals in per_queue.items():
            gauge.add_metric([queue], totals["in_flight"])
        yield gauge


def _values(counters: WorkerCounters) -> dict[str, int]:
    return {
        "leased": counters.leased,
        "completed": counters.completed,
        "failed": counters.failed,
        "retried": counters.retried,
        "renewed": counters.renewed,
        "in_flight": counters.in_flight,
    }
