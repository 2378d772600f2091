"""Window-model wrappers: windows encoded to detect the language are handed to the walk; a
walk given one window gets no other."""

from __future__ import annotations

import numpy as np
import pytest

from alignment.audio import Samples
from alignment.forced import EncodedWindow
from alignment.stages import (
    OneWindowModel,
    SecondWindowAsked,
    SeededWindowModel,
    StageClock,
    TimedWindowModel,
)
from tests.scripted import ScriptedModel, Timeline


def _window(start_s: float, end_s: float, mark: float) -> EncodedWindow:
    return EncodedWindow(start_s, end_s - start_s, np.full((1, 1), mark, dtype=np.float32))


class _Calls(ScriptedModel):
    """Counts encode calls (one per batch), not windows."""

    def __init__(self, timeline: Timeline) -> None:
        super().__init__(timeline)
        self.calls = 0

    def encode(self, samples: Samples, spans: list[tuple[float, float]]) -> list[EncodedWindow]:
        self.calls += 1
        return super().encode(samples, spans)


def test_a_window_encoded_before_is_handed_out_once_and_the_rest_encoded_together() -> None:
    inner = _Calls(Timeline(90.0))
    clock = StageClock()
    model = SeededWindowModel(TimedWindowModel(inner, clock), [_window(0.0, 30.0, 7.0)])
    samples = np.zeros(90 * 16_000, dtype=np.float32)

    first = model.encode(samples, [(27.0, 57.0), (0.0, 30.0), (54.0, 84.0)])
    assert [w.start_s for w in first] == [27.0, 0.0, 54.0]
    assert float(first[1].encoder_output[0, 0]) == 7.0  # the one encoded before
    assert inner.encoded_starts == [27.0, 54.0] and inner.calls == 1  # the others, together
    assert {s.stage: s.calls for s in clock.report()} == {"encode": 2}

    again = model.encode(samples, [(0.0, 30.0)])  # once only: the walk does not go back
    assert float(again[0].encoder_output[0, 0]) == 0.0
    assert inner.encoded_starts == [27.0, 54.0, 0.0]


def test_nothing_is_encoded_when_every_window_was_encoded_before() -> None:
    inner = ScriptedModel(Timeline(20.0))
    model = SeededWindowModel(inner, [_window(0.0, 20.0, 1.0)])
    out = model.encode(np.zeros(20 * 16_000, dtype=np.float32), [(0.0, 20.0)])
    assert [w.length_s for w in out] == [20.0] and inner.encoded == 0


def test_one_window_is_encoded_and_a_second_is_refused() -> None:
    inner = ScriptedModel(Timeline(25.0))
    clock = StageClock()
    model = TimedWindowModel(OneWindowModel(inner), clock)
    samples = np.zeros(25 * 16_000, dtype=np.float32)
    (window,) = model.encode(samples, [(0.0, 25.0)])
    assert window.length_s == 25.0 and inner.encoded == 1
    assert model.align(window, [model.token_ids("hello")])  # the window is used as usual
    with pytest.raises(SecondWindowAsked):
        model.encode(samples, [(5.0, 25.0)])
    with pytest.raises(SecondWindowAsked):
        TimedWindowModel(OneWindowModel(inner), clock).encode(samples, [(0.0, 20.0), (5.0, 25.0)])
    assert inner.encoded == 1
    assert {s.stage: s.calls for s in clock.report()}["encode"] == 1  # refusals cost nothing
