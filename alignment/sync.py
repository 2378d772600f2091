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

from alignment.audio import LEVEL_FRAME_S, SAMPLE_RATE, Levels, Samples, speech_threshold_db
from alignment.forced import MAX_TEXT_TOKENS, EncodedWindow, TimedToken, WindowAligner
from alignment.text import match_key

_MIN_WINDOW_S = 0.3
#: (words of text searched ahead, matching words in a row needed), nearest first.
_SEARCH_STEPS = ((40, 3), (250, 5), (1000, 7), (4000, 9))
_BAD_RUN_WORDS = 4
_SMALL_GAP_WORDS = 8
_LONGEST_WORD_S = 2.0


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
        self._duration = len(samples) / SAMPLE_RATE
        self._cache: dict[float, EncodedWindow] = {}
        self.encoded = 0

    def get(self, start_s: float) -> EncodedWindow:
        key = round(start_s, 3)
        if key not in self._cache:
            self._cache.clear()
            starts = [
                key + k * self._options.hop_s for k in range(max(1, self._options.batch_size))
            ]
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
        loud = levels > speech_threshold_db(levels) if len(levels) else levels > 0
        self._loud_frames = np.concatenate(([0], np.cumsum(loud, dtype=np.int64)))
        self._options = options
        self._duration = len(samples) / SAMPLE_RATE
        self._windows = _Windows(aligner, samples, options)
        self._tokens = [aligner.token_ids(word) for word in words]
        self._words = words
        self._keys = [match_key(word) for word in words]
        self.placed: list[Placement | None] = [None] * len(words)
        self._cursor = 0
        self.resyncs = 0
        self._retried: tuple[int, int] | None = None
        self._after_skip = False

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
        after_skip, self._after_skip = self._after_skip, False
        good = self._good_prefix(
            fresh[:inside], [self._words[i] for i in new[:inside]], strict_start=after_skip
        )
        if good > 0:
            self._commit(fresh[:good])
            # The next grid window overlaps this one, so its start is known ahead (batching).
            # After a stop short of the window's end, the next window starts with the last
            # good word, which it gets as context.
            if good == inside and fresh[good - 1].end > window.start_s + self._options.hop_s:
                return window.start_s + self._options.hop_s
            return max(fresh[good - 1].start - 0.1, start + 0.5)
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
        wanted = int(self._words_per_second() * self._options.window_s * 1.2) + 8
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

    def _good_prefix(self, words: list[TimedToken], texts: list[str], strict_start: bool) -> int:
        """How many leading words look right: stop where improbable or stretched words cluster
        (one improbable word alone is a typo or an ASR error in the text, not a mismatch)."""
        threshold = self._options.min_word_probability
        stretched = [self._implausibly_long(w, t) for w, t in zip(words, texts, strict=False)]
        suspicious = [w.probability < threshold or s for w, s in zip(words, stretched, strict=True)]
        if strict_start and suspicious[:1] == [True]:
            # Right after skipping audio the text lacks, the first word must be clearly
            # there: the DTW likes to pull it into the skipped sound just before the window.
            return 0
        for k in range(len(words)):
            if stretched[k]:
                return k
            run = suspicious[k : k + _BAD_RUN_WORDS]
            if run[0] and sum(run) >= min(_BAD_RUN_WORDS - 1, len(run)):
                return k
        return len(words)

    def _sounding_s(self, start: float, end: float) -> float:
        first = min(int(start / LEVEL_FRAME_S), len(self._loud_frames) - 1)
        last = min(int(end / LEVEL_FRAME_S), len(self._loud_frames) - 1)
        return float(self._loud_frames[last] - self._loud_frames[first]) * LEVEL_FRAME_S

    def _implausibly_long(self, word: TimedToken, written: str) -> bool:
        """More sound under one word than anyone takes to say it (pauses do not count;
        numbers are spoken much longer than they are written: "2026" is four words)."""
        if word.end - word.start <= _LONGEST_WORD_S:
            return False
        digits = sum(ch.isdigit() for ch in written)
        return self._sounding_s(word.start, word.end) > _LONGEST_WORD_S + 0.6 * digits

    def _commit(self, words: list[TimedToken]) -> None:
        for word in words:
            self._commit_one(Placement(word.start, word.end, word.probability))

    def _resync(
        self, window: EncodedWindow, forced: list[TimedToken], limit: float, is_last: bool
    ) -> float:
        """The window's first words do not fit: find out from what is actually said."""
        self.resyncs += 1
        heard = [w for w in self._aligner.transcribe(window) if match_key(w.text)]
        pairs = self._anchors(heard)
        if not pairs:
            if is_last:
                return window.end_s
            if len(heard) < self._sounding_s(window.start_s, limit) / 4.0:
                # Whisper sometimes stops after a word or two: that says nothing about the
                # window, so move on only a little and look again.
                return window.start_s + 2.0
            # Nothing of the text is said here (music, an ad, another language).
            return max(window.start_s + 1.0, limit - 2.0)
        # A heard word smeared over music or other speech has no usable start: begin with
        # the first confirmed word that is not.
        while len(pairs) > 1 and self._implausibly_long(
            heard[pairs[0][1]], self._words[pairs[0][0]]
        ):
            pairs = pairs[1:]
        text_at, heard_at = pairs[0]
        onset = heard[heard_at].start
        if text_at > self._cursor:
            # Text the audio lacks (a header, a dropped passage) or a few hidden words.
            return self._skip_text(window, forced, text_at, onset)
        if onset > window.start_s + 1.0:
            self._after_skip = True
            return onset - 0.3  # audio the text lacks before the match: align from there
        last = self._commit_anchored(heard, pairs, limit)
        if last is None:  # the heard times do not hold up either: move on a little
            return min(max(limit, window.start_s + 1.0), window.start_s + 2.0)
        return max(last.start - 0.1, window.start_s + 0.5)

    def _anchors(self, heard: list[TimedToken]) -> list[tuple[int, int]]:
        """(text index, heard index) of words the transcription confirms.

        The text ahead is searched nearest first (episodes repeat phrases, and a far match
        must not win over a near one), and a far jump needs a longer run of matching words."""
        keys = [match_key(w.text) for w in heard]
        if len(keys) == 1:  # a lone word counts only as the very next word of the text
            return [(self._cursor, 0)] if keys[0] == self._keys[self._cursor] else []
        for step, (reach, needed) in enumerate(_SEARCH_STEPS):
            # Only the nearest search may make do with a short transcription.
            pairs = self._anchors_within(
                keys, reach, min(needed, len(keys)) if step == 0 else needed
            )
            if pairs:
                return pairs
        return []

    def _anchors_within(self, keys: list[str], reach: int, needed: int) -> list[tuple[int, int]]:
        ahead = self._keys[self._cursor : self._cursor + reach]
        blocks = [
            b
            for b in difflib.SequenceMatcher(None, keys, ahead, False).get_matching_blocks()
            if b.size > 0
        ]
        first = next((i for i, b in enumerate(blocks) if b.size >= needed), None)
        if first is None:
            return []
        # Matches before the first solid run are not used: a heard word smeared over other
        # speech can match by chance, and its time would start the text too early.
        chosen = [blocks[first]]
        for block in blocks[first + 1 :]:
            tail = chosen[-1]
            near = block.b - (tail.b + tail.size) <= 3 and block.a - (tail.a + tail.size) <= 3
            if block.size >= 2 or near:
                chosen.append(block)
        return [
            (self._cursor + block.b + k, block.a + k) for block in chosen for k in range(block.size)
        ]

    def _commit_anchored(
        self, heard: list[TimedToken], pairs: list[tuple[int, int]], limit: float
    ) -> Placement | None:
        """Place confirmed words at their heard times; fill short unconfirmed runs between
        them (ASR slips) evenly, and leave longer ones unplaced (text the audio lacks)."""
        last: Placement | None = None
        previous: tuple[int, int] | None = None
        for text_index, heard_index in pairs:
            word = heard[heard_index]
            if (
                word.end > limit
                or text_index < self._cursor
                or self._implausibly_long(word, self._words[text_index])
            ):
                break
            if previous is not None and not self._fill_between(
                heard, previous, (text_index, heard_index)
            ):
                break
            self._cursor = text_index
            last = Placement(word.start, word.end, word.probability)
            self._commit_one(last)
            previous = (text_index, heard_index)
        return last

    def _fill_between(
        self, heard: list[TimedToken], before: tuple[int, int], after: tuple[int, int]
    ) -> bool:
        """Words between two confirmed ones; False where the stretch needs a forced look."""
        missing = after[0] - before[0] - 1
        unmatched_heard = after[1] - before[1] - 1
        span_start = heard[before[1]].end
        span_end = max(heard[after[1]].start, span_start)
        if missing <= 0:
            return span_end - span_start < 2.0
        if span_end - span_start > 1.0 + 0.7 * missing:
            return False  # more audio than words: something else is said in between
        if missing > 3 and missing > 2 * unmatched_heard + 2:
            self._cursor = after[0]
            return True
        step = (span_end - span_start) / missing
        for k in range(missing):
            self._commit_one(Placement(span_start + k * step, span_start + (k + 1) * step, 0.0))
        return True

    def _commit_one(self, placement: Placement) -> None:
        self.placed[self._cursor] = placement
        self._cursor += 1

    def _skip_text(
        self, window: EncodedWindow, forced: list[TimedToken], text_at: int, onset: float
    ) -> float:
        """The audio goes on with word `text_at`, but words before it are still open.

        A few words may have been misheard or hidden by noise before the match: retry once
        from where they would start, or keep their forced times when those fit before the
        match. Otherwise (a header, a dropped passage) they are not found.
        Returns where the next window starts."""
        gap = text_at - self._cursor
        retry_from = onset - 0.3 - gap * 0.4
        if (
            gap <= _SMALL_GAP_WORDS
            and self._retried != (self._cursor, text_at)
            and retry_from > window.start_s + 0.5
        ):
            self._retried = (self._cursor, text_at)
            self._after_skip = True
            return retry_from
        if self._forced_fits(forced[:gap], gap, onset):
            self._commit(forced[:gap])
        self._cursor = text_at
        return max(window.start_s, onset - 0.3)

    def _forced_fits(self, words: list[TimedToken], gap: int, onset: float) -> bool:
        """Whether the forced times of the words before a match are believable: all of them
        before the match, none stretched, and (for more than a few words) mostly probable,
        which tells a misheard passage from an unspoken one laid over music or silence."""
        if len(words) != gap or gap == 0:
            return False
        for k, word in enumerate(words):
            if word.end > onset + 0.2 or self._implausibly_long(
                word, self._words[self._cursor + k]
            ):
                return False
        probable = float(np.median([w.probability for w in words]))
        return gap <= _SMALL_GAP_WORDS or probable >= 0.3

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
