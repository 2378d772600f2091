"""How many words an episode's audio can hold: a transcript far longer is refused before it
costs an alignment and a result many times its size."""

from __future__ import annotations

from alignment import AlignmentError

#: Any transcript may have this many words, whatever the audio (headers, show notes, tests).
_FREE_WORDS = 1000


class TooManyWords(AlignmentError):
    code = "transcript_too_many_words"


def check_word_count(text: str, duration_s: float, max_words_per_s: float) -> None:
    """TooManyWords when `text` has more words than `duration_s` of speech could hold."""
    words = len(text.split())
    allowed = _FREE_WORDS + int(duration_s * max_words_per_s)
    if words > allowed:
        raise TooManyWords(
            f"The transcript has {words} words, more than {duration_s:.0f} s of audio can hold "
            f"(at most {allowed} here, {max_words_per_s:g} words a second). Check that the "
            "transcript belongs to this audio."
        )
