"""The real tiny.en model on real audio: word times within tolerance of the reference."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest

from alignment import Aligner, AlignmentOptions, AlignmentResult
from tests.conftest import Sample, load_sample
from tests.device import TEST_DEVICE


def _start_errors_s(result: AlignmentResult, sample: Sample) -> np.ndarray:
    spoken = [w for w in result.words if w.status != "non_speech"]
    assert [w.text for w in spoken] == [t["word"] for t in sample.truth]
    errors = [
        abs(float(word.start) - float(ref["start"]))  # type: ignore[arg-type]
        for word, ref in zip(spoken, sample.truth, strict=True)
        if ref["start"] is not None and word.start is not None
    ]
    return np.array(errors)


@pytest.mark.parametrize(
    ("name", "median_s", "within_200ms"),
    [("short_clean", 0.04, 0.9), ("numbers_and_symbols", 0.06, 0.8), ("real_mfa", 0.1, 0.7)],
)
def test_word_times_match_the_reference(
    aligner: Aligner, name: str, median_s: float, within_200ms: float
) -> None:
    sample = load_sample(name)
    result = aligner.align(sample.audio, sample.text)
    errors = _start_errors_s(result, sample)
    assert result.count("aligned") == len(sample.truth)  # every spoken word placed
    assert float(np.median(errors)) <= median_s
    assert float(np.mean(errors <= 0.2)) >= within_200ms


def test_result_is_complete_and_consistent(aligner: Aligner, short_clean: Sample) -> None:
    result = aligner.align(short_clean.audio, short_clean.text)
    assert result.language == "en" and result.model == "tiny.en"
    assert abs(result.duration_s - 26.875) < 0.05
    assert set(result.timings_s) >= {"decode_s", "align_s", "refine_s"}
    previous_end = 0.0
    for word in result.words:
        assert short_clean.text[word.char_start : word.char_end] == word.text
        assert word.start is not None and word.end is not None
        assert previous_end <= word.start < word.end <= result.duration_s
        assert 0.0 <= word.score <= 1.0
        previous_end = word.end


def test_same_input_same_output(aligner: Aligner, short_clean: Sample) -> None:
    first = aligner.align(short_clean.audio, short_clean.text)
    second = aligner.align(short_clean.audio, short_clean.text)
    assert first.words == second.words


def test_progress_reports_every_stage_in_order(aligner: Aligner, short_clean: Sample) -> None:
    seen: list[tuple[str, float]] = []
    aligner.align(short_clean.audio, short_clean.text, progress=lambda s, f: seen.append((s, f)))
    stages = [stage for stage, _ in seen]
    assert stages[0] == "decode" and stages[-1] == "refine" and "align" in stages
    assert all(0.0 <= fraction <= 1.0 for _, fraction in seen)
    align_fractions = [f for s, f in seen if s == "align"]
    assert align_fractions == sorted(align_fractions)


def test_markup_and_speaker_labels_are_non_speech(aligner: Aligner, short_clean: Sample) -> None:
    first, rest = short_clean.text.split(" sea. ", 1)
    text = f"[ Silence ]\nANNA: {first} sea. (laughs) [BLANK_AUDIO]\n♪ BOB: {rest}"
    result = aligner.align(short_clean.audio, text)
    markup = [w.text for w in result.words if w.status == "non_speech"]
    assert markup == ["[ Silence ]", "ANNA:", "(laughs)", "[BLANK_AUDIO]", "♪", "BOB:"]
    assert all(w.start is None for w in result.words if w.status == "non_speech")
    errors = _start_errors_s(result, short_clean)
    assert float(np.median(errors)) <= 0.05


def test_one_model_shared_by_two_threads_gives_each_the_same_result(
    aligner: Aligner, short_clean: Sample
) -> None:
    """The workers of one GPU share one model (`concurrent_calls` replicas): two alignments at
    once give what each gives alone."""
    alone = aligner.align(short_clean.audio, short_clean.text).words
    shared = Aligner(
        AlignmentOptions(model="tiny.en", device=TEST_DEVICE, concurrent_calls=2, cpu_threads=1)
    )
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: shared.align(short_clean.audio, short_clean.text), [0, 1]))
    assert runs[0].words == runs[1].words
    assert [(w.text, w.status) for w in runs[0].words] == [(w.text, w.status) for w in alone]
    starts = np.array([w.start for w in runs[0].words if w.start is not None])
    assert np.max(np.abs(starts - [w.start for w in alone if w.start is not None])) < 0.05


def test_a_batch_is_no_larger_than_the_gpus_memory_holds(
    aligner: Aligner, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model loaded on a GPU knows how many windows fit (weights.batch_limit); a larger
    PODALIGN_BATCH_SIZE is cut to that, with a WARNING, instead of running out of memory."""
    on_a_small_gpu = replace(aligner.model, device="cuda", max_batch_size=3)
    monkeypatch.setattr("alignment.engine.load_model", lambda *args, **kwargs: on_a_small_gpu)
    with caplog.at_level(logging.WARNING, logger="alignment.engine"):
        wants_16 = Aligner(AlignmentOptions(model="tiny.en", batch_size=16))
        assert wants_16._sync_options().batch_size == 3
    assert "batch_size 16 does not fit in the GPU's memory with tiny.en; using 3" in caplog.text
    # Where the memory is unknown, the GPU default (8) stands.
    unknown = replace(on_a_small_gpu, max_batch_size=None)
    monkeypatch.setattr("alignment.engine.load_model", lambda *args, **kwargs: unknown)
    assert Aligner(AlignmentOptions(model="tiny.en"))._sync_options().batch_size == 8
