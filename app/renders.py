"""Captions and documents rendered once per (job, format, options) and kept beside the job's
result, so that a repeat is a file sent from disk; renders run one at a time, which bounds the
memory that requests for large jobs can take together."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from app.files import JobFiles

logger = logging.getLogger(__name__)

#: Renderings kept per job; the oldest go first (option combinations are many).
_KEPT_PER_JOB = 32
_LOCK_STRIPES = 64


class Renders:
    def __init__(self, files: JobFiles, concurrent: int = 1) -> None:
        self._files = files
        self._slots = threading.BoundedSemaphore(concurrent)
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
        with self._locks[int(digest[:8], 16) % _LOCK_STRIPES]:
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

    def _store(self, folder: Path, path: Path, text: str) -> None:
        folder.mkdir(exist_ok=True)  # not parents: a deleted job's folder stays deleted
        temporary = path.with_suffix(".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
        kept = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime)
        for old in kept[:-_KEPT_PER_JOB]:
            old.unlink(missing_ok=True)
