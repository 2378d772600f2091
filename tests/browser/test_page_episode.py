"""What a person sees around an alignment: models per language, progress, the result coming
into view, the legend, Recent, the favicon and the API docs, all served by the service."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from tests.conftest import SAMPLES, browser_tab
from tests.service import Server

SAMPLE = SAMPLES / "short_clean"
SPANISH = SAMPLES / "spanish"

# Every change of the progress text, with the bar's value at that moment.
_WATCH_PROGRESS = """() => {
  window.progressSeen = [];
  const text = document.getElementById("progress-text");
  new MutationObserver(() => window.progressSeen.push(
    [document.getElementById("progress").value, text.textContent])
  ).observe(text, { childList: true, characterData: true, subtree: true });
}"""


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    with browser_tab(chromium, viewport={"width": 1100, "height": 700}) as tab:
        yield tab


def _submit(page: Page, audio: str, text: str) -> None:
    page.set_input_files("#audio-input", audio)
    page.set_input_files("#text-file", text)
    expect(page.locator("#text-input")).not_to_have_value("")
    page.get_by_role("button", name="Align").click()


def test_every_bundled_model_is_offered_and_spanish_picks_a_multilingual_one(
    page: Page, server: Server
) -> None:
    page.goto(server.url)
    expect(page.locator("#model option")).to_have_text(["tiny.en", "base"])
    expect(page.locator("#model")).to_have_value("tiny.en")
    page.select_option("#language", "es")
    expect(page.locator("#model")).to_have_value("base")
    expect(page.locator("#model-note")).to_have_text(
        "Spanish needs a multilingual model: using base."
    )
    _submit(page, str(SPANISH / "audio.flac"), str(SPANISH / "text.txt"))
    expect(page.locator("#result-panel")).to_be_visible(timeout=240_000)
    expect(page.locator("#error")).to_be_hidden()
    expect(page.locator("#summary")).to_contain_text("language es, model base")


def test_progress_agrees_the_result_comes_into_view_with_a_legend(
    page: Page, server: Server
) -> None:
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(server.url)
    page.evaluate(_WATCH_PROGRESS)
    _submit(page, str(SAMPLE / "audio.wav"), str(SAMPLE / "text.txt"))
    expect(page.locator("#progress-text")).to_have_text("Done.", timeout=120_000)
    expect(page.locator("#result-panel")).to_be_in_viewport()
    seen = page.evaluate("window.progressSeen")
    assert seen
    for value, text in seen:
        shown = re.search(r"(\d+)%$", text)
        if shown:
            assert int(shown.group(1)) == round(value * 100), (value, text)
    legend = page.locator("#legend")
    expect(legend).to_be_visible()
    for words in ("low confidence", "not found in the audio", "word being said"):
        expect(legend).to_contain_text(words)
    # Before playing there is no caption, and no empty box where it would be.
    expect(page.locator("#cue")).to_have_text("")
    assert page.eval_on_selector("#cue", "e => getComputedStyle(e).visibility") == "hidden"
    assert failed == []  # the favicon too


def test_recent_tells_alignments_apart(page: Page, server: Server) -> None:
    page.goto(server.url)
    _submit(page, str(SAMPLE / "audio.wav"), str(SAMPLE / "text.txt"))
    expect(page.locator("#progress-text")).to_have_text("Done.", timeout=120_000)
    page.reload()
    first = page.locator("#recent li").first
    expect(first.locator("button")).to_have_text("audio.wav")
    expect(first).to_contain_text("0:27")
    expect(first).to_contain_text("succeeded")
    words = " ".join((SAMPLE / "text.txt").read_text().split()[:10])
    expect(first.locator(".first-words")).to_have_text(words)


def test_the_favicon_is_served(page: Page, server: Server) -> None:
    answer = page.request.get(f"{server.url}/favicon.ico")
    assert answer.ok and answer.headers["content-type"].startswith("image/svg+xml")
    page.goto(server.url)
    href = page.get_attribute("link[rel=icon]", "href")
    assert href and page.request.get(f"{server.url}{href}").ok


def test_api_docs_render_from_the_service_alone(page: Page, server: Server) -> None:
    requested: list[str] = []
    answers: list[Response] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("response", lambda answer: answers.append(answer))
    page.goto(f"{server.url}/docs")
    operation = page.locator("details.operation", has_text="/v1/alignments").first
    expect(operation).to_be_visible()
    expect(page.locator(".operation .method.post").first).to_be_visible()
    operation.locator("summary").click()
    expect(operation).to_contain_text("Responses")
    expect(page.locator("h2", has_text="Schemas")).to_be_visible()
    assert requested and all(url.startswith(server.url) for url in requested), requested
    assert all(answer.ok for answer in answers)
    redoc = page.request.get(f"{server.url}/redoc", max_redirects=0)
    assert redoc.status == 308 and redoc.headers["location"] == "/docs"
