"""Phones to words without a model: CTC paths with planted answers, chunks, pronunciations."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alignment.acoustic import (
    AcousticOptions,
    AcousticRefiner,
    close_voiced_gaps,
    hiss_over_voice_db,
    in_order,
    off_silences,
    onto_deep_pause_end,
    onto_hiss,
    onto_voice_onsets,
    plan_chunks,
    silences,
    snap_to_pauses,
    word_span,
)
from alignment.audio import SAMPLE_RATE, Levels, Samples
from alignment.ctc import Emissions, LabelSpan, force_align
from alignment.lexicon import Lexicon, say_integer, spoken_words
from alignment.types import Refinement


def _planted(frames: Sequence[int], classes: int, sure: float = -0.05) -> Emissions:
    emissions = np.full((len(frames), classes), -6.0, dtype=np.float32)
    emissions[np.arange(len(frames)), list(frames)] = sure
    return emissions


def test_force_align_finds_the_planted_path() -> None:
    path = [0, 1, 1, 0, 2, 2, 0, 0, 2, 0, 3, 0]
    spans = force_align(_planted(path, 4), [1, 2, 2, 3], blank=0)
    assert spans is not None
    assert [(s.first, s.last) for s in spans] == [(1, 2), (4, 5), (8, 8), (10, 10)]
    assert all(s.score > -0.1 for s in spans)


def test_force_align_refuses_too_few_frames() -> None:
    # Two equal labels in a row need a blank between them: 3 frames are not enough for 3.
    assert force_align(_planted([1, 1, 1], 2), [1, 1], blank=0) is not None
    assert force_align(_planted([1, 1], 2), [1, 1], blank=0) is None
    assert force_align(_planted([0, 0], 2), [], blank=0) is None


def test_spoken_words_spell_out_numbers_and_initialisms() -> None:
    assert spoken_words("$5,000") == ["five", "thousand", "dollars"]
    assert spoken_words("8%") == ["eight", "percent"]
    assert spoken_words("1,250") == ["one", "thousand", "two", "hundred", "fifty"]
    assert spoken_words("U.S.") == ["u", "s"]
    assert spoken_words("well-known,") == ["well", "known"]
    assert spoken_words("I’m") == ["i'm"]
    assert spoken_words("24th") == ["twenty", "fourth"]
    assert spoken_words("12th") == ["twelfth"]
    assert say_integer(1_000_017) == ["one", "million", "seventeen"]


def test_digits_expand_first_in_hyphenated_words_years_times_and_mixed_tokens() -> None:
    assert spoken_words("24-year") == ["twenty", "four", "year"]
    assert spoken_words("10-15%") == ["ten", "fifteen", "percent"]
    assert spoken_words("2026.") == ["twenty", "twenty", "six"]
    assert spoken_words("1984") == ["nineteen", "eighty", "four"]
    assert spoken_words("2005") == ["two", "thousand", "five"]
    assert spoken_words("2,026") == ["two", "thousand", "twenty", "six"]
    assert spoken_words("9:30") == ["nine", "thirty"]
    assert spoken_words("10:05") == ["ten", "oh", "five"]
    assert spoken_words("Q2,") == ["q", "two"]
    assert spoken_words("555-0199") == [
        *["five", "hundred", "fifty", "five"],
        *["oh", "one", "nine", "nine"],
    ]
    assert spoken_words("$2.50") == ["two", "dollars", "fifty"]
    assert spoken_words("Dr.") == ["doctor"]
    assert spoken_words("[adif]") == []
    assert spoken_words("c#-sharp") == []


def test_words_the_dictionary_lacks_are_guessed_once_each() -> None:
    asked: list[str] = []

    def guess(word: str) -> list[str] | None:
        asked.append(word)
        return ["F", "R", "EH1", "Z", "N", "AH0", "L"] if word == "fresnel" else None

    lexicon = Lexicon({"the": "DH AH0", "lens": "L EH1 N Z"}, guess=guess)
    fresnel = ["F", "R", "EH1", "Z", "N", "AH0", "L"]
    assert lexicon.phones("Fresnel") == fresnel
    assert lexicon.phones("fresnel-lens") == [*fresnel, "L", "EH1", "N", "Z"]
    assert lexicon.phones("Zxqvbn") is None
    assert lexicon.phones("zxqvbn.") is None
    assert asked == ["fresnel", "zxqvbn"]


def test_lexicon_gives_phones_or_none() -> None:
    lexicon = Lexicon({"the": "DH AH0", "cat": "K AE1 T"})
    assert lexicon.phones("The") == ["DH", "AH0"]
    assert lexicon.phones("cat.") == ["K", "AE1", "T"]
    assert lexicon.phones("Zxqvbn") is None
    assert lexicon.phones("#") is None


def test_chunks_cut_at_words_without_phones_long_gaps_and_length() -> None:
    spans = [(0.0, 0.3), (0.3, 0.6), (0.6, 0.9), (3.0, 3.3), (3.3, 3.6), None, (4.0, 4.2)]
    eligible = [True, False, True, True, True, True, True]
    chunks = plan_chunks(spans, eligible, AcousticOptions())
    assert [c.words for c in chunks] == [[0], [2], [3, 4], [6]]
    assert chunks[1].start_s >= 0.5  # not past the middle of the word before
    long = [(i * 0.5, i * 0.5 + 0.4) for i in range(60)]  # 30 s without a long gap
    pieces = plan_chunks(long, [True] * 60, AcousticOptions(max_chunk_s=12.0))
    assert sorted(i for c in pieces for i in c.words) == list(range(60))
    assert all(c.end_s - c.start_s <= 12.0 for c in pieces)


def test_edges_snap_onto_nearby_pauses_only() -> None:
    pauses = [(0.5, 1.0), (2.0, 2.5)]
    assert snap_to_pauses((1.02, 1.98), pauses, 0.03) == (1.0, 2.0)
    assert snap_to_pauses((1.1, 1.8), pauses, 0.03) == (1.1, 1.8)
    # A held last sound: the end reaches on to a pause a little later, never back to one.
    assert snap_to_pauses((1.1, 1.88), pauses, 0.03, end_reach_s=0.15) == (1.1, 2.0)
    assert snap_to_pauses((1.1, 1.8), pauses, 0.03, end_reach_s=0.15) == (1.1, 1.8)
    assert snap_to_pauses((2.6, 2.9), pauses, 0.03, end_reach_s=0.15) == (2.6, 2.9)


def test_a_start_inside_a_deep_pause_moves_on_to_its_end() -> None:
    """A pause 0.5-1.0 s, then speech: a start 40 ms before the pause's end moves on to it
    where the pause is deep (silence, 40 dB below the speech), not where it is a gap in
    noise (8 dB); nor from further than `pause_start_reach_s`, nor within `pause_snap_s`
    (`snap_to_pauses` takes those)."""
    opts = AcousticOptions()
    deep = np.full(400, -20.0, dtype=np.float32)  # 5 ms frames, 2 s
    deep[100:200] = -60.0
    shallow = deep.copy()
    shallow[100:200] = -28.0
    pauses = [(0.5, 1.0)]
    assert onto_deep_pause_end((0.96, 1.3), pauses, deep, opts) == (1.0, 1.3)
    assert onto_deep_pause_end((0.96, 1.3), pauses, shallow, opts) == (0.96, 1.3)
    assert onto_deep_pause_end((0.94, 1.3), pauses, deep, opts) == (0.94, 1.3)  # 60 ms
    assert onto_deep_pause_end((0.98, 1.3), pauses, deep, opts) == (0.98, 1.3)  # 20 ms
    assert onto_deep_pause_end((0.96, 0.99), pauses, deep, opts) == (0.96, 0.99)  # ends in it


def test_silences_are_level_pauses_and_voice_pauses_that_agree() -> None:
    """A silence is at least `silence_s` long, without voice (by the voice-activity
    model) for half of it or more, and under the level's threshold for a quarter or more: a
    level pause alone, or one joined with the voice-activity pauses that touch it."""
    shortest = AcousticOptions().silence_s
    pauses = [(1.0, 1.34), (2.0, 2.21), (4.0, 4.3), (6.0, 6.2)]
    unvoiced = [(1.01, 1.35), (2.215, 2.66), (5.0, 5.5), (6.15, 6.25)]
    assert silences(pauses, unvoiced, shortest) == [
        (1.0, 1.34),  # a level pause the voice model agrees with
        (1.0, 1.35),  # the same, joined with the voice pause
        (2.0, 2.66),  # a level pause (0.21 s) and a voice pause joined
    ]
    # (4.0, 4.3): voice heard in all of it (a soft sound); (5.0, 5.5): not quiet by level
    # (a hum or a drawl); (6.0, 6.25): joined, but only 0.25 s with 0.15 s without voice.
    assert silences(pauses, unvoiced, 0.5) == [(2.0, 2.66)]
    assert silences([], unvoiced, shortest) == []


def test_a_word_keeps_the_longest_stretch_of_sound_between_the_silences_it_took_in() -> None:
    """The path can put a word's last phone after a silence (on the next word's onset:
    "Jan." before 340 ms of silence on `numbers_and_symbols`) or its first phone before one
    ("um" in a 0.67 s pause on `real_mfa_cold_corpus3`). A span that takes in whole
    silences keeps the longest stretch of sound they leave it; a silence that reaches past
    either edge is not the word's to cut (a held sound or a drawl runs into it)."""
    silent = [(1.0, 1.1), (1.5, 1.84), (3.0, 3.3)]

    def off(span: tuple[float, float]) -> tuple[float, float]:
        return off_silences(span, silent, ([], []), 0.03)

    assert off((1.16, 1.89)) == (1.16, 1.5)  # more of it before
    assert off((1.42, 2.3)) == (1.84, 2.3)  # more of it after
    assert off((0.8, 1.3)) == (0.8, 1.0)  # the stretch before is the longer
    assert off((1.16, 1.84)) == (1.16, 1.5)  # it ends at the silence's end
    assert off((1.6, 2.2)) == (1.6, 2.2)  # it starts inside the silence
    assert off((1.2, 1.7)) == (1.2, 1.7)  # it ends inside the silence
    assert off((1.45, 3.4)) == (1.84, 3.0)  # the longest of three stretches
    assert off((1.2, 3.32)) == (1.84, 3.0)
    # Overlapping silences cut as one; a stretch too short for a word leaves the span be.
    assert off_silences((1.5, 3.0), [(2.0, 2.4), (2.3, 2.7)], ([], []), 0.03) == (1.5, 2.0)
    assert off_silences((1.99, 2.72), [(2.0, 2.7)], ([], []), 0.03) == (1.99, 2.72)


