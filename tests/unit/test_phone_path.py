"""The phone model's walk ahead of Whisper, without the model: the open-ended CTC path, the
recording's frame scores block by block, and the walk's use of the path on planted
timelines (a scripted path and a scripted window model)."""

from __future__ import annotations

import threading

import numpy as np

from alignment.acoustic import AcousticOptions
from alignment.audio import SAMPLE_RATE, Samples
from alignment.ctc import Emissions, align_prefix, force_align
from alignment.scout import BLOCK_S, PhoneScout, RecordingFrames
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


def test_a_clean_read_needs_no_window_at_all() -> None:
    timeline = Timeline(duration_s=120.0)
    t = 1.0
    body = sentences(20)
    for sentence in body:
        t = timeline.say(sentence, t) + 0.6
    text = " ".join(body)
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
