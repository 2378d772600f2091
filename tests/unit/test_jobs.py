"""The job store on a real SQLite file: atomic claims, leases, recovery, retention."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from app.db import Job, connect, migrate
from app.files import JobFiles
from app.jobs import JobStore, NewJob
from app.settings import Settings
from app.webhooks import WebhookSender
from app.worker import Canceled, Models, Worker


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    engine = connect(f"sqlite:///{tmp_path / 'jobs.db'}")
    migrate(engine)
    migrate(engine)  # a second start finds the schema current
    return JobStore(engine)


def _new() -> NewJob:
    return NewJob("tiny.en", None, "a.mp3", 10, 5.0, None, {"k": 1})


def test_wal_mode_is_on(store: JobStore) -> None:
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_each_job_is_claimed_once_even_by_racing_workers(store: JobStore) -> None:
    ids = {store.create(_new()).id for _ in range(20)}
    claimed: list[str] = []
    lock = threading.Lock()

    def claim_all() -> None:
        while (job := store.claim_next(60)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=claim_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(ids)


def test_queue_positions_follow_submission_order(store: JobStore) -> None:
    jobs = [store.create(_new()) for _ in range(3)]
    time.sleep(0.01)
    assert [store.queue_position(j) for j in jobs] == [1, 2, 3]
    running = store.claim_next(60)
    assert running is not None and store.queue_position(running) is None


def _expire_leases(store: JobStore) -> None:
    with store.engine.begin() as connection:
        connection.execute(update(Job).values(lease_expires_at=time.time() - 1))


def test_lost_jobs_are_retried_then_failed(store: JobStore) -> None:
    job = store.create(_new())
    assert store.claim_next(60) is not None
    assert store.recover(max_attempts=2) == (0, 0)  # the lease is still live
    _expire_leases(store)
    assert store.recover(max_attempts=2) == (1, 0)
    assert store.get(job.id).status == "queued"  # type: ignore[union-attr]
    assert store.claim_next(60) is not None
    _expire_leases(store)
    assert store.recover(max_attempts=2) == (0, 1)
    lost = store.get(job.id)
    assert lost is not None and lost.status == "failed" and lost.error_code == "worker_lost"


def test_cancel_stops_progress_reports(store: JobStore) -> None:
    job = store.create(_new())
    assert store.claim_next(60) is not None
    assert store.report(job.id, 1, "align", 0.5, 60) is True
    assert store.cancel(job.id) == "running"
    assert store.report(job.id, 1, "align", 0.6, 60) is False
    assert store.get(job.id).status == "canceled"  # type: ignore[union-attr]


def test_a_stale_claim_can_neither_finish_the_job_nor_keep_its_lease(store: JobStore) -> None:
    job = store.create(_new())
    assert store.claim_next(60) is not None  # attempt 1, whose worker then stalls
    _expire_leases(store)
    assert store.recover(max_attempts=3) == (1, 0)
    again = store.claim_next(60)
    assert again is not None and again.attempts == 2
    lease = again.lease_expires_at
    counts = {"aligned": 1, "not_found": 0, "non_speech": 0}
    # The first worker wakes up: its heartbeat and its result are no longer the job's.
    assert store.report(job.id, 1, "align", 0.9, 3600) is False
    assert store.succeed(job.id, 1, "en", 5.0, counts) is False
    current = store.get(job.id)
    assert current is not None
    assert (current.status, current.attempts, current.progress) == ("running", 2, 0.0)
    assert current.lease_expires_at == lease
    # The claim that holds it does both.
    assert store.report(job.id, 2, "align", 0.5, 60) is True
    assert store.succeed(job.id, 2, "en", 5.0, counts) is True
    assert store.get(job.id).status == "succeeded"  # type: ignore[union-attr]


def test_retention_deletes_old_finished_jobs_and_their_files(
    store: JobStore, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, retention_days=1)
    files = JobFiles(settings.jobs_dir)
    old, recent = store.create(_new()), store.create(_new())
    for job in (old, recent):
        files.folder(job.id).mkdir()
        store.claim_next(60)
        store.fail(job.id, "no_speech", "silent")
    with store.engine.begin() as connection:
        connection.execute(
            update(Job).where(Job.id == old.id).values(finished_at=time.time() - 2 * 86400)
        )
    # The worker's housekeeping; the model is not used here, so none is loaded.
    worker = Worker(settings, store, files, Models(settings), WebhookSender(store.engine, ""))
    worker._housekeeping()
    assert store.get(old.id) is None and not files.folder(old.id).exists()
    assert store.get(recent.id) is not None and files.folder(recent.id).exists()


def test_only_the_claim_that_finished_a_job_announces_it(store: JobStore, tmp_path: Path) -> None:
    """A worker whose lease ran out while it worked, and whose job another claim then took
    over and finished, announces nothing (no second webhook, no second count); a claim that
    keeps its job announces its outcome once. (The alignment itself is not the subject: the
    worker's _align is replaced by one that finishes at once.)"""
    settings = Settings(data_dir=tmp_path)
    counts = {"aligned": 1, "not_found": 0, "non_speech": 0}
    announced: list[tuple[str, str, int]] = []

    class Finishing(Worker):
        taken_over = False

        def _align(self, job: Job, heartbeat: object) -> None:  # type: ignore[override]
            if self.taken_over:  # the lease runs out; another claim takes the job and ends it
                _expire_leases(store)
                assert store.recover(max_attempts=3) == (1, 0)
                newer = store.claim_next(60)
                assert newer is not None and store.succeed(job.id, 2, "en", 5.0, counts)
            if not store.succeed(job.id, job.attempts, "en", 5.0, counts):
                raise Canceled

    worker = Finishing(
        settings,
        store,
        JobFiles(settings.jobs_dir),
        Models(settings),
        WebhookSender(store.engine, ""),
        lambda job, result, elapsed: announced.append((job.id, job.status, job.attempts)),
    )
    kept = store.create(_new())
    worker.run_job(store.claim_next(60))  # type: ignore[arg-type]
    assert announced == [(kept.id, "succeeded", 1)]

    lost = store.create(_new())
    worker.taken_over = True
    worker.run_job(store.claim_next(60))  # type: ignore[arg-type]
    assert announced == [(kept.id, "succeeded", 1)]  # the newer claim's worker announces it
    assert store.get(lost.id).status == "succeeded"  # type: ignore[union-attr]


def test_a_stale_claims_late_result_is_not_the_one_served(tmp_path: Path) -> None:
    """On a local (or shared) disk, each claim's result is its own file: a claim that wakes
    up after a newer one finished writes beside it, never over it."""
    files = JobFiles(tmp_path / "jobs")
    files.folder("job").mkdir()
    files.write_result("job", b'{"claim": 2}', attempt=2)
    files.write_result("job", b'{"claim": 1}', attempt=1)  # the late, stale write
    assert files.stored_result("job", 2).read_bytes() == b'{"claim": 2}'  # type: ignore[union-attr]
    assert not list(files.folder("job").glob("*.tmp"))
    # A job finished before results were numbered keeps its result.json.
    files.folder("old").mkdir()
    (files.folder("old") / "result.json").write_bytes(b"{}")
    assert files.stored_result("old", 1) == files.folder("old") / "result.json"
    assert files.stored_result("none", 1) is None


def test_a_job_put_back_for_a_storage_outage_waits_before_it_is_sent_again(
    store: JobStore,
) -> None:
    """Distributed mode: a job released because its files could not be read or stored is
    sent again only after the resend delay, not at the next sweep (an outage longer than a
    few sweeps would otherwise use up its attempts)."""
    job = store.create(_new())
    store.mark_published(job.id)
    assert store.claim_next(60) is not None
    store.release(job.id, 1)
    assert store.get(job.id).status == "queued"  # type: ignore[union-attr]
    assert store.unpublished(older_than_s=300) == []
    time.sleep(0.05)
    assert store.unpublished(older_than_s=0.01) == [(job.id, "tiny.en", True)]
