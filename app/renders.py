"""Captions and documents rendered once per (job, format, options) and kept beside the job's
result, so that a repeat is a file sent from disk; renders run one at a time, which bounds the
memory that requests for large jobs can take together, and only a few wait their turn: each
waits on a request thread, so a long queue would leave none for the other routes."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.errors import ApiError
from app.files import JobFiles

logger = logging.getLogger(__name__)

#: Renderings kept per job; the oldest go first (option combinations are many).
_KEPT_PER_JOB = 32
_LOCK_STRIPES = 64
#: Renders running or waiting at once; more are refused (503). Each holds one of the request
#: threads (40 in all) that every route without `async` needs, `/healthz` included.
_MAX_QUEUED = 8
#: What a refused request is told to wait, in seconds.
_RETRY_AFTER_S = 5


class Renders:
    def __init__(self, files: JobFiles, concurrent: int = 1) -> None:
        self._files = files
        self._slots = threading.BoundedSemaphore(concurrent)
        self._queued = 0
        self._queued_lock = threading.Lock()
        # One lock per stripe of keys: concurrent requests for one rendering wait for the
        # first instead of rendering it again.
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]

    def get(self, job_id: str, key: str, suffix: str, make: Callable[[], str]) -> Path | str:
        """The rendering `key` of the job: its file once stored, or the text itself when it
        could not be stored (a full disk)."""
        digest = hashlib.sha256(key.encode()).hexdigest()[:40]
        folder = self._files.folder(job_id) / "renders"
        path = folder / f"{digest}{suffix}"
        if path.exists():
            return path
        with self._place_in_queue(), self._locks[int(digest[:8], 16) % _LOCK_STRIPES]:
            if path.exists():
                return path
            with self._slots:
                text = make()
            try:
                self._store(folder, path, text)
            except OSError as exc:
                logger.warning("job %s: rendering not kept: %s", job_id, exc)
                return text
        return path

    @contextmanager
    def _place_in_queue(self) -> Iterator[None]:
        """Held while a render waits or runs; refused when `_MAX_QUEUED` are."""
        with self._queued_lock:
            if self._queued >= _MAX_QUEUED:
                raise _busy()
            self._queued += 1
        try:
            yield
        finally:
            with self._queued_lock:
                self._queued -= 1

    def _store(self, folder: Path, path: Path, text: str) -> None:
        folder.mkdir(exist_ok=True)  # not parents: a deleted job's folder stays deleted
        temporary = path.with_suffix(".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
        kept = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime)
        for old in kept[:-_KEPT_PER_JOB]:
            old.unlink(missing_ok=True)


def _busy() -> ApiError:
    error = ApiError(
        503,
        "busy",
        f"Too many renderings are under way; try again in {_RETRY_AFTER_S} seconds (a "
        "rendering asked for before is sent at once).",
    )
    error.headers["Retry-After"] = str(_RETRY_AFTER_S)
    return error
