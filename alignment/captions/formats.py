"""One entry point for every output format: `render(name, words, options)`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alignment.captions.ass import write_ass
from alignment.captions.cues import Cue, build_cues
from alignment.captions.display import display_words
from alignment.captions.documents import caption_document, gentle_document
from alignment.captions.options import CaptionOptions
from alignment.captions.srt import write_srt
from alignment.captions.textgrid import write_textgrid
from alignment.captions.ttml import write_ttml
from alignment.captions.vtt import write_vtt
from alignment.errors import InvalidOptionError
from alignment.types import Word


@dataclass(frozen=True)
class CaptionFormat:
    name: str
    extension: str
    media_type: str
    description: str


FORMATS: dict[str, CaptionFormat] = {
    f.name: f
    for f in (
        CaptionFormat("vtt", ".vtt", "text/vtt; charset=utf-8", "WebVTT captions"),
        CaptionFormat("srt", ".srt", "application/x-subrip; charset=utf-8", "SubRip captions"),
        CaptionFormat("ttml", ".ttml", "application/ttml+xml; charset=utf-8", "TTML, IMSC 1.1"),
        CaptionFormat("ass", ".ass", "text/x-ssa; charset=utf-8", "ASS with karaoke timing"),
        CaptionFormat("textgrid", ".TextGrid", "text/plain; charset=utf-8", "Praat TextGrid"),
        CaptionFormat("json", ".json", "application/json", "words and cues as JSON"),
        CaptionFormat("gentle", ".json", "application/json", "Gentle-compatible JSON"),
    )
}


def cues_for(
    words: Sequence[Word], options: CaptionOptions | None = None, *, language: str | None = None
) -> list[Cue]:
    """The caption cues for aligned words (markup and unspoken ends left out)."""
    return build_cues(display_words(words), options or CaptionOptions(), language=language)


def render(
    name: str,
    words: Sequence[Word],
    options: CaptionOptions | None = None,
    *,
    language: str | None = None,
    duration_s: float | None = None,
    transcript: str | None = None,
    about: Mapping[str, Any] | None = None,
) -> str:
    """The words in format `name` (see FORMATS); `transcript` feeds Gentle's JSON,
    `duration_s` the TextGrid's end, `language` the line-break rules and TTML's xml:lang;
    `about` (the run: model, language, options...) heads the JSON document."""
    opts = options or CaptionOptions()
    if name not in FORMATS:
        raise InvalidOptionError(f"Unknown format {name!r}; choose one of: {', '.join(FORMATS)}.")
    if name == "textgrid":
        return write_textgrid(words, duration_s=duration_s)
    if name == "gentle":
        return _dumps(gentle_document(words, transcript))
    cues = cues_for(words, opts, language=language)
    if name == "json":
        return _dumps({**(about or {}), **caption_document(words, cues, opts)})
    if name == "ttml":
        return write_ttml(cues, opts, language=language)
    writer = {"vtt": write_vtt, "srt": write_srt, "ass": write_ass}[name]
    return writer(cues, opts)


def _dumps(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
