"""Distributed mode's moving parts: the periodic duties that one process of the cluster does at a
time (held by a lease in the database), and the handler that turns a queue message into a run
of the job it names.

Why a lease in the database rather than Celery beat: beat is one more process that must run
exactly once (a second one doubles every duty) and that nothing replaces when its host dies. A
lease row needs no extra process, passes to another API or worker process by itself when its
holder stops renewing it, and is measured by the database clock that the job leases use."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from sqlalchemy import Engine, insert, update
from sqlalchemy.exc import IntegrityError

from app.broker import Dispatcher
from app.db import ClusterLease, Job
from app.files import JobFiles
from app.jobs import FINISHED, Claim, JobStore
from app.settings import Settings
from app.storage import describe
from app.worker import Worker

logger = logging.getLogger(__name__)

#: Polls of a redelivered job's row while waiting for its holder's next renewal, in seconds.
_WATCH_EVERY_S = 0.25
#: Renewals a holder may miss before its redelivered job is taken over.
_MISSED_BEATS = 3


def process_identity() -> str:
    """Recorded on the jobs this process claims: host, process id and a nonce."""
    return f"{socket.gethostname()}/pid-{os.getpid()}/{uuid.uuid4().hex[:6]}"


class DutyLease:
    """Holding the named duty: only the holder of an unexpired row does it."""

    def __init__(self, engine: Engine, store: JobStore, name: str, holder: str) -> None:
        self._engine, self._now = engine, store.now
        self.name, self.holder = name, holder

    def hold(self, ttl_s: float) -> bool:
        """Take or renew the lease for `ttl_s` seconds; whether this process holds it."""
        free_or_mine = (ClusterLease.holder == self.holder) | (ClusterLease.expires_at < self._now)
        with self._engine.begin() as connection:
            taken = connection.execute(
                update(ClusterLease)
                .where(ClusterLease.name == self.name, free_or_mine)
                .values(holder=self.holder, expires_at=self._now + ttl_s)
            ).rowcount
        if taken == 1:
            return True
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(ClusterLease).values(
                        name=self.name, holder=self.holder, expires_at=self._now + ttl_s
                    )
                )
        except IntegrityError:  # the row exists: another process holds it
            return False
        return True


class Housekeeper:
    """A thread in every distributed process; the one holding the `housekeeping` lease puts
    back jobs whose worker vanished, sends again the messages of jobs that never started and
    deletes finished jobs after the retention period."""

    def __init__(
        self, settings: Settings, store: JobStore, files: JobFiles, dispatcher: Dispatcher
    ) -> None:
        self.settings, self.store, self.files, self.dispatcher = settings, store, files, dispatcher
        self.lease = DutyLease(store.engine, store, "housekeeping", process_identity())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="housekeeper", daemon=True)
        self._next_retention = 0.0
        self.holding = False

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sweep()
            except Exception as exc:  # the next round tries again
                logger.warning("housekeeping failed: %s", describe(exc))
            self._stop.wait(self.settings.sweep_every_s)

    def sweep(self) -> bool:
        """One round; whether this process held the duty and did it."""
        holding = self.lease.hold(3 * self.settings.sweep_every_s)
        if holding != self.holding:
            logger.info(
                "%s the cluster's periodic duties", "took on" if holding else "no longer holds"
            )
            self.holding = holding
        if not holding:
            return False
        requeued, failed = self.store.recover(self.settings.max_attempts)
        if requeued or failed:
            logger.warning("jobs whose lease ran out: %d requeued, %d failed", requeued, failed)
        waiting: dict[str, int | None] = {}
        for job_id, model, sent in self.store.unpublished(self.settings.republish_after_s):
            if sent and model not in waiting:
                waiting[model] = self.dispatcher.waiting(model)
            if sent and waiting[model] != 0:
                # Its message may just be waiting behind others: sent again only once the
                # queue is empty while the job is still queued (the broker lost it then).
                continue
            if not self.dispatcher.publish(job_id, model):
                break  # the broker is down: the next round tries again
            logger.info("job %s: queue message sent (again)", job_id)
        self._retention()
        return True

    def _retention(self) -> None:
        now = time.monotonic()
        if self.settings.retention_days <= 0 or now < self._next_retention:
            return
        self._next_retention = now + 3600.0
        for job_id in self.store.expired(self.settings.retention_days * 86400):
            self.files.discard(job_id)
            self.store.delete(job_id)
            logger.info("job %s: deleted after the retention period", job_id)


class QueueWorker:
    """What a `podalign worker` does with each message: decide from the job's row whether
    this process should run the job, and run it with the embedded worker's code (progress,
    cooperative cancellation and fencing included)."""

    def __init__(self, runner: Worker, dispatcher: Dispatcher, model: str) -> None:
        self.runner, self.dispatcher, self.model = runner, dispatcher, model
        self.settings, self.store = runner.settings, runner.store
        self.identity = runner.claimant or process_identity()

    def handle(self, job_id: str, redelivered: bool) -> None:
        job = self._claim(job_id, redelivered)
        if job is None:
            return
        if job.status == "failed":  # its attempts were used up by workers that died
            logger.error("job %s: failed: %s", job.id, job.error_message)
            self.runner.announce(job, None, 0.0)
            return
        self.runner.run_job(job)
        after = self.store.get(job_id)
        if after is not None and after.status == "queued":  # put back (storage trouble)
            self.dispatcher.publish(after.id, after.model)

    def _claim(self, job_id: str, redelivered: bool) -> Job | None:
        job = self.store.get(job_id)
        if job is None or job.status in FINISHED:
            logger.info("job %s: nothing to do (%s)", job_id, job.status if job else "deleted")
            return None
        if job.model != self.model:  # never load a model this worker was not started with
            logger.error("job %s: wants model %s, sent to its queue", job_id, job.model)
            self.dispatcher.publish(job.id, job.model)
            return None
        if job.status == "queued":
            return self.store.claim(job_id, self.settings.lease_s, self.identity)
        if not redelivered:
            # A second message for a job a live claim holds (the sweeper sent one again):
            # that claim's lease covers it.
            logger.info("job %s: already running (attempt %d)", job_id, job.attempts)
            return None
        return self._take_over_if_gone(job)

    def _take_over_if_gone(self, job: Job) -> Job | None:
        """RabbitMQ gave the message back: its consumer's connection dropped. The holder
        may be dead (take the job over at once) or alive behind a broken connection (a
        broker restart, a consumer timeout: leave it the job). Its lease renewals tell."""
        seen = Claim(job.attempts, job.lease_expires_at)
        wait_s = _MISSED_BEATS * self.settings.beat_s
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            time.sleep(_WATCH_EVERY_S)
            now = self.store.get(job.id)
            if now is None or (now.status, now.attempts, now.lease_expires_at) != (
                "running",
                seen.attempt,
                seen.lease_expires_at,
            ):
                logger.info("job %s: redelivered, but its claim is alive or done", job.id)
                return None
        logger.warning(
            "job %s: redelivered and its claim (attempt %d, %s) renewed nothing for %.0f s: "
            "taking it over",
            job.id,
            seen.attempt,
            job.claimed_by,
            wait_s,
        )
        return self.store.take_over(
            job.id, seen, self.settings.lease_s, self.identity, self.settings.max_attempts
        )
