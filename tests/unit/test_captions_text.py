"""Escaping and clock times: the small pieces every writer relies on."""

from __future__ import annotations

from alignment.captions.ass import escape_ass_text
from alignment.captions.timecode import clock
from alignment.captions.vtt import escape_cue_text


def test_clock_spellings() -> None:
    assert clock(3723.5) == "01:02:03.500"
    assert clock(3723.5, decimal=",") == "01:02:03,500"
    assert clock(3723.456, places=2, hour_width=1) == "1:02:03.46"
    assert clock(59.9996) == "00:01:00.000"  # rounding carries into the minutes
    assert clock(-0.2) == "00:00:00.000"
    assert clock(36_000.0) == "10:00:00.000"


def test_webvtt_escapes_what_would_start_a_tag_or_an_entity() -> None:
    assert escape_cue_text("a < b && c > d -->") == "a &lt; b &amp;&amp; c &gt; d --&gt;"


def test_ass_text_cannot_open_an_override_block() -> None:
    escaped = escape_ass_text(r"{\b1}bold\N")
    assert "{" not in escaped and "}" not in escaped and "\\" not in escaped
    assert "bold" in escaped
