"""Which text goes in which window: forced alignment, verification and global resynchronisation.

The audio is walked in 30 s windows. Each window is force-aligned with the next stretch of
text (plus the already placed words it overlaps, as context); the leading words whose token
probabilities and durations look right are kept. Where the first words already look wrong, the
window is transcribed cheaply and the transcript is matched against the text ahead: text the
audio lacks is marked not found, audio the text lacks is skipped, so neither shifts later words.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from alignment.audio import LEVEL_FRAME_S, Levels, Samples
from alignment.forced import MAX_TEXT_TOKENS, EncodedWindow, TimedToken, WindowAligner
from alignment.text import normalize

_MIN_WINDOW_S = 0.3
_SEARCH_AHEAD_WORDS = 1500
_BAD_RUN_WORDS = 4


@dataclass(frozen=True)
class SyncOptions:
    window_s: float
    hop_s: float
    edge_guard_s: float
    min_word_probability: float
    batch_size: int


@dataclass(frozen=True)
class Placement:
    """Raw model timing of one transcript word (before refinement)."""

    start: float
    end: float
    probability: float


class _Windows:
    """Encodes windows on demand, `batch_size` grid windows ahead (batched on GPU)."""

    def __init__(self, aligner: WindowAligner, samples: Samples, options: SyncOptions) -> None:
        self._aligner = aligner
        self._samples = samples
        self._options = options
        self._duration = len(samples) / 16_000
        self._cache: dict[float, EncodedWindow] = {}
        self.encoded = 0

    def get(self, start_s: float) -> EncodedWindow:
        key = round(start_s, 3)
        if key not in self._cache:
            self._cache.clear()
            starts = [key + k * self._options.hop_s for k in range(max(1, self._options.batch_size))]
            spans = [
                (s, min(s + self._options.window_s, self._duration))
                for s in starts
                if s < self._duration - _MIN_WINDOW_S or s == key
            ]
            for window in self._aligner.encode(self._samples, spans):
                self._cache[round(window.start_s, 3)] = window
            self.encoded += len(spans)
        return self._cache.pop(key)


class Synchronizer:
    """Places every speech word of the transcript, or leaves it unplaced (None)."""

    def __init__(
        self,
        aligner: WindowAligner,
        samples: Samples,
        levels: Levels,
        words: list[str],
        options: SyncOptions,
    ) -> None:
        self._aligner = aligner
        self._levels = levels
        self._options = options
        self._duration = len(samples) / 16_000
        self._windows = _Windows(aligner, samples, options)
        self._tokens = [aligner.token_ids(word) for word in words]
        self._keys = [normalize(word) for word in words]
        self.placed: list[Placement | None] = [None] * len(words)
        self._cursor = 0
        self.resyncs = 0

    @property
    def windows_encoded(self) -> int:
        return self._windows.encoded

    def run(self, progress: Callable[[float], None]) -> list[Placement | None]:
        start = self._next_sound(0.0)
        steps = 0
        while self._cursor < len(self.placed) and start < self._duration - _MIN_WINDOW_S:
            steps += 1
            if steps > 10 * len(self.placed) + 1000:
                break  # cannot happen: every step advances the text or the audio
            start = self._step(self._next_sound(start))
            progress(min(1.0, start / self._duration))
        return self.placed

    def _step(self, start: float) -> float:
        """Align one window starting at `start`; return where the next window starts."""
        window = self._windows.get(start)
        is_last = window.end_s >= self._duration - 1e-3
        prefix = self._prefix(window.start_s)
        new = self._candidates(len(prefix))
        timed = self._aligner.align(window, [self._tokens[i] for i in prefix + new])
        fresh = timed[len(prefix) :]
        limit = window.end_s if is_last else window.end_s - self._options.edge_guard_s
        inside = _count_before(fresh, limit)
        good = self._good_prefix(fresh[:inside])
        if good > 0:
            self._commit(fresh[:good])
            # The next grid window overlaps this one, so its start is known ahead (batching);
            # after a stop short of the window's end, the next window starts at the stop.
            return min(window.start_s + self._options.hop_s, fresh[good - 1].end)
        return self._resync(window, fresh, limit, is_last)

    def _prefix(self, window_start: float) -> list[int]:
        indices: list[int] = []
        k = self._cursor - 1
        while k >= 0 and len(indices) < 40:
            placement = self.placed[k]
            if placement is None or placement.start < window_start + 0.05:
                break
            indices.append(k)
            k -= 1
        return indices[::-1]

    def _candidates(self, prefix_count: int) -> list[int]:
        budget = MAX_TEXT_TOKENS - sum(len(self._tokens[i]) for i in range(prefix_count))
        wanted = int(self._words_per_second() * self._options.window_s * 1.5) + 10
        chosen: list[int] = []
        for index in range(self._cursor, len(self.placed)):
            budget -= len(self._tokens[index])
            if budget < 0 or len(chosen) >= wanted:
                break
            chosen.append(index)
        return chosen

    def _words_per_second(self) -> float:
        done = [p for p in self.placed[: self._cursor] if p is not None]
        if len(done) < 20:
            return 4.0
        span = done[-1].end - done[max(0, len(done) - 200)].start
        return float(np.clip(min(len(done), 200) / max(span, 1.0), 2.0, 6.0))

    def _good_prefix(self, words: list[TimedToken]) -> int:
        """How many leading words look right: no run of improbable or stretched words."""
        threshold = self._options.min_word_probability
        probs = np.array([w.probability for w in words])
        for k, word in enumerate(words):
            if _implausibly_long(word):
                return k
            run = probs[k : k + _BAD_RUN_WORDS]
            if probs[k] < threshold and float(np.mean(run)) < threshold * 1.5:
                return k
        return len(words)

    def _commit(self, words: list[TimedToken]) -> None:
        for word in words:
            self.placed[self._cursor] = Placement(word.start, word.end, word.probability)
            self._cursor += 1

    def _resync(
        self, window: EncodedWindow, forced: list[TimedToken], limit: float, is_last: bool
    ) -> float:
        """The window's first words do not fit: find out from what is actually said."""
        self.resyncs += 1
        heard = [w for w in self._aligner.transcribe(window) if normalize(w.text)]
        block = self._first_solid_match(heard)
        skip_audio_to = window.end_s if is_last else max(window.start_s + 1.0, limit)
        if block is None:
            return skip_audio_to  # nothing of the text is said here: music, an ad, silence
        heard_at, text_at, size = block
        onset = heard[heard_at].start
        if text_at > self._cursor:
            self._skip_text(text_at, forced, onset)
            return max(window.start_s, onset - 0.3)
        if onset > window.start_s + 1.0:
            return onset - 0.3  # audio the text lacks before the match
        confirmed = [w for w in heard[heard_at : heard_at + size] if w.end <= limit]
        if not confirmed:
            return skip_audio_to
        self._commit(confirmed)
        return confirmed[-1].end

    def _first_solid_match(self, heard: list[TimedToken]) -> tuple[int, int, int] | None:
        ahead = self._keys[self._cursor : self._cursor + _SEARCH_AHEAD_WORDS]
        matcher = difflib.SequenceMatcher(None, [normalize(w.text) for w in heard], ahead, False)
        for block in matcher.get_matching_blocks():
            needed = 3 if block.b <= 30 else 5
            if block.size >= min(needed, len(heard)) and block.size > 0:
                return block.a, self._cursor + block.b, block.size
        return None

    def _skip_text(self, text_at: int, forced: list[TimedToken], onset: float) -> None:
        """Words before `text_at` are not where the audio is; keep a few that fit before it."""
        gap = text_at - self._cursor
        fits = gap <= 6 and len(forced) >= gap and all(w.end <= onset + 0.2 for w in forced[:gap])
        if fits:
            self._commit(forced[:gap])
            return
        self._cursor = text_at

    def _next_sound(self, at_s: float) -> float:
        """Skip leading digital silence or near-silence: windows should start near speech."""
        first = int(at_s / LEVEL_FRAME_S)
        loud = np.flatnonzero(self._levels[first:] > -60.0)
        if len(loud) == 0:
            return self._duration
        return max(at_s, (first + int(loud[0])) * LEVEL_FRAME_S - 0.2)


def _count_before(words: list[TimedToken], limit: float) -> int:
    count = 0
    for word in words:
        if word.end > limit or word.start >= limit:
            break
        count += 1
    return count


def _implausibly_long(word: TimedToken) -> bool:
    return word.end - word.start > 2.5
