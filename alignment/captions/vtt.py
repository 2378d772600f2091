"""WebVTT (W3C) writer."""

from __future__ import annotations

from collections.abc import Sequence

from alignment.captions.cues import CueOptions, build_cues
from alignment.types import Word


def vtt_timestamp(seconds: float) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def escape_cue_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(words: Sequence[Word], options: CueOptions | None = None) -> str:
    """A WebVTT file with one cue per caption, text escaped."""
    blocks = ["WEBVTT"]
    for cue in build_cues(words, options):
        timing = f"{vtt_timestamp(cue.start)} --> {vtt_timestamp(cue.end)}"
        blocks.append("\n".join([timing, *(escape_cue_text(line) for line in cue.lines)]))
    return "\n\n".join(blocks) + "\n"
