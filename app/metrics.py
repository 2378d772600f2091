"""Prometheus metrics: jobs by status, queue depth, audio aligned, job durations."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

STATUSES = ("queued", "running", "succeeded", "failed", "canceled")


class _JobGauges(Collector):
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self):  # type: ignore[no-untyped-def]
        counts = self._counts()
        jobs = GaugeMetricFamily("podalign_jobs", "Jobs in the store by status", labels=["status"])
        for status in STATUSES:
            jobs.add_metric([status], counts.get(status, 0))
        yield jobs
        yield GaugeMetricFamily(
            "podalign_queue_depth", "Jobs waiting to run", value=counts.get("queued", 0)
        )


class Metrics:
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_JobGauges(counts))
        self.audio_seconds = Counter(
            "podalign_audio_aligned_seconds",
            "Seconds of audio in succeeded jobs",
            registry=self.registry,
        )
        self.finished = Counter(
            "podalign_jobs_finished",
            "Jobs finished by this process",
            ["status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "podalign_job_duration_seconds",
            "Wall time of a job in the worker",
            buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 3600, 7200),
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
