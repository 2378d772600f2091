"""A scripted window model over a planted timeline, for testing `sync` without Whisper.

It behaves like the real one where sync's decisions depend on it: forced alignment finds
the given words among those spoken in the window, in order, with good probabilities, and
lays the rest, improbable, over whatever time is left between them (the DTW always places
every token); transcription hears what is spoken in the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from alignment.audio import LEVEL_FRAME_S, SAMPLE_RATE, Levels, Samples
from alignment.forced import EncodedWindow, TimedToken
from alignment.sync import PathWord, Placement, Synchronizer, SyncOptions
from alignment.text import match_key

HEARD_PROBABILITY = 0.9
#: Whisper's transcription stops at its token budget: about this many words per window.
HEARD_WORDS_PER_WINDOW = 50
UNMATCHED_PROBABILITY = 0.01
#: Mean log-probabilities of a word's phones on the phone model's path, where it is said and
#: where it is not.
SURE_LOG_PROB = -0.5
UNSURE_LOG_PROB = -8.0


@dataclass(frozen=True)
class Spoken:
    text: str
    start: float
    end: float


@dataclass
class Timeline:
    """What the audio holds: spoken words (of the text or not) and other loud sound."""

    duration_s: float
    spoken: list[Spoken] = field(default_factory=list)
    sound: list[tuple[float, float]] = field(default_factory=list)  # music, noise
    #: Speech the model makes nothing of: forced alignment finds none of its words and the
    #: transcription passes over it, its first word after laid over the stretch.
    unclear: list[tuple[float, float]] = field(default_factory=list)

    def say(self, text: str, at_s: float, word_s: float = 0.3, gap_s: float = 0.05) -> float:
        """Speak the words of `text` from `at_s`; return when the speaker stops."""
        t = at_s
        for word in text.split():
            self.spoken.append(Spoken(word, t, t + word_s))
            t += word_s + gap_s
        return t - gap_s

    def mumble(self, text: str, at_s: float) -> float:
        """Speak `text` from `at_s`, unclearly; return when the speaker stops."""
        end = self.say(text, at_s)
        self.unclear.append((at_s, end))
        return end

    def play(self, start_s: float, end_s: float) -> float:
        self.sound.append((start_s, end_s))
        return end_s

    def levels(self) -> Levels:
        frames = np.full(int(self.duration_s / LEVEL_FRAME_S) + 1, -90.0, dtype=np.float32)
        for start, end in [(w.start, w.end) for w in self.spoken] + self.sound:
            frames[int(start / LEVEL_FRAME_S) : int(end / LEVEL_FRAME_S) + 1] = -20.0
        return frames

    def samples(self) -> Samples:
        # Only the length is read: a zero-stride view costs no memory, even for 3 hours.
        silent: Samples = np.broadcast_to(
            np.zeros(1, dtype=np.float32), (int(self.duration_s * SAMPLE_RATE),)
        )
        return silent


class ScriptedModel:
    """A `sync.WindowModel` that reads its answers off a timeline."""

    def __init__(self, timeline: Timeline) -> None:
        self._spoken = sorted(timeline.spoken, key=lambda w: w.start)
        self._sound = timeline.sound
        self._unclear = timeline.unclear
        self._starts = np.array([w.start for w in self._spoken])
        self._ids: dict[str, int] = {}
        self.aligned = 0
        self.transcribed = 0
        self.encoded = 0
        self.encoded_starts: list[float] = []

    def token_ids(self, text: str) -> list[int]:
        return [self._ids.setdefault(match_key(text), len(self._ids))]

    def encode(self, samples: Samples, spans: list[tuple[float, float]]) -> list[EncodedWindow]:
        del samples
        self.encoded += len(spans)
        self.encoded_starts += [start for start, _ in spans]
        return [EncodedWindow(s, e - s, np.zeros((1, 1), dtype=np.float32)) for s, e in spans]

    def _inside(self, window: EncodedWindow) -> list[Spoken]:
        first = int(np.searchsorted(self._starts, window.start_s))
        last = int(np.searchsorted(self._starts, window.end_s))
        return [
            w
            for w in self._spoken[first:last]
            if w.end <= window.end_s and not any(a <= w.start < b for a, b in self._unclear)
        ]

    def transcribe(self, window: EncodedWindow) -> list[TimedToken]:
        """What is said in the window, up to the budget; the first word heard after music or
        unclear speech is laid over it (its start is where that sound starts)."""
        self.transcribed += 1
        heard = [
            TimedToken(w.text, w.start, w.end, HEARD_PROBABILITY)
            for w in self._inside(window)[:HEARD_WORDS_PER_WINDOW]
        ]
        if heard:
            first = heard[0]
            passed = self._sound + self._unclear
            music = [a for a, b in passed if window.start_s <= b <= first.start and b > a]
            if music:
                heard[0] = TimedToken(first.text, max(window.start_s, min(music)), first.end, 0.2)
        return heard

    def align(self, window: EncodedWindow, words: list[list[int]]) -> list[TimedToken]:
        self.aligned += 1
        heard = self._inside(window)
        pairs = _common_order([w[0] for w in words], [self.token_ids(h.text)[0] for h in heard])
        pairs = _contiguous(pairs)
        out: list[TimedToken | None] = [None] * len(words)
        for given, spoken in pairs:
            h = heard[spoken]
            out[given] = TimedToken("", h.start, h.end, HEARD_PROBABILITY)
        return _spread_unmatched(out, window, [w[0] for w in words])


class ScriptedPhones:
    """A `sync.PhonePath` that reads its answers off a timeline, as the phone model's open-
    ended path would: the text's words that are said in the stretch, in order and without a
    long run of other speech between them (the path passes over a little as blank), at
    their times and sure; words of the text between two of them that are not said there,
    squeezed between them and unsure; the path ends after the last word it found."""

    def __init__(self, timeline: Timeline, words: list[str]) -> None:
        self._model = ScriptedModel(timeline)
        self._words = words
        self.steps = 0

    def spelled(self, index: int) -> bool:
        return any(ch.isalpha() for ch in self._words[index])

    def place(self, start_s: float, end_s: float, words: list[int]) -> list[PathWord]:
        self.steps += 1
        heard = self._model._inside(EncodedWindow(start_s, end_s - start_s, np.zeros((1, 1))))
        keys = [match_key(self._words[i]) for i in words]
        pairs = _contiguous(_common_order(keys, [match_key(h.text) for h in heard]))
        if not pairs:
            return []
        # Words before the first one said here are squeezed in before it, unsure.
        first_at = heard[pairs[0][1]].start
        room = max(first_at - start_s, 0.0) / max(pairs[0][0], 1)
        out = [
            PathWord(
                start_s + k * room, start_s + (k + 1) * room, UNSURE_LOG_PROB, 3, _frames(room)
            )
            for k in range(pairs[0][0])
        ]
        for (given, spoken), following in zip(pairs, [*pairs[1:], None], strict=True):
            h = heard[spoken]
            out.append(PathWord(h.start, h.end, SURE_LOG_PROB, 3, _frames(h.end - h.start)))
            if following is None:
                break
            missing = following[0] - given - 1
            room = max(heard[following[1]].start - h.end, 0.0) / max(missing, 1)
            for k in range(missing):
                at = h.end + k * room
                out.append(PathWord(at, at + room, UNSURE_LOG_PROB, 3, _frames(room)))
        return out


def _frames(seconds: float) -> int:
    """Frames of 20 ms a stretch spans on a path (at least one)."""
    return max(1, round(seconds / 0.02))


def _common_order(given: list[int], heard: list[int]) -> list[tuple[int, int]]:
    """The longest common subsequence, as (given index, heard index) pairs."""
    n, m = len(given), len(heard)
    table = np.zeros((n + 1, m + 1), dtype=np.int32)
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if given[i] == heard[j]:
                table[i, j] = table[i + 1, j + 1] + 1
            else:
                table[i, j] = max(table[i + 1, j], table[i, j + 1])
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if given[i] == heard[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif table[i + 1, j] >= table[i, j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _contiguous(pairs: list[tuple[int, int]], slack: int = 3) -> list[tuple[int, int]]:
    """The DTW starts at the window's start and cannot jump over a long stretch of other
    speech: matches hold only while at most `slack` heard words lie between them."""
    kept: list[tuple[int, int]] = []
    previous = -1
    for given, spoken in pairs:
        if spoken - previous - 1 > slack:
            break
        kept.append((given, spoken))
        previous = spoken
    return kept


def _spread_unmatched(
    out: list[TimedToken | None], window: EncodedWindow, given: list[int]
) -> list[TimedToken]:
    """Unmatched words share the time between their matched neighbours, evenly. They are
    improbable, except where the text repeats a pair of words it was given earlier: the
    decoder copies repeated text confidently whatever the audio says (as Whisper does)."""
    result: list[TimedToken] = []
    k = 0
    while k < len(out):
        word = out[k]
        if word is not None:
            result.append(word)
            k += 1
            continue
        run_end = k
        while run_end < len(out) and out[run_end] is None:
            run_end += 1
        left = result[-1].end if result else window.start_s
        following = out[run_end] if run_end < len(out) else None
        right = following.start if following is not None else window.end_s
        step = max(right - left, 0.0) / (run_end - k)
        for n in range(run_end - k):
            start = left + n * step
            seen = _repeats(given, k + n)
            probability = HEARD_PROBABILITY if seen else UNMATCHED_PROBABILITY
            result.append(TimedToken("", start, start + step, probability))
        k = run_end
    return result


def _repeats(given: list[int], k: int) -> bool:
    pair = given[k - 1 : k + 1]
    return k > 0 and any(given[j : j + 2] == pair for j in range(k - 1))


def synchronize(
    timeline: Timeline,
    text: str,
    batch_size: int = 1,
    phones: ScriptedPhones | None = None,
) -> tuple[list[Placement | None], ScriptedModel]:
    """Run sync over the timeline with the engine's default window settings (and a phone
    path walking ahead of the windows, where one is given)."""
    model = ScriptedModel(timeline)
    options = SyncOptions(
        window_s=30.0,
        hop_s=27.0,
        edge_guard_s=2.0,
        min_word_probability=0.1,
        batch_size=batch_size,
    )
    words = text.split()
    sync = Synchronizer(model, timeline.samples(), timeline.levels(), words, options, phones)
    return sync.run(lambda fraction: None), model
