"""Which text goes in which window: forced alignment, verification and global resynchronisation.

The audio is walked in 30 s windows. Each window is force-aligned with the next stretch of
text (plus the already placed words it overlaps, as context); the leading words whose token
probabilities and durations look right are kept. Where the first words already look wrong, the
window is transcribed cheaply and the transcript is matched against the text ahead: text the
audio lacks is marked not found, audio the text lacks is skipped, so neither shifts later words.
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

import numpy as np

from alignment.audio import LEVEL_FRAME_S, SAMPLE_RATE, Levels, Samples, speech_threshold_db
from alignment.forced import MAX_TEXT_TOKENS, EncodedWindow, TimedToken
from alignment.text import ends_sentence, match_key

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncTunables:
    """The decisions' thresholds. Defaults were chosen on the dev benchmark (real and synthetic
    speech, both int8 CPU paths); each names the evidence it weighs."""

    #: Audio left at the end shorter than this is not aligned on its own.
    min_window_s: float = 0.3
    #: Most placed words given to a window again as context (its overlap with the last one).
    max_prefix_words: int = 40
    #: Words of new text offered to a window: the speaking rate so far times the window's
    #: length times this margin, plus `extra_candidate_words` (a fast speaker, a wrong rate).
    candidate_margin: float = 1.2
    extra_candidate_words: int = 8
    #: Frames quieter than this are digital silence or near it: no window starts in them.
    silence_db: float = -60.0
    #: Speech starting within this long of the walk's first window is heard well enough there
    #: to detect the language (20 s of it at least), so that window is encoded once for both;
    #: later speech gets a window of its own from just before it (a long intro).
    detect_in_first_window_s: float = 10.0
    #: Resync search (words of text ahead, matching words in a run needed), nearest first: a far
    #: jump needs more evidence, so repeated text (refrains, sponsor reads) matches the near copy.
    search_steps: tuple[tuple[int, int], ...] = ((40, 3), (250, 5), (1000, 7), (4000, 9))
    #: A run of matching words may skip this many words on either side (ASR slips, fillers).
    chain_max_skip: int = 4
    #: Score lost per word of text between the cursor and a run's first word: of two copies
    #: of the same passage, the nearer wins; a much longer run further on still wins.
    chain_distance_cost: float = 0.1
    #: A run whose text starts with fewer words than this fraction of those the speech since
    #: the last placed word holds (at the speaking rate so far) does not fit the timeline: a
    #: longer run of the same heard words at a later copy of the text that fits wins.
    timely_fraction: float = 0.5
    #: Where this many leading words (3 of them suspicious) look wrong, the window stops.
    bad_run_words: int = 4
    #: Right after skipped audio, of the first `evidence_words` words at least this many must
    #: be probable: one word (either way) is never enough evidence.
    evidence_words: int = 3
    min_probable_at_start: int = 2
    #: Probable words in a row that confirm a window whose first few words are unclear.
    clear_run_words: int = 5
    #: Longest time given to an unclear word right before the first clear ones after a skip.
    unclear_word_s: float = 0.5
    #: Words before a match that may be retried once or kept at their forced times.
    small_gap_words: int = 8
    #: A run of this many improbable or squeezed forced words at the start of the words
    #: before a match is text the audio lacks (`Synchronizer._lacking_run`).
    lacking_run_words: int = 4
    #: Sounding time one word may take (plus `digit_s` per digit).
    longest_word_s: float = 2.0
    #: Extra time a digit takes to say: "2026" is several spoken words.
    digit_s: float = 0.6
    #: Longest a word may take to say: base + per letter (a heard word longer than this gives
    #: a resync no onset; a kept word stretched over music is cut to it).
    heard_word_base_s: float = 0.4
    heard_letter_s: float = 0.12
    #: Less audio than this per word is no placement (text crammed into an instant).
    shortest_word_s: float = 0.06
    #: How far probable words before a match may run on under the next speaker (crosstalk).
    overlap_s: float = 1.0
    #: First step after a transcription that heard little; it doubles each time in a row.
    little_heard_step_s: float = 2.0
    #: Heard words ending before this long after the last kept word's end are that word again
    #: ...
    heard_again_s: float = 0.05
    #: ... unless they end at most `heard_under_last_s` before it and are not one of the last
    #: `heard_again_words` placed words: then they are the next word, heard under the last
    #: one's end (Whisper's forced end of a word before text the audio lacks runs on into
    #: the next speech: "crate." took in "It").
    heard_under_last_s: float = 0.5
    #: Measured: with the last three, a heard "The" after "the open sea." was taken for
    #: "the" heard again, and lost.
    heard_again_words: int = 1
    #: Seconds of sound between the last placed word and fewer than `evidence_words` words
    #: a window keeps, above which they are no evidence that the text is there.
    lone_jump_sound_s: float = 2.0
    #: Seconds of sound after the last word a window's transcription reached, above which
    #: the last window is transcribed again from there (its token budget ran out first).
    unheard_sound_s: float = 1.0
    #: Least time a run of several words takes on average (speech averages 0.15–0.5 s).
    average_word_s: float = 0.1
    #: Median probability a longer run of forced words needs to be kept before a match.
    probable_run: float = 0.3
    #: The phone model's path (`PhonePath`), where there is one: audio it looks at per step,
    #: and how near that stretch's end its words are left to the next step.
    phone_span_s: float = 20.0
    phone_edge_guard_s: float = 2.0
    #: Fewer sure words than this on the path: Whisper's window takes the step instead.
    phone_min_words: int = 4
    #: The path starts with the last placed word again; where it puts it further than this
    #: from where it was placed, the path is off track and Whisper's window takes the step.
    phone_lead_slack_s: float = 0.3
    #: A word on the path whose phones score below this mean log-probability is unsure.
    phone_min_log_prob: float = -4.0
    #: A word given more frames per phone than this is unsure: stretched over other sound
    #: (German speech inserted after "the open sea." took in "open"; 20 let it through).
    phone_max_frames_per_phone: float = 10.0
    #: Sounding time between two words on the path past which the audio holds something the
    #: text lacks (an advert, a missed passage): the path stops before the second.
    phone_max_gap_sound_s: float = 0.6


class WindowModel(Protocol):
    """What sync needs from a model: `forced.WindowAligner` is the real one; tests script one."""

    def encode(self, samples: Samples, spans: list[tuple[float, float]]) -> list[EncodedWindow]:
        """Encode windows [(start_s, end_s), …] of `samples`."""
        ...

    def token_ids(self, text: str) -> list[int]:
        """The tokens of one word of text."""
        ...

    def align(self, window: EncodedWindow, words: list[list[int]]) -> list[TimedToken]:
        """Force-align word token lists to the window; one TimedToken per word, in order."""
        ...

    def transcribe(self, window: EncodedWindow) -> list[TimedToken]:
        """What is heard in the window, with word times."""
        ...


@dataclass(frozen=True)
class PathWord:
    """One word on an acoustic model's path: its times (seconds), its phones' mean
    log-probability, how many phones it has and how many frames they span on the path."""

    start: float
    end: float
    log_prob: float
    phones: int
    frames: int


class PhonePath(Protocol):
    """Places words by an acoustic model alone (`scout.PhoneScout` is the real one)."""

    def spelled(self, index: int) -> bool:
        """Whether the model can look for word `index` at all."""
        ...

    def place(self, start_s: float, end_s: float, words: list[int]) -> list[PathWord]:
        """The leading words the best path through [start_s, end_s) reaches, with times."""
        ...


@dataclass(frozen=True)
class SyncOptions:
    window_s: float
    hop_s: float
    edge_guard_s: float
    min_word_probability: float
    batch_size: int
    tunables: SyncTunables = field(default_factory=SyncTunables)


@dataclass(frozen=True)
class Placement:
    """Raw model timing of one transcript word (before refinement)."""

    start: float
    end: float
    probability: float


class _Windows:
    """Encodes windows on demand, grid windows ahead in batches (on a GPU).

    The walk only moves forward, so windows that start before the one asked for are dropped;
    the others are kept (a stop or a resync does not throw away what may still be used). The
    batch doubles while the walk goes on along the grid; when it leaves the grid, the next
    batch is as long as the last run along it, so a walk that keeps stopping encodes little
    in vain."""

    def __init__(self, aligner: WindowModel, samples: Samples, options: SyncOptions) -> None:
        self._aligner = aligner
        self._samples = samples
        self._options = options
        self._duration = len(samples) / SAMPLE_RATE
        #: Window start -> the window, encoded in a batch with others.
        self._cache: dict[float, EncodedWindow] = {}
        self._ahead = max(1, options.batch_size)
        self._hits = 0
        self._grid_next = -1.0
        self.encoded = 0

    def get(self, start_s: float) -> EncodedWindow:
        key = round(start_s, 3)
        for behind in [k for k in self._cache if k < key]:
            del self._cache[behind]
        if key in self._cache:
            self._hits += 1
        else:
            self._encode_from(key)
        return self._cache[key]

    def _encode_from(self, key: float) -> None:
        most = max(1, self._options.batch_size)
        if key == self._grid_next:  # the walk went on along the grid: encode further ahead
            self._ahead = min(most, self._ahead * 2)
        elif self.encoded:  # it left the grid: the last run along it predicts the next
            self._ahead = min(most, self._hits + 1)
        self._hits = 0
        starts = [key + k * self._options.hop_s for k in range(self._ahead)]
        self._grid_next = round(starts[-1] + self._options.hop_s, 3)
        spans = [
            (s, min(s + self._options.window_s, self._duration))
            for s in starts
            if (self._worth_encoding(s) or s == key) and round(s, 3) not in self._cache
        ]
        for window in self._aligner.encode(self._samples, spans):
            self._cache[round(window.start_s, 3)] = window
        self.encoded += len(spans)

    def _worth_encoding(self, start: float) -> bool:
        return start < self._duration - self._options.tunables.min_window_s


class Synchronizer:
    """Places every speech word of the transcript, or leaves it unplaced (None)."""

    def __init__(
        self,
        aligner: WindowModel,
        samples: Samples,
        levels: Levels,
        words: list[str],
        options: SyncOptions,
        phones: PhonePath | None = None,
    ) -> None:
        self._aligner = aligner
        self._phones = phones
        #: Steps the phone model's path took (Whisper's windows took the others).
        self.phone_steps = 0
        #: The path's last step, while the steps since were the path's.
        self._path_step: _PathStep | None = None
        #: Whisper's windows take every step until the cursor gets here (after a handover).
        self._windows_until = 0
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
        self._little_heard = 0  # windows in a row where the transcription heard little
        #: The last window transcribed and what was heard in it.
        self._heard: tuple[EncodedWindow, list[TimedToken]] | None = None

    @property
    def windows_encoded(self) -> int:
        return self._windows.encoded

    def run(self, progress: Callable[[float], None]) -> list[Placement | None]:
        start = self._next_sound(0.0)
        steps = 0
        end = self._duration - self._tune.min_window_s
        while self._cursor < len(self.placed) and start < end:
            steps += 1
            if steps > 10 * len(self.placed) + 1000:
                break  # cannot happen: every step advances the text or the audio
            start = self._step(self._next_sound(start))
            progress(min(1.0, start / self._duration))
        if self._cursor < len(self.placed):
            self._log_unfound(self._cursor, len(self.placed), "the audio ended before them")
        return self.placed

    @property
    def _tune(self) -> SyncTunables:
        return self._options.tunables

    def _step(self, start: float) -> float:
        """Align one window starting at `start`; return where the next window starts."""
        if (
            self._phones is not None
            and not self._after_skip
            and self._cursor >= self._windows_until
        ):
            step = _PathStep(self._cursor, start, self._last_placement())
            ahead = self._phone_step(self._phones, start)
            if isinstance(ahead, float):
                self._path_step = step
                return ahead
            if ahead == "unsure" and self._path_step is not None:
                start = self._hand_over(self._path_step)
        self._path_step = None
        window = self._windows.get(start)
        kept, fresh = self._align_kept(window, start)
        if kept is not None:
            return kept
        return self._resync(window, fresh, self._limit(window), self._is_last(window))

    def _phone_step(self, phones: PhonePath, start: float) -> float | Literal["unsure", "none"]:
        """Place the next words on the phone model's path and keep those that look right;
        where the next window starts, or why Whisper's window takes this step: the path was
        not sure ("unsure"), or there was nothing for it to look for ("none": the next words
        cannot be spelled). The path starts with the last placed word again, as context:
        started at its end, it cut the next word's first sound wherever that end came late."""
        tune = self._tune
        lead = self._lead(phones, start)
        before = self.placed[lead] if lead is not None else None
        begin = before.start - 0.1 if before is not None else max(start, self._placed_end())
        end = min(begin + tune.phone_span_s, self._duration)
        new = self._phone_candidates(phones)
        last_words = self._cursor + len(new) == len(self.placed)
        if len(new) < tune.phone_min_words and not (new and last_words):
            return "none"
        found = phones.place(begin, end, [lead, *new] if lead is not None else new)
        after: float | None = begin if self._placed_end() > 0 else None
        if before is not None:
            if not found or abs(found[0].start - before.start) > tune.phone_lead_slack_s:
                return "unsure"  # the path lost the word it starts from: it is not on track
            after, found = found[0].end, found[1:]
            if found and found[0].start < before.start + tune.shortest_word_s:
                return "unsure"  # the next word would start before the one it follows
        guarded = _count_before(found, end - tune.phone_edge_guard_s)
        good = self._sure_on_path(found[:guarded], after)
        if end >= self._duration - 1e-3:
            # At the end of the recording the path may keep words up to its very end, but
            # only where it is sure of every word left: words squeezed into the last seconds
            # after a stretched one would push the rest out of the audio.
            whole = self._sure_on_path(found, after)
            if last_words and whole == len(new):
                good = whole
        if good < tune.phone_min_words and not (last_words and good == len(new)):
            logger.debug(
                "%.2f s: %d sure words on the phone path (%r…); Whisper looks",
                begin,
                good,
                " ".join(self._words[i] for i in new[good : good + 4]),
            )
            return "unsure"
        if before is not None and lead is not None and before.start < found[0].start < before.end:
            self.placed[lead] = replace(before, end=found[0].start)  # the path's boundary
        for word in found[:good]:
            self._commit_one(Placement(word.start, word.end, float(np.exp(word.log_prob))))
        self.phone_steps += 1
        logger.debug(
            "%.2f s: kept %d words on the phone path up to %.2f s", begin, good, found[good - 1].end
        )
        return max(found[good - 1].start - 0.1, start + 0.5)

    def _last_placement(self) -> Placement | None:
        return self.placed[self._cursor - 1] if self._cursor > 0 else None

    def _hand_over(self, path_step: _PathStep) -> float:
        """Where the path stops being sure right after a step it took, Whisper's windows
        take over from the start of that step: the words it placed are placed again (the
        path may have gone wrong shortly before it noticed: crosstalk, a word repeated four
        times in a row), and Whisper's walk goes on until past where the path stopped.
        Returns where the window starts."""
        cursor, start = path_step.cursor, path_step.start
        self._windows_until = self._cursor + 1
        logger.debug(
            "handing words %d-%d over to Whisper's windows from %.2f s",
            cursor,
            self._cursor - 1,
            start,
        )
        for index in range(cursor, self._cursor):
            self.placed[index] = None
        if cursor > 0:  # the step may have cut the end of the word it started from
            self.placed[cursor - 1] = path_step.lead
        self._cursor = cursor
        return start

    def _lead(self, phones: PhonePath, start: float) -> int | None:
        """The last placed word, where the walk goes on from it (not where it moved on past
        it: over an advert, say) and the path can look for it."""
        lead = self._cursor - 1
        placement = self.placed[lead] if lead >= 0 else None
        if placement is None or not phones.spelled(lead) or placement.start - 0.1 < start - 0.05:
            return None
        return lead

    def _phone_candidates(self, phones: PhonePath) -> list[int]:
        """The next words of text to look for on the path: as many as the stretch may hold
        at the speaking rate so far, up to the first word the model cannot look for."""
        tune = self._tune
        wanted = int(self._words_per_second() * tune.phone_span_s * tune.candidate_margin)
        new: list[int] = []
        for index in range(self._cursor, len(self.placed)):
            if len(new) >= wanted + tune.extra_candidate_words or not phones.spelled(index):
                break
            new.append(index)
        return new

    def _sure_on_path(self, words: list[PathWord], after: float | None) -> int:
        """How many leading words on the phone path look right: as in `_good_prefix`, a lone
        unsure word passes (a typo, a name said otherwise), a cluster stops the run, and the
        run never ends on an unsure word; sound the path passes over after the last placed
        word or between two of its words (audio the text lacks) stops it there."""
        tune = self._tune
        unsure: list[bool] = []
        # `after`: where the last placed word ends (None: before the first word placed in
        # the recording, where sound is no evidence of anything: a breath, room noise, an
        # intro; only unsure words stop the path there).
        before = after
        for word in words:
            sounding = self._sounding_s(before, word.start) if before is not None else 0.0
            if sounding > tune.phone_max_gap_sound_s:
                break
            unsure.append(
                word.log_prob < tune.phone_min_log_prob
                or self._stretched(word)
                or self._sounding_s(word.start, word.end) > tune.longest_word_s
            )
            before = word.end
        good = len(unsure)
        for k in range(len(unsure)):
            if unsure[k] and sum(unsure[k : k + 3]) >= 2:
                good = k
                break
        while good > 0 and unsure[good - 1]:
            good -= 1
        return good

    def _stretched(self, word: PathWord) -> bool:
        return word.frames > self._tune.phone_max_frames_per_phone * max(word.phones, 1)

    def _is_last(self, window: EncodedWindow) -> bool:
        return window.end_s >= self._duration - 1e-3

    def _limit(self, window: EncodedWindow) -> float:
        """Words ending after this are left to the next window (they may be cut off)."""
        if self._is_last(window):
            return window.end_s
        return window.end_s - self._options.edge_guard_s

    def _align_kept(
        self, window: EncodedWindow, start: float
    ) -> tuple[float | None, list[TimedToken]]:
        """Force-align the next words of text (after the placed words the window overlaps,
        its context) and keep those that look right. Returns where the next window starts
        (None: none kept) and the forced times of the words offered."""
        prefix = self._prefix(window.start_s)
        new = self._candidates(prefix)
        timed = self._aligner.align(window, [self._tokens[i] for i in prefix + new])
        fresh = timed[len(prefix) :]
        inside = _count_before(fresh, self._limit(window))
        after_skip, self._after_skip = self._after_skip, False
        good = self._good_prefix(
            fresh[:inside], [self._words[i] for i in new[:inside]], strict_start=after_skip
        )
        if good == 0:
            good = self._late_clear_run(fresh[:inside], [self._words[i] for i in new[:inside]])
            after_skip = after_skip or good > 0
        if good < inside and (good > 0 or (prefix and not after_skip)):
            # (with none kept, the word follows the window's context: the last placed word)
            good += self._keep_last_before_sound(fresh, good, new)
        if 0 < good < self._tune.evidence_words:
            # Reached over sound after the last placed word: text placed after audio it does
            # not hold (a lone last word of a transcript that stops early lands on any later
            # speech), which a word or two is no evidence against.
            sound = self._sounding_s(self._placed_end(), fresh[0].start)
            if sound > self._tune.lone_jump_sound_s:
                logger.debug(
                    "window %.2f s: %d word(s) at %.2f s after %.1f s of sound: no evidence",
                    window.start_s,
                    good,
                    fresh[0].start,
                    sound,
                )
                good = 0
        if good == 0:
            return None, fresh
        if after_skip:
            fresh[:good] = self._pull_unclear_start(fresh[:good])
        self._commit(fresh[:good])
        logger.debug(
            "window %.2f s: kept %d words up to %.2f s (word %d)",
            window.start_s,
            good,
            fresh[good - 1].end,
            self._cursor,
        )
        # The next grid window overlaps this one, so its start is known ahead (batching).
        # After a stop short of the window's end, the next window starts with the last
        # good word, which it gets as context.
        if good == inside and fresh[good - 1].end > window.start_s + self._options.hop_s:
            return window.start_s + self._options.hop_s, fresh
        return max(fresh[good - 1].start - 0.1, start + 0.5), fresh

    def _prefix(self, window_start: float) -> list[int]:
        indices: list[int] = []
        k = self._cursor - 1
        while k >= 0 and len(indices) < self._tune.max_prefix_words:
            placement = self.placed[k]
            if placement is None or placement.start < window_start + 0.05:
                break
            indices.append(k)
            k -= 1
        return indices[::-1]

    def _candidates(self, prefix: list[int]) -> list[int]:
        """The next words of text to offer the window, within the token budget that the
        prefix (context) leaves."""
        budget = MAX_TEXT_TOKENS - sum(len(self._tokens[i]) for i in prefix)
        rate = self._words_per_second() * self._options.window_s * self._tune.candidate_margin
        wanted = int(rate) + self._tune.extra_candidate_words
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
        (one improbable word alone is a typo or an ASR error in the text, not a mismatch), and
        never end on an improbable word: a lone word is no evidence that the text is here."""
        threshold = self._options.min_word_probability
        stretched = [self._implausibly_long(w, t) for w, t in zip(words, texts, strict=False)]
        suspicious = [w.probability < threshold or s for w, s in zip(words, stretched, strict=True)]
        if strict_start and not self._clear_start(suspicious):
            # Right after skipping audio the text lacks, the DTW likes to pull the text into
            # the skipped sound just before the window: the start must be clearly there.
            return 0
        good = len(words)
        for k in range(len(words)):
            run = suspicious[k : k + self._tune.bad_run_words]
            clustered = run[0] and sum(run) >= min(self._tune.bad_run_words - 1, len(run))
            if stretched[k] or clustered or self._crammed(words[k : k + 3]):
                good = k
                break
        while good > 0 and suspicious[good - 1]:
            good -= 1
        return good

    def _late_clear_run(self, words: list[TimedToken], texts: list[str]) -> int:
        """A few unclear first words followed by a clear run (`clear_run_words` probable
        words in a row): the text is here, its first words said under other sound (the end
        of the last speaker's turn, a jingle). How many words to keep (0: none)."""
        threshold = self._options.min_word_probability
        run = self._tune.clear_run_words
        for first in range(min(self._tune.evidence_words, len(words)) + 1):
            if first > 0 and self._smeared(words[first - 1], texts[first - 1]):
                return 0  # laid over other speech or music: the run may be too
            clear = words[first : first + run]
            if len(clear) == run and all(w.probability >= threshold for w in clear):
                rest = self._good_prefix(words[first:], texts[first:], strict_start=False)
                return first + rest if rest >= run else 0
        return 0

    def _keep_last_before_sound(self, fresh: list[TimedToken], good: int, new: list[int]) -> int:
        """The word that stopped a window because it lasts too long, when it is probable and
        follows the kept words without a gap: the last word before music or an advert,
        stretched over it by the DTW. Keep it, cut to the time its letters take (1 or 0)."""
        word, written = fresh[good], self._words[new[good]]
        follows = word.start - (fresh[good - 1].end if good else self._placed_end()) < 0.3
        if not (follows and word.probability >= self._options.min_word_probability):
            return 0
        if not self._implausibly_long(word, written):
            return 0
        fresh[good] = replace(word, end=word.start + self._plausible_s(written))
        logger.debug("kept word %d, stretched over other sound, cut to its letters", new[good])
        return 1

    def _pull_unclear_start(self, words: list[TimedToken]) -> list[TimedToken]:
        """Right after a skip, unclear leading words are confirmed by the clear words after
        them but not timed by them: the DTW stretches them back over the skipped sound. Put
        them just before the first two clear words in a row, at most `unclear_word_s` each."""
        threshold = self._options.min_word_probability
        clear = next(
            (
                k
                for k in range(len(words) - 1)
                if min(words[k].probability, words[k + 1].probability) >= threshold
            ),
            len(words) - 1,
        )
        out = list(words)
        for k in range(clear - 1, -1, -1):
            out[k] = self._just_before(out[k], out[k + 1].start)
        return out

    def _just_before(self, word: TimedToken, at: float) -> TimedToken:
        """An unclear word ending by `at`, at most `unclear_word_s` long (the DTW lays such a
        word over the sound before it)."""
        end = min(word.end, at)
        start = min(max(word.start, end - self._tune.unclear_word_s), end)
        return replace(word, start=start, end=end)

    def _crammed(self, run: list[TimedToken]) -> bool:
        """Words squeezed into an instant: the DTW's way of passing over text it cannot place
        (with repeated text the decoder finds them probable all the same)."""
        shortest = self._tune.shortest_word_s * len(run)
        return len(run) == 3 and run[-1].end - run[0].start < shortest

    def _clear_start(self, suspicious: list[bool]) -> bool:
        first = suspicious[: self._tune.evidence_words]
        needed = min(self._tune.min_probable_at_start, len(first))
        return len(first) > 0 and first.count(False) >= needed

    def _sounding_s(self, start: float, end: float) -> float:
        first = min(int(start / LEVEL_FRAME_S), len(self._loud_frames) - 1)
        last = min(int(end / LEVEL_FRAME_S), len(self._loud_frames) - 1)
        return float(self._loud_frames[last] - self._loud_frames[first]) * LEVEL_FRAME_S

    def _implausibly_long(self, word: TimedToken, written: str) -> bool:
        """More sound under one word than anyone takes to say it (pauses do not count;
        numbers are spoken much longer than they are written: "2026" is four words)."""
        longest = self._tune.longest_word_s
        if word.end - word.start <= longest:
            return False
        digits = sum(ch.isdigit() for ch in written)
        return self._sounding_s(word.start, word.end) > longest + self._tune.digit_s * digits

    def _smeared(self, word: TimedToken, written: str) -> bool:
        """A heard word that lasts far longer than its letters take to say (the transcription's
        DTW lays the first word it hears over the speech it skipped): its start is no onset."""
        longest = self._plausible_s(written)
        return word.end - word.start > longest or self._implausibly_long(word, written)

    def _plausible_s(self, written: str) -> float:
        """The longest a word takes to say, from its letters and digits."""
        letters = sum(ch.isalpha() for ch in written)
        digits = sum(ch.isdigit() for ch in written)
        tune = self._tune
        return tune.heard_word_base_s + tune.heard_letter_s * letters + tune.digit_s * digits

    def _placed_end(self) -> float:
        """Where the last placed word ends (0 before any)."""
        last = next((p for p in reversed(self.placed[: self._cursor]) if p is not None), None)
        return last.end if last is not None else 0.0

    def _commit(self, words: list[TimedToken]) -> None:
        for word in words:
            self._commit_one(Placement(word.start, word.end, word.probability))

    def _resync(
        self, window: EncodedWindow, forced: list[TimedToken], limit: float, is_last: bool
    ) -> float:
        """The window's first words do not fit: find out from what is actually said."""
        self.resyncs += 1
        # A window starts just before the last kept word: hearing that word again must not
        # match it to a later copy of it in the text.
        done = self._placed_end()
        heard = [w for w in self._transcription(window) if match_key(w.text) and self._new(w, done)]
        pairs = self._anchors(heard)
        if not pairs:
            return self._nothing_matched(window, heard, limit, is_last)
        # A heard word smeared over music or other speech has no usable start: begin with
        # the first confirmed word that is not.
        while len(pairs) > 1 and self._smeared(heard[pairs[0][1]], self._words[pairs[0][0]]):
            pairs = pairs[1:]
        text_at, heard_at = pairs[0]
        onset = heard[heard_at].start
        logger.debug(
            "window %.2f s: resync at %.2f s on %d matching words (word %d, %d ahead)",
            window.start_s,
            onset,
            len(pairs),
            text_at,
            text_at - self._cursor,
        )
        if text_at > self._cursor:
            # Text the audio lacks (a header, a dropped passage) or a few hidden words.
            tail = self._heard_tail(heard, heard_at, text_at)
            return self._skip_text(window, forced, text_at, onset, tail)
        if onset > window.start_s + 1.0:
            self._after_skip = True
            logger.debug("skipped %.2f-%.2f s: audio the text lacks", window.start_s, onset)
            return onset - 0.3  # audio the text lacks before the match: align from there
        last = self._commit_anchored(heard, pairs, limit)
        if last is None:  # the heard times do not hold up either: move on a little
            return min(max(limit, window.start_s + 1.0), window.start_s + 2.0)
        return max(last.start - 0.1, window.start_s + 0.5)

    def _new(self, heard: TimedToken, done: float) -> bool:
        """Whether a heard word may be text after the last placed word, which ends at `done`:
        it ends after that, or a little before it and is none of the last placed words."""
        tune = self._tune
        if heard.end > done + tune.heard_again_s:
            return True
        placed = (i for i in reversed(range(self._cursor)) if self.placed[i] is not None)
        recent = {self._keys[i] for i in itertools.islice(placed, tune.heard_again_words)}
        return heard.end > done - tune.heard_under_last_s and match_key(heard.text) not in recent

    def _transcription(self, window: EncodedWindow) -> list[TimedToken]:
        """What is heard in the window; a window resynced again (the walk went on within it)
        reuses its transcription, which would come out the same."""
        if self._heard is None or self._heard[0] is not window:
            self._heard = (window, self._aligner.transcribe(window))
        return self._heard[1]

    def _heard_stopped_short(self, window: EncodedWindow, heard: list[TimedToken]) -> bool:
        """Whether the transcription stopped (at its token budget) with sound left after it
        in the window: what it did not reach may hold the text, also in the last window."""
        return bool(heard) and (
            self._sounding_s(heard[-1].end, window.end_s) > self._tune.unheard_sound_s
        )

    def _nothing_matched(
        self, window: EncodedWindow, heard: list[TimedToken], limit: float, is_last: bool
    ) -> float:
        little = len(heard) < self._sounding_s(window.start_s, limit) / 4.0
        if is_last and (little or not self._heard_stopped_short(window, heard)):
            return window.end_s
        if little:
            # Whisper sometimes stops after a word or two: that says nothing about the
            # window, so move on only a little and look again; a little further each time
            # in a row (a long music bed must not make the walk crawl).
            longest = limit - 2.0 - window.start_s
            step = min(self._tune.little_heard_step_s * 2.0**self._little_heard, longest)
            self._little_heard += 1
            logger.debug(
                "window %.2f s: little heard, looking again %.1f s on", window.start_s, step
            )
            return window.start_s + max(step, 1.0)
        self._little_heard = 0
        # Nothing of the text is said here (music, an ad, another language), as far as the
        # transcription went: it stops at its token budget, so what it did not reach is
        # looked at again.
        heard_to = heard[-1].end if heard else limit
        resume = max(window.start_s + 1.0, min(limit - 2.0, heard_to - 0.5))
        self._after_skip = True
        logger.debug(
            "skipped %.2f-%.2f s: %d heard words, none matching the text ahead",
            window.start_s,
            resume,
            len(heard),
        )
        return resume

    def _anchors(self, heard: list[TimedToken]) -> list[tuple[int, int]]:
        """(text index, heard index) of words the transcription confirms, in order.

        Runs of heard words said in the written order are found anywhere in the text ahead;
        the nearest search reach that holds a long enough run wins (a far jump needs more
        words in a row), and within it a nearer run beats an equal one further on, so
        repeated text is matched to the copy at the cursor, not to a later one, unless the
        near copy cannot fit the time the speech before it took (`_timely`)."""
        keys = [match_key(w.text) for w in heard]
        if len(keys) == 1:  # a lone word counts only as the very next word of the text
            return [(self._cursor, 0)] if keys[0] == self._keys[self._cursor] else []
        farthest = self._tune.search_steps[-1][0]
        chains = _chains(
            keys, self._keys[self._cursor : self._cursor + farthest], self._tune.chain_max_skip
        )
        for step, (reach, needed) in enumerate(self._tune.search_steps):
            # Only the nearest search may make do with a short transcription.
            wanted = min(needed, len(keys)) if step == 0 else needed
            near = [c for c in chains if c[0][1] < reach and len(c) >= wanted]
            if near:
                cost = self._tune.chain_distance_cost
                best = max(near, key=lambda c: (len(c) - cost * c[0][1], -c[0][1]))
                best = self._timely(best, chains, heard)
                return [(self._cursor + j, i) for i, j in best]
        return []

    def _timely(
        self,
        best: list[tuple[int, int]],
        chains: list[list[tuple[int, int]]],
        heard: list[TimedToken],
    ) -> list[tuple[int, int]]:
        """`best`, or a longer run that hears the same words as a later copy of the text
        which fits the time since the last placed word. Where the transcription passed over
        a stretch of speech (its first word smeared over it), a phrase said after it may also
        stand a few words ahead in the text, in the stretch: matched there, the walk would
        take the later saying for the nearer copy and lose its place."""
        fits = [c for c in chains if len(c) > len(best) and self._far_enough(c)]
        mine = dict(best)
        for rival in sorted(fits, key=lambda c: c[0][1]):
            shared = next((i for i, _ in rival if i in mine), None)
            if shared is None or rival[0][1] <= best[0][1]:
                continue
            said = self._sounding_s(self._placed_end(), heard[shared].start)
            expected = said * self._words_per_second()
            theirs = dict(rival)[shared]
            if mine[shared] >= self._tune.timely_fraction * expected:
                return best  # the near copy fits the time: keep it
            if abs(theirs - expected) < abs(mine[shared] - expected):
                logger.debug(
                    "run at word %d (%d ahead) leaves %.1f s of speech for %d words: "
                    "the same heard words at word %d fit the time",
                    self._cursor + best[0][1],
                    best[0][1],
                    said,
                    mine[shared],
                    self._cursor + rival[0][1],
                )
                return rival
        return best

    def _far_enough(self, chain: list[tuple[int, int]]) -> bool:
        """Whether a run holds the matching words its distance asks for (`search_steps`)."""
        offset = chain[0][1]
        needed = next((n for reach, n in self._tune.search_steps if offset < reach), None)
        return needed is not None and len(chain) >= needed

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
        if last is not None:
            logger.debug("placed words up to %d at heard times (to %.2f s)", self._cursor, last.end)
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
            self._log_unfound(before[0] + 1, after[0], "not heard between confirmed words")
            self._cursor = after[0]
            return True
        if span_end - span_start < self._tune.shortest_word_s * missing:
            return False  # no time to say them here: the match is not what it seems
        step = (span_end - span_start) / missing
        for k in range(missing):
            self._commit_one(Placement(span_start + k * step, span_start + (k + 1) * step, 0.0))
        return True

    def _commit_one(self, placement: Placement) -> None:
        self._little_heard = 0
        self.placed[self._cursor] = placement
        self._cursor += 1

    def _skip_text(
        self,
        window: EncodedWindow,
        forced: list[TimedToken],
        text_at: int,
        onset: float,
        tail: list[TimedToken],
    ) -> float:
        """The audio goes on with word `text_at`, but words before it are still open.

        A few words may have been misheard or hidden by noise before the match: retry once
        from where they would start, or keep their forced times when those fit before the
        match. Otherwise (a header, a dropped passage) they are not found, except the `tail`:
        words just before the match that were heard just before it (a title spoken right
        after the intro music, whose first word the transcription smeared over the music).
        Returns where the next window starts."""
        gap = text_at - self._cursor
        retry_from = onset - 0.3 - gap * 0.4
        if (
            gap <= self._tune.small_gap_words
            and self._retried != (self._cursor, text_at)
            and retry_from > window.start_s + 0.5
        ):
            self._retried = (self._cursor, text_at)
            self._after_skip = True
            logger.debug("retrying %d words before the match from %.2f s", gap, retry_from)
            return retry_from
        lacking = self._lacking_run(forced[:gap])
        if lacking:
            # Text the audio lacks, crammed in before the words that are said (a sentence cut
            # from the recording): the walk goes on after it from where it was crammed.
            self._log_unfound(self._cursor, self._cursor + lacking, "crammed before the match")
            self._cursor += lacking
            self._after_skip = True
            return max(window.start_s + 0.5, forced[0].start - 0.3)
        if self._forced_fits(forced[:gap], gap, onset):
            self._commit(self._before_onset(forced[:gap], onset))
            logger.debug("kept %d words before the match at their forced times", gap)
            if onset - 0.3 > window.start_s and self._whole_context(window.start_s):
                # The words before the match now lead into it as context: align the rest of
                # this window again before paying for a new one at the match.
                kept, _ = self._align_kept(window, window.start_s)
                if kept is not None:
                    return kept
        else:
            heard_from = text_at - len(tail)
            self._log_unfound(self._cursor, heard_from, f"the audio goes on with word {text_at}")
            self._cursor = heard_from
            self._commit(tail)
            if tail:
                logger.debug("placed %d words heard right before the match", len(tail))
        self._cursor = text_at
        return max(window.start_s, onset - 0.3)

    def _whole_context(self, window_start: float) -> bool:
        """Whether every word placed since `window_start` is given to the window as context
        (none left out by the context's limit or unplaced): aligned again with them, the
        window's next words start where they end."""
        prefix = self._prefix(window_start)
        before = self._cursor - len(prefix) - 1
        if not prefix:
            return False
        if before < 0:
            return True
        placement = self.placed[before]
        return placement is not None and placement.start < window_start + 0.05

    def _before_onset(self, words: list[TimedToken], onset: float) -> list[TimedToken]:
        """Words kept before a match end by its onset: where they run on under the next
        speaker (crosstalk) or sit squeezed against it, they are fitted in before it, so
        the next speaker's words, which were heard, keep their times."""
        done = self._placed_end()
        first = max(words[0].start, done)
        last = words[-1].end
        if last <= onset or onset <= first:
            return words
        span = self._tune.shortest_word_s * len(words)
        if onset - first < span:  # too little room: share what there is before the onset
            first = max(done, onset - span)
        scale = (onset - first) / max(last - words[0].start, 1e-6)
        return [
            replace(
                w,
                start=first + (w.start - words[0].start) * scale,
                end=first + (w.end - words[0].start) * scale,
            )
            for w in words
        ]

    def _heard_tail(self, heard: list[TimedToken], heard_at: int, text_at: int) -> list[TimedToken]:
        """Words of the text right before `text_at` that were heard, in order, right before
        heard word `heard_at`; each at most `unclear_word_s` before the next (the first heard
        word after music is laid over the music)."""
        tail: list[TimedToken] = []
        after = heard[heard_at].start
        i, j = text_at - 1, heard_at - 1
        while i >= self._cursor and j >= 0 and match_key(heard[j].text) == self._keys[i]:
            tail.append(self._just_before(heard[j], after))
            after = tail[-1].start
            i, j = i - 1, j - 1
        return tail[::-1]

    def _lacking_run(self, words: list[TimedToken]) -> int:
        """How many of the forced words before a match, from the first, are text the audio
        lacks: a run of at least `lacking_run_words` words each improbable or squeezed into
        less than `shortest_word_s`, squeezed together into less than `average_word_s` a
        word (unclear speech gives improbable words with room), up to its last sentence end
        when it has one (the words said after a cut sentence are squeezed with it: "This
        sentence was cut … aired. The captains"), or 0. Only where probable words follow:
        those are said."""
        tune = self._tune
        run = 0
        for word in words:
            squeezed = word.end - word.start < tune.shortest_word_s
            if not squeezed and word.probability >= self._options.min_word_probability:
                break
            run += 1
        if run < tune.lacking_run_words or run == len(words):
            return 0
        if words[run - 1].end - words[0].start >= tune.average_word_s * run:
            return 0
        ends = [k + 1 for k in range(run) if ends_sentence(self._words[self._cursor + k])]
        return ends[-1] if ends else run

    def _forced_fits(self, words: list[TimedToken], gap: int, onset: float) -> bool:
        """Whether the forced times of the words before a match are believable: all of them
        before the match, none stretched, and (for more than a few words) mostly probable,
        which tells a misheard passage from an unspoken one laid over music or silence.
        A few words are kept whatever their probabilities: numbers and names written
        otherwise than spoken are improbable where they are said."""
        if len(words) != gap or gap == 0:
            return False
        probable = float(np.median([w.probability for w in words]))
        # Probable words may run on under the next speaker (crosstalk), others must end by
        # the match.
        overlap = self._tune.overlap_s if probable >= self._tune.probable_run else 0.2
        for k, word in enumerate(words):
            if word.end > onset + overlap or self._implausibly_long(
                word, self._words[self._cursor + k]
            ):
                return False
        squeezed = gap >= 3 and words[-1].end - words[0].start < self._tune.average_word_s * gap
        if squeezed:
            # Squeezed into an instant: improbable, text the audio lacks (a dropped passage
            # over a pause); probable, words said under the next speaker (crosstalk), which
            # the DTW cannot spread because the words around them hold the time.
            return probable >= self._tune.probable_run
        return gap <= self._tune.small_gap_words or probable >= self._tune.probable_run

    def _log_unfound(self, first: int, stop: int, reason: str) -> None:
        if stop > first:
            logger.debug(
                "marked %d words not found (%d-%d, %r…): %s",
                stop - first,
                first,
                stop - 1,
                self._words[first],
                reason,
            )

    def _next_sound(self, at_s: float) -> float:
        return next_sound(self._levels, at_s, self._tune.silence_db, self._duration)


def next_sound(levels: Levels, at_s: float, silence_db: float, duration_s: float) -> float:
    """Where a window from `at_s` starts: past digital silence or near-silence, 0.2 s before
    the sound (the walk's first window starts at `next_sound(levels, 0.0, ...)`)."""
    first = int(at_s / LEVEL_FRAME_S)
    loud = np.flatnonzero(levels[first:] > silence_db)
    if len(loud) == 0:
        return duration_s
    return max(at_s, (first + int(loud[0])) * LEVEL_FRAME_S - 0.2)


@dataclass(frozen=True)
class _PathStep:
    """Where a step of the phone path started: the cursor, the walk's time, and the word
    before it as it was placed then (the step may cut its end)."""

    cursor: int
    start: float
    lead: Placement | None


def _count_before(words: list[TimedToken] | list[PathWord], limit: float) -> int:
    count = 0
    for word in words:
        if word.end > limit or word.start >= limit:
            break
        count += 1
    return count


def _chains(heard: list[str], text: list[str], max_skip: int) -> list[list[tuple[int, int]]]:
    """Runs of heard words said in the written order: lists of (heard index, text index) with
    equal keys, each step advancing both sides by 1 to `max_skip` (slips, fillers, a missed
    word). Every pair belongs to at most one run; runs come best first."""
    where: dict[str, list[int]] = defaultdict(list)
    for j, key in enumerate(text):
        if key:
            where[key].append(j)
    score: dict[tuple[int, int], float] = {}
    back: dict[tuple[int, int], tuple[int, int] | None] = {}
    for i, key in enumerate(heard):
        for j in where.get(key, ()) if key else ():
            best, previous = 1.0, None
            for di in range(1, max_skip + 1):
                for dj in range(1, max_skip + 1):
                    earlier = score.get((i - di, j - dj))
                    if earlier is None:
                        continue
                    total = earlier + 1.0 - 0.3 * (max(di, dj) - 1) - 0.3 * abs(di - dj)
                    if total > best:
                        best, previous = total, (i - di, j - dj)
            score[(i, j)], back[(i, j)] = best, previous
    used: set[tuple[int, int]] = set()
    chains: list[list[tuple[int, int]]] = []
    for end in sorted(score, key=lambda pair: (-score[pair], pair[1])):
        chain: list[tuple[int, int]] = []
        node: tuple[int, int] | None = end
        while node is not None and node not in used:
            chain.append(node)
            node = back[node]
        if len(chain) > 0 and end not in used:
            used.update(chain)
            chains.append(chain[::-1])
    return chains
