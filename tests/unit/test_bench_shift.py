"""The benchmark's shifted copies of a case (`bench.run --shifts`): audio, truth, the averages."""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.run import Run, averaged_over_shifts
from bench.shift import base_name, shift_truth, shifted_case, shifted_name


def _truth() -> dict[str, Any]:
    return {
        "words": [
            {"word": "Hello,", "start": 0.5, "end": 0.9, "spoken": True},
            {"word": "Notes", "start": None, "end": None, "spoken": False},
        ],
        "regions": [{"type": "music", "start": 1.0, "end": 2.0}],
        "segments": [{"start": 0.4, "end": 0.95}],
        "duration": 2.5,
        "audio": "audio.mp3",
    }


def test_every_time_in_the_truth_moves_and_nulls_stay_null() -> None:
    truth = _truth()
    moved = shift_truth(truth, 0.015)
    assert moved["words"][0] == {"word": "Hello,", "start": 0.515, "end": 0.915, "spoken": True}
    assert moved["words"][1]["start"] is None and moved["words"][1]["end"] is None
    assert moved["regions"] == [{"type": "music", "start": 1.015, "end": 2.015}]
    assert moved["segments"] == [{"start": 0.415, "end": 0.965}]
    assert moved["duration"] == 2.515 and moved["audio"] == "audio.wav"
    assert truth == _truth()  # the case's own truth is not touched


def test_a_copy_is_named_after_its_case_and_delay() -> None:
    assert shifted_name("real_emu_ae", 10) == "real_emu_ae+10ms"
    assert base_name("real_emu_ae+10ms") == "real_emu_ae"
    assert base_name("real_emu_ae") == "real_emu_ae"
    assert base_name("c++") == "c++" and base_name("a+bms") == "a+bms"


def test_the_copy_is_the_same_audio_later_with_its_truth(tmp_path: Path) -> None:
    case = tmp_path / "case"
    case.mkdir()
    rate = 22050
    rng = np.random.default_rng(3)
    samples = (rng.uniform(-0.5, 0.5, rate) * 32767).astype(np.int16)  # 1 s of noise
    with wave.open(str(case / "audio.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    (case / "truth.json").write_text(json.dumps(_truth()))
    (case / "text.txt").write_text("Hello, Notes")
    (case / "spec.json").write_text(json.dumps({"language": "en"}))
    copy = shifted_case(case, 10, tmp_path / "shifted")
    assert copy.name == "case+10ms"
    with wave.open(str(copy / "audio.wav"), "rb") as got:
        assert (got.getframerate(), got.getnchannels()) == (rate, 1)
        delayed = np.frombuffer(got.readframes(got.getnframes()), dtype=np.int16)
    lead = round(0.01 * rate)
    assert not delayed[:lead].any()
    assert np.array_equal(delayed[lead : lead + len(samples)], samples)
    truth = json.loads((copy / "truth.json").read_text())
    assert truth["words"][0]["start"] == pytest.approx(0.51)
    assert (copy / "text.txt").read_text() == "Hello, Notes"
    assert json.loads((copy / "spec.json").read_text()) == {"language": "en"}
    # Made once: the second call finds the copy and leaves it as it is.
    made = (copy / "audio.wav").stat().st_mtime_ns
    assert shifted_case(case, 10, tmp_path / "shifted") == copy
    assert (copy / "audio.wav").stat().st_mtime_ns == made
    with pytest.raises(ValueError, match="delay"):
        shifted_case(case, -5, tmp_path / "shifted")


def _run(name: str, median: float | None, p90: float, failed: str | None = None) -> Run:
    score = {
        "start_err_ms": {"median": median, "mean": 20.0, "p90": p90},
        "end_err_ms": {"median": 10.0, "p90": 40.0},
        "start_within": {"50": 0.9, "100": 1.0},
    }
    return Run("podalign", "tiny.en", Path(name), score, 1.0, 100.0, failed)


def test_each_case_is_averaged_over_its_copies_and_failed_runs_left_out() -> None:
    runs = [
        _run("short_clean", 5.0, 30.0),
        _run("short_clean+5ms", 6.0, 40.0),
        _run("short_clean+10ms", 7.0, 20.0),
        _run("real_emu_ae", 8.0, 44.0),
        _run("real_emu_ae+5ms", None, 0.0, failed="boom"),
    ]
    lines = averaged_over_shifts(runs)
    rows = {line.split(" | ")[0].strip("| "): line for line in lines if line.startswith("| ")}
    short = [cell.strip() for cell in rows["short_clean"].strip("|").split("|")]
    assert short[:6] == ["short_clean", "podalign", "3", "6.0", "20.0", "30.0"]
    assert short[-1] == "5.0–7.0"
    emu = [cell.strip() for cell in rows["real_emu_ae"].strip("|").split("|")]
    assert emu[2] == "1" and emu[3] == "8.0" and emu[-1] == "8.0–8.0"
