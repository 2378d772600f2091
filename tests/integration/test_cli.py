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


def test_align_writes_srt_with_the_layout_options(tmp_path: Path) -> None:
    out = tmp_path / "captions.srt"
    done = _podalign(
        "align", str(SAMPLE / "audio.wav"), str(SAMPLE / "text.txt"), "-o", str(out),
        "--max-chars", "24", "--max-lines", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    blocks = out.read_text().strip().split("\n\n")
    assert blocks[0].startswith("1\n00:00:00,")
    for block in blocks:
        number, timing, *lines = block.split("\n")
        assert number.isdigit() and " --> " in timing and "," in timing
        assert len(lines) == 1 and (len(lines[0]) <= 24 or " " not in lines[0])
    shown = " ".join(" ".join(b.split("\n")[2:]) for b in blocks).split()
    assert shown == (SAMPLE / "text.txt").read_text().split()


def test_align_highlights_words_in_webvtt_and_writes_json_cues(tmp_path: Path) -> None:
    vtt, words = tmp_path / "karaoke.vtt", tmp_path / "words.json"
    for out in (vtt, words):
        done = _podalign(
            "align", str(SAMPLE / "audio.wav"), str(SAMPLE / "text.txt"), "-o", str(out),
            "--highlight", "words",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert "<00:00:0" in vtt.read_text()  # inline word timestamps
    document = json.loads(words.read_text())
    assert document["cues"] and document["caption_options"]["highlight"] == "words"
    indices = [i for cue in document["cues"] for i in cue["word_indices"]]
    assert indices == [w["index"] for w in document["words"]]


def test_unknown_extension_and_bad_layout_are_usage_errors(tmp_path: Path) -> None:
    audio, text = str(SAMPLE / "audio.wav"), str(SAMPLE / "text.txt")
    done = _podalign("align", audio, text, "-o", str(tmp_path / "captions.docx"))
    assert done.returncode == 64 and ".vtt" in done.stderr
    done = _podalign("align", audio, text, "--max-lines", "0")
    assert done.returncode == 64 and "max_lines" in done.stderr


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
    for option in (
        "--output", "--model", "--language", "--device", "--compute-type", "--format",
        "--max-chars", "--max-lines", "--highlight", "--no-speakers",
    ):  # fmt: skip
        assert option in done.stdout
