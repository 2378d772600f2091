"""The service across restarts, limits, keys, webhooks, and a fuzzer over its OpenAPI schema."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import SAMPLES, run_tool
from tests.integration.conftest import LONG_EPISODE_LOOPS
from tests.postgres import postgres
from tests.service import Server, free_port, wait_for

SAMPLE = SAMPLES / "short_clean"


def _files(audio: Path = SAMPLE / "audio.wav", text: Path = SAMPLE / "text.txt") -> dict:  # type: ignore[type-arg]
    return {"audio": (audio.name, audio.read_bytes()), "transcript": (text.name, text.read_bytes())}


def test_a_killed_server_finishes_its_jobs_after_a_restart(
    tmp_path: Path, long_episode: tuple[Path, Path]
) -> None:
    server = Server(tmp_path / "data", PODALIGN_LEASE_S="3").start()
    try:
        with server.client() as client:
            running = client.post("/v1/alignments", files=_files(*long_episode)).json()
            queued = client.post("/v1/alignments", files=_files()).json()
            deadline = time.monotonic() + 120
            while client.get(f"/v1/alignments/{running['id']}").json()["progress"] < 0.2:
                assert time.monotonic() < deadline, "the job never got going"
                time.sleep(0.2)
        server.kill()
        server.start()
        with server.client() as client:
            first = wait_for(client, running["id"])
            second = wait_for(client, queued["id"])
        assert first["status"] == "succeeded" and first["attempts"] == 2
        assert first["words"]["aligned"] == 87 * LONG_EPISODE_LOOPS
        assert second["status"] == "succeeded" and second["attempts"] == 1
    finally:
        server.stop()


def test_cancelling_a_running_job_stops_it_and_the_worker_goes_on(
    tmp_path: Path, long_episode: tuple[Path, Path]
) -> None:
    server = Server(tmp_path / "data").start()
    try:
        with server.client() as client:
            long = client.post("/v1/alignments", files=_files(*long_episode)).json()
            deadline = time.monotonic() + 120
            while client.get(f"/v1/alignments/{long['id']}").json()["progress"] < 0.1:
                assert time.monotonic() < deadline, "the job never got going"
                time.sleep(0.2)
            assert client.delete(f"/v1/alignments/{long['id']}").status_code == 204
            short = client.post("/v1/alignments", files=_files(), params={"wait": 60}).json()
            assert short["status"] == "succeeded"  # the worker left the canceled job
            canceled = client.get(f"/v1/alignments/{long['id']}").json()
            assert canceled["status"] == "canceled" and canceled["words"]["aligned"] is None
        assert not (tmp_path / "data" / "jobs" / long["id"]).exists()
        assert "canceled while running" in server.log.read_text()
    finally:
        server.stop()


def test_two_workers_align_two_jobs_at_once(
    tmp_path: Path, long_episode: tuple[Path, Path]
) -> None:
    server = Server(tmp_path / "data", PODALIGN_WORKERS="2").start()
    try:
        with server.client() as client:
            ids = [
                client.post("/v1/alignments", files=_files(*long_episode)).json()["id"]
                for _ in range(2)
            ]
            both_running = False
            deadline = time.monotonic() + 120
            while not both_running and time.monotonic() < deadline:
                statuses = [client.get(f"/v1/alignments/{i}").json()["status"] for i in ids]
                both_running = statuses == ["running", "running"]
                time.sleep(0.2)
            assert both_running, statuses
            assert [wait_for(client, i)["status"] for i in ids] == ["succeeded"] * 2
            ready = client.get("/readyz").json()
            assert ready["workers"] == 2
            assert ready["worker_devices"] == {"worker-1": "cpu", "worker-2": "cpu"}
    finally:
        server.stop()


def test_limits_api_keys_and_cors(tmp_path: Path) -> None:
    server = Server(
        tmp_path / "data",
        PODALIGN_API_KEYS="key-one, key-two",
        PODALIGN_MAX_UPLOAD_BYTES="1000000",
        PODALIGN_MAX_TRANSCRIPT_BYTES="100",
        PODALIGN_MAX_AUDIO_S="20",
        PODALIGN_CORS_ORIGINS="https://cms.example",
    ).start()
    short = tmp_path / "short.wav"
    run_tool(
        "ffmpeg",
        "-v",
        "error",
        "-i",
        str(SAMPLE / "audio.wav"),
        "-t",
        "25",
        "-ar",
        "8000",
        str(short),
    )
    small_text = tmp_path / "t.txt"
    small_text.write_text("Every morning before sunrise.")
    try:
        with server.client() as anonymous:
            assert anonymous.get("/v1/alignments").status_code == 401
            assert anonymous.get("/v1/alignments").json()["error"]["code"] == "unauthorized"
            assert anonymous.get("/healthz").status_code == 200
            assert anonymous.get("/readyz").status_code == 200
            preflight = anonymous.options(
                "/v1/alignments",
                headers={
                    "Origin": "https://cms.example",
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization",
                },
            )
            assert preflight.headers["access-control-allow-origin"] == "https://cms.example"
            other = anonymous.get("/healthz", headers={"Origin": "https://elsewhere.example"})
            assert "access-control-allow-origin" not in other.headers
        with server.client(Authorization="Bearer wrong") as stranger:
            assert stranger.get("/v1/alignments").status_code == 403
        with server.client(Authorization="Bearer key-two") as client:
            assert client.get("/v1/alignments").status_code == 200
            big = client.post("/v1/alignments", files=_files(text=small_text))
            assert (big.status_code, big.json()["error"]["code"]) == (413, "audio_too_large")
            wordy = client.post("/v1/alignments", files=_files(short))
            assert (wordy.status_code, wordy.json()["error"]["code"]) == (
                413,
                "transcript_too_large",
            )
            long = client.post("/v1/alignments", files=_files(short, small_text))
            assert (long.status_code, long.json()["error"]["code"]) == (413, "audio_too_long")
            assert client.get("/v1/alignments").json()["total"] == 0
        assert not list((tmp_path / "data" / "jobs").iterdir())  # nothing left behind
    finally:
        server.stop()


class _Receiver(http.server.BaseHTTPRequestHandler):
    calls: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.calls.append((dict(self.headers), body))
        self.send_response(500 if len(self.calls) == 1 else 204)  # the first delivery fails
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    _Receiver.calls = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hook", _Receiver.calls
    httpd.shutdown()


def test_webhooks_are_signed_and_retried(
    tmp_path: Path, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, calls = receiver
    server = Server(
        tmp_path / "data",
        PODALIGN_WEBHOOK_SECRET="s3cret",
        PODALIGN_WEBHOOK_ALLOW_PRIVATE_NETWORKS="true",  # the receiver is on this host
    ).start()
    try:
        with server.client() as client:
            job = client.post(
                "/v1/alignments",
                files=_files(),
                data={"callback_url": url, "metadata": '{"episode": "ep-7"}'},
            ).json()
            assert wait_for(client, job["id"])["status"] == "succeeded"
        deadline = time.monotonic() + 30
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        server.stop()
    assert len(calls) == 2, "expected one failed delivery and one retry"
    headers, body = calls[1]
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Podalign-Signature"] == expected
    payload = json.loads(body)
    assert payload["event"] == "alignment.succeeded" and payload["id"] == job["id"]
    assert payload["metadata"] == {"episode": "ep-7"} and payload["words"]["aligned"] == 87


def test_a_pending_webhook_survives_a_restart(tmp_path: Path) -> None:
    """The receiver is down when the job ends; it comes back after the service restarted."""
    _Receiver.calls = []
    port = free_port()
    server = Server(
        tmp_path / "data",
        PODALIGN_WEBHOOK_SECRET="s3cret",
        PODALIGN_WEBHOOK_ALLOW_PRIVATE_NETWORKS="true",
    ).start()
    database = tmp_path / "data" / "podalign.db"
    try:
        with server.client() as client:
            job = client.post(
                "/v1/alignments",
                files=_files(),
                data={"callback_url": f"http://127.0.0.1:{port}/hook"},
                params={"wait": 60},
            ).json()
        assert job["status"] == "succeeded"
        deadline = time.monotonic() + 30
        while _attempts(database) < 1:
            assert time.monotonic() < deadline, "no delivery was attempted"
            time.sleep(0.2)
        server.kill()
    finally:
        server.stop()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    _Receiver.calls = [({}, b"")]  # so that the receiver answers 204 from now on
    try:
        server.start()
        deadline = time.monotonic() + 30
        while len(_Receiver.calls) < 2:
            assert time.monotonic() < deadline, "the pending webhook was not sent after restart"
            time.sleep(0.2)
    finally:
        server.stop()
        httpd.shutdown()
    assert json.loads(_Receiver.calls[1][1])["id"] == job["id"]


def _attempts(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT max(attempts) FROM webhook_deliveries").fetchone()
    return int(row[0] or 0)


#: Schemathesis's settings beside the job id: two tenants that must not see each other's
#: alignments (its object-level authorization check), and, for the two upload routes,
#: 413/415/422 among the answers to schema-valid data — bytes that fit the schema are seldom
#: audio that decodes, and a well-formed URL may still be a refused callback address — and
#: for the caption route 422 (layout parameters that contradict each other).
_SCHEMATHESIS_CONFIG = """
[auth.wfc]
path = "auth.json"
user = "alice"
peers = ["alice", "bob"]

