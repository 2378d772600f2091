"""The phone model walks ahead of Whisper: the next words of text placed by the acoustic pass's
small CTC model alone, for the walk to keep where they look right.

Whisper's walk pays for a 30 s encode per window, whatever the window holds. The phone model
scores the whole recording for a fraction of that (its frames are computed once, a block at a
time, and shared by every step), and a forced path through its frames places ordinary speech as
well as Whisper's does. It cannot tell the text from other speech said in its place, so the walk
keeps only what looks right by the rules in `sync` and hands the rest (text the audio lacks,
audio the text lacks, music, crosstalk, words the lexicon cannot spell) to Whisper's windows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from alignment.acoustic import AcousticOptions, PhoneScorer, word_span
from alignment.audio import SAMPLE_RATE, Samples
from alignment.ctc import Emissions, align_prefix
from alignment.sync import PathWord

#: Seconds of audio scored at once, and the context added on each side (its frames are
#: dropped: the model sees no further than its input, so a block's edges score worse).
BLOCK_S = 10.0
BLOCK_CONTEXT_S = 0.4


class RecordingFrames:
    """The phone model's frame scores over a whole recording, each block computed when first
    asked for, and the next few ahead of it in `workers` background threads (the walk asks
    for them next); safe to use from several threads."""

    def __init__(
        self,
        scorer: PhoneScorer,
        samples: Samples,
        on_block: Callable[[float], None],
        workers: int = 1,
    ) -> None:
        self.scorer = scorer
        self.frame_s = scorer.frame_s
        self._samples = samples
        self._per_block = round(BLOCK_S / self.frame_s)
        self._count = -(-len(samples) // round(self.frame_s * SAMPLE_RATE))
        self._blocks: dict[int, Future[Emissions]] = {}
        self._lock = threading.Lock()
        self._on_block = on_block
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="phones")
        # Four blocks a worker: while Whisper's windows run at a hand-over the workers keep
        # scoring (with two, they idled; 0.5 s of the long-form case, bench/RESULTS.md).
        self._ahead = 4 * max(1, workers)

    def close(self) -> None:
        """Stop scoring ahead (blocks under way finish)."""
        for future in self._blocks.values():
            future.cancel()
        self._pool.shutdown(wait=True)

    def __enter__(self) -> RecordingFrames:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def count(self) -> int:
        """Frames in the recording."""
        return self._count

    def frames(self, first: int, stop: int) -> Emissions:
        """Scores of frames [first, stop)."""
        first, stop = max(0, first), min(stop, self._count)
        if stop <= first:
            return np.zeros((0, 1), dtype=np.float32)
        blocks = range(first // self._per_block, (stop - 1) // self._per_block + 1)
        with self._lock:
            last = min(blocks[-1] + self._ahead, (self._count - 1) // self._per_block)
            for index in range(blocks[0], last + 1):
                if index not in self._blocks:
                    self._blocks[index] = self._pool.submit(self._score, index)
            wanted = [self._blocks[b] for b in blocks]
        rows = np.concatenate([future.result() for future in wanted])
        offset = blocks[0] * self._per_block
        return rows[first - offset : stop - offset]

    def _score(self, index: int) -> Emissions:
        started = time.perf_counter()
        hop = round(self.frame_s * SAMPLE_RATE)
        context = round(BLOCK_CONTEXT_S / self.frame_s)
        first = index * self._per_block
        stop = min(first + self._per_block, self._count)
        a = max(0, first - context)
        b = min(self._count, stop + context)
        scores = self.scorer.emissions(self._samples[a * hop : b * hop])
        rows = scores[first - a : first - a + (stop - first)]
        if len(rows) < stop - first:  # the model's last frame may fall short: repeat it
            pad = np.repeat(scores[-1:], stop - first - len(rows), axis=0)
            rows = np.concatenate([rows, pad])
        self._on_block(time.perf_counter() - started)
        return np.ascontiguousarray(rows, dtype=np.float32)


class PhoneScout:
    """Places runs of words on the phone model's path through a stretch of audio."""

    def __init__(
        self,
        frames: RecordingFrames,
        labels: Sequence[list[int]],
        options: AcousticOptions | None = None,
        on_path: Callable[[float], None] | None = None,
        shift_s: float = 0.0,
    ) -> None:
        """`shift_s` is added to every time: the walk's placements carry Whisper's lag, which
        the refinement takes off."""
        self._frames = frames
        self._shift = shift_s
        self._labels = labels
        self._options = options or AcousticOptions()
        self._on_path = on_path

    def spelled(self, index: int) -> bool:
        """Whether the phone model can look for word `index` (the lexicon spells it)."""
        return bool(self._labels[index])

    def place(self, start_s: float, end_s: float, words: list[int]) -> list[PathWord]:
        """The leading words of `words` that the best path through [start_s, end_s) reaches
        (it may end before the text does), in order, with their times (times in and out are
        the walk's, `shift_s` after the audio's)."""
        started = time.perf_counter()
        frame = self._frames.frame_s
        first = max(0, round((start_s - self._shift) / frame))
        # The walk's stretch ends at the recording's end at most; in audio time that is
        # `shift_s` earlier, but the path may use the frames up to the end.
        reaches_end = end_s >= self._frames.count * frame - 1e-6
        stop = self._frames.count if reaches_end else round((end_s - self._shift) / frame)
        emissions = self._frames.frames(first, stop)
        offset = first * frame + self._shift
        out: list[PathWord] = []
        for phones in align_prefix(emissions, [self._labels[i] for i in words], blank=0):
            (start, end), log_prob = word_span(phones, offset, frame, self._options)
            frames = phones[-1].last + 1 - phones[0].first
            out.append(PathWord(start, end, log_prob, len(phones), frames))
        if self._on_path is not None:
            self._on_path(time.perf_counter() - started)
        return out