def test_a_cut_word_ends_or_starts_where_the_voice_does() -> None:
    """The kept side's edge at a silence is the level's (sharper), unless the voice-activity
    model's lies more than 0.1 s further in: then noise over the level's threshold is no
    voice, or a hum under it is."""
    level = [(1.0, 1.2), (2.0, 2.17), (3.0, 3.4), (5.0, 5.34)]
    voice = [(1.21, 1.5), (2.16, 2.4), (3.02, 3.42), (5.05, 5.4)]
    silent = silences(level, voice, AcousticOptions().silence_s)
    assert silent == [(1.0, 1.5), (2.0, 2.4), (3.0, 3.4), (3.0, 3.42), (5.0, 5.34), (5.0, 5.4)]

    def off(span: tuple[float, float]) -> tuple[float, float]:
        return off_silences(span, silent, (level, voice), 0.03)

    assert off((0.8, 1.9)) == (1.5, 1.9)  # noise over the threshold until 1.5: no voice
    assert off((1.5, 2.45)) == (1.5, 2.16)  # a hum under it until 2.16: voice
    assert off((2.9, 3.9)) == (3.4, 3.9)  # the level's edge, 20 ms from the model's
    assert off((4.6, 5.36)) == (4.6, 5.0)  # the model 50 ms late into a silence: the level's


