"""TTML in the IMSC 1.1 Text profile: what broadcasters and streaming platforms ingest."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from alignment.captions.cues import Cue
from alignment.captions.options import CaptionOptions
from alignment.captions.timecode import clock

IMSC_TEXT_PROFILE = "http://www.w3.org/ns/ttml/profile/imsc1.1/text"

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<tt xmlns="http://www.w3.org/ns/ttml"
    xmlns:ttp="http://www.w3.org/ns/ttml#parameter"
    xmlns:tts="http://www.w3.org/ns/ttml#styling"
    xmlns:ttm="http://www.w3.org/ns/ttml#metadata"
    ttp:contentProfiles="{profile}" ttp:timeBase="media" xml:lang={lang}>
  <head>
{agents}    <styling>
      <style xml:id="caption" tts:fontFamily="proportionalSansSerif" tts:fontSize="100%"
          tts:lineHeight="125%" tts:textAlign="center" tts:color="white"
          tts:backgroundColor="transparent"/>
      <style xml:id="line" tts:backgroundColor="rgba(0,0,0,204)"/>
    </styling>
    <layout>
      <region xml:id="bottom" tts:origin="10% 10%" tts:extent="80% 80%"
          tts:displayAlign="after" tts:showBackground="whenActive"/>
    </layout>
  </head>
  <body region="bottom" style="caption">
    <div>
"""
_TAIL = """    </div>
  </body>
</tt>
"""


def write_ttml(cues: Sequence[Cue], options: CaptionOptions, *, language: str | None = None) -> str:
    speakers = _speaker_ids(cues) if options.speakers else {}
    parts = [
        _HEAD.format(
            profile=IMSC_TEXT_PROFILE,
            lang=quoteattr(language or "und"),
            agents=_agents(speakers),
        )
    ]
    for number, cue in enumerate(cues, start=1):
        agent = f" ttm:agent={quoteattr(speakers[cue.speaker])}" if cue.speaker in speakers else ""
        lines = "<br/>".join(f'<span style="line">{escape(t)}</span>' for t in cue.text_lines)
        parts.append(
            f'      <p xml:id="c{number}" begin="{clock(cue.start)}" end="{clock(cue.end)}"'
            f"{agent}>{lines}</p>\n"
        )
    parts.append(_TAIL)
    return "".join(parts)


def _speaker_ids(cues: Sequence[Cue]) -> dict[str | None, str]:
    ids: dict[str | None, str] = {}
    for cue in cues:
        if cue.speaker and cue.speaker not in ids:
            ids[cue.speaker] = f"speaker{len(ids) + 1}"
    return ids


def _agents(speakers: dict[str | None, str]) -> str:
    if not speakers:
        return ""
    rows = [
        f'      <ttm:agent xml:id="{agent_id}" type="person">'
        f'<ttm:name type="full">{escape(name or "")}</ttm:name></ttm:agent>\n'
        for name, agent_id in speakers.items()
    ]
    return "    <metadata>\n" + "".join(rows) + "    </metadata>\n"
