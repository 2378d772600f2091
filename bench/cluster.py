"""Distributed mode's figures (issue 14): how long a job waits from submission to its start on an
idle service, and how many short jobs an hour one and two CPU workers finish, in distributed
mode (API, RabbitMQ, PostgreSQL, S3 store, `podalign worker`s) and in the embedded mode.

    .venv/bin/python -m bench.cluster [--jobs 20] [--latency-jobs 10]

Needs what the distributed tests need (`make test-tools`, the dev extra). Every service runs on
loopback on this machine, so the figures show the overhead of the queue and the store, not of a
network; the model is tiny.en with signal refinement on the 27 s `short_clean` sample.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx

from tests.cluster import Cluster, submit
from tests.postgres import postgres
from tests.service import Server, wait_for

SAMPLE = Path(__file__).resolve().parent.parent / "audio_samples" / "short_clean"
JOB = (SAMPLE / "audio.wav", SAMPLE / "text.txt")
SETTINGS = {"PODALIGN_REFINE": "signal", "PODALIGN_SWEEP_EVERY_S": "5"}
#: What one setup measured: median and longest submit-to-start wait (s), jobs per hour.
Row = tuple[float, float, float]


def start_latencies_s(client: httpx.Client, jobs: int) -> list[float]:
    """Seconds from a job's creation to its start, one job at a time on an idle service."""
    waits = []
    for _ in range(jobs):
        job = wait_for(client, submit(client, *JOB), 300)
        assert job["status"] == "succeeded", job
        created, started = (
            datetime.fromisoformat(str(job[k])) for k in ("created_at", "started_at")
        )
        waits.append((started - created).total_seconds())
    return waits


def jobs_per_hour(client: httpx.Client, jobs: int) -> float:
    """Submit `jobs` at once; jobs finished per hour from the first submission to the last end."""
    started = time.monotonic()
    ids = [submit(client, *JOB) for _ in range(jobs)]
    for job_id in ids:
        assert wait_for(client, job_id, 600)["status"] == "succeeded", job_id
    return jobs / (time.monotonic() - started) * 3600


def embedded(root: Path, threads: int, measure: Callable[[httpx.Client], Row]) -> Row:
    server = Server(root / f"embedded-{threads}", PODALIGN_WORKERS=str(threads), **SETTINGS)
    server.start()
    try:
        with server.client() as client:
            return measure(client)
    finally:
        server.stop()


def distributed(root: Path, measure: Callable[[httpx.Client], Row]) -> list[Row]:
    """Measured with two workers, then with one (the other stopped)."""
    with postgres() as database_url:
        cluster = Cluster(root / "cluster", database_url, **SETTINGS).start()
        try:
            assert cluster.api is not None
            with cluster.api.client() as client:
                both = measure(client)
                cluster.workers[1].stop()
                return [measure(client), both]
        finally:
            cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20, help="short jobs per throughput run")
    parser.add_argument("--latency-jobs", type=int, default=10, help="jobs timed one by one")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="podalign-bench-cluster-"))

    def measure(client: httpx.Client) -> Row:
        waits = start_latencies_s(client, args.latency_jobs)
        rate = jobs_per_hour(client, args.jobs)
        return statistics.median(waits), max(waits), rate

    rows = {
        "embedded, 1 worker thread": embedded(root, 1, measure),
        "embedded, 2 worker threads": embedded(root, 2, measure),
    }
    one, two = distributed(root, measure)
    rows.update({"distributed, 1 worker process": one, "distributed, 2 worker processes": two})
    print(f"CPU: {cpu_model()} ({platform.machine()})")
    print(f"{args.jobs} jobs per throughput run, {args.latency_jobs} timed one by one\n")
    print("| setup | submit-to-start latency, idle (median / max) | short jobs per hour |")
    print("| --- | --- | --- |")
    for setup, (median_s, max_s, rate) in rows.items():
        print(f"| {setup} | {median_s * 1000:.0f} ms / {max_s * 1000:.0f} ms | {rate:.0f} |")


def cpu_model() -> str:
    lines = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
    return next((line.split(":", 1)[1].strip() for line in lines if "Model name" in line), "?")


if __name__ == "__main__":
    main()
