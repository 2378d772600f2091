"""The acoustic pass on real audio: tighter word starts than signal refinement, and fallbacks."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from alignment import Aligner, AlignmentOptions, AlignmentResult
from alignment.acoustic import (
    G2P_FILES,
    MODEL_PACKAGE,
    VOCAB_FILE,
    AcousticOptions,
    AcousticRefiner,
    GraphemeModel,
    ipa_to_arpabet,
    silences,
)
from alignment.audio import SAMPLE_RATE, frame_levels_db, load_audio, quiet_spans_vad
from alignment.errors import UnsupportedLanguageError
from alignment.lexicon import Lexicon
from alignment.refine import RefineOptions, find_pauses
from alignment.sphinx import SphinxAligner
from tests.conftest import GERMAN, Sample, load_sample, run_tool
from tests.device import TEST_DEVICE


def _start_errors_s(result: AlignmentResult, sample: Sample) -> np.ndarray:
    spoken = [w for w in result.words if w.status != "non_speech"]
    return np.array(
        [
            abs(float(word.start) - float(ref["start"]))  # type: ignore[arg-type]
            for word, ref in zip(spoken, sample.truth, strict=True)
            if ref["start"] is not None and word.start is not None
        ]
    )


@pytest.fixture(scope="module")
def real_mfa(aligner: Aligner) -> tuple[Sample, AlignmentResult]:
    """The real recording and its alignment with the default refinement (aligned once)."""
    sample = load_sample("real_mfa")
    return sample, aligner.align(sample.audio, sample.text)


@pytest.fixture(scope="module")
def signal_aligner() -> Aligner:
    engine = Aligner(AlignmentOptions(model="tiny.en", device=TEST_DEVICE, refine="signal"))
    _ = engine.model
    return engine


def test_real_speech_starts_are_tighter_than_signal_refinement(
    real_mfa: tuple[Sample, AlignmentResult], signal_aligner: Aligner
) -> None:
    sample, acoustic = real_mfa
    signal = signal_aligner.align(sample.audio, sample.text)
    errors, before = _start_errors_s(acoustic, sample), _start_errors_s(signal, sample)
    # Signal refinement: median 50 ms, p90 170 ms on this recording.
    assert float(np.median(errors)) <= 0.035
    assert float(np.percentile(errors, 90)) <= 0.1
    assert float(np.mean(errors <= 0.1)) >= 0.9
    assert float(np.percentile(errors, 90)) < float(np.percentile(before, 90))
    assert acoustic.options.refine == "acoustic"


def test_a_word_starting_with_a_hiss_starts_where_the_hiss_does(
    real_mfa: tuple[Sample, AlignmentResult],
) -> None:
    # "slow" follows a drawn-out "really": the model's spike for its /s/ comes at the end of
    # the hiss (150 ms late without the hiss step).
    sample, result = real_mfa
    spoken = [w for w in result.words if w.status != "non_speech"]
    index = next(i for i, ref in enumerate(sample.truth) if ref["word"] == "slow")
    slow, really, truth = spoken[index], spoken[index - 1], sample.truth[index]["start"]
    assert slow.text == "slow" and slow.refinement == "acoustic"
    assert slow.start is not None and abs(slow.start - float(truth)) <= 0.05  # type: ignore[arg-type]
    assert really.end is not None and really.end <= slow.start


def test_a_word_after_a_pause_starts_where_the_voice_resumes(
    real_mfa: tuple[Sample, AlignmentResult],
) -> None:
    # "um" and a soft "lower", each after a pause: the phone model's spikes for them come
    # 140 and 180 ms late; the voice-activity model hears where they start.
    sample, result = real_mfa
    spoken = [w for w in result.words if w.status != "non_speech"]
    for word, truth in zip(spoken, sample.truth, strict=True):
        if truth["word"] in ("lower", "um") and truth["start"] is not None and truth["start"] < 13:
            assert word.text == truth["word"] and word.start is not None
            assert abs(word.start - truth["start"]) <= 0.07, word


@pytest.fixture(scope="module")
def numbers(aligner: Aligner) -> tuple[Sample, AlignmentResult]:
    sample = load_sample("numbers_and_symbols")
    return sample, aligner.align(sample.audio, sample.text)


def test_no_word_takes_in_a_whole_silence(numbers: tuple[Sample, AlignmentResult]) -> None:
    """The path had put the last phone of "Jan." on the next word's onset, after 340 ms of
    silence: no word's span takes in a whole silence (at least `silence_s`, by the level
    and the voice-activity model), and "Jan." ends where its sound does."""
    sample, result = numbers
    samples = load_audio(sample.audio)
    pauses = find_pauses(frame_levels_db(samples), RefineOptions().min_pause_s)
    silent = silences(
        [(p.start, p.end) for p in pauses], quiet_spans_vad(samples), AcousticOptions().silence_s
    )
    assert len(silent) >= 10  # the sample pauses between its sentences
    for word in result.words:
        if word.refinement == "acoustic" and word.start is not None and word.end is not None:
            assert not any(word.start < a and b <= word.end for a, b in silent), word
    jan = next(w for w in result.words if w.text == "Jan.")
    truth = next(t for t in sample.truth if t["word"] == "Jan.")
    assert jan.end is not None and isinstance(truth["end"], float)
    assert abs(jan.end - truth["end"]) <= 0.03, jan


def test_every_word_says_which_refinement_it_got(
    numbers: tuple[Sample, AlignmentResult],
) -> None:
    _, result = numbers
    kinds = {w.refinement for w in result.words if w.status == "aligned"}
    assert kinds <= {"acoustic", "signal"} and "acoustic" in kinds
    assert all(w.refinement is None for w in result.words if w.status != "aligned")
    starts = [w.start for w in result.words if w.start is not None]
    assert starts == sorted(starts)
    for word in result.words:
        if word.start is not None and word.end is not None:
            assert word.end > word.start


def test_words_without_phones_keep_signal_times(aligner: Aligner, short_clean: Sample) -> None:
    text = short_clean.text.replace("fishing", "Zxqvbn", 1)
    assert text != short_clean.text
    result = aligner.align(short_clean.audio, text)
    unknown = next(w for w in result.words if w.text.startswith("Zxqvbn"))
    assert unknown.refinement == "signal"
    others = [w for w in result.words if w.status == "aligned" and w is not unknown]
    assert sum(w.refinement == "acoustic" for w in others) >= 0.9 * len(others)


def test_an_implausible_path_falls_back_to_signal_times(aligner: Aligner) -> None:
    sample = load_sample("real_mfa")
    samples = load_audio(sample.audio)
    truth = sample.truth[:6]
    words = [str(t["word"]) for t in truth]
    spans: list[tuple[float, float] | None] = [
        (float(t["start"]), float(t["end"]))  # type: ignore[arg-type]
        for t in truth
    ]
    refiner = aligner.acoustic
    assert all(how == "acoustic" for _, how in refiner.refine(samples, words, spans))
    # Words that are not spoken there: their phones cannot be found, the chunk is rejected.
    wrong = ["seventeen", "purple", "elephants", "marched", "through", "snow"]
    assert all(how == "signal" for _, how in refiner.refine(samples, wrong, spans))
    # The same words with a confidence floor no path reaches.
    strict = AcousticRefiner(
        refiner.scorer, refiner.lexicon, AcousticOptions(min_chunk_log_prob=0.0)
    )
    refined = strict.refine(samples, words, spans)
    assert [span for span, _ in refined] == spans
    assert all(how == "signal" for _, how in refined)


def test_spanish_words_are_moved_onto_their_phones() -> None:
    """Spanish is spelled by rule (`spanish.py`); the phone model walks ahead of Whisper and
    re-times the words, as in English."""
    sample = load_sample("spanish")
    engine = Aligner(AlignmentOptions(model="base", device=TEST_DEVICE))
    acoustic = engine.align(sample.audio, sample.text, language="es")
    signal = engine.align(sample.audio, sample.text, language="es", refine="signal")
    aligned = [w for w in acoustic.words if w.status == "aligned"]
    assert len(aligned) == len(sample.truth)
    assert {w.refinement for w in aligned} == {"acoustic"}
    if engine.model.device == "cpu":  # on a GPU, Whisper's windows walk (issue 16)
        assert "path" in {stage.stage for stage in acoustic.stages}  # the phone path walked
    errors, before = _start_errors_s(acoustic, sample), _start_errors_s(signal, sample)
    # Signal refinement: median 9.7 ms, p90 89 ms, 91 % within 0.1 s on this recording.
    assert float(np.median(errors)) <= 0.015
    assert float(np.percentile(errors, 90)) <= 0.07
    assert float(np.mean(errors <= 0.1)) >= 0.96
    assert float(np.percentile(errors, 90)) < float(np.percentile(before, 90))
    # pocketsphinx's second opinion is English: with `precise`, the pass alone, said so.
    precise = engine.align(sample.audio, sample.text, language="es", refine="precise")
    assert {w.refinement for w in precise.words if w.status == "aligned"} == {"acoustic"}


def test_an_unsupported_language_gets_signal_refinement(tmp_path: Path) -> None:
    audio = tmp_path / "de.wav"
    run_tool("espeak-ng", "-v", "de", "-s", "150", "-w", str(audio), GERMAN)
    engine = Aligner(AlignmentOptions(model="base", device=TEST_DEVICE))
    result = engine.align(audio, GERMAN, language="de")
    assert {w.refinement for w in result.words if w.status == "aligned"} == {"signal"}
    assert not engine._acoustic  # no lexicon, nor the phone model, was loaded for German
    assert engine._phones is None
    with pytest.raises(UnsupportedLanguageError, match="'de'"):
        engine.acoustic_for("de")


def test_refine_none_leaves_whisper_times(short_clean: Sample) -> None:
    engine = Aligner(AlignmentOptions(model="tiny.en", device=TEST_DEVICE, refine="none"))
    result = engine.align(short_clean.audio, short_clean.text)
    assert {w.refinement for w in result.words if w.status == "aligned"} == {"none"}


def test_refine_precise_tightens_real_speech_starts(
    aligner: Aligner, real_mfa: tuple[Sample, AlignmentResult]
) -> None:
    sample, result = real_mfa
    alone = _start_errors_s(result, sample)
    precise = aligner.align(sample.audio, sample.text, refine="precise")
    assert precise.options.refine == "precise"
    kinds = {w.refinement for w in precise.words if w.status == "aligned"}
    assert "precise" in kinds and "acoustic" not in kinds
    both = _start_errors_s(precise, sample)
    # The CTC path alone: median 22 ms, p90 64 ms, 94.8 % within 100 ms on this recording;
    # with pocketsphinx's opinion 13 / 50 ms and 96.6 %.
    assert float(np.median(both)) <= 0.018
    assert float(np.percentile(both, 90)) <= 0.06
    assert float(np.mean(both <= 0.1)) >= 0.95
    assert float(np.median(both)) < float(np.median(alone))


def test_the_second_aligner_times_real_words_or_says_it_cannot() -> None:
    sample = load_sample("real_mfa")
    samples = load_audio(sample.audio)
    lexicon = Lexicon.load()
    spoken = [w for w in sample.truth if w["start"] is not None][:6]
    words = [(str(w["word"]), lexicon.phones(str(w["word"])) or []) for w in spoken]
    start_s = float(spoken[0]["start"]) - 0.3  # type: ignore[arg-type]
    end_s = float(spoken[-1]["end"]) + 0.3  # type: ignore[arg-type]
    piece = samples[round(start_s * SAMPLE_RATE) : round(end_s * SAMPLE_RATE)]
    second = SphinxAligner()
    found = second.align(piece, start_s, words)
    assert found is not None and len(found) == len(words)
    for (start, end), truth in zip(found, spoken, strict=True):
        assert abs(start - float(truth["start"])) <= 0.06  # type: ignore[arg-type]
        assert end > start
    # The same words in a tenth of a second of audio: no path, and it says so.
    assert second.align(piece[: SAMPLE_RATE // 10], start_s, words) is None
    assert second.align(piece, start_s, [("xq", [])]) is None


def test_guessed_words_are_hamas_guesses_without_rebuilding_its_maps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hama import G2PModel
    from hama.vocab import Vocabulary

    spec = importlib.util.find_spec(MODEL_PACKAGE)
    assert spec is not None and spec.origin is not None
    folder = Path(spec.origin).parent
    encoder, decoder = (folder / name for name in G2P_FILES)
    shipped = G2PModel(
        encoder_model_path=encoder, decoder_step_model_path=decoder, vocab_path=folder / VOCAB_FILE
    )
    ours = GraphemeModel()
    words = ["podalign", "zelensky", "yknow", "ollama", "kubernetes", "fresnel", "o'brien"]
    expected = [ipa_to_arpabet([a.phoneme for a in shipped.predict(w).alignments]) for w in words]
    assert any(phones for phones in expected)
    built: list[str] = []

    def counting(build: Callable[[Vocabulary], dict[str, int]]) -> property:
        def counted(vocabulary: Vocabulary) -> dict[str, int]:
            built.append("map")
            return build(vocabulary)

        return property(counted)

    for name in ("encoder_token_to_id", "decoder_token_to_id"):
        monkeypatch.setattr(Vocabulary, name, counting(getattr(Vocabulary, name).fget))
    assert [ours.phones(w) for w in words] == expected
    assert built == []  # hama's vocabulary builds a map at every lookup: 2 ms a letter
