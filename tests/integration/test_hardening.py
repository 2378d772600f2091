"""The service as an attacker or a careless operator meets it (issue 11): a real server, real
files, small real file systems for the storage cases."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import SAMPLES
from tests.mounts import fill, tmpfs
from tests.service import Server, wait_for

SAMPLE = SAMPLES / "short_clean"


def _files(audio: Path = SAMPLE / "audio.wav", text: Path = SAMPLE / "text.txt") -> Any:
    return {"audio": (audio.name, audio.read_bytes()), "transcript": (text.name, text.read_bytes())}


def _error(answer: httpx.Response) -> tuple[int, str]:
    """(status, code) of an error answer, which must be the documented JSON shape."""
    assert answer.headers["content-type"] == "application/json", answer.text[:300]
    body = answer.json()
    assert body["error"]["message"], body
    return answer.status_code, body["error"]["code"]


def _until(condition: Callable[[], Any], what: str, timeout_s: float = 120.0) -> Any:
    """Poll `condition` until it returns something true; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.2)
    return value


def _worker_problems(client: httpx.Client) -> list[str]:
    ready = client.get("/readyz")
    return [p for p in ready.json()["problems"] if p.startswith("worker-")]


# ---- 1. a storage error must not stop the queue --------------------------------------------


def test_a_full_disk_answers_507_keeps_the_worker_and_recovers_by_itself(
    tmp_path: Path, long_episode: tuple[Path, Path]
) -> None:
    with tmpfs(tmp_path / "disk", 48) as disk:
        server = Server(disk, PODALIGN_LEASE_S="3", PODALIGN_MIN_FREE_BYTES=str(1024**2)).start()
        try:
            with server.client() as client:
                running = client.post("/v1/alignments", files=_files(*long_episode)).json()
                queued = [client.post("/v1/alignments", files=_files()).json() for _ in range(3)]
                _until(
                    lambda: client.get(f"/v1/alignments/{running['id']}").json()["progress"] > 0.1,
                    "the long job is under way",
                )
                filler = fill(disk)
                assert _error(client.post("/v1/alignments", files=_files())) == (
                    507,
                    "storage_full",
                )
                # The long job cannot store its result; the worker lives on and says why it
                # takes no job, and the service is not ready while the disk is full.
                problems = _until(lambda: _worker_problems(client), "the worker reports")
                assert "takes no new job" in problems[0]
                assert client.get("/readyz").status_code == 503
                # Deleting works on a full disk (it frees space).
                assert client.delete(f"/v1/alignments/{queued[0]['id']}").status_code == 204
                assert not (disk / "jobs" / queued[0]["id"]).exists()
                filler.unlink()
                _until(lambda: client.get("/readyz").status_code == 200, "ready again")
                done = [wait_for(client, job["id"]) for job in (running, *queued[1:])]
                assert [job["status"] for job in done] == ["succeeded"] * 3, done
                gone = client.get(f"/v1/alignments/{queued[0]['id']}").json()
                assert gone["status"] == "canceled"
        finally:
            server.stop()
        assert "Exception in thread" not in server.log.read_text()
