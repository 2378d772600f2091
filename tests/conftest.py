"""Shared fixtures: the bundled samples, their reference times, and the real tiny.en aligner."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from alignment import Aligner, AlignmentOptions

SAMPLES = Path(__file__).resolve().parent.parent / "audio_samples"


@dataclass(frozen=True)
class Sample:
    audio: Path
    text: str
    truth: list[dict[str, object]]


def load_sample(name: str) -> Sample:
    folder = SAMPLES / name
    audio = next(p for p in folder.iterdir() if p.stem == "audio")
    truth = json.loads((folder / "truth.json").read_text())["words"]
    return Sample(audio, (folder / "text.txt").read_text(encoding="utf-8"), truth)


@pytest.fixture(scope="session")
def aligner() -> Aligner:
    """The real bundled tiny.en model, loaded once for the whole run."""
    engine = Aligner(AlignmentOptions(model="tiny.en", device="cpu"))
    _ = engine.model
    return engine


@pytest.fixture(scope="session")
def short_clean() -> Sample:
    return load_sample("short_clean")


def run_tool(*args: str) -> None:
    """Run ffmpeg/espeak-ng quietly; they are installed by `make test-tools`."""
    assert shutil.which(args[0]), f"{args[0]} is missing: run `make test-tools`"
    subprocess.run(args, check=True, capture_output=True)
