"""Boundary refinement against the signal (synthetic levels; no model involved)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

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


_edges = st.floats(0.0, 20.0, allow_nan=False).map(lambda t: round(t, 2))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_edges, _edges), max_size=15),
    st.lists(st.tuples(_edges, _edges), max_size=15),
)
def test_a_vad_pause_is_added_unless_some_energy_pause_overlaps_it(
    energy_edges: list[tuple[float, float]], extra_edges: list[tuple[float, float]]
) -> None:
    from alignment.refine import Pause, merge_pauses

    energy = sorted((Pause(min(a, b), max(a, b)) for a, b in energy_edges), key=lambda p: p.start)
    extra = [(min(a, b), max(a, b)) for a, b in extra_edges]
    merged = merge_pauses(energy, extra)
    added = [Pause(a, b) for a, b in extra if not any(p.start < b and a < p.end for p in energy)]
    assert merged == sorted(energy + added, key=lambda p: p.start)


def test_vad_finds_the_pauses_of_real_speech() -> None:
    from alignment.audio import load_audio, quiet_spans_vad
    from tests.conftest import SAMPLES

    samples = load_audio(SAMPLES / "short_clean" / "audio.wav")
    spans = quiet_spans_vad(samples)
    # the pause after "the open sea." (5.67 s to 5.85 s in the reference)
    assert any(start < 5.8 and end > 5.75 for start, end in spans)
    # and none inside a word ("harbour", 3.73 s to 4.15 s)
    assert not any(3.8 < start < 4.1 and end - start > 0.15 for start, end in spans)
