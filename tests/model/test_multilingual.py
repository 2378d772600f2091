"""The bundled multilingual base model: language detection and Spanish and German alignment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alignment import Aligner, AlignmentOptions
from alignment.audio import SAMPLE_RATE, load_audio
from tests.conftest import GERMAN, load_sample, run_tool
from tests.device import TEST_DEVICE


@pytest.fixture(scope="module")
def base() -> Aligner:
    return Aligner(AlignmentOptions(model="base", device=TEST_DEVICE))


def test_spanish_is_detected_and_aligned(base: Aligner) -> None:
    sample = load_sample("spanish")
    result = base.align(sample.audio, sample.text)
    assert result.language == "es"
    assert result.count("aligned") == len(sample.truth)
    errors = np.array(
        [
            abs(float(w.start) - float(t["start"]))  # type: ignore[arg-type]
            for w, t in zip(result.words, sample.truth, strict=True)
            if w.start is not None
        ]
    )
    assert float(np.median(errors)) <= 0.04
    assert float(np.mean(errors <= 0.2)) >= 0.9


def test_german_is_detected_and_aligned(base: Aligner, tmp_path: Path) -> None:
    audio = tmp_path / "de.wav"
    run_tool("espeak-ng", "-v", "de", "-s", "150", "-w", str(audio), GERMAN)
    result = base.align(audio, GERMAN)
    assert result.language == "de"
    assert result.count("aligned") == len(GERMAN.split())
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert result.words[-1].end is not None and result.words[-1].end > 0.8 * result.duration_s


def test_language_can_be_given(base: Aligner) -> None:
    sample = load_sample("spanish")
    result = base.align(sample.audio, sample.text, language="es")
    assert result.language == "es" and result.options.language == "es"


@pytest.mark.parametrize("silence_s", [0.0, 0.7, 4.0])
def test_the_window_that_found_the_language_is_not_encoded_again(
    base: Aligner, tmp_path: Path, silence_s: float
) -> None:
    """Speech within 10 s of the start (after digital silence too): the language window is
    the walk's first window, encoded once (the same encodes and words as with the language
    given)."""
    spoken = tmp_path / "de.wav"
    run_tool("espeak-ng", "-v", "de", "-s", "150", "-w", str(spoken), GERMAN)
    lead = np.zeros(round(silence_s * SAMPLE_RATE), dtype=np.float32)
    samples = np.concatenate([lead, load_audio(spoken)])
    detected = base.align(samples, GERMAN)
    given = base.align(samples, GERMAN, language="de")
    assert detected.language == "de"
    encodes = [{s.stage: s.calls for s in r.stages}["encode"] for r in (detected, given)]
    assert encodes[0] == encodes[1] >= 1
    assert detected.words == given.words
