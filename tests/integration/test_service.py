"""The HTTP service as a client sees it: a real server, the real model, real files."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import SAMPLES, run_tool
from tests.service import Server, wait_for

SAMPLE = SAMPLES / "short_clean"
LAVFI = ("-v", "error", "-f", "lavfi", "-i")  # ffmpeg's generated sources


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def submit(client: httpx.Client, audio: Path = SAMPLE / "audio.wav", **data: str) -> httpx.Response:
    files = {"audio": (audio.name, audio.read_bytes())}
    if "text" not in data:
        files["transcript"] = ("text.txt", (SAMPLE / "text.txt").read_bytes())
    params = {"wait": data.pop("wait")} if "wait" in data else None
    return client.post("/v1/alignments", files=files, data=data, params=params)


def test_submit_poll_and_fetch_words_and_captions(client: httpx.Client) -> None:
    answer = submit(client, metadata='{"episode": 42}')
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert answer.headers["location"] == f"/v1/alignments/{job['id']}"
    assert job["status"] in ("queued", "running") and job["metadata"] == {"episode": 42}
    done = wait_for(client, job["id"])
    assert done["status"] == "succeeded", done
    assert done["audio_duration_s"] == pytest.approx(26.9, abs=0.2)
    assert done["words"] == {"aligned": 87, "not_found": 0, "non_speech": 0}
    assert done["detected_language"] == "en" and done["progress"] == 1.0

    words = client.get(f"/v1/alignments/{job['id']}/words").json()["words"]
    truth = json.loads((SAMPLE / "truth.json").read_text())["words"]
    errors = sorted(abs(w["start"] - t["start"]) for w, t in zip(words, truth, strict=True))
    assert errors[len(errors) // 2] < 0.05 and errors[int(len(errors) * 0.9)] < 0.2

    vtt = client.get(f"/v1/alignments/{job['id']}/captions.vtt")
    assert vtt.status_code == 200
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.headers["content-disposition"] == 'attachment; filename="audio.vtt"'
    assert vtt.text.startswith("WEBVTT\n\n00:00:00.")
    again = client.get(
        f"/v1/alignments/{job['id']}/captions.vtt", headers={"If-None-Match": vtt.headers["etag"]}
    )
    assert again.status_code == 304


def test_caption_layout_options_and_every_format(client: httpx.Client) -> None:
    job = submit(client, wait="60").json()
    assert job["status"] == "succeeded"
    base = f"/v1/alignments/{job['id']}/captions"
    srt = client.get(f"{base}.srt", params={"max_chars_per_line": 20, "max_lines": 1}).text
    lines = [ln for ln in srt.split("\n") if ln and not ln[0].isdigit()]
    assert lines and all(len(ln) <= 20 or " " not in ln for ln in lines)
    for fmt in ("ttml", "ass", "textgrid", "json", "gentle"):
        answer = client.get(f"{base}.{fmt}", params={"highlight": "words"})
        assert answer.status_code == 200, (fmt, answer.text)
    # The JSON says what produced it, as the CLI's does: model, language, options, duration.
    document = client.get(f"{base}.json").json()
    assert document["model"] == "tiny.en" and document["language"] == "en"
    assert document["options"]["refine"] == "acoustic"
    assert document["duration_s"] == pytest.approx(26.9, abs=0.2)
    assert len(document["words"]) == 87 and document["cues"] and "transcript" not in document
    bad = client.get(f"{base}.vtt", params={"max_lines": 0})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    # The CLI's spelling of a layout option, and settings no cue can meet, are refused.
    typo = client.get(f"{base}.vtt", params={"max_chars": 20})
    assert typo.status_code == 422 and "`max_chars`" in typo.json()["error"]["message"]
    both = client.get(f"{base}.vtt", params={"min_duration_s": 8, "max_duration_s": 2})
    assert both.status_code == 422 and "min_duration_s" in both.json()["error"]["message"]


def test_text_field_wait_and_listing(client: httpx.Client) -> None:
    text = (SAMPLE / "text.txt").read_text()
    answer = submit(client, text=text, wait="60")
    assert answer.status_code == 200 and answer.json()["status"] == "succeeded"
    listing = client.get("/v1/alignments", params={"status": "succeeded", "limit": 1}).json()
    assert listing["items"][0]["id"] == answer.json()["id"]  # newest first
    assert listing["total"] >= 1 and listing["limit"] == 1


def test_audio_download_supports_ranges(client: httpx.Client) -> None:
    job = submit(client, wait="60").json()
    whole = client.get(f"/v1/alignments/{job['id']}/audio")
    assert whole.content == (SAMPLE / "audio.wav").read_bytes()
    part = client.get(f"/v1/alignments/{job['id']}/audio", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]


def test_concurrent_submissions_queue_and_all_finish(client: httpx.Client) -> None:
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: submit(client), range(4)))
    ids = [a.json()["id"] for a in answers]
    assert all(a.status_code == 202 for a in answers)
    assert any(a.json()["queue_position"] and a.json()["queue_position"] > 1 for a in answers)
    assert [wait_for(client, i)["status"] for i in ids] == ["succeeded"] * 4


def test_delete_cancels_and_removes(server: Server, client: httpx.Client) -> None:
    first, second = submit(client).json(), submit(client).json()
    assert client.delete(f"/v1/alignments/{second['id']}").status_code == 204
    assert client.get(f"/v1/alignments/{second['id']}").json()["status"] == "canceled"
    assert not (server.data_dir / "jobs" / second["id"]).exists()
    assert wait_for(client, first["id"])["status"] == "succeeded"
    assert client.delete(f"/v1/alignments/{first['id']}").status_code == 204
    assert client.get(f"/v1/alignments/{first['id']}").status_code == 404


def test_gentle_compatible_endpoint(client: httpx.Client) -> None:
    answer = client.post(
        "/transcriptions",
        params={"async": "false"},
        files={
            "audio": ("a.wav", (SAMPLE / "audio.wav").read_bytes()),
            "transcript": ("t.txt", (SAMPLE / "text.txt").read_bytes()),
        },
    )
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["transcript"] == (SAMPLE / "text.txt").read_text()
    assert {w["case"] for w in document["words"]} == {"success"}
    assert document["words"][0]["alignedWord"] == "every"
    # Gentle's asynchronous form, with the transcript as a text field: a redirect to poll.
    redirect = client.post(
        "/transcriptions",
        files={"audio": ("a.wav", (SAMPLE / "audio.wav").read_bytes())},
        data={"transcript": (SAMPLE / "text.txt").read_text()},
    )
    assert redirect.status_code == 302
    deadline = time.monotonic() + 120
    while (polled := client.get(redirect.headers["location"]).json()).get("status"):
        assert time.monotonic() < deadline, polled
        time.sleep(0.3)
    assert polled["words"] == document["words"]


def test_health_readiness_and_metrics(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["device"] == "cpu"
    metrics = client.get("/metrics").text
    assert 'podalign_jobs{status="succeeded"}' in metrics
    assert "podalign_audio_aligned_seconds_total" in metrics
    assert "podalign_job_duration_seconds_bucket" in metrics


def _error(answer: httpx.Response) -> tuple[int, str]:
    body = answer.json()
    assert body["error"]["message"], body
    return answer.status_code, body["error"]["code"]


def test_bad_input_gets_clear_errors(client: httpx.Client, tmp_path: Path) -> None:
    not_audio = tmp_path / "episode.mp3"
    not_audio.write_text("this is not audio\n" * 100)
    assert _error(submit(client, audio=not_audio)) == (415, "audio_decode_failed")
    video = tmp_path / "video.mp4"
    run_tool("ffmpeg", *LAVFI, "testsrc=size=64x64:rate=5", "-t", "1", str(video))
    assert _error(submit(client, audio=video)) == (415, "no_audio_stream")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert _error(submit(client, audio=empty)) == (415, "audio_empty")
    assert _error(submit(client, text=" \n ")) == (422, "transcript_empty")
    empty_file = client.post(
        "/v1/alignments",
        files={
            "audio": ("a.wav", (SAMPLE / "audio.wav").read_bytes()),
            "transcript": ("t.txt", b""),
        },
    )
    assert _error(empty_file) == (422, "transcript_empty")
    assert _error(client.post("/v1/alignments", files={"audio": ("a.wav", b"RIFF")})) == (
        422,
        "transcript_missing",
    )
    # A misspelt option is refused, not ignored (the job would run with the default).
    typo = submit(client, text="ok", langauge="es")
    assert _error(typo) == (422, "invalid_request")
    assert "`langauge`" in typo.json()["error"]["message"]
    assert _error(submit(client, text="ok", language="xx")) == (422, "unsupported_language")
    # The default model, tiny.en, knows English only: refused at once, naming one that can.
    spanish = submit(client, text="hola", language="es")
    assert _error(spanish) == (422, "unsupported_language")
    assert "'base'" in spanish.json()["error"]["message"]
    assert _error(submit(client, text="ok", model="large-v3")) == (422, "invalid_option")
    assert _error(submit(client, text="ok", metadata="{not json")) == (422, "invalid_option")
    assert _error(submit(client, text="ok", callback_url="ftp://x")) == (422, "invalid_option")
    binary = client.post(
        "/v1/alignments",
        files={
            "audio": ("a.wav", (SAMPLE / "audio.wav").read_bytes()),
            "transcript": ("t.txt", bytes(range(256)) * 4),
        },
    )
    assert _error(binary) == (422, "transcript_encoding")
    no_audio = client.post("/v1/alignments", data={"text": "hello"})
    assert _error(no_audio) == (422, "invalid_request")
    assert _error(client.get("/v1/alignments/unknown")) == (404, "not_found")
    assert list((tmp_path.parent).glob("**/.incoming-*")) == []


def test_a_failed_job_says_why_and_has_no_result(client: httpx.Client, tmp_path: Path) -> None:
    silence = tmp_path / "silence.wav"
    run_tool("ffmpeg", *LAVFI, "anullsrc=r=16000:cl=mono", "-t", "3", str(silence))
    job = submit(client, audio=silence, wait="60").json()
    assert job["status"] == "failed" and job["error"]["code"] == "no_speech"
    assert _error(client.get(f"/v1/alignments/{job['id']}/words")) == (409, "not_ready")
    assert client.get("/healthz").status_code == 200  # the worker lives on


def test_an_aborted_upload_leaves_nothing_behind(server: Server, client: httpx.Client) -> None:
    before = client.get("/v1/alignments").json()["total"]
    boundary = "podalign-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as connection:
        connection.sendall(
            b"POST /v1/alignments HTTP/1.1\r\nHost: test\r\n"
            + f"Content-Type: multipart/form-data; boundary={boundary}\r\n".encode()
            + b"Content-Length: 5000000\r\n\r\n"
            + head
            + (SAMPLE / "audio.wav").read_bytes()[:300_000]
        )
    time.sleep(1.0)  # the server notices the closed connection
    assert client.get("/v1/alignments").json()["total"] == before
    assert not list((server.data_dir / "jobs").glob(".incoming-*"))
    assert client.get("/healthz").status_code == 200
