"""Where an alignment spends its time: seconds and calls per stage (decode, encode, align, …)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from alignment.audio import Samples
from alignment.forced import EncodedWindow, TimedToken
from alignment.sync import WindowModel
from alignment.types import StageTime

#: The stages in the order they are reported (others follow in the order first seen).
STAGES = ("decode", "vad", "phones", "path", "encode", "align", "transcribe", "refine", "acoustic")


class StageClock:
    """Sums time and calls per stage; safe to use from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds: dict[str, float] = {}
        self._calls: dict[str, int] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def add(self, name: str, seconds: float, calls: int = 1) -> None:
        with self._lock:
            self._seconds[name] = self._seconds.get(name, 0.0) + seconds
            self._calls[name] = self._calls.get(name, 0) + calls

    def report(self) -> tuple[StageTime, ...]:
        with self._lock:
            names = [s for s in STAGES if s in self._seconds]
            names += [s for s in self._seconds if s not in STAGES]
            return tuple(
                StageTime(name, round(self._seconds[name], 3), self._calls[name]) for name in names
            )


def profile_line(stages: tuple[StageTime, ...]) -> str:
    """One line a person reads: `encode 12.3 s/40, align 4.1 s/52, …`."""
    return ", ".join(f"{s.stage} {s.seconds:.1f} s/{s.calls}" for s in stages)


class _Wrapper:
    """A window model (see `sync.WindowModel`) that passes every call on to `inner`; the
    wrappers below change what they must."""

    def __init__(self, inner: WindowModel) -> None:
        self._inner = inner

    def encode(self, samples: Samples, spans: list[tuple[float, float]]) -> list[EncodedWindow]:
        return self._inner.encode(samples, spans)

    def token_ids(self, text: str) -> list[int]:
        return self._inner.token_ids(text)

    def align(self, window: EncodedWindow, words: list[list[int]]) -> list[TimedToken]:
        return self._inner.align(window, words)

    def transcribe(self, window: EncodedWindow) -> list[TimedToken]:
        return self._inner.transcribe(window)


class TimedWindowModel(_Wrapper):
    """A window model (see `sync.WindowModel`) whose encode, align and transcribe calls are
    timed on a StageClock; a transcription's own forced alignment counts as transcription."""

    def __init__(self, inner: WindowModel, clock: StageClock) -> None:
        super().__init__(inner)
        self._clock = clock

    def encode(self, samples: Samples, spans: list[tuple[float, float]]) -> list[EncodedWindow]:
        started = time.perf_counter()
        out = self._inner.encode(samples, spans)
        self._clock.add("encode", time.perf_counter() - started, len(spans))
        return out

    def align(self, window: EncodedWindow, words: list[list[int]]) -> list[TimedToken]:
        with self._clock.stage("align"):
            return self._inner.align(window, words)

    def transcribe(self, window: EncodedWindow) -> list[TimedToken]:
        with self._clock.stage("transcribe"):
            return self._inner.transcribe(window)


class SecondWindowAsked(Exception):
    """The walk asked a `OneWindowModel` for a second window."""


class OneWindowModel(_Wrapper):
    """A window model that encodes one window and refuses any other (`SecondWindowAsked`):
    for a walk that is only worth finishing on one window."""

    def __init__(self, inner: WindowModel) -> None:
        super().__init__(inner)
        self._encoded = False

    def encode(self, samples: Samples, spans: list[tuple[float, float]]) -> list[EncodedWindow]:
        if self._encoded or len(spans) > 1:
            raise SecondWindowAsked
        self._encoded = True
        return self._inner.encode(samples, spans)


class SeededWindowModel(_Wrapper):
    """A window model that hands out windows encoded earlier (to detect the language) when
    the walk asks for the same stretch, once each, and encodes the rest as `inner` does."""

    def __init__(self, inner: WindowModel, ready: list[EncodedWindow]) -> None:
        super().__init__(inner)
        self._ready = {_span_key(w.start_s, w.end_s): w for w in ready}

    def encode(self, samples: Samples, spans: list[tuple[float, float]]) -> list[EncodedWindow]:
        found = [self._ready.pop(_span_key(*span), None) for span in spans]
        missing = [span for span, window in zip(spans, found, strict=True) if window is None]
        fresh = iter(self._inner.encode(samples, missing) if missing else [])
        return [window if window is not None else next(fresh) for window in found]


def _span_key(start_s: float, end_s: float) -> tuple[float, float]:
    return round(start_s, 3), round(end_s, 3)
