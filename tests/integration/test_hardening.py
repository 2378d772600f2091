"""The service as an attacker or a careless operator meets it (issue 11): a real server, real
files, small real file systems for the storage cases."""

from __future__ import annotations

import http.server
import itertools
import json
import os
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser

from app.files import STALE_INCOMING_S
from tests.conftest import SAMPLES, run_tool
from tests.mounts import fill, read_only_view, tmpfs
from tests.service import Server, free_port, wait_for

SAMPLE = SAMPLES / "short_clean"
LAVFI = ("-v", "error", "-f", "lavfi", "-i")  # ffmpeg's generated sources


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


# ---- 8. broken storage is not ready, and a broken start says so in one line ----------------


def _serve_until_exit(data_dir: Path, timeout_s: float = 60.0) -> tuple[int, str]:
    """Start `podalign serve` on `data_dir`, expecting it to refuse: (exit status, output)."""
    server = Server(data_dir)
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(server.port)]
    try:
        done = subprocess.run(
            command, env=server.env, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the service started on broken storage: {exc.stderr!r}") from exc
    return done.returncode, done.stdout + done.stderr


def _one_clear_line(output: str, *words: str) -> None:
    assert "Traceback" not in output, output[-3000:]
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output[-3000:]
    assert all(word in errors[0] for word in words), errors[0]


def test_a_read_only_data_folder_stops_the_start_with_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Server(data).start().stop()
    with read_only_view(data, tmp_path / "read-only") as view:
        status, output = _serve_until_exit(view)
    assert status != 0
    _one_clear_line(output, "storage_unavailable", "database", str(view))


def test_a_damaged_database_stops_the_start_with_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Server(data, PODALIGN_WORKERS="0").start()
    try:
        with server.client() as client:
            for episode in range(40):
                metadata = json.dumps({"episode": episode, "notes": "n" * 8000})
                answer = client.post("/v1/alignments", files=_files(), data={"metadata": metadata})
                assert answer.status_code == 202, answer.text
    finally:
        server.stop()
    database = data / "podalign.db"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with database.open("r+b") as raw:
        raw.seek(4096 * 20)
        raw.write(bytes(range(256)) * 16)  # one page of the jobs table, overwritten
    status, output = _serve_until_exit(data)
    assert status != 0
    _one_clear_line(output, "storage_unavailable", "database", "damaged")


def test_a_job_folder_that_cannot_be_written_is_not_ready_and_errors_are_json(
    tmp_path: Path,
) -> None:
    server = Server(tmp_path / "data").start()
    jobs = tmp_path / "data" / "jobs"
    try:
        with server.client() as client:
            jobs.rmdir()
            jobs.write_text("not a folder")
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert any("job folder" in problem for problem in ready.json()["problems"])
            refused = client.post("/v1/alignments", files=_files())
            assert _error(refused) == (503, "storage_unavailable")
            jobs.unlink()
            jobs.mkdir()
            assert client.get("/readyz").status_code == 200
            accepted = client.post("/v1/alignments", files=_files(), params={"wait": 60})
            assert accepted.json()["status"] == "succeeded"
    finally:
        server.stop()


# ---- 2. nothing uploaded runs on the service's origin ----------------------------------------


def _wav_with_markup(path: Path) -> Path:
    """A valid WAV whose samples are an HTML page with a script (as a browser sniffing it
    would see them)."""
    markup = b"<html><body><script>document.title = 'pwned';</script></body></html>"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(bytes(3200) + markup * 200 + bytes(len(markup) % 2) + bytes(32000))
    return path


def test_uploaded_audio_is_served_as_what_it_is_and_cannot_run_script(
    tmp_path: Path, chromium: Browser
) -> None:
    trap = _wav_with_markup(tmp_path / "trap.wav")
    server = Server(tmp_path / "data", PODALIGN_WORKERS="0").start()
    try:
        with server.client() as client:
            files = {
                "audio": ("x.html", trap.read_bytes(), "text/html"),
                "transcript": ("t.txt", b"hello"),
            }
            job = client.post("/v1/alignments", files=files).json()
            audio = client.get(f"/v1/alignments/{job['id']}/audio")
            assert audio.content == trap.read_bytes()
            assert audio.headers["content-type"] == "audio/wav"
            assert audio.headers["x-content-type-options"] == "nosniff"
            assert "default-src 'none'" in audio.headers["content-security-policy"]
            for path in ("/", "/healthz", "/v1/alignments/nope", "/static/app.js"):
                headers = client.get(path).headers
                assert headers["x-content-type-options"] == "nosniff", path
                assert "frame-ancestors 'none'" in headers["content-security-policy"], path
            assert (
                client.get("/").headers["content-security-policy"].startswith("default-src 'self'")
            )
        page = chromium.new_page()
        try:
            page.goto(f"{server.url}/v1/alignments/{job['id']}/audio")
            assert page.evaluate("document.title") != "pwned"
            assert page.evaluate("document.querySelector('script')") is None
        finally:
            page.close()
    finally:
        server.stop()


# ---- 3. uploads are counted as they arrive and written once ----------------------------------


class _ChunkedUpload:
    """A multipart POST sent by hand with chunked transfer encoding, so that a test can stop
    half-way and look at the server before the body ends."""

    boundary = "podalign-hardening"

    def __init__(self, server: Server, path: str = "/v1/alignments") -> None:
        self.socket = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        self.socket.sendall(
            f"POST {path} HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: multipart/form-data; boundary={self.boundary}\r\n\r\n".encode()
        )

    def part(self, name: str, filename: str | None = None) -> None:
        named = f'; filename="{filename}"' if filename else ""
        self.send(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"{named}\r\n\r\n'
        )

    def send(self, data: bytes | str) -> None:
        raw = data.encode() if isinstance(data, str) else data
        if raw:
            self.socket.sendall(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")

    def finish(self) -> None:
        self.send(f"--{self.boundary}--\r\n")
        self.socket.sendall(b"0\r\n\r\n")

    def begin_job(self, transcript: bytes, audio_name: str, audio_head: bytes) -> None:
        """A transcript part, then the audio part up to `audio_head` (the upload stays open)."""
        self.part("transcript", "t.txt")
        self.send(transcript)
        self.send("\r\n")
        self.part("audio", audio_name)
        self.send(audio_head)

    def end_job(self, audio_rest: bytes) -> tuple[int, dict[str, Any]]:
        """The rest of the audio, the end of the body, and the answer."""
        self.send(audio_rest)
        self.send("\r\n")
        self.finish()
        return self.answer()

    def answer(self) -> tuple[int, dict[str, Any]]:
        """The status and JSON body of the response (waits up to the socket's timeout)."""
        data = self._receive_until(lambda got: b"\r\n\r\n" in got, b"")
        head, body = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:])
        length = int(headers["content-length"])
        body = self._receive_until(lambda got: len(got) >= length, body)
        self.socket.close()
        return int(lines[0].split()[1]), json.loads(body)

    def _receive_until(self, done: Callable[[bytes], bool], data: bytes) -> bytes:
        while not done(data):
            received = self.socket.recv(65536)
            assert received, f"the connection closed before a full answer: {data!r}"
            data += received
        return data


