"""An episode excerpt with hand-made word times that exercises every caption rule."""

from __future__ import annotations

from alignment.text import TextToken, tokenize
from alignment.types import Word, WordStatus

TRANSCRIPT = """Episode 12 show notes
[Music]
ANNA: Welcome back to the Harbour Hour. Today we talk about tides, boats & the people who
read the sky over the {old} docks — and why "weather apps" still lose to <grandfathers>.
BEN: Thanks, Anna. I grew up here, so I'll try to keep it short and honest.
(laughs) The first thing to know is that the sea does not care about your schedule.
"""
# Seconds per spoken word: the header is not in the audio, "honest." is missed by the model.
_UNSPOKEN = {"Episode", "12", "show", "notes"}
_MISSED = {"honest."}


def _word(
    index: int, token: TextToken, span: tuple[float, float] | None, status: WordStatus
) -> Word:
    start, end = (round(span[0], 3), round(span[1], 3)) if span else (None, None)
    score = 0.9 if span else 0.0
    return Word(index, token.text, token.char_start, token.char_end, start, end, score, status)


def episode() -> tuple[str, list[Word]]:
    """The transcript and hand-timed words: a header not in the audio, music and laughter
    markup, two speakers, symbols and characters that need escaping, one word the model missed."""
    words: list[Word] = []
    at_s = 10.0
    for index, token in enumerate(tokenize(TRANSCRIPT)):
        if token.kind == "markup":
            words.append(_word(index, token, None, "non_speech"))
        elif token.text in _UNSPOKEN or token.text in _MISSED:
            words.append(_word(index, token, None, "not_found"))
            at_s += 0.4 if token.text in _MISSED else 0.0
        else:
            length_s = 0.12 + 0.045 * len(token.text)
            words.append(_word(index, token, (at_s, at_s + length_s), "aligned"))
            at_s += length_s + (0.6 if token.text.endswith((".", "?")) else 0.05)
            at_s += 1.5 if token.text == "Anna." else 0.0
    return TRANSCRIPT, words
