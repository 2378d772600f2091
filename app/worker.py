"""The in-process worker: claims queued jobs, aligns them with a shared model, stores results."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from alignment import Aligner, AlignmentError, AlignmentOptions
from alignment.audio import SAMPLE_RATE, load_audio
from alignment.text import decode_transcript
from alignment.types import ACOUSTIC_REFINEMENTS, REFINEMENTS, AlignmentResult, Refinement
from app.db import Job
from app.files import JobFiles
from app.jobs import JobStore
from app.limits import check_word_count
from app.settings import Settings
from app.storage import describe, storage_problem
from app.webhooks import WebhookSender

logger = logging.getLogger(__name__)

_REPORT_EVERY_S = 1.0
_IDLE_S = 0.3
_RETRY_S = 2.0
_RECOVER_EVERY_S = 15.0
_RETENTION_EVERY_S = 3600.0


class Canceled(Exception):
    """The job was canceled while it ran, or its claim was taken back (its lease ran out)."""


class InputMissing(Exception):
    """The job's uploaded audio or transcript is no longer in storage (deleted or lost by
    hand, or a restored backup without its files): running it again cannot help."""

    code = "input_missing"
    message = (
        "This job's uploaded audio or transcript is no longer in the server's storage (it was"
        " deleted or lost), so it cannot be aligned. Submit the audio and transcript again."
    )


class Models:
    """One Aligner per model name, loaded on first use and kept (the model is the costly part).
    On a GPU, the workers of that GPU share one `Models` (`concurrent_calls` of them)."""

    def __init__(
        self, settings: Settings, device_index: int | None = None, concurrent_calls: int = 1
    ) -> None:
        self._settings = settings
        #: The GPU these models go to; None: the CPU (or the GPU `device` finds, numbered 0).
        self.device_index = device_index
        self.concurrent_calls = concurrent_calls
        self._aligners: dict[str, Aligner] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Aligner:
        with self._lock:
            if name not in self._aligners:
                options = engine_options(
                    self._settings, name, self.device_index or 0, self.concurrent_calls
                )
                aligner = Aligner(options)
                _ = aligner.model
                if options.refine in ACOUSTIC_REFINEMENTS:
                    _ = aligner.acoustic  # jobs may ask for less; the default needs it
                if options.refine == "precise":
                    _ = aligner.second_opinion
                self._aligners[name] = aligner
            return self._aligners[name]

    def loaded(self, name: str) -> Aligner | None:
        return self._aligners.get(name)

    def where(self, name: str) -> str:
        """Where `name` runs (`cpu`, `cuda:1`), or is meant to run while it is not loaded."""
        aligner = self._aligners.get(name)
        if aligner is not None:
            model = aligner.model
            return f"cuda:{model.device_index}" if model.device == "cuda" else "cpu"
        return "cpu" if self.device_index is None else f"cuda:{self.device_index}"


def engine_options(
    settings: Settings, model: str, device_index: int = 0, concurrent_calls: int = 1
) -> AlignmentOptions:
    """The engine options the service's settings give for `model` (on GPU `device_index`,
    shared by `concurrent_calls` workers)."""
    return AlignmentOptions(
        model=model,
        device=settings.device,
        compute_type=settings.compute_type,
        device_index=device_index,
        concurrent_calls=concurrent_calls,
        batch_size=settings.batch_size,
        refine=settings.refine,
        model_cache_dir=str(settings.model_cache_dir) if settings.model_cache_dir else None,
    )


class Worker:
    """A thread that runs jobs one at a time; several may share a store (and a model each)."""

    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        files: JobFiles,
        models: Models,
        webhooks: WebhookSender,
        on_finished: Callable[[Job, AlignmentResult | None, float], None] | None = None,
        name: str = "worker-1",
        claimant: str | None = None,
    ) -> None:
        self.settings, self.store, self.files = settings, store, files
        self.models, self.webhooks = models, webhooks
        self._on_finished = on_finished
        self.name, self.claimant = name, claimant
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._next_recover = 0.0
        self._next_retention = 0.0
        #: Why this worker cannot take jobs now (None: it can); /readyz reports it.
        self.problem: str | None = None
        #: Outcomes not yet recorded (the store could not be written):
        #: job id -> (its attempt, error code or None to requeue, message).
        self._unsettled: dict[str, tuple[int, str | None, str | None]] = {}

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout=timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self._step()
            except Exception as exc:  # no error may end a worker: say so, wait, go on
                self._report_problem(f"failed: {describe(exc)}", exc)
                self._stop.wait(_RETRY_S)
                continue
            if not ran:
                self._stop.wait(_IDLE_S)

    def _step(self) -> bool:
        """Housekeeping, then one job when there is room for its outcome; whether one ran."""
        self._housekeeping()
        room = self.files.room_problem(self.settings.min_free_bytes)
        if room is not None:
            self._report_problem(f"takes no new job: {room.message}")
            return False
        self._settle_pending()
        job = self.store.claim_next(self.settings.lease_s, self.claimant)
        self._report_problem(None)
        if job is None:
            return False
        self.run_job(job)
        return True

    def _report_problem(self, problem: str | None, exc: BaseException | None = None) -> None:
        """Remember why this worker cannot work (for /readyz); log each change once."""
        if problem == self.problem:
            return
        self.problem = problem
        if problem is None:
            logger.info("%s: working again", self.name)
        else:
            logger.error("%s: %s; retrying", self.name, problem, exc_info=exc)

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if now >= self._next_recover:
            self._next_recover = now + _RECOVER_EVERY_S
            requeued, failed = self.store.recover(self.settings.max_attempts)
            if requeued or failed:
                logger.warning(
                    "recovered jobs from a lost worker: %d requeued, %d failed", requeued, failed
                )
        if now >= self._next_retention and self.settings.retention_days > 0:
            self._next_retention = now + _RETENTION_EVERY_S
            for job_id in self.store.expired(self.settings.retention_days * 86400):
                self.files.discard(job_id)
                self.store.delete(job_id)
                logger.info("job %s: deleted after the retention period", job_id)

    def run_job(self, job: Job) -> None:
        started = time.monotonic()
        logger.info("job %s: started (attempt %d, model %s)", job.id, job.attempts, job.model)
        heartbeat = _Heartbeat(self.store, job, self.settings.lease_s, self.settings.beat_s)
        heartbeat.start()
        result: AlignmentResult | None = None
        try:
            result = self._align(job, heartbeat)
        except Canceled:
            logger.info(
                "job %s: canceled while running, or taken back after its lease ran out", job.id
            )
        except AlignmentError as exc:
            logger.info("job %s: failed: %s", job.id, exc)
            self._settle(job, exc.code, exc.message)
        except InputMissing:
            logger.warning("job %s: failed: its audio or transcript is gone from storage", job.id)
            self._settle(job, InputMissing.code, InputMissing.message)
        except Exception as exc:
            self._failed_unexpectedly(job, exc)
        finally:
            heartbeat.stop()
        finished = self.store.get(job.id)
        # Only this claim's outcome is announced: when a newer claim took the job over (this
        # one's lease ran out), that claim announces its own, once.
        if finished is not None and finished.attempts == job.attempts:
            self.announce(finished, result, time.monotonic() - started)

    def _failed_unexpectedly(self, job: Job, exc: Exception) -> None:
        storage = storage_problem(exc)
        if storage is None:
            logger.exception("job %s: failed unexpectedly", job.id)
            self._settle(
                job,
                "internal_error",
                f"The aligner failed unexpectedly ({type(exc).__name__})."
                " The job can be submitted again; if it fails again, report it with this id.",
            )
        elif job.attempts < self.settings.max_attempts:
            # Storage comes back (space is freed, a disk remounted): the job runs again then.
            logger.warning("job %s: back to the queue: %s", job.id, storage)
            self._settle(job, None, None)
        else:
            logger.warning("job %s: failed: %s", job.id, storage)
            self._settle(job, storage.code, storage.message)

    def _settle(self, job: Job, code: str | None, message: str | None) -> None:
        """Record a failure (or, with no code, put the job back in the queue). When even that
        cannot be written, it is tried again before the next job (and the job's lease runs
        out meanwhile, so another process may retry it)."""
        self._unsettled[job.id] = (job.attempts, code, message)
        try:
            self._settle_pending()
        except Exception as exc:
            logger.error("job %s: could not record its outcome yet: %s", job.id, describe(exc))

    def _settle_pending(self) -> None:
        for job_id, (attempt, code, message) in list(self._unsettled.items()):
            if code is None:
                self.store.release(job_id, attempt)
            else:
                self.store.fail(job_id, code, message or "", attempt)
            del self._unsettled[job_id]

    def _align(self, job: Job, heartbeat: _Heartbeat) -> AlignmentResult:
        heartbeat.stage("loading_model", 0.0)
        aligner = self.models.get(job.model)
        heartbeat.stage("decode", 0.0)
        try:
            with self.files.inputs(job.id) as inputs:
                transcript = inputs.transcript.read_bytes()
                if not inputs.audio.is_file():
                    raise FileNotFoundError(inputs.audio)
                # Decoding counts the samples and stops at the limit, before any alignment.
                samples = load_audio(inputs.audio, max_duration_s=self.settings.max_audio_s)
        except FileNotFoundError as exc:
            raise InputMissing from exc
        check_word_count(
            decode_transcript(transcript), len(samples) / SAMPLE_RATE, self.settings.max_words_per_s
        )
        result = aligner.align(
            samples,
            transcript,
            language=job.language,
            refine=_refinement(job.refine),
            progress=heartbeat.progress,
        )
        if not heartbeat.still_wanted():
            raise Canceled
        document = {**result.to_dict(), "transcript": transcript.decode("utf-8")}
        data = json.dumps(document, ensure_ascii=False).encode()
        self.files.write_result(job.id, data, job.attempts)
        counts = {s: result.count(s) for s in ("aligned", "not_found", "non_speech")}
        if not self.store.succeed(job.id, job.attempts, result.language, result.duration_s, counts):
            raise Canceled  # or taken back after its lease ran out: not this claim's to finish
        logger.info(
            "job %s: succeeded (%d of %d words aligned, %.1f s of audio)",
            job.id,
            counts["aligned"],
            len(result.words),
            result.duration_s,
        )
        return result

    def announce(self, job: Job, result: AlignmentResult | None, elapsed_s: float) -> None:
        if self._on_finished is not None:
            self._on_finished(job, result, elapsed_s)
        if job.callback_url and job.status in ("succeeded", "failed"):
            self.webhooks.send(job.id, job.callback_url, webhook_payload(job))


def webhook_payload(job: Job) -> dict[str, Any]:
    return {
        "event": f"alignment.{job.status}",
        "id": job.id,
        "status": job.status,
        "metadata": json.loads(job.client_metadata) if job.client_metadata else None,
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "words": {
            "aligned": job.words_aligned,
            "not_found": job.words_not_found,
            "non_speech": job.words_non_speech,
        },
    }


class _Heartbeat:
    """Persists progress at most once a second and keeps the lease alive while the model
    works (even through a long model download), so a live job is never taken for lost."""

    def __init__(self, store: JobStore, job: Job, lease_s: float, beat_s: float) -> None:
        self._store, self._lease_s, self._beat_s = store, lease_s, beat_s
        # The claim it keeps alive: a later claim of the job is not extended by this one.
        self._job_id, self._attempt = job.id, job.attempts
        self._stage, self._fraction = "starting", 0.0
        self._wanted = True
        self._last_report = 0.0
        self._failing = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def stage(self, stage: str, fraction: float) -> None:
        with self._lock:
            changed = stage != self._stage
            self._stage, self._fraction = stage, fraction
        if changed:
            self._report()

    def progress(self, stage: str, fraction: float) -> None:
        """The engine's progress callback; raises Canceled once the job is canceled."""
        self.stage(stage, fraction)
        if time.monotonic() - self._last_report >= _REPORT_EVERY_S:
            self._report()
        if not self._wanted:
            raise Canceled

    def still_wanted(self) -> bool:
        self._report()
        return self._wanted

    def _beat(self) -> None:
        while not self._stop.wait(self._beat_s):
            self._report()

    def _report(self) -> None:
        with self._lock:
            stage, fraction = self._stage, self._fraction
            self._last_report = time.monotonic()
        try:
            self._wanted = (
                self._store.report(
                    self._job_id, self._attempt, stage, _overall(stage, fraction), self._lease_s
                )
                and self._wanted
            )
        except Exception as exc:
            if not self._failing:  # once per outage, not once a second
                logger.warning("job %s: could not save progress: %s", self._job_id, describe(exc))
            self._failing = True
        else:
            self._failing = False


_STAGES = {
    "starting": (0.0, 0.0),
    "loading_model": (0.0, 0.02),
    "decode": (0.02, 0.07),
    "align": (0.07, 0.97),
    "refine": (0.97, 1.0),
}


def _overall(stage: str, fraction: float) -> float:
    low, high = _STAGES.get(stage, (0.0, 1.0))
    return round(low + (high - low) * min(max(fraction, 0.0), 1.0), 4)


def _refinement(value: str | None) -> Refinement | None:
    """A job's stored refinement (checked when it was submitted); None: the setting's."""
    return next((r for r in REFINEMENTS if r == value), None)
