"""Transcript handling: bytes -> text, text -> words with character spans and non-speech markup."""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from alignment.errors import TranscriptEmptyError, TranscriptEncodingError

TokenKind = Literal["speech", "markup"]

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)

# Sound events that captioners put in parentheses; other parentheticals are spoken text.
_SOUND_EVENTS = frozenset(
    [
        "applause",
        "audience",
        "background",
        "beep",
        "beeping",
        "bell",
        "breath",
        "breathing",
        "chuckle",
        "chuckles",
        "chuckling",
        "clapping",
        "cough",
        "coughs",
        "coughing",
        "crosstalk",
        "cross-talk",
        "gasps",
        "groans",
        "inaudible",
        "indistinct",
        "intro",
        "jingle",
        "laugh",
        "laughs",
        "laughing",
        "laughter",
        "music",
        "noise",
        "outro",
        "pause",
        "sigh",
        "sighs",
        "silence",
        "sniffs",
        "static",
        "unintelligible",
        "whispers",
        "ad",
        "break",
        "sound",
        "effect",
        "effects",
        "ends",
        "plays",
        "playing",
        "continues",
        "fades",
    ]
)
_TIMESTAMP = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_BRACKETED = re.compile(r"\[[^\]\n]{0,200}\]|\{[^}\n]{0,200}\}")
_PARENTHESISED = re.compile(r"\(([^()\n]{0,60})\)")
_MUSIC_NOTES = re.compile(r"[♪♫🎵🎶]+")
_LINE_TIMESTAMP = re.compile(
    rf"(?m)^[ \t]*(?:{_TIMESTAMP})(?:[ \t]*-->[ \t]*{_TIMESTAMP})?(?=\s|$)"
)
_SPEAKER_LABEL = re.compile(
    r"(?m)^[ \t]*(?:[♪♫][ \t]*)*"
    r"((?:>>[ \t]*)?(?:[A-Z][\w'.\-]*|\d+)(?:[ \t]+(?:[A-Z0-9][\w'.\-]*)){0,2}:)(?=\s|$)"
)
# Words that head show-notes lines ("Audio Format:", "Note:"): a label made of these names no
# speaker, so it is read as (unspoken) text rather than as a change of voice.
_NOT_SPEAKERS = frozenset(
    """audio format formats note notes broadcast aired published recorded released date time
    duration length runtime episode season show summary description transcript transcription
    source sources link links tags keywords credits credit music sponsor sponsors chapter
    chapters language languages warning disclaimer update edit correction ps nb file size
    bitrate quality copyright licence license download subscribe website email""".split()  # noqa: SIM905
)
_INLINE_TIMESTAMP = re.compile(r"(?<!\S)\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,3})?(?!\S)")
_CHEVRONS = re.compile(r"(?m)^[ \t]*>>")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,40}>")
_HAS_WORD_CHAR = re.compile(r"[^\W_]", re.UNICODE)


@dataclass(frozen=True)
class TextToken:
    """A word of the transcript (`speech`) or a piece of markup that is never spoken."""

    text: str
    char_start: int
    char_end: int
    kind: TokenKind


def decode_transcript(data: bytes | str) -> str:
    """Decode the user's transcript: UTF-8 (with or without BOM) or UTF-16/32 with a BOM."""
    text = data if isinstance(data, str) else _decode_bytes(data)
    if "\x00" in text or _control_share(text) > 0.01:
        raise TranscriptEncodingError(
            "The transcript looks like binary data, not text. Send a plain-text file "
            "(UTF-8, or UTF-16 with a byte-order mark)."
        )
    text = text.lstrip("\ufeff")
    if not _HAS_WORD_CHAR.search(text):
        raise TranscriptEmptyError(
            "The transcript has no words. Send the text that is spoken in the audio."
        )
    return text