def test_a_voiced_gap_goes_to_the_word_before_a_closure_or_a_pause_does_not() -> None:
    words: list[tuple[tuple[float, float] | None, Refinement]] = [
        ((0.0, 0.3), "acoustic"),  # then 0.4 s with no pause: its held last sound
        ((0.7, 0.9), "acoustic"),  # then 0.05 s: the next word's onset, half of it
        ((0.95, 1.2), "acoustic"),  # then a pause
        ((1.6, 1.8), "acoustic"),
    ]
    closed = close_voiced_gaps(words, [(1.3, 1.5)], AcousticOptions())
    assert [span for span, _ in closed] == [(0.0, 0.7), (0.7, 0.9), (0.925, 1.2), (1.6, 1.8)]


def test_a_short_gap_without_a_pause_is_half_the_next_words() -> None:
    opts = AcousticOptions()

    def after(gap: float, pauses: list[tuple[float, float]], how: Refinement = "acoustic") -> Words:
        words: Words = [
            ((0.0, 0.4), "acoustic"),
            ((0.4 + gap, 0.8), how),
        ]
        return close_voiced_gaps(words, pauses, opts)

    assert after(0.04, []) == [((0.0, 0.4), "acoustic"), ((0.42, 0.8), "acoustic")]
    assert after(0.06, [])[1][0] == pytest.approx((0.43, 0.8))  # `short_gap_s`, just
    assert after(0.07, [])[1][0] == pytest.approx((0.47, 0.8))  # longer: a closure, left
    assert after(0.04, [(0.41, 0.42)])[1][0] == pytest.approx((0.44, 0.8))  # a pause in it
    assert after(0.04, [], "signal")[1][1] == "signal"  # not the pass's word
    assert after(0.04, [], "signal")[1][0] == pytest.approx((0.44, 0.8))
    assert after(0.0, [])[1][0] == (0.4, 0.8)
    off = AcousticOptions(short_gap_s=0.0)
    words: list[tuple[tuple[float, float] | None, Refinement]] = [
        ((0.0, 0.4), "acoustic"),
        ((0.44, 0.8), "acoustic"),
    ]
    assert close_voiced_gaps(words, [], off) == words


