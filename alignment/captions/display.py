"""Which words a viewer sees, with display times for words the audio did not confirm."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from alignment.text import CLOSERS, speaker_name
from alignment.types import Word, WordStatus

#: Roughly how long a word takes to say, per character (with its space): ~15 characters a
#: second, conversational English.
_SPOKEN_S_PER_CHAR = 0.065
#: Bounds on the time an unconfirmed word may take on screen.
_SPOKEN_MIN_S = 0.15
_SPOKEN_MAX_S = 0.6
#: A gap up to this many times what its unconfirmed words take to say is all speech: they
#: share it. A longer one holds something else (music, an advert) that stays uncaptioned.
_SPREAD_FACTOR = 1.5
#: Unconfirmed words that would have to be said this many times faster than usual to fit
#: their gap were not said there: they are not shown (a sentence the audio lacks).
_CRAMMED_FACTOR = 3.0
#: How many words after a label must include an aligned one for it to head a spoken turn.
_TURN_PROBE_WORDS = 3
_SENTENCE_END = (".", "!", "?", "…")
#: What may follow a sentence's last word: quotes and brackets.


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


@dataclass(frozen=True)
class _Pending:
    """An unconfirmed word waiting for the next aligned one to know its gap."""

    word: Word
    speaker: str | None
    turn: int
    after_markup: bool


def display_words(words: Sequence[Word]) -> list[CueWord]:
    """The transcript's spoken words between the first and last aligned one.

    Markup is dropped (speaker labels that behave like speakers become the `speaker` of what
    follows); unconfirmed words at either end (a show-notes header, a trailing credit) are
    dropped; unconfirmed words in between are shown next to their aligned neighbours, for about
    as long as they take to say, so a long gap (music, an advert) stays empty.
    """
    aligned = [i for i, w in enumerate(words) if w.status == "aligned" and w.start is not None]
    if not aligned:
        return []
    first, last = aligned[0], aligned[-1]
    speakers = speaker_labels(words)
    speaker = _speaker_before(words, first, speakers)
    turn, after_markup = 0, False
    shown: list[CueWord] = []
    pending: list[_Pending] = []
    for position in range(first, last + 1):
        word = words[position]
        if word.status == "non_speech":
            if position in speakers:  # never before the first word: it is aligned
                speaker, turn = speakers[position] or None, turn + 1
            after_markup = True
            continue
        if word.status != "aligned" or word.start is None or word.end is None:
            pending.append(_Pending(word, speaker, turn, after_markup))
            after_markup = False
            continue
        if pending:
            shown += _placed(pending, shown[-1], word.start)
            pending = []
        shown.append(_shown(word, word.start, word.end, speaker, turn, after_markup))
        after_markup = False
    return shown


def speaker_labels(words: Sequence[Word]) -> dict[int, str]:
    """The labels that name speakers, by position: "" for an unnamed new voice (">>").

    A label counts where it behaves like one: it reads as a name (not "Audio Format:" or a
    time), it heads spoken words (an aligned word among the few after it, so a label inside
    an unspoken header does not), and, where other names recur, it is not a one-off before
    the first of them.
    """
    candidates: dict[int, str] = {}
    for position, word in enumerate(words):
        if word.status != "non_speech":
            continue
        name = speaker_name(word.text)
        if name is not None and (name == "" or _heads_speech(words, position)):
            candidates[position] = name
    uses = Counter(name.casefold() for name in candidates.values() if name)
    recurring = [p for p, name in candidates.items() if name and uses[name.casefold()] > 1]
    # Where names recur, a one-off before the conversation starts is a heading, not a voice.
    opening = min(recurring, default=-1)
    return {
        position: name
        for position, name in candidates.items()
        if not name or uses[name.casefold()] > 1 or position > opening
    }


def _heads_speech(words: Sequence[Word], position: int) -> bool:
    for word in words[position + 1 : position + 1 + _TURN_PROBE_WORDS]:
        if word.status == "non_speech":
            return False
        if word.status == "aligned":
            return True
    return False


def _speaker_before(words: Sequence[Word], first: int, speakers: dict[int, str]) -> str | None:
    """The speaker named by the last label before the first shown word."""
    before = [position for position in speakers if position < first]
    return (speakers[max(before)] or None) if before else None


def _shown(
    word: Word, start: float, end: float, speaker: str | None, turn: int, after_markup: bool
) -> CueWord:
    return CueWord(
        word.index,
        word.text,
        round(start, 3),
        round(end, 3),
        word.status,
        word.score,
        speaker,
        turn,
        after_markup,
    )


def _spoken_s(word: Word) -> float:
    return min(max(_SPOKEN_S_PER_CHAR * (len(word.text) + 1), _SPOKEN_MIN_S), _SPOKEN_MAX_S)


def _placed(pending: list[_Pending], before: CueWord, gap_end: float) -> list[CueWord]:
    """Times for unconfirmed words between two aligned ones.

    A gap with less than a third of the time they take to say was not theirs: only the words
    that lead into the word after it are shown, if they fit. A gap no longer than they take to
    say is shared out by length. A longer one is not all speech: the words that finish the
    sentence before the gap follow it, the rest lead into the word after it, each for as long
    as it takes to say; the time between stays empty.
    """
    gap_start = before.end
    span = max(0.0, gap_end - gap_start)
    needed = [_spoken_s(p.word) for p in pending]
    if span * _CRAMMED_FACTOR < sum(needed):
        # Far too short for them: not said here (a sentence the audio lacks). Only the words
        # that lead into the next aligned one (after the last sentence end or change of
        # speaker) are shown, where they fit.
        lead = _lead_in(pending)
        wanted = sum(needed[lead:])
        if lead == len(pending) or span * _CRAMMED_FACTOR < wanted:
            return []
        scale = min(1.0, span / wanted)
        return _laid_out(
            pending[lead:], [n * scale for n in needed[lead:]], gap_end - wanted * scale
        )
    if span <= _SPREAD_FACTOR * sum(needed):
        scale = span / sum(needed)
        return _laid_out(pending, [n * scale for n in needed], gap_start)
    tail = _sentence_tail(pending, before)
    lead_in = pending[tail:]
    return _laid_out(pending[:tail], needed[:tail], gap_start) + _laid_out(
        lead_in, needed[tail:], gap_end - sum(needed[tail:])
    )


def _ends_sentence(text: str) -> bool:
    return text.rstrip(CLOSERS).endswith(_SENTENCE_END)


def _lead_in(pending: list[_Pending]) -> int:
    """Where the pending words that lead into the next aligned word start: after the last
    one that ends a sentence, at the last change of speaker or markup."""
    start = 0
    for position, item in enumerate(pending):
        if item.after_markup or (position and item.turn != pending[position - 1].turn):
            start = position
        if _ends_sentence(item.word.text):
            start = position + 1
    return start


def _sentence_tail(pending: list[_Pending], before: CueWord) -> int:
    """How many of the pending words finish the sentence the word before them started."""
    if _ends_sentence(before.text):
        return 0
    for count, item in enumerate(pending, start=1):
        if item.turn != before.turn or item.after_markup:
            return count - 1
        if _ends_sentence(item.word.text):
            return count
    return len(pending)


def _laid_out(pending: list[_Pending], lengths_s: list[float], at_s: float) -> list[CueWord]:
    out: list[CueWord] = []
    for item, length_s in zip(pending, lengths_s, strict=True):
        out.append(
            _shown(item.word, at_s, at_s + length_s, item.speaker, item.turn, item.after_markup)
        )
        at_s += length_s
    return out
