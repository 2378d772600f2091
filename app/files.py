"""Where a job's files live: `<data dir>/jobs/<id>/` with server-chosen names only. `JobFiles`
is the interface every store has; this one keeps the files in the local folder, and
`app.objectstore.ObjectStoreFiles` keeps them in S3-compatible storage behind the same methods."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.storage import StorageError

#: An upload folder nothing was written to for this long is left over from a crash (a client
#: that sends nothing for a day has long been cut off).
STALE_INCOMING_S = 24 * 3600.0


@dataclass(frozen=True)
class JobInputs:
    """A job's inputs as local files, for as long as the worker needs them."""

    audio: Path
    transcript: Path


class JobFiles:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def folder(self, job_id: str) -> Path:
        """The job's local folder (for an object store: a cache of its result and renders)."""
        return self.root / job_id

    @contextmanager
    def inputs(self, job_id: str) -> Iterator[JobInputs]:
        """The audio and transcript as local files while the block runs."""
        yield JobInputs(self.audio(job_id), self.transcript(job_id))

    def stored_result(self, job_id: str, attempt: int) -> Path | None:
        """The result that claim number `attempt` stored, as a local file; None when it is
        gone. Each claim writes its own file, so a stale claim's late write is never the one
        served (jobs finished before results were numbered have `result.json`)."""
        for path in (self.result(job_id, attempt), self.result(job_id)):
            if path.exists():
                return path
        return None

    def local_audio(self, job_id: str) -> Path | None:
        """The uploaded audio as a local file, when this store has one."""
        path = self.audio(job_id)
        return path if path.exists() else None

    def audio(self, job_id: str) -> Path:
        return self.folder(job_id) / "audio"

    def transcript(self, job_id: str) -> Path:
        return self.folder(job_id) / "transcript.txt"

    def result(self, job_id: str, attempt: int = 0) -> Path:
        """Claim number `attempt`'s result (0: the unnumbered file of older versions)."""
        return self.folder(job_id) / (f"result-{attempt}.json" if attempt else "result.json")

    def incoming(self, job_id: str) -> Path:
        """A folder for an upload in progress; `publish` makes it the job's folder."""
        path = self.incoming_path(job_id)
        path.mkdir(parents=True, exist_ok=False)
        return path

    def incoming_path(self, job_id: str) -> Path:
        return self.root / f".incoming-{job_id}"

    def publish(self, job_id: str) -> None:
        os.replace(self.incoming_path(job_id), self.folder(job_id))

    def discard(self, job_id: str) -> None:
        shutil.rmtree(self.root / f".incoming-{job_id}", ignore_errors=True)
        shutil.rmtree(self.folder(job_id), ignore_errors=True)

    def write_result(self, job_id: str, data: bytes, attempt: int = 0) -> None:
        """Claim number `attempt`'s result, atomically (a reader sees no file or the whole
        one), through a temporary name of its own so that two claims never share one."""
        final = self.result(job_id, attempt)
        temporary = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
        try:
            temporary.write_bytes(data)
            os.replace(temporary, final)
        finally:
            temporary.unlink(missing_ok=True)

    def room_problem(self, min_free_bytes: int) -> StorageError | None:
        """Why the job folder cannot take new files now (read-only, or under the free-space
        floor that keeps room for the database and results); None when it can."""
        stats = os.statvfs(self.root)
        if stats.f_flag & os.ST_RDONLY:
            return StorageError(
                "storage_unavailable", "The job folder is on a read-only file system."
            )
        free = stats.f_bavail * stats.f_frsize
        if free < min_free_bytes:
            return StorageError(
                "storage_full",
                f"The server's disk has {free / 1024**2:.1f} MB free, under the "
                f"{min_free_bytes / 1024**2:.1f} MB it keeps in reserve. Try again later; the "
                "operator can free space by deleting finished alignments.",
            )
        return None

    def probe_write(self) -> None:
        """Write and remove a small file; OSError when the folder cannot be written."""
        path = self.root / f".probe-{uuid.uuid4().hex}"
        try:
            path.write_bytes(b"podalign")
        finally:
            path.unlink(missing_ok=True)

    def sweep_incoming(self) -> None:
        """Remove what uploads cut off by a crash left behind: `.incoming-*` folders and probe
        files untouched for `STALE_INCOMING_S`. Other processes share the folder (an API-only
        `serve` beside `podalign worker`s), so an upload still being written is left alone."""
        cutoff = time.time() - STALE_INCOMING_S
        for path in self.root.glob(".incoming-*"):
            if _last_written(path) < cutoff:
                shutil.rmtree(path, ignore_errors=True)
        for path in self.root.glob(".probe-*"):
            if _last_written(path) < cutoff:
                path.unlink(missing_ok=True)


def _last_written(path: Path) -> float:
    """The newest modification time of `path` and everything in it (0 when it is gone)."""
    newest = 0.0
    for place in (path, *path.rglob("*")):
        try:
            newest = max(newest, place.stat().st_mtime)
        except OSError:  # removed meanwhile
            continue
    return newest
