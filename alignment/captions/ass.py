"""Advanced SubStation Alpha (ASS): styled events, speaker names, `\\k` karaoke timing."""

from __future__ import annotations

from collections.abc import Sequence

from alignment.captions.cues import Cue
from alignment.captions.options import CaptionOptions
from alignment.captions.timecode import clock

# White text that a karaoke sweep turns from yellow (SecondaryColour) to white; a dark outline.
_HEADER = """[Script Info]
; Written by podalign
ScriptType: v4.00+
PlayResX: 1920
PlayResY: 1080
WrapStyle: 2
ScaledBorderAndShadow: yes

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, \
Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, \
Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,64,&H00FFFFFF,&H0000FFFF,&H00000000,&H80000000,0,0,0,0,100,100,0,0,1,3,\
1,2,96,96,54,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
"""


def write_ass(cues: Sequence[Cue], options: CaptionOptions) -> str:
    rows = [_HEADER]
    for cue in cues:
        name = _field(cue.speaker) if options.speakers and cue.speaker else ""
        text = _karaoke(cue) if options.highlight == "words" else _plain(cue)
        start, end = (
            clock(cue.start, places=2, hour_width=1),
            clock(cue.end, places=2, hour_width=1),
        )
        rows.append(f"Dialogue: 0,{start},{end},Default,{name},0,0,0,,{text}\n")
    return "".join(rows)


def escape_ass_text(text: str) -> str:
    """Braces open override blocks and a backslash starts an escape: show look-alikes."""
    return text.replace("\\", "\u29f5").replace("{", "\u2983").replace("}", "\u2984")


def _plain(cue: Cue) -> str:
    return "\\N".join(escape_ass_text(line) for line in cue.text_lines)


def _karaoke(cue: Cue) -> str:
    """Each word's `\\k` lasts from when it is spoken (or the cue starts) to the next word."""
    words = cue.words
    starts = [max(cue.start, w.start) for w in words] + [cue.end]
    lines: list[str] = []
    i = 0
    for line in cue.lines:
        parts = []
        for word in line:
            centis = max(0, round((starts[i + 1] - starts[i]) * 100))
            parts.append(f"{{\\k{centis}}}{escape_ass_text(word.text)}")
            i += 1
        lines.append(" ".join(parts))
    return "\\N".join(lines)


def _field(text: str) -> str:
    return " ".join(text.replace(",", " ").split())
