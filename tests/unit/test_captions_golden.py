"""Golden files: each format's exact output for one episode excerpt that exercises the rules.

After an intended change, rewrite them with `PODALIGN_UPDATE_GOLDEN=1 pytest tests/unit` and
review the diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alignment.captions import FORMATS, CaptionOptions, render
from tests.episode import episode

GOLDEN = Path(__file__).parent / "golden"

_CASES = [(name, CaptionOptions()) for name in FORMATS] + [
    ("vtt", CaptionOptions(highlight="words")),
    ("ass", CaptionOptions(highlight="words")),
    ("srt", CaptionOptions(max_chars_per_line=32, max_lines=1)),
]


@pytest.mark.parametrize(("name", "options"), _CASES, ids=lambda v: getattr(v, "highlight", v))
def test_output_matches_the_golden_file(name: str, options: CaptionOptions) -> None:
    transcript, words = episode()
    text = render(name, words, options, language="en", duration_s=60.0, transcript=transcript)
    suffix = "" if options == CaptionOptions() else f"-{options.highlight}-{options.max_lines}"
    path = GOLDEN / f"episode{suffix}.{name}"
    if os.environ.get("PODALIGN_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
