"""JSON documents: podalign's own (words and cues) and Gentle's, for tools built for Gentle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from alignment.captions.cues import Cue
from alignment.captions.options import CaptionOptions
from alignment.types import Word


def run_of(result: Mapping[str, Any]) -> dict[str, Any]:
    """What produced a result (model, language, options, duration, timings), from its stored
    or `to_dict` form without its words and transcript: the head of the JSON output."""
    return {key: value for key, value in result.items() if key not in ("words", "transcript")}


def caption_document(
    words: Sequence[Word], cues: Sequence[Cue], options: CaptionOptions
) -> dict[str, Any]:
    """Every word of the transcript (with status and score) and the cues built from them."""
    return {
        "caption_options": options.to_dict(),
        "words": [word.to_dict() for word in words],
        "cues": [
            {
                "start": cue.start,
                "end": cue.end,
                "speaker": cue.speaker,
                "lines": list(cue.text_lines),
                "word_indices": [word.index for word in cue.words],
            }
            for cue in cues
        ],
    }


def gentle_document(words: Sequence[Word], transcript: str | None = None) -> dict[str, Any]:
    """Gentle's JSON: `transcript` and its `words`, `success` or `not-found-in-audio`, with
    character offsets into the transcript; words are bare (no surrounding punctuation)."""
    text = transcript if transcript is not None else _rebuilt(words)
    entries: list[dict[str, Any]] = []
    for word in words:
        if word.status == "non_speech":
            continue
        start_offset, end_offset = _bare_span(word)
        bare = word.text[start_offset - word.char_start : end_offset - word.char_start]
        entry: dict[str, Any] = {
            "case": "not-found-in-audio",
            "startOffset": start_offset,
            "endOffset": end_offset,
            "word": bare,
        }
        if word.status == "aligned" and word.start is not None and word.end is not None:
            entry.update(
                case="success",
                alignedWord=bare.lower(),
                start=word.start,
                end=word.end,
                phones=[],
            )
        entries.append(entry)
    return {"transcript": text, "words": entries}


def _bare_span(word: Word) -> tuple[int, int]:
    text = word.text
    left, right = 0, len(text)
    while left < right and not text[left].isalnum():
        left += 1
    while right > left and not text[right - 1].isalnum():
        right -= 1
    if left == right:
        return word.char_start, word.char_end
    return word.char_start + left, word.char_start + right


def _rebuilt(words: Sequence[Word]) -> str:
    """Without the original transcript: the words at their own offsets, spaces between."""
    size = max((word.char_end for word in words), default=0)
    chars = [" "] * size
    for word in words:
        chars[word.char_start : word.char_end] = word.text
    return "".join(chars)
