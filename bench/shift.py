"""Copies of a benchmark case with its audio delayed by a few milliseconds (`bench.run --shifts`).

The acoustic pass reads a phone model's 20 ms frames on one grid from the recording's first
sample, so where the speech falls on that grid moves its boundaries by up to a frame. The
same recording delayed by a few ms is the same speech on other phases: the figures averaged
over them say what a change does, not where one file happens to start (a dev case's start
median moved by 1.2 ms between phases, more than many changes measured on it). Delays that
are multiples of 5 ms give the signal steps' 5 ms level frames the same samples, so choose
others besides 0 (bench/README.md: 0 2 4 7 9 12 14 17 19).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

#: The case files copied unchanged (the audio is made again, the truth shifted).
_COPIED = ("text.txt", "spec.json")


def audio_of(case: Path) -> Path:
    """A case's audio file (`audio.wav`, `audio.mp3`, ...)."""
    return next(p for p in case.iterdir() if p.stem == "audio")


def shifted_name(name: str, shift_ms: int) -> str:
    """The copy's folder name: the case's, and the delay."""
    return f"{name}+{shift_ms}ms"


def base_name(name: str) -> str:
    """The case a copy was made from (the name itself for a case that is no copy)."""
    head, plus, tail = name.rpartition("+")
    return head if plus and tail.endswith("ms") and tail[:-2].isdigit() else name


def shift_truth(truth: dict[str, Any], seconds: float) -> dict[str, Any]:
    """`truth` with every time in it later by `seconds`: words, regions, segments and the
    duration (times that are null stay null)."""
    out = copy.deepcopy(truth)

    def later(items: list[dict[str, Any]]) -> None:
        for item in items:
            for key in ("start", "end"):
                if item.get(key) is not None:
                    item[key] = round(float(item[key]) + seconds, 6)

    later(out.get("words") or [])
    later(out.get("regions") or [])
    later(out.get("segments") or [])
    if out.get("duration") is not None:
        out["duration"] = round(float(out["duration"]) + seconds, 6)
    out["audio"] = "audio.wav"
    return out


def shifted_case(case: Path, shift_ms: int, root: Path) -> Path:
    """A copy of `case` under `root` whose audio starts `shift_ms` of silence later (a WAV at
    the audio's own rate and channels, decoded by ffmpeg as the scorer's times assume), with
    its truth shifted to match. Made once: a copy already there is reused."""
    if shift_ms < 0:
        raise ValueError("a shift is a delay: 0 ms or more")
    folder = root / shifted_name(case.name, shift_ms)
    if (folder / "truth.json").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    audio = audio_of(case)
    delay = ["-af", f"adelay={shift_ms}:all=1", "-c:a", "pcm_s16le"]
    command = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(audio), *delay]
    subprocess.run([*command, str(folder / "audio.wav")], check=True)
    for name in _COPIED:
        if (case / name).is_file():
            shutil.copyfile(case / name, folder / name)
    truth = json.loads((case / "truth.json").read_text("utf-8"))
    shifted = shift_truth(truth, shift_ms / 1000)
    # Written last: its presence says the copy is whole.
    (folder / "truth.json").write_text(json.dumps(shifted, ensure_ascii=False), "utf-8")
    return folder
