"""Combining the CTC path with a second aligner's times (agreement, fallback, recording
bias), and held last sounds."""

from __future__ import annotations

import numpy as np
import pytest

from alignment.acoustic import AcousticOptions, combine_opinions, hold_ends
from alignment.audio import LEVEL_FRAME_S
from alignment.types import Refinement

Timed = list[tuple[tuple[float, float] | None, Refinement]]

OPTS = AcousticOptions(second_agree_s=0.1, second_weight=0.5, bias_min_anchors=3)
HOLD = AcousticOptions(hold_reach_s=0.3, hold_drop_db=6.0, hold_max_rise_db=3.0)


def test_where_both_agree_each_boundary_is_their_mean() -> None:
    path = {0: (1.00, 1.40), 1: (1.40, 2.00)}
    second = {0: (1.06, 1.44), 1: (1.44, 1.92)}
    combined = combine_opinions(path, second, OPTS)
    assert combined[0] == pytest.approx((1.03, 1.42))
    assert combined[1] == pytest.approx((1.42, 1.96))


def test_a_start_too_far_from_the_path_keeps_the_path_whole() -> None:
    # The second aligner lost its way here (it fails on whole stretches): nothing of it counts.
    path = {0: (1.0, 1.4), 1: (1.4, 2.0)}
    second = {0: (1.3, 1.45), 1: (1.45, 1.92)}
    combined = combine_opinions(path, second, OPTS)
    assert combined[0] == (1.0, 1.4)
    assert combined[1] == pytest.approx((1.425, 1.96))


def test_an_end_too_far_keeps_the_paths_end() -> None:
    combined = combine_opinions({0: (1.0, 1.4)}, {0: (1.02, 1.9)}, OPTS)
    assert combined[0] == pytest.approx((1.01, 1.4))


def test_no_second_opinion_leaves_the_path_unchanged() -> None:
    path = {0: (1.0, 1.4), 3: (2.0, 2.5)}
    assert combine_opinions(path, {}, OPTS) == path


def test_the_other_words_move_by_the_recordings_bias_within_bounds() -> None:
    # Three anchors where the second aligner starts 40 ms later than the path: the mean moves
    # them 20 ms, and the words it did not find move by the same median difference.
    path = {i: (float(i), i + 0.5) for i in range(5)}
    second = {i: (i + 0.04, i + 0.5) for i in range(3)}
    combined = combine_opinions(path, second, OPTS)
    assert combined[3][0] == pytest.approx(3.02)
    assert combined[4] == pytest.approx((4.02, 4.5))
    bounded = combine_opinions(path, second, AcousticOptions(bias_min_anchors=3, max_bias_s=0.01))
    assert bounded[4][0] == pytest.approx(4.01)


def test_too_few_anchors_measure_no_bias() -> None:
    path = {i: (float(i), i + 0.5) for i in range(5)}
    second = {i: (i + 0.04, i + 0.5) for i in range(2)}
    assert combine_opinions(path, second, OPTS)[4] == (4.0, 4.5)


def test_a_word_keeps_a_minimal_length() -> None:
    combined = combine_opinions({0: (1.0, 1.02)}, {0: (1.06, 1.03)}, OPTS)
    assert combined[0][1] - combined[0][0] >= OPTS.min_word_s - 1e-9


def _levels(*stretches: tuple[float, float]) -> np.ndarray:
    """5 ms levels (dB): each (seconds, level) stretch in turn."""
    return np.concatenate([np.full(round(s / LEVEL_FRAME_S), db) for s, db in stretches])


def test_a_held_last_sound_keeps_its_word_up_to_the_pause() -> None:
    # A word at -20 dB to 1.0 s, held at -23 dB to 1.25 s, silence to 1.4 s, the next word.
    levels = _levels((0.5, -60.0), (0.5, -20.0), (0.25, -23.0), (0.15, -60.0), (0.5, -20.0))
    words: Timed = [((0.5, 1.0), "acoustic"), ((1.38, 1.8), "acoustic")]
    held = hold_ends(words, levels, [(1.25, 1.4)], HOLD)
    assert held[0][0] == (0.5, 1.25)
    assert held[1] == words[1]


def test_a_quieter_tail_a_new_syllable_or_a_later_next_word_is_no_held_sound() -> None:
    pause = [(1.25, 1.4)]
    words: Timed = [((0.5, 1.0), "acoustic"), ((1.38, 1.8), "acoustic")]
    quiet = _levels((0.5, -60.0), (0.5, -20.0), (0.25, -35.0), (0.15, -60.0), (0.5, -20.0))
    rising = _levels((0.5, -60.0), (0.5, -26.0), (0.1, -26.0), (0.15, -18.0), (0.65, -60.0))
    held = _levels((0.5, -60.0), (0.5, -20.0), (0.25, -23.0), (0.15, -60.0), (0.5, -20.0))
    assert hold_ends(words, quiet, pause, HOLD)[0][0] == (0.5, 1.0)
    assert hold_ends(words, rising, pause, HOLD)[0][0] == (0.5, 1.0)
    # The next word placed well after the pause: the sound before the pause may be it.
    later: Timed = [words[0], ((1.6, 1.9), "acoustic")]
    assert hold_ends(later, held, pause, HOLD)[0][0] == (0.5, 1.0)
    # Signal refinement's words are left alone.
    alone: Timed = [((0.5, 1.0), "signal")]
    assert hold_ends(alone, held, pause, HOLD)[0][0] == (0.5, 1.0)