def _decode_bytes(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise TranscriptEncodingError(
                    f"The transcript starts with a {encoding} byte-order mark but is not valid "
                    f"{encoding} (byte {exc.start}). Re-save it as UTF-8."
                ) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TranscriptEncodingError(
            f"The transcript is not valid UTF-8 (invalid byte at offset {exc.start}). "
            "Re-save it as UTF-8, or as UTF-16 with a byte-order mark."
        ) from exc


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f")
    return controls / len(text)


def tokenize(text: str) -> list[TextToken]:
    """Split a transcript into speech words and markup, keeping character spans into `text`."""
    markup = _markup_spans(text)
    masked = list(text)
    for start, end in markup:
        masked[start:end] = " " * (end - start)
    tokens = [TextToken(text[start:end].strip(), start, end, "markup") for start, end in markup]
    words: list[tuple[int, int]] = []
    symbols: list[tuple[int, int]] = []
    for match in re.finditer(r"\S+", "".join(masked)):
        (words if _HAS_WORD_CHAR.search(match.group()) else symbols).append(match.span())
    for start, end in _with_symbols(text, words, symbols, markup):
        tokens.append(TextToken(text[start:end], start, end, "speech"))
    tokens.sort(key=lambda token: token.char_start)
    return tokens


def _with_symbols(
    text: str,
    words: list[tuple[int, int]],
    symbols: list[tuple[int, int]],
    markup: list[tuple[int, int]],
) -> list[tuple[int, int]]:
    """Free-standing symbols ("—", "&", "…") join the word before them, or the word after when
    they open a line, so that captions show them and never start a line with one; a symbol
    that markup or a line break parts from both neighbours is left out, as before."""
    spans = list(words)
    starts = [start for start, _ in words]
    for start, end in symbols:
        after = bisect.bisect_left(starts, start)  # index of the first word after the symbol
        if after > 0 and _joinable(text, markup, spans[after - 1][1], start):
            spans[after - 1] = (spans[after - 1][0], end)
        elif after < len(spans) and _joinable(text, markup, end, spans[after][0]):
            spans[after] = (start, spans[after][1])
    return spans


def _joinable(text: str, markup: list[tuple[int, int]], start: int, end: int) -> bool:
    """A symbol joins the word before it when only spaces (no line break, no markup) part them."""
    return "\n" not in text[start:end] and not any(
        start <= m_start and m_end <= end for m_start, m_end in markup
    )


def _markup_spans(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _BRACKETED.finditer(text) if not _partial_word(text, m)]
    spans += [m.span() for m in _MUSIC_NOTES.finditer(text)]
    spans += [_stripped_span(text, m.span()) for m in _LINE_TIMESTAMP.finditer(text)]
    spans += [m.span() for m in _INLINE_TIMESTAMP.finditer(text)]
    spans += [
        m.span(1) for m in _SPEAKER_LABEL.finditer(text) if speaker_name(m.group(1)) is not None
    ]
    spans += [_stripped_span(text, m.span()) for m in _CHEVRONS.finditer(text)]
    spans += [m.span() for m in _PARENTHESISED.finditer(text) if _is_sound_event(m.group(1))]
    return _merge(spans)


def _partial_word(text: str, match: re.Match[str]) -> bool:
    """A cut-off or half-said word in brackets inside a sentence ("saying [adif] bunch of"),
    as forced-alignment corpora transcribe them: it is spoken, so it is a word, not markup.
    Only one lower-case word that names no sound event, with words on both sides on the
    same line, counts; anything else in brackets stays markup."""
    inner = match.group(0)[1:-1]
    if match.group(0)[0] != "[" or not re.fullmatch(r"[a-z][a-z'\-]{0,30}", inner):
        return False
    if _is_sound_event(inner) or inner in {"sic", "sp", "ph"}:
        return False
    before = text[: match.start()].rsplit("\n", 1)[-1]
    after = text[match.end() :].split("\n", 1)[0]
    return bool(re.search(r"[a-z]\s$", before) and re.match(r"\s[a-z]", after))


def speaker_name(label: str) -> str | None:
    """The speaker a label names: "ANNA:" -> "ANNA", ">>" (a new, unnamed voice) -> "";
    None for what only looks like a label: a time ("10:30"), a number, a show-notes heading
    ("Audio Format:", "Note:")."""
    text = label.strip()
    chevrons = text.startswith(">>")
    if chevrons:
        text = text[2:].strip()
        if not text:
            return ""
    if not text.endswith(":") or len(text) < 2:
        return None
    name = " ".join(text[:-1].split())
    if re.search(r"\d:\d", name) or not any(ch.isalpha() for ch in name):
        return None
    if any(part.lower().strip(".'") in _NOT_SPEAKERS for part in name.split()):
        return None
    return name


def _stripped_span(text: str, span: tuple[int, int]) -> tuple[int, int]:
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    return start, end


def _is_sound_event(inner: str) -> bool:
    inner = inner.strip()
    if not inner:
        return True
    if re.fullmatch(_TIMESTAMP, inner):
        return True
    words = re.findall(r"[^\W\d_][\w'\-]*", inner)
    if not words or len(words) > 4:
        return False
    if inner.isupper() and len(inner) > 1:
        return True
    return any(word.lower() in _SOUND_EVENTS for word in words)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def spoken_form(word: str) -> str:
    """The text given to the model for a word: the user's spelling without formatting marks."""
    cleaned = _HTML_TAG.sub("", word)
    cleaned = cleaned.strip("*_#~|`^")
    return cleaned or word


def normalize(word: str) -> str:
    """A comparison key: case- and accent-folded letters and digits only."""
    folded = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in folded if ch.isalnum())


_VOWELS = frozenset("aeiouy")


def match_key(word: str) -> str:
    """A looser key for matching heard words to the text: plural -s and inner vowels dropped,
    so that "boats"/"boat" and "colour"/"color" meet (digits are kept whole)."""
    key = normalize(word)
    if len(key) > 3 and key.endswith("s") and not key.endswith("ss"):
        key = key[:-1]
    return key[:1] + "".join(ch for ch in key[1:] if ch not in _VOWELS)


#: Quotes and brackets that may close a sentence after its mark ("sea." or 'sea.').
CLOSERS = "\"'”’»)]"


def ends_sentence(word: str) -> bool:
    """Whether a written word closes a sentence (the next may be another speaker's)."""
    return word.rstrip(CLOSERS).endswith((".", "?", "!"))
