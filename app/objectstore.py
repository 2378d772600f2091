"""Job files in S3-compatible object storage (`s3://bucket/prefix`), for workers that share no
disk with the API. Local folders remain: uploads are spooled there while they are checked, and
results and renders are cached there; the objects are the truth."""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urlsplit

from app.files import JobFiles, JobInputs
from app.settings import Settings
from app.storage import StorageError

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Uploads go in parts of this size: the memory one upload holds, whatever the file's size.
PART_BYTES = 8 * 1024 * 1024
#: Reads of the audio for `/audio` are passed on in pieces of this size.
READ_BYTES = 256 * 1024
#: Waits between retries of an unreachable store: from the first, doubling, up to the last.
_RETRY_FIRST_S, _RETRY_LAST_S = 0.5, 5.0


#: How long a read for an HTTP request (a result, the audio) waits for the store: a client
#: gets a 503 soon, and an outage does not hold every request thread for a minute.
_READ_RETRY_S = 5.0


class ObjectStoreFiles(JobFiles):
    """`JobFiles` whose truth is in the bucket under `<prefix>/jobs/<id>/`."""

    def __init__(self, root: Path, url: str, client: Any, retry_s: float) -> None:
        super().__init__(root)
        parts = urlsplit(url)
        self.bucket, self.prefix = parts.netloc, parts.path.strip("/")
        self._client = client
        self._retry_s = retry_s

    def key(self, job_id: str, name: str) -> str:
        return "/".join(p for p in (self.prefix, "jobs", job_id, name) if p)

    def publish(self, job_id: str) -> None:
        """Upload the checked files (multipart, one part in memory at a time), then drop the
        local copies."""
        incoming = self.incoming_path(job_id)
        for path in sorted(incoming.iterdir()):
            self._upload(path, self.key(job_id, path.name))
        shutil.rmtree(incoming, ignore_errors=True)

    def discard(self, job_id: str) -> None:
        super().discard(job_id)
        prefix = self.key(job_id, "")

        def remove() -> None:
            listing = self._client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
            for item in listing.get("Contents", []):
                self._client.delete_object(Bucket=self.bucket, Key=item["Key"])

        self._retrying(f"delete job {job_id}", remove)

    @contextmanager
    def inputs(self, job_id: str) -> Iterator[JobInputs]:
        scratch = self.root / f".work-{job_id}-{uuid.uuid4().hex[:8]}"
        scratch.mkdir(parents=True)
        try:
            audio, transcript = scratch / "audio", scratch / "transcript.txt"
            self._download(self.key(job_id, "audio"), audio)
            self._download(self.key(job_id, "transcript.txt"), transcript)
            yield JobInputs(audio, transcript)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def write_result(self, job_id: str, data: bytes, attempt: int = 0) -> None:
        """Under a name with the claim's attempt number: a stale claim's late write cannot
        replace the result the current claim recorded."""
        key = self.key(job_id, f"result-{attempt}.json")
        self._retrying(
            f"store the result of job {job_id}",
            lambda: self._client.put_object(Bucket=self.bucket, Key=key, Body=data),
        )

    def stored_result(self, job_id: str, attempt: int) -> Path | None:
        path = self.folder(job_id) / f"result-{attempt}.json"
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._download(self.key(job_id, f"result-{attempt}.json"), path, _READ_RETRY_S)
        except FileNotFoundError:
            return None
        return path

    def local_audio(self, job_id: str) -> Path | None:
        return None

    def audio_size(self, job_id: str) -> int | None:
        """The stored audio's size in bytes; None when it is gone."""
        try:
            head = self._retrying(
                f"look up the audio of job {job_id}",
                lambda: self._client.head_object(Bucket=self.bucket, Key=self.key(job_id, "audio")),
                _READ_RETRY_S,
            )
        except FileNotFoundError:
            return None
        return int(head["ContentLength"])

    def read_audio(self, job_id: str, first: int, last: int) -> Iterator[bytes]:
        """Bytes `first` to `last` (inclusive) of the stored audio, piece by piece. The store
        is asked before this returns, so that an outage is a 503, not a cut-off answer."""
        answer = self._retrying(
            f"read the audio of job {job_id}",
            lambda: self._client.get_object(
                Bucket=self.bucket, Key=self.key(job_id, "audio"), Range=f"bytes={first}-{last}"
            ),
            _READ_RETRY_S,
        )
        body = answer["Body"]

        def pieces() -> Iterator[bytes]:
            try:
                yield from iter(lambda: body.read(READ_BYTES), b"")
            finally:
                body.close()

        return pieces()

    def probe_write(self) -> None:
        """The local folder and the bucket both take a small write."""
        super().probe_write()
        key = "/".join(p for p in (self.prefix, f".probe-{uuid.uuid4().hex}") if p)
        self._client.put_object(Bucket=self.bucket, Key=key, Body=b"podalign")
        self._client.delete_object(Bucket=self.bucket, Key=key)

    def _upload(self, path: Path, key: str) -> None:
        with path.open("rb") as source:
            first = source.read(PART_BYTES)
            if len(first) < PART_BYTES:  # small: one request
                self._retrying(
                    f"upload {key}",
                    lambda: self._client.put_object(Bucket=self.bucket, Key=key, Body=first),
                )
                return
            self._upload_parts(source, first, key)

    def _upload_parts(self, source: BinaryIO, first: bytes, key: str) -> None:
        started = self._retrying(
            f"upload {key}",
            lambda: self._client.create_multipart_upload(Bucket=self.bucket, Key=key),
        )
        upload_id = started["UploadId"]
        parts: list[dict[str, Any]] = []
        try:
            chunk = first
            while chunk:
                number = len(parts) + 1
                send = partial(
                    self._client.upload_part,
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=chunk,
                )
                answer = self._retrying(f"upload part {number} of {key}", send)
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                chunk = source.read(PART_BYTES)
            self._retrying(
                f"finish the upload of {key}",
                lambda: self._client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                ),
            )
        except BaseException:
            self._abort(key, upload_id)
            raise

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except Exception as exc:  # the store's lifecycle rules clean up what is left
            logger.warning("could not abort the upload of %s: %s", key, exc)

    def _download(self, key: str, path: Path, retry_s: float | None = None) -> None:
        """Into `path` atomically; FileNotFoundError when there is no such object."""
        unfinished = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")

        def fetch() -> None:
            with unfinished.open("wb") as sink:
                self._client.download_fileobj(self.bucket, key, sink)

        try:
            self._retrying(f"download {key}", fetch, retry_s)
            os.replace(unfinished, path)
        finally:
            unfinished.unlink(missing_ok=True)

    def _retrying(self, what: str, action: Callable[[], T], retry_s: float | None = None) -> T:
        """Run `action`, retrying while the store is unreachable or failing (5xx), for up to
        `retry_s` (default: the configured time); then StorageError. A missing object is
        FileNotFoundError."""
        budget_s = self._retry_s if retry_s is None else min(retry_s, self._retry_s)
        deadline = time.monotonic() + budget_s
        wait_s, tries = _RETRY_FIRST_S, 0
        while True:
            tries += 1
            try:
                return action()
            except Exception as exc:
                if _missing(exc):
                    raise FileNotFoundError(what) from exc
                if not _transient(exc):
                    raise StorageError(
                        "storage_unavailable", f"The object store refused to {what}: {exc}"
                    ) from exc
                if time.monotonic() + wait_s > deadline:
                    raise StorageError(
                        "storage_unavailable",
                        f"The object store could not {what} for {budget_s:.0f} s "
                        f"({tries} tries; last: {exc}). Try again later; the operator should "
                        "check the object store.",
                    ) from exc
                logger.warning(
                    "object store: could not %s (try %d: %s); retrying in %.1f s",
                    what,
                    tries,
                    exc,
                    wait_s,
                )
            time.sleep(wait_s)
            wait_s = min(wait_s * 2, _RETRY_LAST_S)


def _missing(exc: Exception) -> bool:
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


def _transient(exc: Exception) -> bool:
    """A connection problem or a server-side error: worth trying again."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return status >= 500 or status in (0, 408, 429)
    return isinstance(exc, BotoCoreError | OSError)


def open_object_store(root: Path, settings: Settings) -> ObjectStoreFiles:
    """The store that `settings` name, with a client whose own
    retries are few and quick: `ObjectStoreFiles` retries outages for longer, and says so."""
    import boto3
    from botocore.config import Config

    config = Config(
        s3={"addressing_style": "path"},
        retries={"mode": "standard", "max_attempts": 2},
        connect_timeout=5,
        read_timeout=60,
    )
    credentials = (
        {
            "aws_access_key_id": settings.s3_access_key_id,
            "aws_secret_access_key": settings.s3_secret_access_key,
        }
        if settings.s3_access_key_id
        else {}
    )
    client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        config=config,
        **credentials,
    )
    url = settings.object_store_url or ""
    return ObjectStoreFiles(root, url, client, settings.object_store_retry_s)
