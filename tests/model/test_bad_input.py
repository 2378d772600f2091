"""Bad input through the whole engine: each gives its stable error code, never a crash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydub import AudioSegment

from alignment import Aligner, AlignmentError, AlignmentOptions
from alignment.audio import SAMPLE_RATE, load_audio
from alignment.errors import UnsupportedLanguageError
from tests.conftest import Sample, load_sample
from tests.device import TEST_DEVICE


def _code(call: object) -> str:
    with pytest.raises(AlignmentError) as info:
        call()  # type: ignore[operator]
    return info.value.code


def test_silence_only(aligner: Aligner, short_clean: Sample, tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    AudioSegment.silent(duration=5000, frame_rate=16_000).export(path, format="wav")
    assert _code(lambda: aligner.align(path, short_clean.text)) == "no_speech"


def test_corrupt_file(aligner: Aligner, short_clean: Sample, tmp_path: Path) -> None:
    path = tmp_path / "broken.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(np.random.default_rng(0).bytes(4000)))
    assert _code(lambda: aligner.align(path, short_clean.text)) == "audio_decode_failed"


def test_text_file_as_audio(aligner: Aligner, short_clean: Sample, tmp_path: Path) -> None:
    path = tmp_path / "transcript.wav"
    path.write_text(short_clean.text)
    assert _code(lambda: aligner.align(path, short_clean.text)) == "audio_decode_failed"


def test_empty_transcript(aligner: Aligner, short_clean: Sample) -> None:
    assert _code(lambda: aligner.align(short_clean.audio, b"  \n ")) == "transcript_empty"


def test_binary_transcript(aligner: Aligner, short_clean: Sample) -> None:
    data = short_clean.audio.read_bytes()[:5000]
    assert _code(lambda: aligner.align(short_clean.audio, data)) == "transcript_encoding"


def test_text_not_in_the_audio(aligner: Aligner, short_clean: Sample) -> None:
    text = "Quarterly revenue grew by twelve percent while operating costs fell sharply. " * 3
    result = aligner.align(short_clean.audio, text)
    assert result.count("aligned") <= 3
    assert result.count("not_found") >= len(text.split()) - 3


def test_english_model_refuses_other_languages(short_clean: Sample) -> None:
    with pytest.raises(UnsupportedLanguageError):
        Aligner(AlignmentOptions(model="tiny.en", device=TEST_DEVICE)).align(
            short_clean.audio, short_clean.text, language="de"
        )


def test_noise_without_speech_places_nothing(aligner: Aligner, tmp_path: Path) -> None:
    from pydub.generators import WhiteNoise

    path = tmp_path / "noise.wav"
    WhiteNoise(sample_rate=16_000).to_audio_segment(duration=4000, volume=-20).export(
        path, format="wav"
    )
    result = aligner.align(path, "hello world and all the people in it")
    assert result.count("aligned") == 0


def test_audio_shorter_than_its_text(aligner: Aligner, tmp_path: Path) -> None:
    from tests.conftest import run_tool

    path = tmp_path / "hello.wav"
    run_tool("espeak-ng", "-w", str(path), "hello")
    result = aligner.align(path, "hello there my friend, how are you today")
    assert result.words[0].status == "aligned"
    assert result.words[0].end is not None and result.words[0].end <= result.duration_s
    assert all(w.status == "not_found" for w in result.words[2:])


@pytest.mark.parametrize("refine", ["acoustic", "none"])
def test_every_time_lies_inside_audio_cut_in_its_last_word(aligner: Aligner, refine: str) -> None:
    """Cut 50 ms before the last word ends, the recording's first and last words stay inside
    it: the pass's end offset put "thanks" 10 ms past the end, and with `refine=none` the
    model's lag put the first word's start at -0.11 s."""
    sample = load_sample("real_mfa")
    last_end = float(str([w for w in sample.truth if w["end"] is not None][-1]["end"]))
    samples = load_audio(sample.audio)[: round((last_end - 0.05) * SAMPLE_RATE)]
    result = aligner.align(samples, sample.text, refine=refine)  # type: ignore[arg-type]
    placed = [w for w in result.words if w.start is not None and w.end is not None]
    assert len(placed) >= len(sample.truth) - 2
    assert all(0.0 <= w.start <= w.end <= result.duration_s for w in placed)  # type: ignore[operator]
    assert placed[-1].index == result.words[-1].index  # cut off, not dropped
