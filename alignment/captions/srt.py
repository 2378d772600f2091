"""SubRip (SRT): numbered cues, `HH:MM:SS,mmm` times, plain text lines."""

from __future__ import annotations

from collections.abc import Sequence

from alignment.captions.cues import Cue
from alignment.captions.options import CaptionOptions
from alignment.captions.timecode import clock


def write_srt(cues: Sequence[Cue], options: CaptionOptions) -> str:
    blocks = []
    for number, cue in enumerate(cues, start=1):
        timing = f"{clock(cue.start, decimal=',')} --> {clock(cue.end, decimal=',')}"
        blocks.append("\n".join([str(number), timing, *cue.text_lines]))
    return "\n\n".join(blocks) + "\n" if blocks else ""