def _voice_then_hiss(hiss_from: float, hiss_to: float, length: float = 1.0) -> Samples:
    """A voiced hum (150 Hz and its harmonics) with a burst of hiss (white noise above
    4 kHz, louder than the hum there) in [hiss_from, hiss_to)."""
    t = np.arange(round(length * SAMPLE_RATE)) / SAMPLE_RATE
    voice = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6))
    samples = 0.1 * voice
    noise = np.random.default_rng(7).standard_normal(len(t))
    spectrum = np.fft.rfft(noise)
    spectrum[np.fft.rfftfreq(len(t), 1 / SAMPLE_RATE) < 4000] = 0
    hiss = np.fft.irfft(spectrum, len(t))
    inside = (t >= hiss_from) & (t < hiss_to)
    samples[inside] = 0.01 * voice[inside] + 0.3 * hiss[inside] / np.std(hiss)
    return samples.astype(np.float32)


def test_hiss_is_measured_against_the_voice_band() -> None:
    samples = _voice_then_hiss(0.3, 0.5)
    tilt = hiss_over_voice_db(samples, 0, 200)  # 5 ms frames
    assert len(tilt) == 199  # the last 10 ms window would run past the end
    assert np.all(tilt[62:98] > 20) and np.all(tilt[:58] < -20) and np.all(tilt[102:] < -20)
    assert len(hiss_over_voice_db(samples, 300, 400)) == 0


Words = list[tuple[tuple[float, float] | None, Refinement]]


def _spelled(*first_phones: str) -> list[tuple[str, list[str]]]:
    return [("word", [phone, "AH"] if phone else []) for phone in first_phones]


def test_a_sibilant_starts_where_its_hiss_does() -> None:
    samples = _voice_then_hiss(0.3, 0.5)
    opts = AcousticOptions()

    def moved(
        word_before: tuple[float, float],
        start: float,
        first: str = "S",
        pauses: Sequence[tuple[float, float]] = (),
        options: AcousticOptions = opts,
    ) -> list[tuple[float, float] | None]:
        words: Words = [(word_before, "acoustic"), ((start, 0.8), "acoustic")]
        out = onto_hiss(words, samples, _spelled("AH", first), pauses, options)
        return [span for span, _ in out]

    # The path put "so" at the end of its hiss: it starts where the first 10 ms window
    # takes in hiss (0.295 s for a hiss from 0.3 s), and the word before ends there.
    assert moved((0.0, 0.46), 0.46) == [(0.0, 0.295), (0.295, 0.8)]
    assert moved((0.0, 0.25), 0.46) == [(0.0, 0.25), (0.295, 0.8)]
    # Not a sibilant, a word the lexicon cannot spell, or a start outside the hiss: no move.
    assert moved((0.0, 0.46), 0.46, "G") == [(0.0, 0.46), (0.46, 0.8)]
    assert moved((0.0, 0.46), 0.46, "") == [(0.0, 0.46), (0.46, 0.8)]
    assert moved((0.0, 0.25), 0.55) == [(0.0, 0.25), (0.55, 0.8)]
    # At most `hiss_reach_s` back; never within `min_word_s` of the word before's start,
    # nor back into a pause.
    assert moved((0.0, 0.46), 0.46, options=AcousticOptions(hiss_reach_s=0.1)) == [
        (0.0, 0.36),
        (0.36, 0.8),
    ]
    assert moved((0.33, 0.46), 0.46) == [(0.33, 0.36), (0.36, 0.8)]
    assert moved((0.0, 0.2), 0.46, pauses=[(0.1, 0.2), (0.25, 0.38)]) == [(0.0, 0.2), (0.38, 0.8)]
    assert moved((0.0, 0.2), 0.46, pauses=[(0.4, 0.6)]) == [(0.0, 0.2), (0.46, 0.8)]
    # A word with signal times (no acoustic path) keeps them; so does a first word's start
    # at the very end of the recording (no whole window there).
    kept: Words = [((0.0, 0.46), "acoustic"), ((0.46, 0.8), "signal")]
    assert onto_hiss(kept, samples, _spelled("AH", "S"), [], opts) == kept
    last: Words = [((0.995, 1.0), "acoustic")]
    assert onto_hiss(last, samples, _spelled("S"), [], opts) == last


