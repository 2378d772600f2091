"""Words -> caption cues: where to break, how to wrap lines, when each cue shows."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from alignment.captions.display import CueWord
from alignment.captions.options import CaptionOptions
from alignment.text import CLOSERS

_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
_CLAUSE_END = (",", ";", ":", "—", "–", "-", "、", "，")

# English words that lead the word after them: a line or cue must not end on one.
_LEADING_WORDS_EN = frozenset(
    """a an the this that these those my your his her its our their some any no every each
    of to in on at by for from with about into onto over under after before between through
    during without within against among upon via per than as
    and or but nor so if when while because although though unless until whether
    is are was were be been being am do does did have has had will would shall should can
    could may might must not i he she we they who which whose where
    most many much few several all both half none
    mr mrs ms dr st""".split()  # noqa: SIM905 (a word list reads better as text)
)

# Costs of ending a cue (or a line) after a word; lower is a better place to break.
_COST_SENTENCE = 0.0
_COST_CLAUSE = 2.0
_COST_PAUSE = 2.5
_COST_MARKUP = 2.0
_COST_PHRASE = 4.0  # before a function word: between phrases
_COST_PLAIN = 7.0  # between two content words: inside a phrase
_COST_LEADING_WORD = 25.0
_COST_PER_CUE = 1.0
_COST_MID_LINE_SENTENCE = 3.0
_LINE_BREAK_WEIGHT = 0.8  # a line break inside a cue matters less than a cue break


@dataclass(frozen=True)
class Cue:
    """One caption: its display times, its lines of words, and who speaks it."""

    start: float
    end: float
    lines: tuple[tuple[CueWord, ...], ...]
    speaker: str | None = None

    @property
    def words(self) -> tuple[CueWord, ...]:
        return tuple(word for line in self.lines for word in line)

    @property
    def text_lines(self) -> tuple[str, ...]:
        return tuple(" ".join(word.text for word in line) for line in self.lines)


def build_cues(
    words: Sequence[CueWord], options: CaptionOptions, *, language: str | None = None
) -> list[Cue]:
    """Group displayed words into cues, wrap their lines, and time them."""
    breaker = _Breaker(options, _leading_words(language))
    groups: list[list[CueWord]] = []
    for block in _turns(words):
        groups += breaker.split(block)
    return _timed(groups, breaker, options)


def _leading_words(language: str | None) -> frozenset[str]:
    """The no-break list applies to English; other languages break at punctuation and pauses."""
    return _LEADING_WORDS_EN if language is None or language.startswith("en") else frozenset()


def _turns(words: Sequence[CueWord]) -> list[list[CueWord]]:
    """Runs of words by one speaker: a speaker change always starts a new cue."""
    blocks: list[list[CueWord]] = []
    for word in words:
        if blocks and blocks[-1][-1].turn == word.turn:
            blocks[-1].append(word)
        else:
            blocks.append([word])
    return blocks


class _Breaker:
    """Optimal cue breaks over a speaker turn (dynamic programming over break costs)."""

    def __init__(self, options: CaptionOptions, leading: frozenset[str]) -> None:
        self.opts = options
        self.leading = leading
        self._chars: list[int] = []
        self._pauses: list[float] = []
        self._breaks: list[float] = []
        self._sentences: list[int] = []

    def split(self, block: list[CueWord]) -> list[list[CueWord]]:
        n = len(block)
        self._chars, self._pauses = [0], [0.0]
        self._breaks = [self.break_cost(a, b) for a, b in itertools.pairwise(block)]
        self._sentences = [0]  # prefix count of sentence ends before each word boundary
        for cost in self._breaks:
            self._sentences.append(self._sentences[-1] + (cost == _COST_SENTENCE))
        for i, word in enumerate(block):
            self._chars.append(self._chars[-1] + len(word.text) + 1)
            gap = block[i + 1].start - word.end if i + 1 < n else 0.0
            # A cue spanning a pause shows text before it is said: worse the longer the pause.
            penalty = 2.0 + 3.0 * min(gap, 5.0) if gap >= self.opts.pause_break_s else 0.0
            self._pauses.append(self._pauses[-1] + penalty)
        best = [math.inf] * (n + 1)
        back = [0] * (n + 1)
        best[0] = 0.0
        for s in range(n):
            if best[s] == math.inf:
                continue
            wrap = _GreedyWrap(self.opts.max_chars_per_line)
            for e in range(s, n):
                wrap.add(block[e].text)
                single = e == s
                if not single and wrap.lines > self.opts.max_lines:
                    break
                if not single and block[e].end - block[s].start > self.opts.max_duration_s:
                    break
                cost = best[s] + self._cue_cost(block, s, e)
                if cost < best[e + 1]:
                    best[e + 1], back[e + 1] = cost, s
        groups: list[list[CueWord]] = []
        e = n
        while e > 0:
            groups.append(block[back[e] : e])
            e = back[e]
        return groups[::-1]

    def _cue_cost(self, block: list[CueWord], s: int, e: int) -> float:
        opts = self.opts
        cost = _COST_PER_CUE
        if e + 1 < len(block):
            cost += self._breaks[e]
        chars = self._chars[e + 1] - self._chars[s] - 1
        short = 0.2 * opts.max_chars_per_line * opts.max_lines
        if chars < short:
            cost += 3.0 * (1.0 - chars / short)
        following = block[e + 1].start if e + 1 < len(block) else block[e].end + 2.0
        shown = min(following - opts.min_gap_s, block[s].start + opts.max_duration_s)
        shown = max(shown - block[s].start, block[e].end - block[s].start, 0.001)
        if shown < opts.min_duration_s:
            cost += 2.0 * (opts.min_duration_s - shown)
        cost += 0.5 * max(0.0, chars / shown - opts.max_chars_per_s)
        if opts.max_lines == 2 and chars > opts.max_chars_per_line:
            cost += self._line_break_cost(s, e)
        return cost + self._pauses[e] - self._pauses[s]  # pauses inside the cue

    def _line_break_cost(self, s: int, e: int) -> float:
        """The best place to break a two-line cue: a good break, lines of similar length."""
        width = self.opts.max_chars_per_line
        chars = self._chars
        best = math.inf
        for b in range(s + 1, e + 1):  # the second line starts at word b
            first, second = chars[b] - chars[s] - 1, chars[e + 1] - chars[b] - 1
            if first > width:
                break
            if second > width:
                continue
            balance = 20.0 * ((first - second) / (2 * width)) ** 2
            # A sentence that ends mid-line of a two-line cue reads badly.
            inside = self._sentences[e] - self._sentences[s]
            at_break = self._breaks[b - 1] == _COST_SENTENCE
            mid_line = _COST_MID_LINE_SENTENCE * (inside - at_break)
            best = min(best, _LINE_BREAK_WEIGHT * self._breaks[b - 1] + balance + mid_line)
        return 0.0 if best == math.inf else best

    def _abbreviation(self, text: str, after: str) -> bool:
        """A full stop that ends an abbreviation, not a sentence: the text goes on in lower
        case or with a number ("Elm St. before", "Jan. 15", "the S.V.O. report"), or it is a
        title the language's list holds before a name ("Dr. Ellis")."""
        if not text.endswith("."):
            return False
        first = _first_letter(after)
        return first.islower() or first.isdigit() or _bare(text) in self.leading

    def break_cost(self, before: CueWord, after: CueWord) -> float:
        """How bad it is to end a cue or a line between these two words."""
        text = before.text.rstrip(CLOSERS)
        if text.endswith(_SENTENCE_END) and not self._abbreviation(text, after.text):
            return _COST_SENTENCE
        cost = _COST_PHRASE if _bare(after.text) in self.leading else _COST_PLAIN
        if text.endswith(_CLAUSE_END):
            cost = _COST_CLAUSE
        if after.after_markup:
            cost = min(cost, _COST_MARKUP)
        if after.start - before.end >= self.opts.pause_break_s:
            cost = min(cost, _COST_PAUSE) - 0.5
        if _bare(before.text) in self.leading:
            cost += _COST_LEADING_WORD
        return cost


