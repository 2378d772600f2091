"""The phone model's walk ahead of Whisper, without the model: the open-ended CTC path, the
recording's frame scores block by block, and the walk's use of the path on planted
timelines (a scripted path and a scripted window model)."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace

import numpy as np

from alignment.acoustic import AcousticOptions
from alignment.audio import SAMPLE_RATE, Samples
from alignment.ctc import Emissions, align_prefix, force_align
from alignment.scout import BLOCK_S, PhoneScout, RecordingFrames
from alignment.sync import PathWord
from tests.scripted import ScriptedPhones, Timeline, synchronize
from tests.unit.test_acoustic_words import _planted
from tests.unit.test_sync import check_spoken, coverage, sentences

HOP = SAMPLE_RATE // 50  # samples per 20 ms frame


def test_the_path_ends_after_the_last_word_the_audio_holds() -> None:
    # The audio holds the first two words (labels 1, then 2 2); the third (3) is not said.
    frames = [0, 1, 1, 0, 2, 0, 2, 0, 0, 0, 0, 0]
    words = _planted(frames, 4)
    spans = align_prefix(words, [[1], [2, 2], [3]], blank=0)
    assert [[(s.first, s.last) for s in word] for word in spans] == [[(1, 2)], [(4, 4), (6, 6)]]


def test_with_every_word_said_the_path_is_the_forced_one() -> None:
    frames = [0, 1, 1, 0, 2, 2, 0, 0, 2, 0, 3, 0]
    emissions = _planted(frames, 4)
    spans = align_prefix(emissions, [[1], [2, 2], [3]], blank=0)
    forced = force_align(emissions, [1, 2, 2, 3], blank=0)
    assert forced is not None
    assert [s for word in spans for s in word] == forced


def test_no_frames_no_path() -> None:
    assert align_prefix(_planted([1], 2), [[1]], blank=0) == []
    assert align_prefix(_planted([0, 1, 0], 2), [], blank=0) == []


class _Clock:
    """A phone scorer whose frames tell their own time: the audio it gets holds each
    sample's time in seconds, and each frame's first column is the time it starts at (like
    the real model, it gives one frame more than the audio's 20 ms steps). It counts calls."""

    frame_s = 0.02

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def classes(self, phones: list[str]) -> list[int] | None:
        return [1 for _ in phones]

    def emissions(self, samples: Samples) -> Emissions:
        with self._lock:
            self.calls += 1
        count = len(samples) // HOP + 1
        out = np.zeros((count, 2), dtype=np.float32)
        times = samples[np.minimum(np.arange(count) * HOP, len(samples) - 1)]
        out[:, 0] = times
        return out


def _seconds(duration_s: float) -> Samples:
    return np.arange(round(duration_s * SAMPLE_RATE), dtype=np.float64) / SAMPLE_RATE


def test_frames_across_blocks_are_those_of_the_recording() -> None:
    scorer = _Clock()
    duration = 3 * BLOCK_S + 1.3
    with RecordingFrames(scorer, _seconds(duration), lambda _s: None, workers=2) as frames:
        per_block = round(BLOCK_S / 0.02)
        assert frames.count == round(duration / 0.02)
        for first, stop in [(0, 10), (per_block - 5, per_block + 5), (10, frames.count)]:
            rows = frames.frames(first, stop)
            assert len(rows) == stop - first
            # Each frame from the block that holds it, its context cut off.
            assert np.allclose(rows[:, 0], np.arange(first, stop) * 0.02, atol=1e-4)
        blocks = -(-frames.count // per_block)
        assert scorer.calls == blocks  # each block scored once, however often it is read


def test_the_scout_gives_the_walks_times_both_ways() -> None:
    # A one-phone word heard at frames 50-54 (1.0-1.1 s of audio); Whisper's lag 0.1 s.
    planted = [0] * 50 + [1] * 5 + [0] * 45

    class Heard(_Clock):
        def emissions(self, samples: Samples) -> Emissions:
            first = round(float(samples[0]) * 50)
            count = len(samples) // HOP + 1
            return _planted((planted + [0] * count)[first : first + count], 2)

    with RecordingFrames(Heard(), _seconds(2.0), lambda _s: None) as frames:
        exact = AcousticOptions(start_offset_s=0.0, end_offset_s=0.0)
        scout = PhoneScout(frames, [[1]], exact, shift_s=0.1)
        (word,) = scout.place(0.6, 1.9, [0])  # walk time: audio from 0.5 s
    assert abs(word.start - 1.1) < 1e-6 and abs(word.end - 1.2) < 1e-6
    assert word.phones == 1 and word.log_prob > -0.1


def _read(timeline: Timeline, count: int, word_s: float = 0.3) -> str:
    body = sentences(count)
    t = 0.5
    for sentence in body:
        t = timeline.say(sentence, t, word_s=word_s) + 0.5
    return " ".join(body)


def test_a_clean_read_needs_no_window_at_all() -> None:
    timeline = Timeline(duration_s=120.0)
    text = _read(timeline, 20)
    phones = ScriptedPhones(timeline, text.split())
    placed, model = synchronize(timeline, text, phones=phones)
    truth = check_spoken(timeline, text, placed)
    assert coverage(placed, list(truth)) == 1.0
    assert model.encoded == 0 and phones.steps >= 3  # about 68 s of speech, 20 s a step


def test_a_lone_misheard_word_passes_two_in_a_row_go_to_a_window() -> None:
    body = sentences(12)
    words = " ".join(body).split()
    said = list(words)
    said[20] = "lighthouse"  # one word of the text said otherwise (a typo, a slip)
    said[60], said[61] = "purple", "elephant"  # two in a row: the path is not sure
    timeline = Timeline(duration_s=60.0)
    timeline.say(" ".join(said), 0.5)
    text = " ".join(words)
    phones = ScriptedPhones(timeline, words)
    placed, model = synchronize(timeline, text, phones=phones)
    assert placed[20] is not None  # kept between the sure words around it
    truth = check_spoken(timeline, text, placed)
    assert coverage(placed, list(truth)) == 1.0
    assert model.encoded >= 1  # Whisper's window took the step at words 60-61


def test_sound_the_text_lacks_stops_the_path_before_it() -> None:
    timeline = Timeline(duration_s=90.0)
    before, after = sentences(4), sentences(4, offset=4)
    t = 0.5
    for sentence in before:
        t = timeline.say(sentence, t) + 0.5
    jingle_end = timeline.play(t, t + 4.0)
    t = jingle_end + 0.5
    for sentence in after:
        t = timeline.say(sentence, t) + 0.5
    text = " ".join(before + after)
    phones = ScriptedPhones(timeline, text.split())
    placed, model = synchronize(timeline, text, phones=phones)
    truth = check_spoken(timeline, text, placed)
    assert coverage(placed, list(truth)) == 1.0
    assert not any(p and jingle_end - 4.0 < p.start < jingle_end for p in placed)
    assert model.encoded >= 1


class _Nudged(ScriptedPhones):
    """The scripted path, with its answers moved by `shift_s` on the given steps (the path
    and the placements before it disagree by that much)."""

    def __init__(self, timeline: Timeline, words: list[str], steps: set[int], shift_s: float):
        super().__init__(timeline, words)
        self._nudged, self._shift = steps, shift_s

    def place(self, start_s: float, end_s: float, words: list[int]) -> list[PathWord]:
        found = super().place(start_s, end_s, words)
        if self.steps not in self._nudged:
            return found
        return [replace(w, start=w.start + self._shift, end=w.end + self._shift) for w in found]


def test_words_stay_in_order_where_the_path_finds_the_last_word_early() -> None:
    # Short words: the path's second step puts everything 0.25 s early, the next word
    # before the start of the word it follows.
    timeline = Timeline(duration_s=90.0)
    text = _read(timeline, 14, word_s=0.15)
    phones = _Nudged(timeline, text.split(), steps={2}, shift_s=-0.25)
    placed, _ = synchronize(timeline, text, phones=phones)
    starts = [p.start for p in placed if p is not None]
    assert all(a < b for a, b in itertools.pairwise(starts)), "a word starts before the last"
    truth = check_spoken(timeline, text, placed)
    assert coverage(placed, list(truth)) == 1.0


def test_a_hand_over_gives_back_the_word_the_undone_step_cut() -> None:
    # Step 2 finds everything 0.1 s early: the word it starts from is cut where the next
    # begins. Then the text has two words the audio lacks: the path is unsure, Whisper's
    # windows redo step 2, and the word before it must be as step 1 placed it.
    timeline = Timeline(duration_s=120.0)
    body = sentences(16)
    said = " ".join(body).split()
    t = 0.5
    for k, word in enumerate(said):
        t = timeline.say(word, t) + (0.5 if k % 8 == 7 else 0.05)
    words = [*said[:88], "purple", "elephant", *said[88:]]
    phones = _Nudged(timeline, words, steps={2}, shift_s=-0.1)
    placed, _ = synchronize(timeline, " ".join(words), phones=phones)
    # Every word placed where it was said: none left from the undone step, none cut by it.
    spoken = iter(sorted(timeline.spoken, key=lambda w: w.start))
    for word, placement in zip(words, placed, strict=True):
        if word in ("purple", "elephant"):
            continue  # (two words of text: Whisper's walk may keep them squeezed in)
        said_at = next(spoken)
        assert placement is not None
        assert abs(placement.start - said_at.start) < 0.01, (word, placement, said_at)
        assert abs(placement.end - said_at.end) < 0.01, (word, placement, said_at)


def test_a_word_the_path_cannot_spell_does_not_undo_its_last_step() -> None:
    timeline = Timeline(duration_s=120.0)
    words = _read(timeline, 20).split()
    words[100] = "42"  # said as written here, but the path has nothing to look for
    timeline.spoken = [
        replace(w, text="42") if k == 100 else w
        for k, w in enumerate(sorted(timeline.spoken, key=lambda w: w.start))
    ]
    phones = ScriptedPhones(timeline, words)
    placed, model = synchronize(timeline, " ".join(words), phones=phones)
    # The words before it keep the path's placements (its sure words score exp(-0.5)).
    path_probability = float(np.exp(-0.5))
    assert all(p is not None and abs(p.probability - path_probability) < 1e-6 for p in placed[:90])
    assert model.encoded >= 1  # Whisper's window took the word the path cannot look for
