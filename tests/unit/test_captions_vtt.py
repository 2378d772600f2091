"""The WebVTT writer over hand-made words."""

from __future__ import annotations

import itertools

from alignment.captions import CueOptions, build_cues, to_vtt
from alignment.types import Word


def _words(texts: list[str], step_s: float = 0.4) -> list[Word]:
    return [
        Word(i, t, 0, len(t), round(i * step_s, 3), round(i * step_s + step_s, 3), 0.9, "aligned")
        for i, t in enumerate(texts)
    ]


def test_vtt_header_timestamps_and_escaping() -> None:
    vtt = to_vtt(_words(["Tom", "&", "<Jerry>"]))
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.200\n")
    assert "Tom &amp; &lt;Jerry&gt;" in vtt


def test_lines_respect_the_limit_and_cues_do_not_overlap() -> None:
    words = _words(("lorem ipsum dolor sit amet consectetur adipiscing elit sed do " * 8).split())
    cues = build_cues(words, CueOptions(max_chars_per_line=32, max_lines=2))
    assert all(len(line) <= 32 for cue in cues for line in cue.lines)
    assert all(len(cue.lines) <= 2 for cue in cues)
    for before, after in itertools.pairwise(cues):
        assert before.end <= after.start
    shown = " ".join(" ".join(cue.lines) for cue in cues).split()
    assert shown == [w.text for w in words]


def test_markup_is_not_shown() -> None:
    words = [*_words(["one", "two"]), Word(2, "[Music]", 0, 7, None, None, 0.0, "non_speech")]
    assert "[Music]" not in to_vtt(words)
