"""Audio the integration tests share."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_tool

SAMPLE = SAMPLES / "short_clean"


@pytest.fixture
def long_episode(tmp_path: Path) -> tuple[Path, Path]:
    """The sample seven times over (3 minutes): long enough to act while it is aligned."""
    audio = tmp_path / "long.mp3"
    run_tool(
        "ffmpeg",
        "-v",
        "error",
        "-stream_loop",
        "6",
        "-i",
        str(SAMPLE / "audio.wav"),
        "-ac",
        "1",
        "-b:a",
        "48k",
        str(audio),
    )
    text = tmp_path / "long.txt"
    text.write_text(((SAMPLE / "text.txt").read_text().strip() + "\n") * 7)
    return audio, text
