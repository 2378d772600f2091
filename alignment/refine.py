"""Word boundaries against the signal: model lag removed, edges moved onto pauses and dips."""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from alignment.audio import LEVEL_FRAME_S, Levels, Span, speech_threshold_db
from alignment.sync import Placement

#: How late each model family's cross-attention word starts run, in seconds (negative: early).
#: Measured on the dev set as the median raw error of words inside continuous speech.
MODEL_LAG_S = {
    "tiny.en": 0.11,
    "tiny": 0.11,
    "base.en": -0.045,
    "base": -0.045,
}
DEFAULT_LAG_S = 0.0

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RefineOptions:
    """Tunables of the signal refinement (chosen on the dev benchmark)."""

    #: Quiet stretches shorter than this are no pause (stops inside words are shorter).
    min_pause_s: float = 0.08
    #: How far from a word edge a pause may lie and still be taken as its boundary.
    pause_radius_s: float = 0.15
    #: How far a boundary inside continuous speech may move onto an energy dip.
    dip_radius_s: float = 0.05
    #: How much quieter than the boundary a dip must be to count.
    dip_min_drop_db: float = 1.0
    #: Shortest word, seconds.
    min_word_s: float = 0.03
    #: Words further apart than this have audio the text lacks between them: each edge finds
    #: its own pause instead of sharing one.
    apart_s: float = 1.0
    #: After a pause taken as a boundary, the next word keeps at least this much of its span
    #: (seconds, and share of its span, whichever is less): a long word the DTW dragged into
    #: the pause would be left as a sliver after it otherwise.
    min_after_pause_s: float = 0.1
    min_after_pause_share: float = 0.25


@dataclass(frozen=True)
class Pause:
    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


def model_lag_s(model_name: str) -> float:
    return MODEL_LAG_S.get(model_name, DEFAULT_LAG_S)


def find_pauses(levels: Levels, min_pause_s: float) -> list[Pause]:
    """Stretches quieter than the speech threshold, at least `min_pause_s` long."""
    if len(levels) == 0:
        return []
    quiet = levels < speech_threshold_db(levels)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.astype(np.int8), [0]))))
    min_frames = round(min_pause_s / LEVEL_FRAME_S)
    return [
        Pause(float(a * LEVEL_FRAME_S), float(b * LEVEL_FRAME_S))
        for a, b in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True)
        if b - a >= min_frames
    ]


class _Pauses:
    """Pauses sorted by time, searchable around a moment."""

    def __init__(self, pauses: list[Pause], radius_s: float) -> None:
        self._pauses = pauses
        self._starts = np.array([p.start for p in pauses])
        self._ends = np.array([p.end for p in pauses])
        self._radius = radius_s

    def near(
        self, low: float, high: float, after: float = -np.inf, before: float = np.inf
    ) -> Pause | None:
        """The pause nearest to [low, high] that lies within (after, before) and reaches the
        interval widened by the radius and by half the pause's own length (the model smears
        long pauses into the words around them)."""
        if not self._pauses:
            return None
        reach = self._radius + 0.6
        lo = int(np.searchsorted(self._ends, low - reach))
        hi = int(np.searchsorted(self._starts, high + reach))
        best: tuple[float, float] | None = None
        chosen: Pause | None = None
        for pause in self._pauses[lo:hi]:
            if pause.start <= after or pause.end >= before:
                continue
            slack = self._radius + min(0.5 * pause.length, 0.6)
            distance = max(0.0, pause.start - high, low - pause.end)
            if distance <= slack and (best is None or (distance, -pause.length) < best):
                best, chosen = (distance, -pause.length), pause
        return chosen


class Reach:
    """Whether any of some spans (in any order, overlapping or not) reaches into the open
    stretch (lo, hi): a span starting before hi and ending after lo. A bisection over the
    starts, with the latest end so far, instead of a look at every span: a 45-minute
    episode has some 7,000 words and 1,600 pauses, and the look grew with the square of the
    length (10 s of the acoustic pass at 3 h)."""

    def __init__(self, spans: Sequence[Span]) -> None:
        ordered = sorted(spans)
        self._starts = [start for start, _ in ordered]
        self._latest_end = list(itertools.accumulate((end for _, end in ordered), max))

    def __call__(self, lo: float, hi: float) -> bool:
        before = bisect_left(self._starts, hi)
        return before > 0 and self._latest_end[before - 1] > lo


def merge_pauses(energy: list[Pause], extra: list[tuple[float, float]]) -> list[Pause]:
    """Energy pauses (sharp edges), plus the other detector's pauses where energy saw none."""
    reaches_into = Reach([(p.start, p.end) for p in energy])
    added = [Pause(start, end) for start, end in extra if not reaches_into(start, end)]
    return sorted(energy + added, key=lambda p: p.start)


