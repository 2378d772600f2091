"""Property tests: whatever the words and options, the cues keep the layout's promises."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from alignment.captions import FORMATS, CaptionOptions, cues_for, display_words, render
from alignment.types import Word, WordStatus

_TEXTS = st.one_of(
    st.sampled_from(["the", "a", "of", "harbour", "sea.", "wind,", "Yes!", "why?", "&", "<b>"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzé'.,-", min_size=1, max_size=50).filter(
        lambda t: any(ch.isalpha() for ch in t)
    ),
)
_STATUS = st.sampled_from(["aligned"] * 8 + ["not_found", "non_speech"])


@st.composite
def word_lists(draw: st.DrawFn) -> list[Word]:
    count = draw(st.integers(min_value=1, max_value=60))
    words: list[Word] = []
    at_s, at_char = draw(st.floats(0.0, 5.0)), 0
    for index in range(count):
        text = draw(_TEXTS)
        status: WordStatus = draw(_STATUS)
        if status == "non_speech":
            text = draw(st.sampled_from(["[Music]", "ANNA:", ">>", "(laughs)", "BEN:"]))
        at_s += draw(st.sampled_from([0.0, 0.0, 0.01, 0.1, 0.4, 0.7, 2.5]))
        length_s = draw(st.one_of(st.floats(0.01, 2.0), st.sampled_from([8.0, 12.5])))
        placed = status == "aligned"
        words.append(
            Word(
                index,
                text,
                at_char,
                at_char + len(text),
                round(at_s, 3) if placed else None,
                round(at_s + length_s, 3) if placed else None,
                0.5,
                status,
            )
        )
        at_char += len(text) + 1
        if placed:
            at_s += length_s
    return words


_OPTIONS = st.builds(
    CaptionOptions,
    max_chars_per_line=st.integers(10, 60),
    max_lines=st.integers(1, 3),
    min_duration_s=st.sampled_from([0.0, 0.7, 1.0, 2.0]),
    max_duration_s=st.sampled_from([3.0, 5.0, 7.0]),
    max_chars_per_s=st.sampled_from([12.0, 17.0, 20.0]),
    min_gap_s=st.sampled_from([0.0, 0.04, 0.08]),
    highlight=st.sampled_from(["none", "words"]),
)


@settings(max_examples=300, deadline=None)
@given(words=word_lists(), options=_OPTIONS)
def test_cues_keep_every_promise(words: list[Word], options: CaptionOptions) -> None:
    shown = display_words(words)
    cues = cues_for(words, options)
    # Every displayed word once, in order.
    assert [w.index for cue in cues for w in cue.words] == [w.index for w in shown]
    for cue in cues:
        assert len(cue.lines) <= options.max_lines or len(cue.words) == 1
        for line, text in zip(cue.lines, cue.text_lines, strict=True):
            assert len(text) <= options.max_chars_per_line or len(line) == 1
        first, last = cue.words[0], cue.words[-1]
        assert cue.start < cue.end
        assert cue.start >= first.start - 0.001
        # To the end of its last word, but never longer than the maximum duration.
        assert cue.end >= min(last.end, cue.start + options.max_duration_s) - 1e-9
        assert cue.end - cue.start <= options.max_duration_s + 0.002
    for before, after in itertools.pairwise(cues):
        assert after.start - before.end >= options.min_gap_s - 1e-6
        room = after.words[0].start - options.min_gap_s - before.start
        if room >= options.min_duration_s:
            assert before.end - before.start >= options.min_duration_s - 0.002
        # Reading speed: a cue lingers long enough to be read where the next one leaves room.
        reading_s = min(
            len(" ".join(before.text_lines)) / options.max_chars_per_s, options.max_duration_s
        )
        if room >= reading_s:
            assert before.end - before.start >= reading_s - 0.002


@settings(max_examples=60, deadline=None)
@given(words=word_lists(), options=_OPTIONS)
def test_every_format_renders_any_words(words: list[Word], options: CaptionOptions) -> None:
    cue_count = len(cues_for(words, options))
    for name in FORMATS:
        text = render(name, words, options, language="en", duration_s=300.0)
        assert text.endswith("\n") or (name == "srt" and not text)
    vtt = render("vtt", words, options)
    assert vtt.count(" --> ") == cue_count
