"""Every caption file of a long, realistic episode keeps the layout rules, cue by cue."""

from __future__ import annotations

import itertools
import re
from functools import cache

import pytest

from alignment.captions import CaptionOptions, Cue, cues_for, display_words, render
from alignment.types import Word
from tests.episode import long_episode

OPTIONS = CaptionOptions()
_CLOCK = r"(\d+):(\d{2}):(\d{2})[.,](\d{2,3})"
_TIMING = {
    "vtt": re.compile(rf"^{_CLOCK} --> {_CLOCK}", re.M),
    "srt": re.compile(rf"^{_CLOCK} --> {_CLOCK}", re.M),
    "ass": re.compile(rf"^Dialogue: 0,{_CLOCK},{_CLOCK},", re.M),
}


@cache
def _episode() -> tuple[str, tuple[Word, ...], tuple[float, float], tuple[Cue, ...]]:
    transcript, words, advert = long_episode()
    return transcript, tuple(words), advert, tuple(cues_for(words, OPTIONS, language="en"))


def _seconds(h: str, m: str, s: str, fraction: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(fraction) / 10 ** len(fraction)


def test_every_cue_keeps_the_layout_rules() -> None:
    _, _, _, cues = _episode()
    assert len(cues) > 800
    for cue in cues:
        assert len(cue.lines) <= OPTIONS.max_lines
        assert all(len(text) <= OPTIONS.max_chars_per_line for text in cue.text_lines), cue
        assert cue.end - cue.start <= OPTIONS.max_duration_s + 1e-6, cue
        assert cue.start >= cue.words[0].start - 0.001
    for before, after in itertools.pairwise(cues):
        assert after.start - before.end >= OPTIONS.min_gap_s - 1e-6
        room = after.start - OPTIONS.min_gap_s - before.start
        chars = len(" ".join(before.text_lines))
        wanted = min(max(OPTIONS.min_duration_s, chars / OPTIONS.max_chars_per_s), 7.0)
        if room >= wanted:
            assert before.end - before.start >= wanted - 0.002, before


def test_nothing_is_shown_while_the_advert_plays() -> None:
    _, _, (advert_start, advert_end), cues = _episode()
    during = [c for c in cues if c.start < advert_end - 0.5 and c.end > advert_start + 0.5]
    assert during == []


def test_unconfirmed_words_take_only_as_long_as_they_take_to_say() -> None:
    _, words, _, _ = _episode()
    unconfirmed = [w for w in display_words(words) if w.status == "not_found"]
    assert len(unconfirmed) > 100
    # A few hundred ms each: up to 0.6 s to say, stretched at most 1.5 times to fill a gap.
    assert all(w.end - w.start <= 0.9 + 1e-6 for w in unconfirmed)


def test_show_notes_and_credits_are_not_shown_and_name_no_one() -> None:
    _, words, _, cues = _episode()
    assert {c.speaker for c in cues} == {"ANNA", "BEN"}
    shown = " ".join(w.text for w in display_words(words))
    for unspoken in ("Broadcast", "Format:", "kbps", "Note:", "Credits:", "Kestrel."):
        assert unspoken not in shown.split()
    assert "10:30" in shown.split()  # a time in the spoken text is spoken


@pytest.mark.parametrize("name", sorted(_TIMING))
def test_every_written_cue_keeps_the_time_rules(name: str) -> None:
    _, words, _, cues = _episode()
    text = render(name, words, OPTIONS, language="en")
    timings = [
        (_seconds(*m.groups()[:4]), _seconds(*m.groups()[4:])) for m in _TIMING[name].finditer(text)
    ]
    assert len(timings) == len(cues)
    for (start, end), cue in zip(timings, cues, strict=True):
        assert 0 < end - start <= OPTIONS.max_duration_s + 0.01
        assert abs(start - cue.start) <= 0.01
    assert "Audio Format" not in text and "Note" not in text


def test_webvtt_voices_are_the_speakers_only() -> None:
    _, words, _, _ = _episode()
    voices = set(re.findall(r"<v ([^>]+)>", render("vtt", words, OPTIONS, language="en")))
    assert voices == {"ANNA", "BEN"}


def test_ttml_agents_are_the_speakers_only() -> None:
    _, words, _, _ = _episode()
    text = render("ttml", words, OPTIONS, language="en")
    assert "Audio Format" not in text
    assert set(re.findall(r"<ttm:name[^>]*>([^<]*)</ttm:name>", text)) == {"ANNA", "BEN"}
