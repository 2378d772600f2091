"""Group aligned words into caption cues of at most N lines of at most M characters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alignment.types import Word

_SENTENCE_END = (".", "!", "?", "…")
_CLAUSE_END = (",", ";", ":", "—", "–")


@dataclass(frozen=True)
class CueOptions:
    max_chars_per_line: int = 42
    max_lines: int = 2
    max_duration_s: float = 7.0
    min_gap_s: float = 0.08
    pause_break_s: float = 0.5


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]


def build_cues(words: Sequence[Word], options: CueOptions | None = None) -> list[Cue]:
    """Cues from the aligned words, breaking at sentence ends, clauses and pauses."""
    opts = options or CueOptions()
    placed = [w for w in words if w.status == "aligned" and w.start is not None]
    groups: list[list[Word]] = []
    for word in placed:
        if not groups or _starts_new_cue(groups[-1], word, opts):
            groups.append([word])
        else:
            groups[-1].append(word)
    cues = [_cue(group, opts) for group in groups]
    return _separate(cues, opts.min_gap_s)


def _starts_new_cue(group: list[Word], word: Word, opts: CueOptions) -> bool:
    last = group[-1]
    assert last.end is not None and word.end is not None and group[0].start is not None
    if last.text.endswith(_SENTENCE_END) and _text_length(group) > opts.max_chars_per_line // 2:
        return True
    if word.start is not None and word.start - last.end >= opts.pause_break_s:
        return True
    if word.end - group[0].start > opts.max_duration_s:
        return True
    return len(_wrap([*group, word], opts.max_chars_per_line)) > opts.max_lines


def _text_length(group: list[Word]) -> int:
    return len(" ".join(w.text for w in group))


def _wrap(group: list[Word], width: int) -> list[str]:
    lines: list[str] = []
    for word in group:
        if lines and len(lines[-1]) + 1 + len(word.text) <= width:
            lines[-1] += " " + word.text
        else:
            lines.append(word.text)
    return lines


def _cue(group: list[Word], opts: CueOptions) -> Cue:
    assert group[0].start is not None and group[-1].end is not None
    return Cue(group[0].start, group[-1].end, tuple(_balanced(group, opts)))


def _balanced(group: list[Word], opts: CueOptions) -> list[str]:
    """Two lines of similar length where one line would not do."""
    text = " ".join(w.text for w in group)
    if len(text) <= opts.max_chars_per_line or opts.max_lines < 2:
        return _wrap(group, opts.max_chars_per_line)
    best: list[str] | None = None
    for split in range(1, len(group)):
        first = " ".join(w.text for w in group[:split])
        second = " ".join(w.text for w in group[split:])
        if max(len(first), len(second)) > opts.max_chars_per_line:
            continue
        if best is None or abs(len(first) - len(second)) < abs(len(best[0]) - len(best[1])):
            best = [first, second]
    return best or _wrap(group, opts.max_chars_per_line)


def _separate(cues: list[Cue], min_gap_s: float) -> list[Cue]:
    """No overlaps: each cue ends a small gap before the next one starts."""
    out: list[Cue] = []
    for i, cue in enumerate(cues):
        end = cue.end
        if i + 1 < len(cues):
            end = min(end, cues[i + 1].start - min_gap_s)
        out.append(Cue(cue.start, max(end, cue.start + 0.01), cue.lines))
    return out
