"""Distributed mode end to end: an API-only `podalign serve` and two `podalign worker`s with data
folders of their own, PostgreSQL, RabbitMQ and an S3 store, all real and on loopback. Jobs run on
tiny.en; the failures (a killed worker, a canceled job, a broker or store restart, a consumer
timeout) are made real too, by signals and restarts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.jobs import JobStore
from app.objectstore import open_object_store
from app.settings import Settings
from tests.cluster import BUCKET, Cluster, submit, wait_until
from tests.conftest import run_tool
from tests.integration.conftest import SAMPLE
from tests.postgres import postgres
from tests.service import wait_for

#: Short enough settings that failures are noticed within seconds: a lease renewed every
#: second, lost messages sent again after 5 s, the sweeper every 2 s, two attempts per job.
SETTINGS = {
    "PODALIGN_HEARTBEAT_S": "1",
    "PODALIGN_LEASE_S": "30",
    "PODALIGN_REPUBLISH_AFTER_S": "5",
    "PODALIGN_SWEEP_EVERY_S": "2",
    "PODALIGN_MAX_ATTEMPTS": "2",
    "PODALIGN_OBJECT_STORE_RETRY_S": "60",
    "PODALIGN_REFINE": "signal",
}
SHORT = (SAMPLE / "audio.wav", SAMPLE / "text.txt")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with postgres() as database_url:
        running = Cluster(tmp_path_factory.mktemp("cluster"), database_url, **SETTINGS)
        try:
            yield running.start()
        finally:
            running.stop()


@pytest.fixture(scope="module")
def api(cluster: Cluster) -> Iterator[httpx.Client]:
    assert cluster.api is not None
    with cluster.api.client() as client:
        yield client


@pytest.fixture(scope="module")
def long_job(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample 20 times over (9 minutes): about ten seconds of work for tiny.en here,
    long enough to act on while it runs."""
    folder = tmp_path_factory.mktemp("long")
    audio, text = folder / "long.mp3", folder / "long.txt"
    run_tool(
        "ffmpeg", "-v", "error", "-stream_loop", "19", "-i", str(SHORT[0]), "-ac", "1",
        "-b:a", "48k", str(audio),
    )  # fmt: skip
    text.write_text((SHORT[1].read_text().strip() + "\n") * 20)
    return audio, text


def test_distributed_mode_refuses_sqlite_with_a_clear_message(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PODALIGN_DATA_DIR": str(tmp_path),
        "PODALIGN_BROKER_URL": "amqp://guest:guest@127.0.0.1:1//",
    }
    env.pop("PODALIGN_DATABASE_URL", None)
    for command in ("serve", "worker"):
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 64, done.stderr
        assert "PODALIGN_DATABASE_URL" in done.stderr and "PostgreSQL" in done.stderr


def test_ten_jobs_each_run_once_on_two_workers_that_share_no_disk(
    cluster: Cluster, api: httpx.Client
) -> None:
    ids = [submit(api, *SHORT) for _ in range(10)]
    jobs = [wait_for(api, job_id, 300) for job_id in ids]
    assert [job["status"] for job in jobs] == ["succeeded"] * 10, jobs
    for job_id in ids:
        assert cluster.row(job_id)["attempts"] == 1
        assert cluster.successes(job_id) == 1
        words = api.get(f"/v1/alignments/{job_id}/words").json()["words"]
        assert sum(word["status"] == "aligned" for word in words) > 0.9 * len(words)
    # Both workers took jobs; neither kept any job file, nor did the API: all is in the bucket.
    for worker in cluster.workers:
        assert any(worker.log_text().count(f"job {i}: succeeded") for i in ids)
        assert not [p for p in (worker.data_dir / "jobs").rglob("*") if p.is_file()]
    keys = {
        item["Key"]
        for item in cluster.store.client().list_objects_v2(Bucket=BUCKET)["Contents"]  # type: ignore[attr-defined]
    }
    assert {f"podalign/jobs/{ids[0]}/{name}" for name in ("audio", "transcript.txt")} <= keys
    assert f"podalign/jobs/{ids[0]}/result-1.json" in keys


