"""Word boundaries against the signal: model lag removed, edges snapped to pauses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alignment.audio import LEVEL_FRAME_S, Levels
from alignment.sync import Placement

#: How late each model family's cross-attention word starts run, in seconds (dev-set median).
MODEL_LAG_S = {
    "tiny.en": 0.10,
    "tiny": 0.10,
    "base.en": 0.06,
    "base": 0.06,
}
DEFAULT_LAG_S = 0.05
_MIN_PAUSE_S = 0.04
_SNAP_RADIUS_S = 0.25
_MIN_WORD_S = 0.03


@dataclass(frozen=True)
class Pause:
    start: float
    end: float


def model_lag_s(model_name: str) -> float:
    return MODEL_LAG_S.get(model_name, DEFAULT_LAG_S)


def find_pauses(levels: Levels, min_pause_s: float = _MIN_PAUSE_S) -> list[Pause]:
    """Stretches quieter than the speech threshold, at least `min_pause_s` long."""
    if len(levels) == 0:
        return []
    quiet = levels < speech_threshold_db(levels)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.astype(np.int8), [0]))))
    starts, ends = edges[0::2], edges[1::2]
    min_frames = int(round(min_pause_s / LEVEL_FRAME_S))
    return [
        Pause(float(a * LEVEL_FRAME_S), float(b * LEVEL_FRAME_S))
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
        if b - a >= min_frames
    ]


def speech_threshold_db(levels: Levels) -> float:
    """A level between the noise floor and typical speech, adapted to the recording."""
    floor, loud = np.percentile(levels, [5, 95])
    return float(floor + max(8.0, 0.25 * (loud - floor)))


def refine(
    placements: list[Placement | None], pauses: list[Pause], lag_s: float
) -> list[tuple[float, float] | None]:
    """Final (start, end) per word: lag removed, edges next to a pause moved onto the pause."""
    starts = np.array([p.start - lag_s if p else np.nan for p in placements], dtype=np.float64)
    ends = np.array([p.end - lag_s if p else np.nan for p in placements], dtype=np.float64)
    order = [i for i, p in enumerate(placements) if p is not None]
    pause_starts = np.array([p.start for p in pauses])
    pause_ends = np.array([p.end for p in pauses])
    for position, index in enumerate(order):
        nxt = order[position + 1] if position + 1 < len(order) else None
        _refine_gap(index, nxt, starts, ends, pauses, pause_starts, pause_ends)
    return _finish(placements, starts, ends)


def _refine_gap(
    index: int,
    nxt: int | None,
    starts: npt.NDArray[np.float64],
    ends: npt.NDArray[np.float64],
    pauses: list[Pause],
    pause_starts: npt.NDArray[np.float64],
    pause_ends: npt.NDArray[np.float64],
) -> None:
    """Settle the boundary between word `index` and the next placed word."""
    if nxt is None:
        pause = _pause_near(pause_starts, pause_ends, ends[index], ends[index], pauses)
        if pause is not None and pause.start > starts[index]:
            ends[index] = pause.start
        return
    low, high = sorted((ends[index], starts[nxt]))
    pause = _pause_near(pause_starts, pause_ends, low, high, pauses)
    if pause is not None and pause.start > starts[index] and (
        nxt + 1 >= len(starts) or np.isnan(starts[nxt + 1]) or pause.end < starts[nxt + 1]
    ):
        ends[index], starts[nxt] = pause.start, pause.end
    else:
        ends[index] = starts[nxt]


def _pause_near(
    pause_starts: npt.NDArray[np.float64],
    pause_ends: npt.NDArray[np.float64],
    low: float,
    high: float,
    pauses: list[Pause],
) -> Pause | None:
    """The longest pause overlapping [low - radius, high + radius]."""
    if len(pauses) == 0:
        return None
    lo = int(np.searchsorted(pause_ends, low - _SNAP_RADIUS_S))
    hi = int(np.searchsorted(pause_starts, high + _SNAP_RADIUS_S))
    candidates = pauses[lo:hi]
    if not candidates:
        return None
    return max(candidates, key=lambda p: p.end - p.start)


def _finish(
    placements: list[Placement | None],
    starts: npt.NDArray[np.float64],
    ends: npt.NDArray[np.float64],
) -> list[tuple[float, float] | None]:
    out: list[tuple[float, float] | None] = []
    previous_end = 0.0
    for i, placement in enumerate(placements):
        if placement is None:
            out.append(None)
            continue
        start = max(float(starts[i]), previous_end, 0.0)
        end = max(float(ends[i]), start + _MIN_WORD_S)
        out.append((round(start, 3), round(end, 3)))
        previous_end = end
    return out
