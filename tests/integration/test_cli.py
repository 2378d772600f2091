"""The `podalign` command as a user runs it: real files, real model, real exit codes."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.outputs import EXIT_USAGE
from tests.conftest import SAMPLES

SAMPLE = SAMPLES / "short_clean"


def _on_a_terminal(*args: str) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal, as a person at a shell would; what it showed."""
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args], stdout=subprocess.DEVNULL, stderr=follower
    ) as process:
        os.close(follower)
        shown = bytearray()
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closes when the command exits
                break
            if not chunk:
                break
            shown += chunk
        returncode = process.wait(timeout=300)
    os.close(leader)
    return returncode, shown.decode("utf-8", "replace")


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
    assert done.returncode == 64 and done.stderr.startswith("error: unknown_format:")
    assert ".vtt" in done.stderr
    done = _podalign("align", audio, text, "--max-lines", "0")
    assert done.returncode == 64 and done.stderr.startswith("error: invalid_option:")
    assert "max_lines" in done.stderr
    done = _podalign("align", audio, text, "--max-lines", "two")
    assert done.returncode == 64 and done.stderr.startswith("error: usage:")
    assert done.stderr.count("\n") == 1  # one line, as every other error (no usage block)
    two = ("-o", str(tmp_path / "a.vtt"), "-o", str(tmp_path / "b.srt"))
    done = _podalign("align", audio, text, "--format", "srt", *two)
    assert done.returncode == 64 and done.stderr.startswith("error: usage:")


def test_several_outputs_come_from_one_alignment(tmp_path: Path) -> None:
    vtt, words, srt = tmp_path / "captions.vtt", tmp_path / "words.json", tmp_path / "captions.srt"
    done = _podalign(
        "align", str(SAMPLE / "audio.wav"), str(SAMPLE / "text.txt"),
        "-o", str(vtt), "-o", str(words), "-o", str(srt),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert vtt.read_text().startswith("WEBVTT\n")
    assert srt.read_text().startswith("1\n00:00:0")
    document = json.loads(words.read_text())
    assert document["counts"]["aligned"] > 0 and document["cues"]
    assert done.stdout == ""


def test_a_terminal_gets_a_closing_summary(tmp_path: Path) -> None:
    vtt, words = tmp_path / "captions.vtt", tmp_path / "words.json"
    args = ("align", str(SAMPLE / "audio.wav"), str(SAMPLE / "text.txt"))
    returncode, terminal = _on_a_terminal(*args, "-o", str(vtt), "-o", str(words))
    assert returncode == 0, terminal
    truth = json.loads((SAMPLE / "truth.json").read_text())["words"]
    assert re.search(rf"aligned {len(truth)} of {len(truth)} words \(0 not found\)", terminal)
    assert re.search(r"audio 0:\d\d aligned in 0:\d\d, [\d.]+× real time", terminal)
    assert f"wrote {vtt} (WebVTT captions)" in terminal
    assert f"wrote {words} (words and cues as JSON)" in terminal


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ("no-such-folder/captions.vtt", "no such folder"),
        ("out.vtt/", "it is a folder"),
        ("captions/", "it is a folder"),  # no extension: a folder, not an unknown format
    ],
)
def test_outputs_are_checked_before_aligning(tmp_path: Path, output: str, problem: str) -> None:
    target = tmp_path / output
    if output.endswith("/"):
        target.mkdir()
    done = _podalign(
        "align", str(SAMPLE / "audio.wav"), str(SAMPLE / "text.txt"), "-o", str(target)
    )
    assert done.returncode == 73
    assert done.stderr.startswith("error: output_unwritable:") and problem in done.stderr


def test_a_missing_input_says_no_such_file(tmp_path: Path) -> None:
    missing = tmp_path / "episode.mp3"
    done = _podalign("align", str(missing), str(SAMPLE / "text.txt"))
    assert done.returncode == 66
    assert done.stderr.startswith("error: file_not_found: no such file")
    assert "audio" in done.stderr
    done = _podalign("align", str(SAMPLE / "audio.wav"), str(tmp_path / "text.txt"))
    assert done.returncode == 66 and "file_not_found" in done.stderr
    done = _podalign("align", str(tmp_path), str(SAMPLE / "text.txt"))
    assert done.returncode == 66 and done.stderr.startswith("error: file_unreadable:")


def test_bad_audio_exits_nonzero_with_the_error_code(tmp_path: Path) -> None:
    fake = tmp_path / "episode.mp3"
    fake.write_text("not audio at all\n" * 20)
    done = _podalign("align", str(fake), str(SAMPLE / "text.txt"))
    assert done.returncode == 2
    assert done.stderr.startswith("error: audio_decode_failed:")
    empty = tmp_path / "episode.wav"
    empty.write_bytes(b"")
    done = _podalign("align", str(empty), str(SAMPLE / "text.txt"))
    assert done.returncode == 2 and done.stderr.startswith("error: audio_empty:")  # as over HTTP


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


def _start(command: str, data_dir: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`podalign <command>` with these PODALIGN_* settings, expected to refuse to start."""
    env = {**os.environ, "PODALIGN_DATA_DIR": str(data_dir), **settings}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", command],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_batch_size_out_of_bounds_refuses_the_start(tmp_path: Path, command: str) -> None:
    done = _start(command, tmp_path, PODALIGN_BATCH_SIZE="1000")
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "error: invalid_option: batch_size must be 0" in done.stderr
    assert "32" in done.stderr and "Traceback" not in done.stderr


def test_a_gpu_listed_twice_refuses_the_start(tmp_path: Path) -> None:
    done = _start("worker", tmp_path, PODALIGN_DEVICE_INDEX="1,1")
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "error: invalid_option: PODALIGN_DEVICE_INDEX lists a GPU twice" in done.stderr
    assert "Traceback" not in done.stderr
