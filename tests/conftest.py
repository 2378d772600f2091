"""Shared fixtures: the bundled samples, their reference times, and the real tiny.en aligner."""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from alignment import Aligner, AlignmentOptions
from tests.device import TEST_DEVICE
from tests.service import Server

SAMPLES = Path(__file__).resolve().parent.parent / "audio_samples"
#: German text for eSpeak NG to say: a language with neither a bundled sample nor a lexicon.
GERMAN = (
    "Der Hafen ist am Morgen noch still. Die Fischer bringen ihre Boote hinaus, und am "
    "Mittag verkaufen sie den Fang auf dem Markt neben der alten Kirche."
)


@dataclass(frozen=True)
class Sample:
    audio: Path
    text: str
    truth: list[dict[str, object]]


def load_sample(name: str) -> Sample:
    folder = SAMPLES / name
    audio = next(p for p in folder.iterdir() if p.stem == "audio")
    truth = json.loads((folder / "truth.json").read_text())["words"]
    return Sample(audio, (folder / "text.txt").read_text(encoding="utf-8"), truth)


@pytest.fixture(scope="session")
def aligner() -> Aligner:
    """The real bundled tiny.en model, loaded once for the whole run."""
    engine = Aligner(AlignmentOptions(model="tiny.en", device=TEST_DEVICE))
    _ = engine.model
    return engine


@pytest.fixture(scope="session")
def short_clean() -> Sample:
    return load_sample("short_clean")


def run_tool(*args: str) -> None:
    """Run ffmpeg/espeak-ng quietly; they are installed by `make test-tools`."""
    assert shutil.which(args[0]), f"{args[0]} is missing: run `make test-tools`"
    subprocess.run(args, check=True, capture_output=True)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Chromium is missing: run `make test-tools`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@contextmanager
def browser_tab(chromium: Browser, **context_options: Any) -> Iterator[Page]:
    """A tab in a fresh browser context; the page must throw no uncaught error."""
    context = chromium.new_context(**context_options)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, errors


@pytest.fixture
def static_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server over a temporary folder: (base URL, folder)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real podalign service with the default settings, one per test module."""
    running = Server(tmp_path_factory.mktemp("service") / "data").start()
    yield running
    running.stop()