def test_a_first_word_in_its_hiss_moves_too() -> None:
    words: Words = [(None, "not_found"), ((0.46, 0.8), "acoustic")]
    out = onto_hiss(words, _voice_then_hiss(0.3, 0.5), _spelled("AH", "S"), [], AcousticOptions())
    assert out == [(None, "not_found"), ((0.295, 0.8), "acoustic")]


_starts = st.floats(0.0, 1.2, allow_nan=False).map(lambda t: round(t, 3))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.tuples(_starts, st.floats(0.0, 0.4).map(lambda t: round(t, 3)), st.booleans()),
        ),
        max_size=8,
    ),
    st.lists(st.sampled_from(["S", "Z", "AH", ""]), min_size=8, max_size=8),
    st.lists(_starts, max_size=6),
    st.floats(0.0, 1.0),
)
def test_the_hiss_and_voice_steps_keep_words_in_order(
    drawn: list[tuple[float, float, bool] | None],
    phones: list[str],
    edges: list[float],
    hiss_from: float,
) -> None:
    opts = AcousticOptions()
    words: Words = [
        ((d[0], d[0] + d[1]), "acoustic" if d[2] else "signal") if d else (None, "not_found")
        for d in drawn
    ]
    ordered = in_order(words, opts.min_word_s)  # as the pass gives them to these steps
    points = sorted(set(edges))
    gaps = [(a, b) for a, b in zip(points[::2], points[1::2], strict=False) if b > a]
    samples = _voice_then_hiss(hiss_from, hiss_from + 0.3, 1.3)
    out = onto_voice_onsets(
        onto_hiss(ordered, samples, _spelled(*phones[: len(words)]), gaps, opts), gaps, opts
    )
    assert [how for _, how in out] == [how for _, how in ordered]
    spans = [span for span, _ in out]
    for span, was in zip(spans, [span for span, _ in ordered], strict=True):
        assert (span is None) == (was is None)
        if span is not None and was is not None:
            assert span[1] > span[0] and span[0] <= was[0] and span[1] <= was[1]
    timed = [span for span in spans if span is not None]
    for first, second in itertools.pairwise(timed):
        assert second[0] >= first[1] - 1e-9 and second[0] > first[0]


def test_a_start_moves_back_to_where_the_voice_resumes_after_a_pause() -> None:
    opts = AcousticOptions()
    unvoiced = [(0.5, 0.7), (2.0, 2.3), (3.4, 3.6)]

    def start(word: tuple[float, float], before: tuple[float, float] = (0.0, 0.4)) -> float:
        words: Words = [
            (before, "acoustic"),
            (None, "not_found"),  # a word with no time is no word before
            (word, "acoustic"),
        ]
        out = onto_voice_onsets(words, unvoiced, opts)
        assert out[0] == words[0] and out[1] == words[1]
        span = out[2][0]
        assert span is not None and span[1] == word[1]
        return span[0]

    assert start((0.82, 1.0)) == 0.7  # 120 ms after the voice resumed
    assert start((0.85, 1.0)) == 0.7  # the reach, exactly
    assert start((0.74, 1.0)) == 0.74  # the voice-activity model's step, exactly: no move
    assert start((0.9, 1.0)) == 0.9  # beyond the reach: the voice there is another word's
    # The pause must lie between the two words: not under the word before.
    assert start((0.82, 1.0), before=(0.0, 0.6)) == 0.82
    assert start((2.45, 2.6), before=(1.0, 1.99)) == 2.3
    # Only the last pause before the word counts.
    assert start((3.75, 3.9), before=(1.0, 1.99)) == 3.6
    signal: Words = [((0.0, 0.4), "acoustic"), ((0.82, 1.0), "signal")]
    assert onto_voice_onsets(signal, unvoiced, opts) == signal
    # The word before may be a signal word: only the moved word's refinement matters.
    after_signal: Words = [((0.0, 0.4), "signal"), ((0.82, 1.0), "acoustic")]
    assert onto_voice_onsets(after_signal, unvoiced, opts)[1] == ((0.7, 1.0), "acoustic")


