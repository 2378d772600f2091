"""WebVTT (W3C): cues with escaped text, speaker voices, optional per-word timestamps."""

from __future__ import annotations

from collections.abc import Sequence

from alignment.captions.cues import Cue
from alignment.captions.options import CaptionOptions
from alignment.captions.timecode import clock


def escape_cue_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_vtt(cues: Sequence[Cue], options: CaptionOptions) -> str:
    blocks = ["WEBVTT"]
    for cue in cues:
        timing = f"{clock(cue.start)} --> {clock(cue.end)}"
        blocks.append("\n".join([timing, *_payload(cue, options)]))
    return "\n\n".join(blocks) + "\n"


def _payload(cue: Cue, options: CaptionOptions) -> list[str]:
    if options.highlight == "words":
        lines = _timestamped_lines(cue)
    else:
        lines = [escape_cue_text(line) for line in cue.text_lines]
    if options.speakers and cue.speaker:
        lines[0] = f"<v {_annotation(cue.speaker)}>{lines[0]}"
    return lines


def _timestamped_lines(cue: Cue) -> list[str]:
    """A timestamp tag before each word after the first; each must lie strictly inside the
    cue and after the one before, so a word too close to its neighbour goes without."""
    last_ms = round(cue.start * 1000)
    end_ms = round(cue.end * 1000)
    lines: list[str] = []
    first = True
    for line in cue.lines:
        parts: list[str] = []
        for word in line:
            at_ms = max(round(word.start * 1000), last_ms + 1)
            text = escape_cue_text(word.text)
            if not first and at_ms < end_ms:
                parts.append(f"<{clock(at_ms / 1000)}>{text}")
                last_ms = at_ms
            else:
                parts.append(text)
            first = False
        lines.append(" ".join(parts))
    return lines


def _annotation(name: str) -> str:
    return escape_cue_text(" ".join(name.split()))