def test_an_upload_streams_into_the_job_folder_and_stops_at_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.wav"
    run_tool(
        "ffmpeg", "-v", "error", "-stream_loop", "3", "-i", str(SAMPLE / "audio.wav"), str(big)
    )
    audio = big.read_bytes()
    # Less than the server gathers before a disk write (1 MiB): the limit must hold anyway.
    limited = 600_000
    server = Server(
        tmp_path / "data", PODALIGN_WORKERS="0", PODALIGN_MAX_UPLOAD_BYTES=str(limited)
    ).start()
    jobs = tmp_path / "data" / "jobs"
    try:
        # One byte over the limit, then the client waits: the 413 comes before the body ends
        # and nothing is kept. The client sends no more than that, so the server has read all
        # it sent when it answers and closes: no reset can overtake the answer.
        upload = _ChunkedUpload(server)
        upload.part("audio", "big.wav")
        for start in range(0, limited + 1, 64 * 1024):
            upload.send(audio[start : min(start + 64 * 1024, limited + 1)])
        status, body = upload.answer()
        assert (status, body["error"]["code"]) == (413, "audio_too_large")
        assert "over 585.9 KB" in body["error"]["message"]  # a unit that fits the limit
        _until(lambda: not list(jobs.glob(".incoming-*")), "the partial upload is removed")
        server.stop()
        server.env["PODALIGN_MAX_UPLOAD_BYTES"] = str(2 * len(audio))
        server.start()
        # Within the limit: the audio is written into the job's own folder as it arrives.
        upload = _ChunkedUpload(server)
        transcript = (SAMPLE / "text.txt").read_bytes() * 4
        upload.begin_job(transcript, "big.wav", audio[: len(audio) // 2])
        incoming = _until(lambda: list(jobs.glob(".incoming-*/audio")), "the audio is on disk")
        _until(lambda: incoming[0].stat().st_size >= len(audio) // 4, "the audio grows on disk")
        status, job = upload.end_job(audio[len(audio) // 2 :])
        assert status == 202, job
        assert (jobs / job["id"] / "audio").read_bytes() == audio
    finally:
        server.stop()


def test_a_starting_worker_leaves_uploads_in_progress_alone(tmp_path: Path) -> None:
    api = Server(tmp_path / "data", PODALIGN_WORKERS="0").start()
    jobs = tmp_path / "data" / "jobs"
    # What a crash a day ago left: nothing was written in it since.
    crashed = jobs / ".incoming-crashed"
    crashed.mkdir()
    (crashed / "audio").write_bytes(b"cut off")
    long_ago = time.time() - STALE_INCOMING_S - 60
    for path in (crashed / "audio", crashed):
        os.utime(path, (long_ago, long_ago))
    worker: subprocess.Popen[bytes] | None = None
    try:
        upload = _ChunkedUpload(api)
        audio = (SAMPLE / "audio.wav").read_bytes()
        upload.begin_job((SAMPLE / "text.txt").read_bytes(), "audio.wav", audio[: len(audio) // 2])
        _until(lambda: list(jobs.glob(".incoming-*/audio")), "the upload is under way")
        log = tmp_path / "worker.log"
        worker = _worker_process(api, log)
        _until(lambda: "worker(s) running" in log.read_text(), "the worker is up")
        assert not crashed.exists()
        status, job = upload.end_job(audio[len(audio) // 2 :])
        assert status == 202, job
        assert (jobs / job["id"] / "audio").read_bytes() == audio
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)
        api.stop()


def test_gentle_waits_no_longer_than_the_wait_limit(tmp_path: Path) -> None:
    # No worker: the job stays queued, so only the limit can end the wait.
    server = Server(tmp_path / "data", PODALIGN_WORKERS="0", PODALIGN_MAX_WAIT_S="1").start()
    try:
        url = f"{server.url}/transcriptions?async=false"
        answer = httpx.post(url, files=_files(), timeout=30)  # far past the limit
        assert answer.status_code == 200, answer.text
        status = answer.json()
        assert status["status"] == "QUEUED"
        assert answer.headers["location"] == f"/transcriptions/{status['id']}"
    finally:
        server.stop()


def _plant_large_result(server: Server, words: int) -> str:
    """A succeeded job whose result has `words` words (slow to render): submitted, then
    finished by hand in the database, as a worker would."""
    with server.client() as client:
        job_id: str = client.post("/v1/alignments", files=_files()).json()["id"]
    texts = [f"word{i}" for i in range(words)]
    starts = [0, *itertools.accumulate(len(text) + 1 for text in texts[:-1])]
    document = {
        "language": "en",
        "duration_s": words * 0.3,
        "transcript": " ".join(texts),
        "words": [
            {
                "index": i,
                "text": text,
                "char_start": start,
                "char_end": start + len(text),
                "start": i * 0.3,
                "end": i * 0.3 + 0.25,
                "score": 0.9,
                "status": "aligned",
                "refinement": "signal",
            }
            for i, (text, start) in enumerate(zip(texts, starts, strict=True))
        ],
    }
    (server.data_dir / "jobs" / job_id / "result.json").write_text(json.dumps(document))
    with sqlite3.connect(server.data_dir / "podalign.db") as db:
        db.execute(
            "UPDATE jobs SET status = 'succeeded', stage = 'done', progress = 1.0, "
            "finished_at = ? WHERE id = ?",
            (time.time(), job_id),
        )
    return job_id


def test_healthz_answers_while_many_renders_queue(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", PODALIGN_WORKERS="0").start()
    try:
        job_id = _plant_large_result(server, 60_000)
        url = f"{server.url}/v1/alignments/{job_id}/captions.vtt"
        answers: list[httpx.Response] = []

        def caption(width: int) -> None:
            answers.append(httpx.get(url, params={"max_chars_per_line": width}, timeout=300))

        # Distinct options: each is its own rendering, more than the server has threads.
        with ThreadPoolExecutor(max_workers=40) as pool:
            for width in range(20, 60):
                pool.submit(caption, width)
            _until(lambda: any(a.status_code == 503 for a in answers), "renders are refused", 60)
            assert httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200
        busy = [a for a in answers if a.status_code == 503]
        assert {_error(a)[1] for a in busy} == {"busy"}
        assert all(int(a.headers["retry-after"]) > 0 for a in busy)
        assert {a.status_code for a in answers} == {200, 503}
    finally:
        server.stop()


# ---- 4. the duration limit counts decoded audio -------------------------------------------


def _mkv_claiming(path: Path, lasts_s: int, claims_s: float) -> Path:
    """A Matroska file of `lasts_s` seconds of silence whose header says `claims_s`."""
    run_tool(
        "ffmpeg", *LAVFI, "anullsrc=r=16000:cl=mono", "-t", str(lasts_s), "-c:a", "flac", str(path)
    )
    data = bytearray(path.read_bytes())
    at = data.index(b"\x44\x89\x88")  # Segment Info > Duration, an 8-byte float in ms
    data[at + 3 : at + 11] = struct.pack(">d", claims_s * 1000)
    path.write_bytes(data)
    return path


def test_audio_longer_than_its_header_says_stops_at_the_limit(tmp_path: Path) -> None:
    liar = _mkv_claiming(tmp_path / "liar.mkv", lasts_s=900, claims_s=10)
    server = Server(tmp_path / "data", PODALIGN_MAX_AUDIO_S="60").start()
    try:
        with server.client() as client:
            files = {"audio": ("liar.mkv", liar.read_bytes()), "transcript": ("t.txt", b"hi")}
            job = client.post("/v1/alignments", files=files).json()
            assert job["audio_duration_s"] == 10.0  # what the header claims
            done = wait_for(client, job["id"])
        assert done["status"] == "failed"
        assert done["error"]["code"] == "audio_too_long", done["error"]
    finally:
        server.stop()
    assert "aligned" not in server.log.read_text()  # it never reached the model


# ---- 5. callbacks go only where they may, signed, and no further ----------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Records every request it gets and answers with its server's `reply`."""

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.calls.append((self.command, dict(self.headers), self.rfile.read(length)))  # type: ignore[attr-defined]
        status, headers = self.server.reply  # type: ignore[attr-defined]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    do_GET = do_POST = _record

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _receiver(status: int = 204, **headers: str) -> Iterator[tuple[int, list[Any]]]:
    """A webhook receiver on this host: (its port, the requests it got)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.calls, httpd.reply = [], (status, headers)  # type: ignore[attr-defined]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd.server_address[1], httpd.calls  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()


def _deliveries(database: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(database) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute("SELECT * FROM webhook_deliveries")]


def _with_callback(client: httpx.Client, url: str, **params: Any) -> httpx.Response:
    return client.post("/v1/alignments", files=_files(), data={"callback_url": url}, params=params)


def test_callbacks_follow_no_redirect_and_are_checked_again_when_sent(tmp_path: Path) -> None:
    server = Server(
        tmp_path / "data",
        PODALIGN_WEBHOOK_SECRET="s3cret",
        PODALIGN_WEBHOOK_ALLOW_PRIVATE_NETWORKS="true",
    ).start()
    database = server.data_dir / "podalign.db"
    down = free_port()  # no receiver there yet
    try:
        with server.client() as client, _receiver() as (elsewhere, stolen):
            with _receiver(302, Location=f"http://127.0.0.1:{elsewhere}/steal") as (port, calls):
                moved = _with_callback(client, f"http://127.0.0.1:{port}/hook", wait=60).json()
                assert moved["status"] == "succeeded"
                _until(lambda: calls, "the receiver is called")
                _until(lambda: _deliveries(database)[0]["last_error"], "the answer is recorded")
            assert "HTTP 302" in _deliveries(database)[0]["last_error"]
            assert calls[0][1]["X-Podalign-Signature"].startswith("sha256=")
            assert stolen == []  # the redirect was not followed
            metadata = "http://169.254.169.254/latest/meta-data/"
            assert _error(_with_callback(client, metadata)) == (422, "callback_not_allowed")
            # Accepted while private networks are allowed; the receiver is down when it ends.
            pending = _with_callback(client, f"http://localhost:{down}/hook", wait=60).json()
            _until(lambda: len(_deliveries(database)) == 2, "the second callback is stored")
            _until(lambda: _deliveries(database)[1]["attempts"], "a first attempt")
        server.stop()
        server.env["PODALIGN_WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "false"
        with _receiver() as (_port, calls), server.start().client() as client:
            for url in (
                f"http://127.0.0.1:{down}/hook",
                f"http://[::1]:{down}/hook",
                f"http://0.0.0.0:{down}/hook",
                f"http://127.1:{down}/hook",
                f"http://localhost:{down}/hook",
                "http://10.0.0.7/hook",
            ):
                assert _error(_with_callback(client, url)) == (422, "callback_not_allowed"), url
            # The pending callback is checked again when sent, and refused for good.
            given_up = _until(lambda: _deliveries(database)[1]["gave_up_at"], "it is given up")
            assert given_up and "not sent" in _deliveries(database)[1]["last_error"]
            assert _deliveries(database)[1]["job_id"] == pending["id"]
    finally:
        server.stop()


def test_callbacks_are_never_sent_unsigned(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", PODALIGN_WORKERS="0").start()
    try:
        with server.client() as client:
            refused = _with_callback(client, "https://cms.example/hooks/podalign")
            assert _error(refused) == (422, "callbacks_disabled")
    finally:
        server.stop()


# ---- 6. each key sees its own jobs; an admin key sees all --------------------------------------


def _podalign_keys(server: Server, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", *args],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _new_key(server: Server, name: str, *flags: str) -> str:
    return _podalign_keys(server, "create", name, *flags).strip().splitlines()[-1]


def test_keys_on_a_database_that_cannot_be_used_say_so_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "podalign.db").write_bytes(b"not a database, " * 1024)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "keys", "list"],
        env=Server(data).env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    _one_clear_line(done.stdout + done.stderr, "storage_unavailable", "database")


def _named(name: str) -> Any:
    return {
        "audio": (name, (SAMPLE / "audio.wav").read_bytes()),
        "transcript": ("t.txt", (SAMPLE / "text.txt").read_bytes()),
    }


def test_each_key_sees_only_its_own_jobs_and_an_admin_sees_all(
    tmp_path: Path, chromium: Browser
) -> None:
    server = Server(
        tmp_path / "data", PODALIGN_API_KEYS="env-key", PODALIGN_METRICS_REQUIRE_KEY="true"
    ).start()
    clients = ExitStack()
    try:
        alice, bob = _new_key(server, "alice"), _new_key(server, "bob")
        admin = _new_key(server, "ops", "--admin")
        assert "alice\tuser" in _podalign_keys(server, "list")
        assert alice not in _podalign_keys(server, "list")  # only hashes are kept
        assert alice.encode() not in (server.data_dir / "podalign.db").read_bytes()
        as_alice, as_bob, as_env, as_admin, anonymous = (
            clients.enter_context(server.client(**headers))
            for headers in (
                {"Authorization": f"Bearer {alice}"},
                {"Authorization": f"Bearer {bob}"},
                {"Authorization": "Bearer env-key"},
                {"Authorization": f"Bearer {admin}"},
                {},
            )
        )
        mine = as_alice.post("/v1/alignments", files=_named("alice.wav"), params={"wait": 60})
        theirs = as_bob.post("/v1/alignments", files=_named("bob.wav"), params={"wait": 60})
        env_job = as_env.post("/v1/alignments", files=_named("env.wav")).json()
        mine, theirs = mine.json(), theirs.json()
        assert [j["id"] for j in as_alice.get("/v1/alignments").json()["items"]] == [mine["id"]]
        assert [j["id"] for j in as_env.get("/v1/alignments").json()["items"]] == [env_job["id"]]
        base = f"/v1/alignments/{theirs['id']}"
        for path in ("", "/words", "/captions.vtt", "/audio"):
            assert _error(as_alice.get(base + path)) == (404, "not_found"), path
        assert _error(as_alice.get(f"/transcriptions/{theirs['id']}")) == (404, "not_found")
        assert _error(as_alice.delete(base)) == (404, "not_found")
        assert as_bob.get(base).json()["status"] == "succeeded"
        listed = {j["id"] for j in as_admin.get("/v1/alignments").json()["items"]}
        assert listed == {mine["id"], theirs["id"], env_job["id"]}
        assert as_admin.get(f"{base}/words").status_code == 200
        assert _error(anonymous.get("/v1/alignments")) == (401, "unauthorized")
        assert _error(anonymous.get("/metrics")) == (401, "unauthorized")
        assert as_bob.get("/metrics").status_code == 200
        _podalign_keys(server, "revoke", "bob")
        assert _error(as_bob.get(base)) == (403, "forbidden")
        # The page works with one key: it asks for it, then shows that key's jobs.
        page = chromium.new_page()
        try:
            page.goto(server.url)
            page.wait_for_selector("#key-panel:not([hidden])")
            page.fill("#key-input", alice)
            page.get_by_role("button", name="Use key").click()
            page.wait_for_selector("#recent button")
            assert page.locator("#recent button").all_text_contents() == ["alice.wav"]
            page.locator("#recent button").click()
            page.wait_for_selector("#result-panel:not([hidden])")
            assert page.evaluate("document.getElementById('player').src").startswith("blob:")
        finally:
            page.close()
    finally:
        clients.close()
        server.stop()


# ---- 7. no output far larger than the input; repeats are cheap -------------------------------


def test_wordy_transcripts_are_refused_and_renderings_are_kept(tmp_path: Path) -> None:
    liar = _mkv_claiming(tmp_path / "liar.mkv", lasts_s=20, claims_s=3600)
    server = Server(tmp_path / "data").start()
    try:
        with server.client() as client:
            one_word = {
                "audio": ("a.wav", (SAMPLE / "audio.wav").read_bytes()),
                "transcript": ("t.txt", b"la " * 1_500_000),
            }
            refused = client.post("/v1/alignments", files=one_word)
            assert _error(refused) == (422, "transcript_too_many_words")
            # A header that claims an hour gets past the first look; the decoded audio does not.
            files = {"audio": ("liar.mkv", liar.read_bytes()), "transcript": ("t", b"la " * 3000)}
            long_claim = client.post("/v1/alignments", files=files).json()
            failed = wait_for(client, long_claim["id"])
            assert failed["error"]["code"] == "transcript_too_many_words", failed
            job = client.post("/v1/alignments", files=_files(), params={"wait": 60}).json()
            base = f"/v1/alignments/{job['id']}"
            words = client.get(f"{base}/words")
            assert (
                words.content
                == (server.data_dir / "jobs" / job["id"] / "result-1.json").read_bytes()
            )
            renders = server.data_dir / "jobs" / job["id"] / "renders"
            options = {"max_chars_per_line": 30, "highlight": "words"}
            with ThreadPoolExecutor(4) as pool:
                answers = list(
                    pool.map(lambda _: client.get(f"{base}/captions.vtt", params=options), range(4))
                )
            assert {a.status_code for a in answers} == {200}
            assert len({a.content for a in answers}) == 1
            assert len(list(renders.iterdir())) == 1  # rendered once for the four
            again = client.get(f"{base}/captions.vtt", params=options)
            assert again.content == answers[0].content and len(list(renders.iterdir())) == 1
            assert client.get(f"{base}/captions.srt").status_code == 200
            assert len(list(renders.iterdir())) == 2
    finally:
        server.stop()


# ---- 9. every error is the documented JSON shape -------------------------------------------


def test_odd_requests_get_json_errors(tmp_path: Path) -> None:
    server = Server(tmp_path / "data").start()
    try:
        with server.client() as client:
            deep = "[" * 1000 + "]" * 1000
            nested = client.post("/v1/alignments", files=_files(), data={"metadata": deep})
            assert _error(nested) == (422, "invalid_option")
            # A text field longer than 1 MB (the framework's default part limit) is a transcript.
            padded = (SAMPLE / "text.txt").read_text() + " " * (2 * 1024 * 1024)
            files = {"audio": ("a.wav", (SAMPLE / "audio.wav").read_bytes())}
            job = client.post("/v1/alignments", files=files, data={"text": padded}).json()
            assert wait_for(client, job["id"])["words"]["aligned"] == 87
            audio = f"/v1/alignments/{job['id']}/audio"
            size = (SAMPLE / "audio.wav").stat().st_size
            beyond = client.get(audio, headers={"Range": f"bytes={size + 10}-"})
            assert _error(beyond) == (416, "range_not_satisfiable")
            assert beyond.headers["content-range"] == f"bytes */{size}"
            assert _error(client.get(audio, headers={"Range": "nonsense"}))[0] == 400
            words = f"/v1/alignments/{job['id']}/words"
            assert _error(client.get(words, headers={"Range": "bytes=10-5"}))[0] == 400
            put = client.put(f"/v1/alignments/{job['id']}")
            assert _error(put) == (405, "method_not_allowed")
            assert set(put.headers["allow"].split(", ")) == {"GET", "DELETE"}
            static = client.post("/static/app.js")
            assert _error(static) == (405, "method_not_allowed")
            assert set(static.headers["allow"].split(", ")) == {"GET", "HEAD"}
            assert _error(client.get("/nowhere")) == (404, "not_found")
    finally:
        server.stop()


# ---- 10. a restarted process takes back its own jobs at once -----------------------------------


def _running(client: httpx.Client, job_id: str, progress: float = 0.1) -> bool:
    job = client.get(f"/v1/alignments/{job_id}").json()
    return bool(job["status"] == "running" and job["progress"] > progress)


def test_a_restarted_service_requeues_its_own_jobs_at_once(
    tmp_path: Path, long_episode: tuple[Path, Path]
) -> None:
    server = Server(tmp_path / "data").start()  # the default lease: 120 s
    try:
        with server.client() as client:
            job = client.post("/v1/alignments", files=_files(*long_episode)).json()
            _until(lambda: _running(client, job["id"]), "the job is under way")
        server.kill()
        server.start()
        with server.client() as client:
            after = client.get(f"/v1/alignments/{job['id']}").json()
            assert (after["status"], after["attempts"]) != ("running", 1), after
            done = wait_for(client, job["id"])
        assert (done["status"], done["attempts"]) == ("succeeded", 2)
    finally:
        server.stop()


def _worker_process(server: Server, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env=server.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_new_worker_process_leaves_live_workers_jobs_alone(
    tmp_path: Path, longer_episode: tuple[Path, Path]
) -> None:
    api = Server(tmp_path / "data", PODALIGN_WORKERS="0").start()
    first = _worker_process(api, tmp_path / "first.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        with api.client() as client:
            # Whisper's walk over every word (refine=signal: no phone path) is the slow way
            # through the episode: the job must outlast the second worker's start-up.
            job = client.post(
                "/v1/alignments", files=_files(*longer_episode), data={"refine": "signal"}
            ).json()
            _until(lambda: _running(client, job["id"]), "the first worker runs the job")
            second = _worker_process(api, tmp_path / "second.log")
            _until(
                lambda: "worker(s) running" in (tmp_path / "second.log").read_text(),
                "the second worker is up",
            )
            still = client.get(f"/v1/alignments/{job['id']}").json()
            assert (still["status"], still["attempts"]) == ("running", 1)  # not taken
            assert wait_for(client, job["id"])["attempts"] == 1
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        api.stop()


def test_a_job_whose_input_is_gone_fails_saying_so_and_the_worker_goes_on(
    tmp_path: Path,
) -> None:
    """An upload deleted from the job folder by hand before a worker ran it: the job fails
    as `input_missing` with what to do (it was `internal_error`), and the next job runs."""
    api = Server(tmp_path / "data", PODALIGN_WORKERS="0").start()
    worker: subprocess.Popen[bytes] | None = None
    try:
        with api.client() as client:
            jobs = [client.post("/v1/alignments", files=_files()).json()["id"] for _ in range(3)]
            folder = tmp_path / "data" / "jobs"
            (folder / jobs[0] / "audio").unlink()
            (folder / jobs[1] / "transcript.txt").unlink()
            worker = _worker_process(api, tmp_path / "worker.log")
            for job_id in jobs[:2]:
                failed = wait_for(client, job_id)
                assert failed["status"] == "failed", failed
                error = failed["error"]
                assert isinstance(error, dict) and error["code"] == "input_missing", failed
                assert "Submit the audio and transcript again" in error["message"]
            assert wait_for(client, jobs[2])["status"] == "succeeded"
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)
        api.stop()