_times = st.floats(0.0, 10.0, allow_nan=False).map(lambda t: round(t, 2))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_times, _times), max_size=12),
    st.lists(st.tuples(_times, _times), max_size=12),
)
def test_a_gap_is_closed_or_split_unless_some_pause_in_any_order_reaches_into_it(
    edges: list[tuple[float, float]], pauses: list[tuple[float, float]]
) -> None:
    opts = AcousticOptions()
    ordered = sorted(t for pair in edges for t in pair)
    words: list[tuple[tuple[float, float] | None, Refinement]] = [
        ((a, b), "acoustic") for a, b in zip(ordered[::2], ordered[1::2], strict=True)
    ]
    spans = [(min(a, b), max(a, b)) for a, b in pauses]  # overlapping, in no order
    closed = close_voiced_gaps(words, spans, opts)

    def quiet(end: float, start: float) -> bool:
        return any(a < start and end < b for a, b in spans)

    for k, (span, _) in enumerate(words):
        assert span is not None
        start, end = span
        if k + 1 < len(words):
            following = words[k + 1][0]
            assert following is not None
            gap = following[0] - end
            if opts.min_closed_gap_s < gap <= opts.close_gap_s and not quiet(end, following[0]):
                end = following[0]  # the held last sound
        if k:
            before = words[k - 1][0]
            assert before is not None
            gap = span[0] - before[1]
            if 0 < gap <= opts.short_gap_s and not quiet(before[1], span[0]):
                start = round(before[1] + opts.short_gap_share * gap, 3)  # the onset
        assert closed[k][0] == (start, end)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8), st.integers(0, 40), st.randoms(use_true_random=False))
def test_each_label_gets_one_run_of_frames_and_its_mean_score_there(
    count: int, spare: int, rnd: random.Random
) -> None:
    frames, classes = 2 * count + 1 + spare, 5
    rng = np.random.default_rng(rnd.randrange(1 << 30))
    emissions = np.log(rng.dirichlet(np.ones(classes), size=frames)).astype(np.float32)
    labels = [int(x) for x in rng.integers(1, classes, size=count)]
    spans = force_align(emissions, labels, blank=0)
    assert spans is not None and len(spans) == count
    for k, (span, label) in enumerate(zip(spans, labels, strict=True)):
        assert span.first <= span.last
        if k:
            assert spans[k - 1].last < span.first
        assert span.score == float(np.mean(emissions[span.first : span.last + 1, label]))


class _Scripted:
    """A phone scorer that hears the planted classes at planted frames (20 ms each); the
    audio it gets holds each sample's own time, so it knows where a chunk starts."""

    frame_s = 0.02

    def __init__(self, frames: list[int], sure: float) -> None:
        self.frames, self.sure = frames, sure

    def classes(self, phones: Sequence[str]) -> list[int] | None:
        return [{"K": 1, "AE1": 2, "T": 3, "D": 4, "AA1": 5, "G": 6}[p] for p in phones]

    def emissions(self, samples: Samples) -> Emissions:
        first, count = round(float(samples[0]) * 50), len(samples) * 50 // SAMPLE_RATE
        return _planted((self.frames + [0] * 50)[first : first + count], 7, self.sure)


