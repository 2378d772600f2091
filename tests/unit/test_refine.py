"""Boundary refinement against the signal (synthetic levels; no model involved)."""

from __future__ import annotations

import itertools

import numpy as np

from alignment.audio import LEVEL_FRAME_S
from alignment.refine import find_pauses, refine
from alignment.sync import Placement


def _levels(speech: list[tuple[float, float]], total_s: float) -> np.ndarray:
    levels = np.full(int(total_s / LEVEL_FRAME_S), -100.0, dtype=np.float32)
    for start, end in speech:
        levels[int(start / LEVEL_FRAME_S) : int(end / LEVEL_FRAME_S)] = -20.0
    return levels


def test_finds_pauses_between_speech() -> None:
    pauses = find_pauses(_levels([(0.5, 1.0), (1.4, 2.0)], 3.0), min_pause_s=0.08)
    assert [(round(p.start, 3), round(p.end, 3)) for p in pauses] == [
        (0.0, 0.5),
        (1.0, 1.4),
        (2.0, 3.0),
    ]


def test_ignores_gaps_shorter_than_the_minimum() -> None:
    pauses = find_pauses(_levels([(0.5, 1.0), (1.03, 2.0)], 2.0), min_pause_s=0.08)
    assert all(not (p.start >= 0.99 and p.end <= 1.04) for p in pauses)


def test_snaps_edges_to_pauses_and_removes_lag() -> None:
    levels = _levels([(0.5, 1.0), (1.4, 2.0)], 3.0)
    raw = [Placement(0.62, 1.45, 0.9), Placement(1.55, 2.2, 0.9)]
    times = refine(raw, levels, lag_s=0.1)
    assert times[0] is not None and times[1] is not None
    assert abs(times[0][0] - 0.5) < 0.011
    assert abs(times[0][1] - 1.0) < 0.011
    assert abs(times[1][0] - 1.4) < 0.011
    assert abs(times[1][1] - 2.0) < 0.011


def test_keeps_unplaced_words_unplaced_and_times_monotonic() -> None:
    levels = _levels([(0.2, 3.0)], 3.0)
    raw = [Placement(0.3, 0.9, 0.9), None, Placement(0.8, 1.2, 0.9), Placement(1.1, 2.0, 0.5)]
    times = refine(raw, levels, lag_s=0.0)
    assert times[1] is None
    placed = [t for t in times if t is not None]
    for (start, end), (next_start, _) in itertools.pairwise(placed):
        assert start < end <= next_start


def test_vad_pauses_only_fill_in_where_energy_saw_none() -> None:
    from alignment.refine import Pause, merge_pauses

    energy = [Pause(1.0, 1.4), Pause(3.0, 3.2)]
    merged = merge_pauses(energy, [(0.95, 1.5), (2.0, 2.3)])
    assert [(p.start, p.end) for p in merged] == [(1.0, 1.4), (2.0, 2.3), (3.0, 3.2)]


def test_vad_finds_the_pauses_of_real_speech() -> None:
    from alignment.audio import load_audio, quiet_spans_vad
    from tests.conftest import SAMPLES

    samples = load_audio(SAMPLES / "short_clean" / "audio.wav")
    spans = quiet_spans_vad(samples)
    # the pause after "the open sea." (5.67 s to 5.85 s in the reference)
    assert any(start < 5.8 and end > 5.75 for start, end in spans)
    # and none inside a word ("harbour", 3.73 s to 4.15 s)
    assert not any(3.8 < start < 4.1 and end - start > 0.15 for start, end in spans)
