"""The `podalign` command as a user runs it: real files, real model, real exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLES

SAMPLE = SAMPLES / "short_clean"


def _podalign(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_align_writes_json_words(tmp_path: Path) -> None:
    out = tmp_path / "words.json"
    done = _podalign("align", str(SAMPLE / "audio.wav"), str(SAMPLE / "text.txt"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # quiet when not on a terminal
    result = json.loads(out.read_text())
    truth = json.loads((SAMPLE / "truth.json").read_text())["words"]
    assert [w["text"] for w in result["words"]] == [t["word"] for t in truth]
    assert result["counts"]["aligned"] == len(truth)
    first = result["words"][0]
    assert abs(first["start"] - truth[0]["start"]) < 0.1
    assert result["options"]["model"] == "tiny.en" and result["language"] == "en"


def test_align_writes_webvtt(tmp_path: Path) -> None:
    out = tmp_path / "captions.vtt"
    done = _podalign("align", str(SAMPLE / "audio.wav"), str(SAMPLE / "text.txt"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.startswith("WEBVTT\n\n00:00:00.")
    assert "fishing" in text and "-->" in text


def test_bad_audio_exits_nonzero_with_the_error_code(tmp_path: Path) -> None:
    fake = tmp_path / "episode.mp3"
    fake.write_text("not audio at all\n" * 20)
    done = _podalign("align", str(fake), str(SAMPLE / "text.txt"))
    assert done.returncode == 2
    assert done.stderr.startswith("error: audio_decode_failed:")


def test_binary_transcript_exits_nonzero(tmp_path: Path) -> None:
    text = tmp_path / "text.txt"
    text.write_bytes(bytes(range(256)) * 10)
    done = _podalign("align", str(SAMPLE / "audio.wav"), str(text))
    assert done.returncode == 2
    assert "transcript_encoding" in done.stderr


def test_help_lists_every_option() -> None:
    done = _podalign("align", "--help")
    for option in ("--output", "--model", "--language", "--device", "--compute-type", "--format"):
        assert option in done.stdout
