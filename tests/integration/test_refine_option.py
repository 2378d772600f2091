"""The `refine` option from the outside: the CLI's --refine and the HTTP form field."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SAMPLES
from tests.service import Server, wait_for

SAMPLE = SAMPLES / "short_clean"


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def _align(*extra: str) -> subprocess.CompletedProcess[str]:
    sample = (str(SAMPLE / "audio.wav"), str(SAMPLE / "text.txt"))
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "align", *sample, *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _cli_words(tmp_path: Path, *extra: str) -> dict[str, object]:
    out = tmp_path / "words.json"
    done = _align("-o", str(out), *extra)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(out.read_text())
    return result


def test_cli_refines_acoustically_by_default_and_takes_refine(tmp_path: Path) -> None:
    default = _cli_words(tmp_path)
    assert default["options"]["refine"] == "acoustic"  # type: ignore[index]
    kinds = {w["refinement"] for w in default["words"]}  # type: ignore[attr-defined]
    assert "acoustic" in kinds
    signal = _cli_words(tmp_path, "--refine", "signal")
    assert {w["refinement"] for w in signal["words"]} == {"signal"}  # type: ignore[attr-defined]


def test_cli_refuses_an_unknown_refinement(tmp_path: Path) -> None:
    done = _align("--refine", "magic")
    assert done.returncode != 0 and "--refine" in done.stderr


def _submit(client: httpx.Client, **data: str) -> httpx.Response:
    files = {
        "audio": ("audio.wav", (SAMPLE / "audio.wav").read_bytes()),
        "transcript": ("text.txt", (SAMPLE / "text.txt").read_bytes()),
    }
    return client.post("/v1/alignments", files=files, data=data)


def test_http_field_chooses_the_refinement(client: httpx.Client) -> None:
    chosen = {}
    for refine in ("signal", "precise", ""):
        answer = _submit(client, refine=refine) if refine else _submit(client)
        assert answer.status_code == 202, answer.text
        done = wait_for(client, answer.json()["id"])
        assert done["status"] == "succeeded", done
        words = client.get(f"/v1/alignments/{done['id']}/words").json()["words"]
        chosen[refine] = {w["refinement"] for w in words}
    assert chosen["signal"] == {"signal"}
    assert "precise" in chosen["precise"] and "acoustic" not in chosen["precise"]
    assert "acoustic" in chosen[""]  # the server's default setting


def test_http_refuses_an_unknown_refinement(client: httpx.Client) -> None:
    answer = _submit(client, refine="magic")
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_option"
