"""CTC forced alignment: the most probable path of a known label sequence through frame scores."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Emissions = npt.NDArray[np.float32]

_NEG_INF = np.float32(-1e30)


@dataclass(frozen=True)
class LabelSpan:
    """Where one label of the sequence sits on the path: frames [first, last], mean log-prob."""

    first: int
    last: int
    score: float


def force_align(emissions: Emissions, labels: list[int], blank: int) -> list[LabelSpan] | None:
    """Viterbi over the CTC topology (blank, l1, blank, l2, ..., blank): one span per label,
    in order, or None when the frames are too few for the labels."""
    frames = emissions.shape[0]
    needed = len(labels) + sum(1 for a, b in itertools.pairwise(labels) if a == b)
    if not labels or frames < needed:
        return None
    states, skip = _topology(labels, blank)
    scores, final = _forward(emissions, states, skip)
    state = len(states) - 1 if final[-1] >= final[-2] else len(states) - 2
    return _spans(_backtrace(scores, skip, state), emissions, states, len(labels))


def align_prefix(emissions: Emissions, words: list[list[int]], blank: int) -> list[list[LabelSpan]]:
    """Viterbi over the CTC topology of the words' labels, where the path may end after any
    whole word (the audio may stop before the text does): the spans of each word's labels
    for the words the best such path reaches (empty: the frames are too few for one word)."""
    if not words or emissions.shape[0] < 2:
        return []
    states, skip = _topology([label for word in words for label in word], blank)
    scores, final = _forward(emissions, states, skip)
    # A path may end on a word's last label or on the blank after it.
    ends = 2 * np.cumsum([len(word) for word in words])
    candidates = np.stack([final[ends - 1], final[ends]])
    if candidates.max() <= _NEG_INF / 2:
        return []
    side, reached = np.unravel_index(int(np.argmax(candidates)), candidates.shape)
    state = int(ends[reached] - 1 + side)
    spans = _spans(
        _backtrace(scores, skip, state), emissions, states, sum(map(len, words[: reached + 1]))
    )
    out: list[list[LabelSpan]] = []
    for word in words[: reached + 1]:
        out.append(spans[: len(word)])
        spans = spans[len(word) :]
    return out


def _topology(labels: list[int], blank: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The CTC states (blank, l1, blank, l2, ..., blank) and where a path may move over a
    blank (between two different labels)."""
    states = np.full(2 * len(labels) + 1, blank, dtype=np.int64)
    states[1::2] = labels
    skip = np.zeros(len(states), dtype=bool)
    skip[3::2] = states[3::2] != states[1:-2:2]
    return states, skip


def _forward(
    emissions: Emissions, states: npt.NDArray[np.int64], skip: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The best score of each state at each frame (kept for the backtrace, which finds each
    step's move again from them), and the final scores."""
    frames, count = emissions.shape[0], len(states)
    on_state = emissions[:, states]
    scores = np.full((frames, count), _NEG_INF, dtype=np.float32)
    scores[0, :2] = on_state[0, :2]
    # Moving over a blank is allowed only between different labels.
    over_blank = np.where(skip[2:], np.float32(0.0), _NEG_INF).astype(np.float32)
    jump = np.empty(max(count - 2, 0), dtype=np.float32)
    for t in range(1, frames):
        before, now = scores[t - 1], scores[t]
        now[:] = before
        np.maximum(now[1:], before[:-1], out=now[1:])
        np.add(before[:-2], over_blank, out=jump)
        np.maximum(now[2:], jump, out=now[2:])
        now += on_state[t]
    return scores, scores[-1]


def _backtrace(
    scores: npt.NDArray[np.float32], skip: npt.NDArray[np.bool_], state: int
) -> npt.NDArray[np.int64]:
    """The states of the best path ending in `state`: at each frame, the move that gave the
    state its score (staying first, then from the state before, then over a blank)."""
    path = np.empty(scores.shape[0], dtype=np.int64)
    for t in range(scores.shape[0] - 1, 0, -1):
        path[t] = state
        before = scores[t - 1]
        best, move = before[state], 0
        if state >= 1 and before[state - 1] > best:
            best, move = before[state - 1], 1
        if state >= 2 and skip[state] and before[state - 2] > best:
            move = 2
        state -= move
    path[0] = state
    return path


def _spans(
    path: npt.NDArray[np.int64], emissions: Emissions, states: npt.NDArray[np.int64], count: int
) -> list[LabelSpan]:
    """Each label's first and last frame on the path, and its mean log-probability there.
    The path never goes back, so each label's frames are one run, found by bisection."""
    label_states = 2 * np.arange(count) + 1
    firsts = np.searchsorted(path, label_states, side="left").tolist()
    lasts = (np.searchsorted(path, label_states, side="right") - 1).tolist()
    spans: list[LabelSpan] = []
    for k, (first, last) in enumerate(zip(firsts, lasts, strict=True)):
        scores = emissions[first : last + 1, states[2 * k + 1]]
        spans.append(LabelSpan(first, last, _mean(scores)))
    return spans


def _mean(scores: npt.NDArray[np.float32]) -> float:
    """np.mean's value for float32 scores (summed in float32, divided in float64, rounded
    to float32), without its overhead: the path's steps take tens of thousands of these."""
    return float(np.float32(float(np.add.reduce(scores)) / len(scores)))