def _refine(
    sure: float, options: AcousticOptions | None = None, levels: Levels | None = None
) -> list[tuple[tuple[float, float] | None, str]]:
    # 1 s of audio; "cat" heard at frames 10-14, "dog" at 25-29 (0.2-0.3 s and 0.5-0.6 s).
    frames = [0] * 10 + [1, 2, 2, 3, 0] + [0] * 10 + [4, 5, 5, 6, 0] + [0] * 21
    refiner = AcousticRefiner(
        _Scripted(frames, sure),
        Lexicon({"cat": "K AE1 T", "dog": "D AA1 G"}),
        options
        or AcousticOptions(
            start_offset_s=0.0,
            end_offset_s=0.0,
            pause_snap_s=0.0,
            end_reach_s=0.0,
            close_gap_s=0.0,
            dip_radius_s=0.0,
        ),
    )
    spans: list[tuple[float, float] | None] = [(0.25, 0.4), (0.42, 0.45), (0.55, 0.7)]
    return list(
        refiner.refine(
            np.arange(SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE,
            ["cat", "42nd", "dog"],
            spans,
            levels=levels,
        )
    )


def test_words_move_onto_their_phones_and_the_rest_keep_signal_times() -> None:
    cat, unknown, dog = _refine(sure=-0.05)
    assert unknown == ((0.42, 0.45), "signal")
    # Within a frame (chunks start on the signal's times, not on the model's frame grid).
    for (span, how), truth in ((cat, (0.2, 0.28)), (dog, (0.5, 0.58))):
        assert how == "acoustic" and span is not None
        assert np.allclose(span, truth, atol=0.011)


def test_a_word_close_behind_the_one_before_starts_nearer_its_first_spike() -> None:
    opts = AcousticOptions()
    phones = [LabelSpan(50, 50, -0.1), LabelSpan(53, 54, -0.2)]
    alone, score = word_span(phones, 10.0, 0.02, opts)
    assert alone == pytest.approx((10.94, 11.13)) and score == pytest.approx(-0.15)
    # One frame behind the last spike of the word before: 42.5 % of the way on, less 25 ms.
    (start, end), _ = word_span(phones, 10.0, 0.02, opts, before=49)
    assert start == pytest.approx(10.0 + 49.425 * 0.02 - 0.025) and end == alone[1]
    # Three frames behind, just: the usual lag gives 10.94, the rule 10.9405.
    assert word_span(phones, 10.0, 0.02, opts, before=47)[0][0] == pytest.approx(10.9405)
    # Four frames (80 ms) and more: the usual lag stands.
    assert word_span(phones, 10.0, 0.02, opts, before=46)[0] == pytest.approx(alone)
    assert word_span(phones, 10.0, 0.02, opts, before=20)[0] == pytest.approx(alone)


def test_the_path_gives_each_word_the_last_spike_of_the_word_before() -> None:
    # "dog"'s first phone is heard one frame after "cat"'s last (0.26 s, then 0.28 s).
    frames = [0] * 10 + [1, 2, 2, 3] + [4, 5, 5, 6, 0] + [0] * 31
    opts = AcousticOptions(
        pause_snap_s=0.0, end_reach_s=0.0, close_gap_s=0.0, dip_radius_s=0.0, hold_reach_s=0.0
    )
    refiner = AcousticRefiner(
        _Scripted(frames, -0.05), Lexicon({"cat": "K AE1 T", "dog": "D AA1 G"}), opts
    )
    samples = np.arange(SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE
    (cat, _), (dog, _) = refiner.refine(samples, ["cat", "dog"], [(0.2, 0.3), (0.3, 0.4)])
    assert cat is not None and dog is not None
    assert cat[0] == pytest.approx(0.2 - 0.06, abs=0.011)  # nothing before it on the path
    # Not 0.28 - 0.06 s: 42.5 % of the way from 0.26 s on, less 25 ms (within a frame:
    # the chunk starts on the signal's times).
    assert dog[0] == pytest.approx(0.26 + 0.425 * 0.02 - 0.025, abs=0.011)
    assert dog[0] > 0.28 - 0.06 + 0.015


def test_a_start_moves_onto_a_deep_dip_close_by_only() -> None:
    options = AcousticOptions(start_offset_s=0.0, end_offset_s=0.0, close_gap_s=0.0)
    levels = np.full(200, -20.0, dtype=np.float32)  # 5 ms frames
    levels[42:45] = -45.0  # a near-silence 10-25 ms after "cat"'s first frame (0.2 s)
    levels[100:103] = -26.0  # a shallow dip 10-25 ms after "dog"'s (0.5 s): inside speech
    (cat, _), _, (dog, _) = _refine(-0.05, options, levels)
    assert cat is not None and dog is not None
    assert abs(cat[0] - 0.215) <= 0.006
    assert abs(dog[0] - 0.5) <= 0.011


def test_a_start_inside_the_words_own_span_is_no_move_away() -> None:
    # Whisper's span for "dog" takes in 0.6 s of pause before it: the path's start, 0.6 s
    # after the span's start (more than `max_shift_s`) but inside the span, is taken.
    frames = [0] * 35 + [4, 5, 5, 6, 0] + [0] * 10
    refiner = AcousticRefiner(
        _Scripted(frames, -0.05),
        Lexicon({"dog": "D AA1 G"}),
        AcousticOptions(start_offset_s=0.0, end_offset_s=0.0, pause_snap_s=0.0),
    )
    samples = np.arange(SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE
    ((inside, how),) = refiner.refine(samples, ["dog"], [(0.1, 0.75)])
    assert how == "acoustic" and inside is not None and abs(inside[0] - 0.7) <= 0.011


def test_an_unsure_path_keeps_signal_times() -> None:
    assert [how for _, how in _refine(sure=-5.0)] == ["signal"] * 3


def _between(
    dog_frames: int, pause_frames: int, dog_phones: str = "D AA1 G", sure: float = -0.05
) -> tuple[tuple[float, float] | None, str]:
    """ "cat dog cat": the path hears "dog" from 0.5 s, for `dog_frames` frames (its vowel
    held), then a pause and the second "cat"; Whisper put "dog" right before that "cat"."""
    dog = [4] + [5] * (dog_frames - 2) + [6]
    if dog_phones == "D AA1":
        dog[-1] = 5
    frames = [0] * 10 + [1, 2, 2, 3] + [0] * 11 + dog + [0] * pause_frames + [1, 2, 2, 3]
    second_cat = 0.02 * (25 + dog_frames + pause_frames)
    refiner = AcousticRefiner(
        _Scripted(frames + [0] * 30, sure),
        Lexicon({"cat": "K AE1 T", "dog": dog_phones}),
        AcousticOptions(
            start_offset_s=0.0,
            end_offset_s=0.0,
            pause_snap_s=0.0,
            dip_radius_s=0,
            max_shift_s=0.3,  # every move below is well past it
        ),
    )
    spans: list[tuple[float, float] | None] = [
        (0.2, 0.28),
        (second_cat - 0.08, second_cat),  # 0.08 s: not crammed; over 0.5 s from the path
        (second_cat, second_cat + 0.08),
    ]
    samples = np.arange(2 * SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE
    return list(refiner.refine(samples, ["cat", "dog", "cat"], spans))[1]


def test_a_sure_word_between_confirmed_ones_takes_the_path_time_however_far() -> None:
    """The words around it confirm Whisper's times there, and the path is sure of it: its
    start goes 0.68 s back, past `max_shift_s`; not where the path stretches it (more than
    `sandwiched_max_phone_s` a phone: a path that crammed the word before), nor for a word of
    fewer than `sandwiched_min_phones` phones, nor where the path is unsure of it."""
    span, how = _between(dog_frames=8, pause_frames=30)  # 0.16 s, 0.053 s a phone
    assert how == "acoustic" and span is not None and abs(span[0] - 0.5) <= 0.011
    span, how = _between(dog_frames=30, pause_frames=0)  # 0.6 s, 0.2 s a phone: stretched
    assert how == "signal" and span is not None and span[0] > 1.0
    # A word of two phones is too little evidence (`sandwiched_min_phones`).
    span, how = _between(dog_frames=8, pause_frames=30, dog_phones="D AA1")
    assert how == "signal" and span is not None and span[0] > 1.0
    # A path less sure than `sandwiched_min_log_prob` (the words around it still pass).
    span, how = _between(dog_frames=8, pause_frames=30, sure=-3.5)
    assert how == "signal" and span is not None and span[0] > 1.0


class _TwoVoices:
    """A phone scorer hearing two voices at once: each 20 ms frame holds the classes
    planted in it (several where both speak)."""

    frame_s = 0.02

    def __init__(self, frames: list[set[int]]) -> None:
        self.frames = frames

    def classes(self, phones: Sequence[str]) -> list[int] | None:
        return [{"K": 1, "AE1": 2, "T": 3, "D": 4, "AA1": 5, "G": 6}[p] for p in phones]

    def emissions(self, samples: Samples) -> Emissions:
        first, count = round(float(samples[0]) * 50), len(samples) * 50 // SAMPLE_RATE
        heard = (self.frames + [{0}] * 50)[first : first + count]
        emissions = np.full((len(heard), 7), -6.0, dtype=np.float32)
        for t, classes in enumerate(heard):
            emissions[t, list(classes)] = -0.05
        return emissions


def _crosstalk(text: list[str]) -> list[tuple[tuple[float, float] | None, str]]:
    # "cat" (K at frame 10, AE 11-14, T 15-16) and, under its vowel, "dog" (D 12, AA 13,
    # G 14): one path for both must put "dog" after T, where it is not heard.
    frames = [{0}] * 10 + [{1}, {2}, {2, 4}, {2, 5}, {2, 6}, {3}, {3}] + [{0}] * 33
    refiner = AcousticRefiner(
        _TwoVoices(frames),
        Lexicon({"cat": "K AE1 T", "dog": "D AA1 G"}),
        AcousticOptions(
            start_offset_s=0.0, end_offset_s=0.0, pause_snap_s=0.0, end_reach_s=0.0, dip_radius_s=0
        ),
    )
    spans: list[tuple[float, float] | None] = [(0.2, 0.34), (0.34, 0.36)]
    samples = np.arange(SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE
    return list(refiner.refine(samples, text, spans))


def test_a_new_sentence_starts_where_its_voice_does_under_the_last_word() -> None:
    (cat, _), (dog, how) = _crosstalk(["Cat.", "Dog"])
    assert cat is not None and dog is not None and how == "acoustic"
    assert abs(dog[0] - 0.24) <= 0.011  # D's frame, not after T (0.32 or later)
    assert abs(cat[0] - 0.2) <= 0.011 and cat[1] <= dog[0]  # cut where the new voice starts


def test_inside_a_sentence_the_path_keeps_the_words_in_turn() -> None:
    (cat, _), (dog, _) = _crosstalk(["cat", "dog"])
    assert cat is not None and dog is not None
    assert dog[0] >= 0.32 - 0.011