def refine(
    placements: list[Placement | None],
    levels: Levels,
    lag_s: float,
    options: RefineOptions | None = None,
    extra_pauses: list[tuple[float, float]] | None = None,
) -> list[tuple[float, float] | None]:
    """Final (start, end) per word: lag removed, edges next to a pause moved onto the pause,
    boundaries inside continuous speech moved to the nearest energy dip. `extra_pauses`
    (from a voice-activity model) add pauses that the energy threshold misses."""
    opts = options or RefineOptions()
    starts = np.array([p.start - lag_s if p else np.nan for p in placements])
    ends = np.array([p.end - lag_s if p else np.nan for p in placements])
    found = find_pauses(levels, opts.min_pause_s)
    if extra_pauses:
        found = merge_pauses(found, [s for s in extra_pauses if s[1] - s[0] >= opts.min_pause_s])
    pauses = _Pauses(found, opts.pause_radius_s)
    smooth = smooth_levels(levels)
    order = [i for i, p in enumerate(placements) if p is not None]
    if order:
        _snap_first_start(order[0], starts, ends, pauses)
    for position, index in enumerate(order):
        nxt = order[position + 1] if position + 1 < len(order) else None
        after = order[position + 2] if position + 2 < len(order) else None
        if nxt is None:
            _snap_last_end(index, starts, ends, pauses)
        elif not _snap_gap(index, nxt, after, starts, ends, pauses, opts):
            boundary = nearest_dip(smooth, starts[nxt], opts.dip_radius_s, opts.dip_min_drop_db)
            if starts[index] + opts.min_word_s < boundary < ends[nxt] - opts.min_word_s:
                starts[nxt] = boundary
            ends[index] = starts[nxt]
    return _finish(placements, starts, ends, opts.min_word_s)


def _snap_first_start(index: int, starts: Array, ends: Array, pauses: _Pauses) -> None:
    pause = pauses.near(starts[index], starts[index], before=ends[index] - 0.03)
    if pause is not None:
        starts[index] = pause.end


def _snap_last_end(index: int, starts: Array, ends: Array, pauses: _Pauses) -> None:
    pause = pauses.near(ends[index], ends[index], after=starts[index] + 0.03)
    if pause is not None:
        ends[index] = pause.start


def _snap_gap(
    index: int,
    nxt: int,
    after: int | None,
    starts: Array,
    ends: Array,
    pauses: _Pauses,
    opts: RefineOptions,
) -> bool:
    """Put the boundary between two words on a pause between them, if there is one."""
    if starts[nxt] - ends[index] > opts.apart_s:
        # Far apart (audio the text lacks in between): each edge finds its own pause.
        _snap_last_end(index, starts, ends, pauses)
        _snap_first_start(nxt, starts, ends, pauses)
        return True
    low, high = sorted((float(ends[index]), float(starts[nxt])))
    share = opts.min_after_pause_share * (ends[nxt] - starts[nxt])
    keep = max(opts.min_word_s, min(opts.min_after_pause_s, share))
    before = float(ends[nxt]) - keep
    if after is not None:
        before = min(before, float(starts[after]))
    pause = pauses.near(low, high, after=float(starts[index]) + 0.03, before=before)
    if pause is None:
        return False
    ends[index], starts[nxt] = pause.start, pause.end
    return True


def smooth_levels(levels: Levels) -> Array:
    """Frame levels averaged over 3 frames (15 ms), for finding dips."""
    return np.convolve(levels.astype(np.float64), np.ones(3) / 3, mode="same")


def nearest_dip(smooth: Array, moment: float, radius_s: float, min_drop_db: float) -> float:
    """The quietest point within `radius_s` of `moment`, if it is at least `min_drop_db`
    quieter than `moment`; else `moment`."""
    centre = round(moment / LEVEL_FRAME_S)
    reach = round(radius_s / LEVEL_FRAME_S)
    lo, hi = max(0, centre - reach), min(len(smooth), centre + reach + 1)
    if hi <= lo or not 0 <= centre < len(smooth):
        return moment
    lowest = lo + int(np.argmin(smooth[lo:hi]))
    if smooth[centre] - smooth[lowest] >= min_drop_db:
        return lowest * LEVEL_FRAME_S
    return moment


def _finish(
    placements: list[Placement | None], starts: Array, ends: Array, min_word_s: float
) -> list[tuple[float, float] | None]:
    out: list[tuple[float, float] | None] = []
    previous_end = 0.0
    for i, placement in enumerate(placements):
        if placement is None:
            out.append(None)
            continue
        start = max(float(starts[i]), previous_end, 0.0)
        end = max(float(ends[i]), start + min_word_s)
        out.append((round(start, 3), round(end, 3)))
        previous_end = end
    return out
