"""The web page in a real headless Chromium against the real service and model."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.conftest import SAMPLES, browser_tab, run_tool
from tests.service import Server

SAMPLE = SAMPLES / "short_clean"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    with browser_tab(
        chromium, accept_downloads=True, viewport={"width": 1100, "height": 900}
    ) as tab:
        yield tab


def _align(page: Page, server: Server) -> None:
    page.goto(server.url)
    page.set_input_files("#audio-input", str(SAMPLE / "audio.wav"))
    page.set_input_files("#text-file", str(SAMPLE / "text.txt"))
    expect(page.locator("#text-input")).to_have_value((SAMPLE / "text.txt").read_text())
    page.get_by_role("button", name="Align").click()
    expect(page.locator("#result-panel")).to_be_visible(timeout=120_000)
    expect(page.locator("#progress-text")).to_have_text("Done.")


def _words(server: Server) -> list[dict[str, object]]:
    jobs = httpx.get(f"{server.url}/v1/alignments?limit=1").json()["items"]
    return httpx.get(f"{server.url}/v1/alignments/{jobs[0]['id']}/words").json()["words"]  # type: ignore[no-any-return]


def test_align_play_follow_click_and_download(page: Page, server: Server, tmp_path: Path) -> None:
    _align(page, server)
    words = [w for w in _words(server) if w["status"] == "aligned"]
    expect(page.locator("#summary")).to_contain_text(f"{len(words)} of {len(words)} words found")
    unsure = [str(w["text"]) for w in words if float(w["score"]) < 0.1]  # tiny.en's threshold
    assert page.locator(".w.low").all_text_contents() == unsure

    # Setting the player's time lights up the word spoken then, and the cue under the player.
    target = words[30]
    page.evaluate(f"document.getElementById('player').currentTime = {target['start']} + 0.01")
    current = page.locator(".w.now")
    expect(current).to_have_count(1)
    expect(current).to_have_text(str(target["text"]))
    expect(page.locator("#cue")).to_contain_text(str(target["text"]))

    # Clicking a word seeks there.
    other = words[55]
    page.locator(".w[data-index='55']").click()
    time_s = page.evaluate("document.getElementById('player').currentTime")
    assert time_s == pytest.approx(other["start"], abs=0.01)
    expect(page.locator(".w.now")).to_have_text(str(other["text"]))

    # The arrow keys step through the words.
    page.locator("#transcript").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator(".w.now")).to_have_text(str(words[56]["text"]))
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(page.locator(".w.now")).to_have_text(str(words[54]["text"]))

    # The WebVTT download parses in the page's own <track>, cue for cue.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="WebVTT").click()
    download = download_info.value
    assert download.suggested_filename == "audio.vtt"
    saved = tmp_path / "captions.vtt"
    download.save_as(saved)
    vtt = saved.read_text()
    track_cues = page.evaluate(
        """async (text) => {
            const track = document.getElementById('captions-track');
            track.src = URL.createObjectURL(new Blob([text], {type: 'text/vtt'}));
            track.track.mode = 'hidden';
            await new Promise((resolve) => {
                if (track.readyState === 2) resolve();
                track.addEventListener('load', resolve, {once: true});
                track.addEventListener('error', resolve, {once: true});
            });
            return Array.from(track.track.cues).map((c) => [c.startTime, c.endTime, c.text]);
        }""",
        vtt,
    )
    assert len(track_cues) == vtt.count(" --> ") > 3
    assert track_cues[0][2].split()[:3] == ["Every", "morning", "before"]

    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate(f"document.getElementById('player').currentTime = {words[12]['start']} + 0.01")
    page.screenshot(path=str(ARTIFACTS / "web-page.png"), full_page=True)


def test_layout_options_reach_the_download(page: Page, server: Server, tmp_path: Path) -> None:
    _align(page, server)
    page.fill("#max-chars", "20")
    page.fill("#max-lines", "1")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="SRT").click()
    path = tmp_path / "c.srt"
    download_info.value.save_as(path)
    text_lines = [ln for ln in path.read_text().split("\n") if ln and not ln[0].isdigit()]
    assert text_lines and all(len(ln) <= 20 or " " not in ln for ln in text_lines)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Gentle JSON").click()
    gentle = json.loads(Path(download_info.value.path()).read_text())
    assert gentle["words"][0]["case"] == "success"


def test_recent_list_reopens_and_failures_are_explained(
    page: Page, server: Server, tmp_path: Path
) -> None:
    _align(page, server)
    page.reload()
    first = page.locator("#recent li button").first
    expect(first).to_have_text("audio.wav")
    first.click()
    expect(page.locator("#result-panel")).to_be_visible(timeout=30_000)
    expect(page.locator(".w").first).to_have_text("Every")

    not_audio = tmp_path / "notes.mp3"
    not_audio.write_text("not audio\n" * 50)
    page.set_input_files("#audio-input", str(not_audio))
    page.fill("#text-input", "hello there")
    page.get_by_role("button", name="Align").click()
    expect(page.locator("#error")).to_contain_text("could not be read as audio")


def test_missing_words_are_marked_and_gaps_summarised(
    page: Page, server: Server, tmp_path: Path
) -> None:
    text = tmp_path / "with-header.txt"
    header = "Show notes for episode twelve, recorded in the harbour studio on Tuesday."
    text.write_text(header + "\n\n" + (SAMPLE / "text.txt").read_text())
    audio = tmp_path / "with-intro.wav"  # eight seconds of a chord before the speech
    run_tool(
        "ffmpeg",
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "aevalsrc=0.2*sin(2*PI*220*t)+0.2*sin(2*PI*330*t):s=16000:d=8",
        "-i",
        str(SAMPLE / "audio.wav"),
        "-filter_complex",
        "[0:a][1:a]concat=n=2:v=0:a=1",
        "-ac",
        "1",
        str(audio),
    )
    page.goto(server.url)
    page.set_input_files("#audio-input", str(audio))
    page.set_input_files("#text-file", str(text))
    page.get_by_role("button", name="Align").click()
    expect(page.locator("#result-panel")).to_be_visible(timeout=120_000)
    expect(page.locator(".w.missing").first).to_have_text("Show")
    expect(page.locator("#gaps")).to_contain_text("at the start (a header?)")
    # "Every" (8.4 s) is not found; "morning" starts at 8.72 s, rounded to 0:09.
    expect(page.locator("#gaps")).to_contain_text(re.compile(r"no words 0:00–0:0[89]"))


def test_nothing_is_fetched_from_elsewhere_and_space_plays(page: Page, server: Server) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    _align(page, server)
    assert requested and all(url.startswith((server.url, "blob:")) for url in requested)
    page.locator("#transcript").focus()
    page.keyboard.press("Space")
    page.wait_for_function("!document.getElementById('player').paused")
    page.keyboard.press("Space")
    page.wait_for_function("document.getElementById('player').paused")


def test_a_long_transcript_touches_only_the_changed_words(page: Page, server: Server) -> None:
    """10,000 words (about an hour): each update changes the classes of at most two words."""
    page.goto(server.url)
    changed = page.evaluate(
        """() => {
            const words = [];
            for (let i = 0; i < 10000; i++) {
                words.push({text: `word${i}`, status: 'aligned', score: 0.9,
                            start: i * 0.36, end: i * 0.36 + 0.3});
            }
            renderTranscript(words);
            const player = document.getElementById('player');
            const touched = [];
            const observer = new MutationObserver(() => {});
            observer.observe(document.getElementById('transcript'),
                             {attributes: true, subtree: true});
            const marked = [];
            for (const t of [10.0, 10.1, 1800.0, 3599.0, 5.0]) {
                Object.defineProperty(player, 'currentTime', {value: t, configurable: true});
                update();
                marked.push(document.querySelector('.w.now').textContent);
                touched.push(new Set(observer.takeRecords().map((r) => r.target)).size);
            }
            observer.disconnect();
            return {marked, touched, total: document.querySelectorAll('.w').length};
        }"""
    )
    assert changed["total"] == 10000
    assert changed["marked"] == ["word27", "word28", "word5000", "word9997", "word13"]
    assert changed["touched"] == [1, 2, 2, 2, 2]  # the first update only marks one word


def test_files_can_be_dropped_and_focus_is_visible(page: Page, server: Server) -> None:
    page.goto(server.url)
    text = (SAMPLE / "text.txt").read_text()
    page.evaluate(
        """([text, audioBytes]) => {
            const drop = (zone, file) => {
                const data = new DataTransfer();
                data.items.add(file);
                zone.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true,
                                                          cancelable: true}));
            };
            drop(document.getElementById('text-drop'),
                 new File([text], 'episode.txt', {type: 'text/plain'}));
            drop(document.getElementById('audio-drop'),
                 new File([new Uint8Array(audioBytes)], 'episode.wav', {type: 'audio/wav'}));
        }""",
        [text, list((SAMPLE / "audio.wav").read_bytes()[:4000])],
    )
    expect(page.locator("#text-input")).to_have_value(text)
    assert page.evaluate("document.getElementById('audio-input').files[0].name") == "episode.wav"
    page.locator("#model").focus()
    page.keyboard.press("Tab")  # to the Align button, by keyboard
    outline = page.evaluate(
        "getComputedStyle(document.activeElement).outlineStyle + ' ' + "
        "document.activeElement.textContent"
    )
    assert outline == "solid Align"


def test_narrow_screens_and_labels(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 380, "height": 800})
    page.goto(server.url)
    for label in ("Audio or video file", "Transcript", "Language", "Model"):
        expect(page.get_by_label(label, exact=False).first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 380  # nothing forces sideways scrolling
    expect(page.locator("#progress-text")).to_have_attribute("aria-live", "polite")


def test_api_keys_are_asked_for_and_kept_for_the_session(chromium: Browser, tmp_path: Path) -> None:
    server = Server(tmp_path / "data", PODALIGN_API_KEYS="page-key").start()
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(server.url)
        expect(page.locator("#key-panel")).to_be_visible()
        page.fill("#key-input", "page-key")
        page.get_by_role("button", name="Use key").click()
        expect(page.locator("#key-panel")).to_be_hidden()
        page.set_input_files("#audio-input", str(SAMPLE / "audio.wav"))
        page.set_input_files("#text-file", str(SAMPLE / "text.txt"))
        page.get_by_role("button", name="Align").click()
        expect(page.locator("#result-panel")).to_be_visible(timeout=120_000)
        page.reload()
        expect(page.locator("#key-panel")).to_be_hidden()
        expect(page.locator("#recent li")).to_have_count(1)
        # The reload reopens the job in the address (#id), which refreshes the list once
        # more when it finds the job done: let the page's own requests finish first.
        expect(page.locator("#result-panel")).to_be_visible(timeout=60_000)
        page.wait_for_load_state("networkidle")
        # Refreshes that overlap (a finished job and a key change at once) never double it:
        # hold two list requests and answer both at the same moment.
        held: list[Route] = []

        def answer_together(route: Route) -> None:
            held.append(route)
            if len(held) == 2:
                for waiting in held:
                    waiting.fulfill(response=waiting.fetch())

        page.route("**/v1/alignments?limit=10", answer_together)
        page.evaluate("Promise.all([loadRecent(), loadRecent()])")
        page.unroute("**/v1/alignments?limit=10")
        assert len(held) == 2
        expect(page.locator("#recent li")).to_have_count(1)
    finally:
        context.close()
        server.stop()