[[operations]]
include-method = "POST"
include-path = ["/v1/alignments", "/transcriptions"]

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "413", "415", "422"]

# Layout parameters that each fit the schema may contradict each other (min_duration_s above
# max_duration_s): 422, which the schema cannot express.
[[operations]]
include-method = "GET"
include-path = "/v1/alignments/{job_id}/captions.{fmt}"

[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
"""


def _new_key(server: Server, name: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "create", name],
        env=server.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_schemathesis_passes_its_default_checks(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", PODALIGN_WEBHOOK_SECRET="s3cret").start()
    try:
        keys = {name: _new_key(server, name) for name in ("alice", "bob")}
        with server.client(Authorization=f"Bearer {keys['alice']}") as client:
            job = client.post("/v1/alignments", files=_files(), params={"wait": 60}).json()
        users = [
            {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {key}"}]}
            for name, key in keys.items()
        ]
        (tmp_path / "auth.json").write_text(json.dumps({"auth": users}))
        (tmp_path / "schemathesis.toml").write_text(
            f'[parameters]\n"path.job_id" = "{job["id"]}"\n' + _SCHEMATHESIS_CONFIG
        )
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"{server.url}/openapi.json",
            "--max-examples",
            "25",
            "--generation-deterministic",
            "--request-timeout",
            "60",
        ]
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    finally:
        server.stop()
    assert done.returncode == 0, done.stdout[-4000:]
    assert "passed" in done.stdout and "Stateful" in done.stdout


def test_postgresql_by_setting(tmp_path: Path) -> None:
    with postgres() as url:
        server = Server(tmp_path / "data", PODALIGN_DATABASE_URL=url).start()
        try:
            with server.client() as client:
                job = client.post("/v1/alignments", files=_files(), params={"wait": 60}).json()
                assert job["status"] == "succeeded" and job["words"]["aligned"] == 87
            server.stop()
            server.start()
            with server.client() as client:
                listed = client.get("/v1/alignments").json()
                assert [j["id"] for j in listed["items"]] == [job["id"]]
                assert client.get(f"/v1/alignments/{job['id']}/captions.vtt").status_code == 200
        finally:
            server.stop()
        assert not (tmp_path / "data" / "podalign.db").exists()  # the rows live in PostgreSQL


def test_an_api_only_service_with_a_separate_worker_process(tmp_path: Path) -> None:
    api = Server(tmp_path / "data", PODALIGN_WORKERS="0").start()
    worker: subprocess.Popen[bytes] | None = None
    try:
        with api.client() as client:
            assert client.get("/readyz").json()["workers"] == 0  # ready without a model
            job = client.post("/v1/alignments", files=_files()).json()
            time.sleep(1.0)
            assert client.get(f"/v1/alignments/{job['id']}").json()["status"] == "queued"
            with (tmp_path / "worker.log").open("wb") as log:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "app.cli", "worker"],
                    env=api.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            assert wait_for(client, job["id"])["status"] == "succeeded"
        worker.terminate()
        assert worker.wait(timeout=30) == 0
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        api.stop()