def _first_letter(text: str) -> str:
    return next((ch for ch in text if ch.isalnum()), "")


def _bare(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch == "'").split("'")[0]


class _GreedyWrap:
    """Counts the lines a greedy wrap needs: the fewest possible at this width."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.lines = 0
        self.current = 0

    def add(self, text: str) -> None:
        if self.lines and self.current + 1 + len(text) <= self.width:
            self.current += 1 + len(text)
        else:
            self.lines += 1
            self.current = len(text)


def wrap_lines(
    group: Sequence[CueWord], width: int, breaker: _Breaker
) -> tuple[tuple[CueWord, ...], ...]:
    """The fewest lines that fit, balanced in length and broken at good places."""
    wrap = _GreedyWrap(width)
    for word in group:
        wrap.add(word.text)
    count, n = wrap.lines, len(group)
    if count <= 1:
        return (tuple(group),)
    ends = [0]
    for word in group:
        ends.append(ends[-1] + len(word.text) + 1)
    target = (ends[n] - 1) / count

    def length(a: int, b: int) -> int:
        return ends[b] - ends[a] - 1

    # best[k][b]: cost of putting words[:b] on k lines.
    best = [[math.inf] * (n + 1) for _ in range(count + 1)]
    back = [[0] * (n + 1) for _ in range(count + 1)]
    best[0][0] = 0.0
    for k in range(1, count + 1):
        for b in range(1, n + 1):
            for a in range(b - 1, -1, -1):
                if length(a, b) > width and b - a > 1:
                    break
                if best[k - 1][a] == math.inf:
                    continue
                cost = best[k - 1][a] + ((length(a, b) - target) / width) ** 2 * 20
                if b < n:
                    cost += breaker.break_cost(group[b - 1], group[b])
                if cost < best[k][b]:
                    best[k][b], back[k][b] = cost, a
    lines: list[tuple[CueWord, ...]] = []
    b = n
    for k in range(count, 0, -1):
        a = back[k][b]
        lines.append(tuple(group[a:b]))
        b = a
    return tuple(lines[::-1])


def _timed(groups: list[list[CueWord]], breaker: _Breaker, opts: CaptionOptions) -> list[Cue]:
    """Display times: from the first word; to the last word, lengthened for reading and
    chained to the next cue across short gaps; never overlapping, a small gap between, never
    longer than the maximum duration."""
    cues: list[Cue] = []
    for i, group in enumerate(groups):
        start = math.floor(group[0].start * 1000 + 1e-6) / 1000
        if cues:
            start = max(start, cues[-1].end + opts.min_gap_s)
        spoken_end = max(group[-1].end, start)
        chars = sum(len(w.text) + 1 for w in group) - 1
        wanted = max(spoken_end, start + opts.min_duration_s, start + chars / opts.max_chars_per_s)
        wanted = min(wanted, start + opts.max_duration_s)
        if i + 1 < len(groups):
            next_start = groups[i + 1][0].start
            if next_start - wanted < opts.chain_gap_s:
                wanted = min(next_start - opts.min_gap_s, start + opts.max_duration_s)
            wanted = min(wanted, next_start - opts.min_gap_s)
        # Never longer than the maximum, even for a word said slowly or shown after a crowd.
        end = min(max(wanted, spoken_end, start + 0.001), start + opts.max_duration_s)
        lines = wrap_lines(group, opts.max_chars_per_line, breaker)
        cues.append(Cue(start, math.ceil(end * 1000 - 1e-6) / 1000, lines, group[0].speaker))
    return cues
