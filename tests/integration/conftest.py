"""Audio the integration tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_tool

SAMPLE = SAMPLES / "short_clean"


def looped_sample(folder: Path, times: int) -> tuple[Path, Path]:
    """The sample `times` over (26 s each), as an MP3 and its text."""
    audio = folder / f"long-{times}.mp3"
    run_tool(
        "ffmpeg",
        "-v",
        "error",
        "-stream_loop",
        str(times - 1),
        "-i",
        str(SAMPLE / "audio.wav"),
        "-ac",
        "1",
        "-b:a",
        "48k",
        str(audio),
    )
    text = folder / f"long-{times}.txt"
    text.write_text(((SAMPLE / "text.txt").read_text().strip() + "\n") * times)
    return audio, text


#: How many times over `long_episode` holds the sample.
LONG_EPISODE_LOOPS = 20


@pytest.fixture
def long_episode(tmp_path: Path) -> tuple[Path, Path]:
    """The sample 20 times over (9 minutes): long enough to act while it is aligned (7 times
    over, 3 minutes, took under 2 s with the phone path placing most words)."""
    return looped_sample(tmp_path, LONG_EPISODE_LOOPS)


@pytest.fixture
def longer_episode(tmp_path: Path) -> tuple[Path, Path]:
    """The sample 25 times over (11 minutes): aligned with Whisper's walk alone
    (refine=signal), it outlasts a worker process's start-up (model and acoustic pass
    loaded) even on a busy machine, where 3 minutes did not; with the phone path first it
    took a third of the time and did not."""
    return looped_sample(tmp_path, 25)
