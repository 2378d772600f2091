"""Real parsers read what the writers produce: Chromium's TextTrack, ffmpeg, a RELAX NG schema,
ttconv and the IMSC render-model check for TTML, praatio for TextGrid."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Browser
from praatio import textgrid
from ttconv.imsc import reader as imsc_reader

from alignment.captions import CaptionOptions, cues_for, render
from tests.conftest import run_tool
from tests.episode import episode

SCHEMA = Path(__file__).parent / "schemas" / "ttml_imsc_text.rng"

_TRACK_PAGE = """<!doctype html><meta charset="utf-8">
<video id="v" preload="none"><track id="t" kind="captions" srclang="en" src="captions.vtt"
default></video>
<script>
window.cues = new Promise((resolve) => {
  const element = document.getElementById("t");
  element.track.mode = "hidden";
  const read = () => resolve({
    state: element.readyState,
    cues: Array.from(element.track.cues || []).map((c) => ({
      start: c.startTime, end: c.endTime, text: c.text,
      plain: c.getCueAsHTML().textContent,
    })),
  });
  if (element.readyState >= 2) read();
  element.addEventListener("load", read);
  element.addEventListener("error", read);
});
</script>"""


def _rendered(name: str, **options: object) -> tuple[str, list]:  # type: ignore[type-arg]
    transcript, words = episode()
    opts = CaptionOptions(**options)  # type: ignore[arg-type]
    text = render(name, words, opts, language="en", duration_s=60.0, transcript=transcript)
    return text, cues_for(words, opts, language="en")


@pytest.mark.parametrize("highlight", ["none", "words"])
def test_chromium_reads_our_webvtt_into_a_text_track(
    chromium: Browser, static_server: tuple[str, Path], highlight: str
) -> None:
    base_url, folder = static_server
    vtt, cues = _rendered("vtt", highlight=highlight)
    (folder / "captions.vtt").write_text(vtt, encoding="utf-8")
    (folder / "index.html").write_text(_TRACK_PAGE, encoding="utf-8")
    page = chromium.new_page()
    page.goto(f"{base_url}/index.html")
    loaded = page.evaluate("window.cues")
    page.close()
    assert loaded["state"] == 2, "the track failed to load or parse"
    assert len(loaded["cues"]) == len(cues)
    for parsed, cue in zip(loaded["cues"], cues, strict=True):
        assert parsed["start"] == pytest.approx(cue.start, abs=0.0005)
        assert parsed["end"] == pytest.approx(cue.end, abs=0.0005)
        # The browser unescapes &amp; &lt; and drops voice and timestamp tags: the words remain.
        assert parsed["plain"].split() == " ".join(cue.text_lines).split()


@pytest.mark.parametrize(("name", "target"), [("vtt", "srt"), ("srt", "ass"), ("ass", "srt")])
def test_ffmpeg_converts_our_captions(tmp_path: Path, name: str, target: str) -> None:
    text, cues = _rendered(name, highlight="words" if name == "ass" else "none")
    source = tmp_path / f"in.{name}"
    source.write_text(text, encoding="utf-8")
    converted = tmp_path / f"out.{target}"
    run_tool("ffmpeg", "-v", "error", "-y", "-i", str(source), str(converted))
    out = converted.read_text(encoding="utf-8")
    if target == "srt":
        assert len(re.findall(r"^\d+\n\d\d:\d\d:\d\d,\d{3} --> ", out, re.M)) == len(cues)
        plain = re.sub(r"<[^>]+>|\{[^}]*\}", "", out)
        assert "Welcome back to the Harbour Hour." in plain
    else:
        assert out.count("Dialogue:") == len(cues)


def test_ttml_is_valid_imsc_text_and_reads_back(caplog: pytest.LogCaptureFixture) -> None:
    text, cues = _rendered("ttml")
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    assert schema.validate(etree.fromstring(text.encode())), schema.error_log.last_error
    with caplog.at_level(logging.WARNING):
        document = imsc_reader.to_model(ET.ElementTree(ET.fromstring(text)))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    paragraphs = list(document.get_body().first_child())
    assert len(paragraphs) == len(cues)
    assert float(paragraphs[0].get_begin()) == pytest.approx(cues[0].start)


def test_ttml_passes_the_imsc_hypothetical_render_model(tmp_path: Path) -> None:
    text, _ = _rendered("ttml")
    path = tmp_path / "episode.ttml"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "imschrm.cli", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_ttml_fails_the_schema() -> None:
    text, _ = _rendered("ttml")
    broken = text.replace('begin="00:00:10.000"', 'begin="ten seconds"')
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    assert not schema.validate(etree.fromstring(broken.encode()))


def test_praat_textgrid_reads_back(tmp_path: Path) -> None:
    _, words = episode()
    path = tmp_path / "episode.TextGrid"
    path.write_text(render("textgrid", words, duration_s=60.0), encoding="utf-8")
    grid = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    tier = grid.getTier("words")
    aligned = [w for w in words if w.status == "aligned"]
    assert [entry.label for entry in tier.entries] == [w.text for w in aligned]
    assert grid.maxTimestamp == pytest.approx(60.0)


def test_gentle_json_has_gentles_shape() -> None:
    transcript, words = episode()
    document = json.loads(render("gentle", words, transcript=transcript))
    assert document["transcript"] == transcript
    cases = {entry["case"] for entry in document["words"]}
    assert cases == {"success", "not-found-in-audio"}
    for entry in document["words"]:
        assert transcript[entry["startOffset"] : entry["endOffset"]] == entry["word"]
        if entry["case"] == "success":
            assert entry["start"] < entry["end"]
            assert entry["alignedWord"] == entry["word"].lower()