def test_the_audio_comes_from_the_store_with_ranges(api: httpx.Client) -> None:
    job_id = submit(api, *SHORT)
    original = SHORT[0].read_bytes()
    whole = api.get(f"/v1/alignments/{job_id}/audio")
    assert whole.status_code == 200 and whole.content == original
    part = api.get(f"/v1/alignments/{job_id}/audio", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == original[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(original)}"
    tail = api.get(f"/v1/alignments/{job_id}/audio", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == original[-10:]
    past = api.get(f"/v1/alignments/{job_id}/audio", headers={"Range": f"bytes={len(original)}-"})
    assert past.status_code == 416
    wait_for(api, job_id)


def test_a_killed_workers_job_goes_to_the_other_at_once_and_its_stale_claim_is_fenced(
    cluster: Cluster, api: httpx.Client, long_job: tuple[Path, Path]
) -> None:
    job_id = submit(api, *long_job)
    cluster.wait_running(job_id, attempt=1)
    victim = cluster.holder(job_id)
    victim.kill()
    killed_at = time.monotonic()
    cluster.wait_running(job_id, attempt=2, progress=0.0)
    assert time.monotonic() - killed_at < 20  # redelivered at once, not after the 30 s lease
    assert cluster.holder(job_id) is not victim
    job = wait_for(api, job_id, 300)
    assert job["status"] == "succeeded"
    assert cluster.successes(job_id) == 1
    victim.start()  # back for the next tests

    # The killed claim (attempt 1) comes back late: none of its writes lands.
    store = JobStore(cluster.engine())
    counts = {"aligned": 0, "not_found": 0, "non_speech": 0}
    assert not store.report(job_id, 1, "align", 0.5, 30)
    assert not store.succeed(job_id, 1, "en", 1.0, counts)
    store.fail(job_id, "internal_error", "late", attempt=1)
    row = cluster.row(job_id)
    assert (row["status"], row["attempts"], row["error_code"]) == ("succeeded", 2, None)
    files = open_object_store(cluster.root / "stale", Settings(**_settings(cluster)))
    files.write_result(job_id, b'{"words": []}', attempt=1)
    words = api.get(f"/v1/alignments/{job_id}/words").json()["words"]
    assert len(words) > 100  # attempt 2's result, not the stale one


def test_a_running_job_is_canceled_on_its_remote_worker(
    cluster: Cluster, api: httpx.Client, long_job: tuple[Path, Path]
) -> None:
    job_id = submit(api, *long_job)
    cluster.wait_running(job_id, attempt=1)
    worker = cluster.holder(job_id)
    assert api.delete(f"/v1/alignments/{job_id}").status_code == 204
    wait_until(
        lambda: f"job {job_id}: canceled while running" in worker.log_text(),
        "the worker stopping the canceled job",
    )
    assert cluster.row(job_id)["status"] == "canceled"
    assert cluster.successes(job_id) == 0
    # The worker is free again.
    assert wait_for(api, submit(api, *SHORT))["status"] == "succeeded"


def test_a_job_that_kills_its_worker_every_time_fails_after_the_attempt_cap(
    cluster: Cluster, api: httpx.Client, long_job: tuple[Path, Path]
) -> None:
    job_id = submit(api, *long_job)
    killed = []
    for attempt in (1, 2):  # PODALIGN_MAX_ATTEMPTS=2
        cluster.wait_running(job_id, attempt=attempt, progress=0.0)
        killed.append(cluster.holder(job_id))
        killed[-1].kill()
    for worker in killed:
        worker.start()
    job = wait_for(api, job_id, 120)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "worker_lost"  # type: ignore[index]
    assert cluster.row(job_id)["attempts"] == 2


def test_jobs_survive_a_rabbitmq_restart_mid_run(
    cluster: Cluster, api: httpx.Client, long_job: tuple[Path, Path]
) -> None:
    running = submit(api, *long_job)
    queued = [submit(api, *SHORT) for _ in range(3)]
    cluster.wait_running(running, attempt=1)
    cluster.broker.stop()
    during = [submit(api, *SHORT) for _ in range(2)]  # accepted: the rows are the truth
    assert cluster.api is not None
    assert "the queue did not take it" in cluster.api.log.read_text()
    cluster.broker.start()
    for job_id in [running, *queued, *during]:
        job = wait_for(api, job_id, 300)
        assert job["status"] == "succeeded", (job_id, job.get("error"), job.get("attempts"))
        assert cluster.successes(job_id) == 1, job_id
    assert cluster.row(running)["attempts"] == 1  # its worker kept it through the outage


def test_jobs_survive_an_object_store_restart_mid_run(
    cluster: Cluster, api: httpx.Client, long_job: tuple[Path, Path]
) -> None:
    running = submit(api, *long_job)
    queued = [submit(api, *SHORT) for _ in range(2)]
    cluster.wait_running(running, attempt=1)
    cluster.store.stop()
    # A read for a client answers soon, with a JSON 503, while the store is down.
    asked = time.monotonic()
    audio = api.get(f"/v1/alignments/{running}/audio")
    assert audio.status_code == 503, audio.text
    assert audio.json()["error"]["code"] == "storage_unavailable"
    assert time.monotonic() - asked < 20
    late: list[str] = []
    upload = threading.Thread(target=lambda: late.append(submit(api, *SHORT)))
    upload.start()  # waits for the store, retrying
    assert cluster.api is not None
    api_log = cluster.api.log
    wait_until(
        lambda: "object store: could not upload" in api_log.read_text(),
        "the API retrying the upload while the store is down",
    )
    cluster.store.start()
    upload.join(timeout=120)
    assert late, "the upload made during the outage was not accepted once the store was back"
    for job_id in [running, *queued, *late]:
        job = wait_for(api, job_id, 300)
        assert job["status"] == "succeeded", (job_id, job.get("error"), job.get("attempts"))
        assert cluster.successes(job_id) == 1, job_id


def test_a_job_longer_than_the_consumer_timeout_finishes_once(
    cluster: Cluster, api: httpx.Client, long_job: tuple[Path, Path]
) -> None:
    """RabbitMQ closes the channel of a delivery unacknowledged for longer than its consumer
    timeout and delivers the message again; the job must still run once, to its end."""
    cluster.broker.stop()
    cluster.broker.configure(consumer_timeout_ms=2000)
    cluster.broker.start()
    try:
        job_id = submit(api, *long_job)
        job = wait_for(api, job_id, 300)
        assert job["status"] == "succeeded"
        assert cluster.row(job_id)["attempts"] == 1
        assert cluster.successes(job_id) == 1
        # The timeout did fire while the job ran (the broker closed the worker's channel).
        broker_log = "".join(p.read_text() for p in (cluster.broker.root / "log").glob("*.log"))
        assert "delivery acknowledgement on channel" in broker_log
        # Every worker is still there, and takes jobs.
        assert all(worker.process and worker.process.poll() is None for worker in cluster.workers)
        assert wait_for(api, submit(api, *SHORT))["status"] == "succeeded"
    finally:
        cluster.broker.stop()
        cluster.broker.configure(consumer_timeout_ms=30 * 60 * 1000)
        cluster.broker.start()


def _settings(cluster: Cluster) -> dict[str, str]:
    """The object-store settings of the cluster, as Settings keywords."""
    return {
        key.removeprefix("PODALIGN_").lower(): value
        for key, value in cluster.store.settings().items()
    }


def test_results_are_json_documents_in_the_store(cluster: Cluster, api: httpx.Client) -> None:
    job_id = submit(api, *SHORT)
    assert wait_for(api, job_id)["status"] == "succeeded"
    body = (
        cluster.store.client()
        .get_object(  # type: ignore[attr-defined]
            Bucket=BUCKET, Key=f"podalign/jobs/{job_id}/result-1.json"
        )["Body"]
        .read()
    )
    assert json.loads(body)["words"]


def test_a_large_upload_goes_to_the_store_in_parts(
    cluster: Cluster, api: httpx.Client, tmp_path: Path
) -> None:
    """Over the part size: uploaded in 8 MB parts (one in memory at a time), not whole."""
    audio = tmp_path / "large.wav"  # 80 s of 44.1 kHz stereo: about 14 MB
    run_tool(
        "ffmpeg", "-v", "error", "-stream_loop", "2", "-i", str(SHORT[0]), "-ar", "44100",
        "-ac", "2", str(audio),
    )  # fmt: skip
    text = tmp_path / "large.txt"
    text.write_text((SHORT[1].read_text().strip() + "\n") * 3)
    job_id = submit(api, audio, text)
    head = cluster.store.client().head_object(  # type: ignore[attr-defined]
        Bucket=BUCKET, Key=f"podalign/jobs/{job_id}/audio"
    )
    assert head["ContentLength"] == audio.stat().st_size
    assert head["ETag"].strip('"').endswith("-2")  # a multipart object of two parts
    assert wait_for(api, job_id, 300)["status"] == "succeeded"
