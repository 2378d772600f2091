"""The job store: every state change of a job is one short transaction here."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, Float, cast, extract, func, select, text, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session, sessionmaker

from app.db import Job, WebhookDelivery
from app.keys import Caller
from app.storage import StorageError

FINISHED = ("succeeded", "failed", "canceled")


@dataclass(frozen=True)
class NewJob:
    model: str
    language: str | None
    audio_filename: str | None
    audio_bytes: int
    audio_duration_s: float | None
    callback_url: str | None
    client_metadata: Any
    audio_media_type: str | None = None
    owner: str | None = None
    refine: str | None = None


def database_clock(engine: Engine) -> ColumnElement[float]:
    """The database server's time in seconds since the epoch, as SQL: leases are measured by
    it, so hosts whose clocks disagree still agree on when a lease ends."""
    if engine.dialect.name == "postgresql":
        return cast(extract("epoch", func.clock_timestamp()), Float)
    # SQLite runs inside this process: its clock is the host's.
    return cast((func.julianday("now") - 2440587.5) * 86400.0, Float)


@dataclass(frozen=True)
class Claim:
    """What a process saw of a running job before deciding whether its holder is gone."""

    attempt: int
    lease_expires_at: float | None


class JobStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self.now = database_clock(engine)

    def create(self, new: NewJob, job_id: str | None = None) -> Job:
        job = Job(
            id=job_id or uuid.uuid4().hex,
            status="queued",
            stage="queued",
            progress=0.0,
            created_at=time.time(),
            attempts=0,
            cancel_requested=False,
            model=new.model,
            language=new.language,
            refine=new.refine,
            audio_filename=new.audio_filename,
            audio_bytes=new.audio_bytes,
            audio_duration_s=new.audio_duration_s,
            audio_media_type=new.audio_media_type,
            owner=new.owner,
            callback_url=new.callback_url,
            client_metadata=None
            if new.client_metadata is None
            else json.dumps(new.client_metadata),
        )
        with self._sessions.begin() as session:
            session.add(job)
        return job

    def check(self, thorough: bool = False) -> None:
        """Raise (a database error) unless the store answers and can take a write: a row is
        changed inside a transaction that is rolled back. `thorough` also runs SQLite's
        integrity check, which reads every page."""
        with self.engine.connect() as connection:
            try:
                if thorough and connection.dialect.name == "sqlite":
                    verdict = str(connection.exec_driver_sql("PRAGMA quick_check").scalar())
                    if verdict != "ok":
                        summary = "; ".join(verdict.split("\n")[:3])[:300]
                        raise StorageError("storage_unavailable", f"it is damaged: {summary}")
                connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
            finally:
                connection.rollback()

    def get(self, job_id: str) -> Job | None:
        with self._sessions() as session:
            return session.get(Job, job_id)

    def page(
        self, status: str | None, limit: int, offset: int, caller: Caller
    ) -> tuple[list[Job], int]:
        """Newest first, of the jobs `caller` may see."""
        with self._sessions() as session:
            query = select(Job)
            count = select(func.count()).select_from(Job)
            if status:
                query, count = query.where(Job.status == status), count.where(Job.status == status)
            if not caller.admin:
                mine = Job.owner == caller.owner
                query, count = query.where(mine), count.where(mine)
            rows = session.scalars(
                query.order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset)
            )
            return list(rows), int(session.scalar(count) or 0)

    def queue_position(self, job: Job) -> int | None:
        """1 for the next job to run; None when the job is not queued."""
        if job.status != "queued":
            return None
        with self._sessions() as session:
            ahead = session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.status == "queued", Job.created_at < job.created_at)
            )
        return int(ahead or 0) + 1

    def claim_next(self, lease_s: float, claimant: str | None = None) -> Job | None:
        """Atomically take the oldest queued job: only one worker's UPDATE can match it."""
        with self._sessions.begin() as session:
            candidate = session.scalar(
                select(Job.id).where(Job.status == "queued").order_by(Job.created_at).limit(1)
            )
            if candidate is None:
                return None
        return self.claim(candidate, lease_s, claimant)

    def claim(self, job_id: str, lease_s: float, claimant: str | None = None) -> Job | None:
        """Take the job if it is still queued (only one claimant's UPDATE can match); its
        attempt number, one more than before, is the claim's fencing token."""
        with self._sessions.begin() as session:
            claimed = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "queued")
                .values(
                    status="running",
                    stage="starting",
                    started_at=self.now,
                    lease_expires_at=self.now + lease_s,
                    attempts=Job.attempts + 1,
                    claimed_by=claimant,
                )
            ).rowcount  # type: ignore[attr-defined]
        return self.get(job_id) if claimed == 1 else None

    def take_over(
        self, job_id: str, seen: Claim, lease_s: float, claimant: str, max_attempts: int
    ) -> Job | None:
        """Claim a running job whose holder is gone, if its claim is still the one `seen`
        (same attempt, lease not renewed since): the next attempt, or, once the attempts are
        used up, the job fails. None when another process got there first."""
        still_seen = [
            Job.id == job_id,
            Job.status == "running",
            Job.attempts == seen.attempt,
            Job.lease_expires_at == seen.lease_expires_at
            if seen.lease_expires_at is not None
            else Job.lease_expires_at.is_(None),
        ]
        if seen.attempt >= max_attempts:
            values: dict[str, Any] = {
                "status": "failed",
                "stage": "done",
                "finished_at": time.time(),
                "lease_expires_at": None,
                **_worker_lost(seen.attempt),
            }
        else:
            values = {
                "stage": "starting",
                "progress": 0.0,
                "started_at": self.now,
                "lease_expires_at": self.now + lease_s,
                "attempts": Job.attempts + 1,
                "claimed_by": claimant,
            }
        with self._sessions.begin() as session:
            matched = session.execute(update(Job).where(*still_seen).values(**values)).rowcount  # type: ignore[attr-defined]
        return self.get(job_id) if matched == 1 else None

    def mark_published(self, job_id: str) -> None:
        """Record that the job's queue message was just sent (database clock)."""
        with self._sessions.begin() as session:
            session.execute(update(Job).where(Job.id == job_id).values(published_at=self.now))

    def unpublished(self, older_than_s: float, limit: int = 500) -> list[tuple[str, str, bool]]:
        """(id, model, sent before) of queued jobs whose message was never sent, or was sent
        more than `older_than_s` ago (the broker may have lost it), oldest first."""
        stale = Job.published_at.is_(None) | (Job.published_at < self.now - older_than_s)
        with self._sessions() as session:
            rows = session.execute(
                select(Job.id, Job.model, Job.published_at)
                .where(Job.status == "queued", stale)
                .order_by(Job.created_at)
                .limit(limit)
            )
            return [(job_id, model, sent is not None) for job_id, model, sent in rows]

    def report(
        self, job_id: str, attempt: int, stage: str, progress: float, lease_s: float
    ) -> bool:
        """Persist progress and extend the lease of claim number `attempt`; False when that
        claim no longer holds the job (it was canceled, or taken back after its lease ran out
        and perhaps claimed again): the worker should stop."""
        with self._sessions.begin() as session:
            matched = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running", Job.attempts == attempt)
                .values(stage=stage, progress=progress, lease_expires_at=self.now + lease_s)
            ).rowcount  # type: ignore[attr-defined]
        return bool(matched == 1)

    def succeed(
        self, job_id: str, attempt: int, language: str, duration_s: float, counts: dict[str, int]
    ) -> bool:
        """Mark the job succeeded if claim number `attempt` still holds it; False otherwise."""
        return self._finish(
            job_id,
            attempt,
            status="succeeded",
            stage="done",
            progress=1.0,
            detected_language=language,
            audio_duration_s=duration_s,
            words_aligned=counts["aligned"],
            words_not_found=counts["not_found"],
            words_non_speech=counts["non_speech"],
        )

    def fail(self, job_id: str, code: str, message: str, attempt: int | None = None) -> None:
        """Mark the running job failed; with `attempt`, only if that claim still holds it."""
        values = {"status": "failed", "stage": "done", "error_code": code, "error_message": message}
        self._finish(job_id, attempt, **values)

    def release(self, job_id: str, attempt: int) -> None:
        """Put a running job back in the queue (its worker could not store the outcome), if
        claim number `attempt` still holds it."""
        with self._sessions.begin() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running", Job.attempts == attempt)
                .values(
                    status="queued",
                    stage="queued",
                    progress=0.0,
                    lease_expires_at=None,
                    # Distributed mode: as if sent now, so that the sweeper sends it again
                    # only after PODALIGN_REPUBLISH_AFTER_S: storage that failed has time to
                    # come back before the next attempt is spent on it.
                    published_at=self.now,
                )
            )

    def cancel(self, job_id: str) -> str | None:
        """Mark canceled (a running job stops at its next progress report); the old status.
        One UPDATE that matches only an unfinished job: a job that succeeds at the same moment
        stays succeeded."""
        with self._sessions.begin() as session:
            old = session.scalar(select(Job.status).where(Job.id == job_id))
            if old is None or old in FINISHED:
                return old
            changed = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status.not_in(FINISHED))
                .values(
                    cancel_requested=True, status="canceled", stage="done", finished_at=time.time()
                )
            ).rowcount  # type: ignore[attr-defined]
            if changed:
                return old
            return session.scalar(select(Job.status).where(Job.id == job_id))

    def delete(self, job_id: str) -> None:
        """The job and its webhook records."""
        with self._sessions.begin() as session:
            session.execute(sql_delete(WebhookDelivery).where(WebhookDelivery.job_id == job_id))
            job = session.get(Job, job_id)
            if job is not None:
                session.delete(job)

    def recover(self, max_attempts: int) -> tuple[int, int]:
        """After a crash: running jobs whose lease ran out go back to the queue, or fail once
        they have used up their attempts. Returns (requeued, failed)."""
        return self._take_back(Job.lease_expires_at < self.now, max_attempts)

    def take_back(self, claimant: str, max_attempts: int) -> tuple[int, int]:
        """Running jobs claimed by `claimant`, a process known to be gone: as `recover`,
        without waiting for their leases."""
        return self._take_back(Job.claimed_by == claimant, max_attempts)

    def _take_back(self, which: ColumnElement[bool], max_attempts: int) -> tuple[int, int]:
        """Each row is changed by one UPDATE that checks again that it is still running, on
        the claim seen, and still `which`: a holder that finishes (or a client that cancels)
        between the look and the change keeps its outcome."""
        now = time.time()
        requeued = failed = 0
        with self._sessions.begin() as session:
            seen = session.execute(
                select(Job.id, Job.attempts).where(Job.status == "running", which)
            ).all()
            for job_id, attempts in seen:
                still = update(Job).where(
                    Job.id == job_id, Job.status == "running", Job.attempts == attempts, which
                )
                if attempts >= max_attempts:
                    lost = {"status": "failed", "stage": "done", "finished_at": now}
                    if session.execute(still.values(**lost, **_worker_lost(attempts))).rowcount:  # type: ignore[attr-defined]
                        failed += 1
                    continue
                # published_at: in distributed mode the sweeper sends it again.
                again = {"status": "queued", "stage": "queued", "progress": 0.0}
                if session.execute(still.values(**again, published_at=None)).rowcount:  # type: ignore[attr-defined]
                    requeued += 1
        return requeued, failed

    def expired(self, older_than_s: float) -> list[str]:
        cutoff = time.time() - older_than_s
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(Job.id).where(Job.status.in_(FINISHED), Job.finished_at < cutoff)
                )
            )

    def counts_by_status(self) -> dict[str, int]:
        with self._sessions() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
            return {status: int(n) for status, n in rows}

    def _finish(self, job_id: str, attempt: int | None = None, **values: Any) -> bool:
        running = [Job.id == job_id, Job.status == "running"]
        if attempt is not None:  # a later claim of the job is not ours to finish
            running.append(Job.attempts == attempt)
        with self._sessions.begin() as session:
            matched = session.execute(
                update(Job)
                .where(*running)
                .values(finished_at=time.time(), lease_expires_at=None, **values)
            ).rowcount  # type: ignore[attr-defined]
        return bool(matched == 1)


def _worker_lost(attempts: int) -> dict[str, str]:
    return {
        "error_code": "worker_lost",
        "error_message": f"The worker stopped during this job {attempts} times; "
        "the audio may crash the decoder or need more memory than the host has.",
    }
