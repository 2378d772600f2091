"""Which words a viewer sees, with display times for words the audio did not confirm."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alignment.types import Word, WordStatus


@dataclass(frozen=True)
class CueWord:
    """A word as shown in captions. `turn` counts speaker changes; `after_markup` marks a word
    that follows non-speech markup such as "[laughter]" (a fair place for a new cue)."""

    index: int
    text: str
    start: float
    end: float
    status: WordStatus
    score: float
    speaker: str | None = None
    turn: int = 0
    after_markup: bool = False


def display_words(words: Sequence[Word]) -> list[CueWord]:
    """The transcript's spoken words between the first and last aligned one.

    Markup is dropped (speaker labels become the `speaker` of what follows); unconfirmed words
    at either end (a show-notes header, a trailing credit) are dropped; unconfirmed words in
    between are shown at times shared out, by length, over the gap their neighbours leave.
    """
    aligned = [i for i, w in enumerate(words) if w.status == "aligned" and w.start is not None]
    if not aligned:
        return []
    first, last = aligned[0], aligned[-1]
    speaker = _speaker_before(words, first)
    turn, after_markup = 0, False
    shown: list[CueWord] = []
    pending: list[Word] = []
    for word in words[first : last + 1]:
        if word.status == "non_speech":
            label = _speaker_label(word.text)
            if label is not None:  # never before the first word: it is aligned
                speaker, turn = label or None, turn + 1
            after_markup = True
            continue
        if word.status != "aligned" or word.start is None or word.end is None:
            pending.append(word)
            continue
        if pending:
            shown += _fill(pending, shown[-1].end, word.start, speaker, turn)
            pending = []
        shown.append(
            CueWord(
                word.index,
                word.text,
                word.start,
                word.end,
                "aligned",
                word.score,
                speaker,
                turn,
                after_markup,
            )
        )
        after_markup = False
    return shown


def _speaker_before(words: Sequence[Word], first: int) -> str | None:
    """The speaker named by the last label before the first shown word."""
    speaker: str | None = None
    for word in words[:first]:
        if word.status == "non_speech":
            label = _speaker_label(word.text)
            if label is not None:
                speaker = label or None
    return speaker


def _speaker_label(markup: str) -> str | None:
    """ "ANNA:" -> "ANNA"; ">>" (a new, unnamed speaker) -> ""; other markup -> None."""
    text = markup.strip()
    if text.startswith(">>"):
        text = text[2:].strip()
        if not text:
            return ""
    if text.endswith(":") and len(text) > 1 and not text[:-1].strip().isdigit():
        return text[:-1].strip()
    return None


def _fill(
    pending: list[Word], gap_start: float, gap_end: float, speaker: str | None, turn: int
) -> list[CueWord]:
    span = max(0.0, gap_end - gap_start)
    total = sum(len(w.text) + 1 for w in pending)
    out: list[CueWord] = []
    at = gap_start
    for word in pending:
        length = span * (len(word.text) + 1) / total
        out.append(
            CueWord(
                word.index,
                word.text,
                round(at, 3),
                round(at + length, 3),
                word.status,
                word.score,
                speaker,
                turn,
            )
        )
        at += length
    return out
