"""An episode excerpt with hand-made word times that exercises every caption rule."""

from __future__ import annotations

import random

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


# A long episode as a real one arrives: an archive page's show notes on top (labels that are
# not speakers, a clock time), music, two speakers taking turns, laughter, a 45 s advert that
# the text leaves out with ten words after it the model missed, short runs of missed words,
# a word drawn out over a music bed, and credits at the end that are never read.
LONG_HEADER = """The Long Tide, episode 212: Night Ferries
Broadcast on: 20 Sep 2024, 10:30
Audio Format: MP3, 128 kbps stereo
Note: this transcript was edited for clarity.
[Music]
"""
LONG_CREDITS = "\nCredits: produced by the Harbour Hour team. Music by Kestrel.\n"
ADVERT_S = 45.0
_SPEAKERS = ("ANNA", "BEN")
_VOCABULARY = """the ferry left at dawn and we watched harbour lights fade behind us while the
engines hummed below deck a sailor told stories about storms crossings winters fishermen
who read clouds better than any forecast I remember my grandfather's boat smelled of tar
salt diesel coffee every morning he'd say the sea keeps its own schedule so you'd better
listen extraordinarily unpredictable conditions made navigation difficult during 1987 when
cost $5,000 people & families waited on the quay for news "nobody" knew""".split()  # noqa: SIM905


def long_transcript(minutes: int = 52, seed: int = 13) -> str:
    """An episode's transcript of about 170 words a minute in speaker turns."""
    rng = random.Random(seed)
    turns: list[str] = []
    words_left = minutes * 170
    while words_left > 0:
        sentences = []
        for _ in range(rng.randint(1, 5)):
            sentence = rng.choices(_VOCABULARY, k=rng.randint(4, 22))
            sentence[0] = sentence[0].capitalize()
            sentences.append(" ".join(sentence) + rng.choice([".", ".", ".", "?", "!"]))
            words_left -= len(sentence)
        laugh = " (laughs) " if rng.random() < 0.08 else " "
        turns.append(f"{_SPEAKERS[len(turns) % 2]}:{laugh}{' '.join(sentences)}")
        if len(turns) == 40:
            turns.append("ANNA: We met at 10:30 on the quay, before the tide turned.")
    return LONG_HEADER + "\n".join(turns) + LONG_CREDITS


def long_episode(minutes: int = 52, seed: int = 13) -> tuple[str, list[Word], tuple[float, float]]:
    """The long transcript, hand-timed words, and where the advert plays (start, end) in s."""
    transcript = long_transcript(minutes, seed)
    tokens = tokenize(transcript)
    rng = random.Random(seed + 1)
    body = [i for i, t in enumerate(tokens) if t.kind == "speech"]
    first = next(i for i in body if tokens[i].char_start > len(LONG_HEADER))
    last = max(i for i in body if tokens[i].char_start < len(transcript) - len(LONG_CREDITS))
    advert_after = _sentence_end_near(tokens, body, len(body) // 2)
    drawn_out = body[len(body) // 3]
    words: list[Word] = []
    at_s, advert, missed_left = 20.0, (0.0, 0.0), 0
    for index, token in enumerate(tokens):
        if token.kind == "markup":
            words.append(_word(index, token, None, "non_speech"))
            at_s += 20.0 if token.text == "[Music]" else 0.0
            continue
        said = 8.5 if index == drawn_out else 0.12 + 0.045 * len(token.text) * rng.uniform(0.7, 1.4)
        if missed_left == 0 and rng.random() < 0.01:
            missed_left = rng.randint(1, 4)
        if not first <= index <= last or missed_left > 0:
            missed_left = max(0, missed_left - 1)
            words.append(_word(index, token, None, "not_found"))
            at_s += said + 0.05 if first <= index <= last else 0.0
        else:
            words.append(_word(index, token, (at_s, at_s + said), "aligned"))
            at_s += said + (rng.uniform(0.3, 1.2) if token.text.endswith((".", "?", "!")) else 0.05)
        if index == advert_after:
            advert = (at_s, at_s + ADVERT_S)
            at_s += ADVERT_S
            missed_left = 10
    return transcript, words, advert


def _sentence_end_near(tokens: list[TextToken], body: list[int], position: int) -> int:
    return next(i for i in body[position:] if tokens[i].text.endswith((".", "?", "!")))
