"""The pipeline (the phone model's blocks, voice activity and the acoustic pass in threads, more
threads for the model) gives the same words as fewer threads, and says where time went."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydub import AudioSegment

from alignment import Aligner, AlignmentOptions
from alignment import engine as engine_module
from alignment.audio import Samples
from alignment.forced import EncodedWindow, WindowAligner, window_frames
from alignment.types import Refinement
from tests.conftest import Sample, load_sample, run_tool
from tests.device import TEST_DEVICE
from tests.model.test_crosstalk import _mix as crosstalk_mix

HEADER = "Episode 42 show notes. Recorded on 20 September 2024 in Lisbon by the whole team."
FOREIGN = (
    "Guten Abend, meine Damen und Herren. Heute sprechen wir über das Wetter in den Bergen "
    "und über die Preise für Brot und Käse auf dem Wochenmarkt in der Altstadt."
)


@pytest.fixture(scope="module")
def episode(short_clean: Sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample twice with foreign speech the text lacks between: over a minute, so the
    walk goes along the grid and leaves it (the text's header is not said either)."""
    folder = tmp_path_factory.mktemp("pipeline")
    foreign = folder / "foreign.wav"
    run_tool("espeak-ng", "-v", "de", "-s", "150", "-w", str(foreign), FOREIGN + " " + FOREIGN)
    clip = AudioSegment.from_file(short_clean.audio).set_frame_rate(16_000).set_channels(1)
    other = AudioSegment.from_file(foreign).set_frame_rate(16_000).set_channels(1)
    gap = AudioSegment.silent(duration=700, frame_rate=16_000)
    out = folder / "episode.flac"
    (clip + gap + other + gap + clip).export(out, format="flac")
    return out


@pytest.mark.parametrize("refine", ["acoustic", "signal"])
def test_more_threads_give_the_same_words(
    aligner: Aligner, short_clean: Sample, episode: Path, refine: Refinement
) -> None:
    """With the default refinement the phone model's path places most words and Whisper's
    windows the rest; with `signal`, Whisper's windows walk the whole episode. Either way
    more threads (for the model, the phone model's blocks and voice activity, two at once)
    give the same words."""
    text = HEADER + "\n\n" + short_clean.text + "\n\n" + short_clean.text
    one = aligner.align(episode, text, refine=refine)
    more = Aligner(AlignmentOptions(model="tiny.en", device=TEST_DEVICE, cpu_threads=4))
    other = more.align(episode, text, refine=refine)
    assert other.words == one.words
    assert one.count("aligned") >= 2 * len(short_clean.truth) - 2
    stages = {s.stage: s for s in one.stages}
    assert list(stages)[:2] == ["decode", "vad"]
    assert {"encode", "align", "transcribe", "refine"} <= set(stages)
    if refine == "acoustic":
        # The header and the foreign speech go to Whisper's windows, the rest to the path.
        assert {"phones", "path", "acoustic"} <= set(stages)
        assert stages["path"].calls >= 2 and stages["encode"].calls >= 1
    else:
        assert not {"phones", "path", "acoustic"} & set(stages)
        assert stages["encode"].calls >= 3
    assert stages["align"].calls >= stages["encode"].calls
    assert all(s.seconds >= 0.0 for s in one.stages)


def test_the_phone_path_walks_on_the_cpu_only(
    aligner: Aligner, short_clean: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a GPU Whisper's batched windows are cheap and the phone model would run on the
    CPU: the walk there is Whisper's, as measured for the GPU path."""
    from dataclasses import replace

    from alignment.stages import StageClock

    samples = np.zeros(16_000, dtype=np.float32)
    with aligner._recording_frames(samples, ("en", "acoustic"), StageClock()) as frames:
        assert (frames is not None) == (aligner.model.device == "cpu")
    on_a_gpu = replace(aligner.model, device="cuda")
    monkeypatch.setattr(aligner, "_model", on_a_gpu)
    with aligner._recording_frames(samples, ("en", "acoustic"), StageClock()) as frames:
        assert frames is None
    with aligner._recording_frames(samples, ("es", "acoustic"), StageClock()) as frames:
        assert frames is None


def test_a_recording_under_one_window_is_encoded_short_unless_a_word_is_unplaced(
    aligner: Aligner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under 30 s, Whisper's window is its audio and 1 s of silence (the encoder's time grows
    with its length), with the same words as a 30 s window. Where the text runs past the
    audio, the walk leaves words unplaced on it and walks again with the 30 s window, on
    which the last spoken word is found (on the short one it was not); where it needs more
    than one window (crosstalk), it walks again with 30 s windows (short ones moved words)."""
    frames_encoded: list[int] = []
    encode = WindowAligner._encode

    def recording(
        self: WindowAligner, samples: Samples, spans: list[tuple[float, float]], frames: int
    ) -> list[EncodedWindow]:
        frames_encoded.append(frames)
        return encode(self, samples, spans, frames)

    monkeypatch.setattr(WindowAligner, "_encode", recording)
    # 26.7 s: the phone path hands this recording over to Whisper's window at its start.
    sample = load_sample("real_mfa")
    short = aligner.align(sample.audio, sample.text)
    (frames,) = frames_encoded  # duration_s is rounded: a frame pair either way
    assert abs(frames - window_frames(short.duration_s, engine_module.TAIL_PADDING_S)) <= 2
    assert frames < 3000
    frames_encoded.clear()
    monkeypatch.setattr(engine_module, "TAIL_PADDING_S", None)
    full = aligner.align(sample.audio, sample.text)
    assert frames_encoded == [3000]
    assert [w.status for w in short.words] == [w.status for w in full.words]
    moved = [
        abs(float(a.start) - float(b.start))  # type: ignore[arg-type]
        for a, b in zip(short.words, full.words, strict=True)
        if a.start is not None
    ]
    assert max(moved) <= 0.03

    monkeypatch.setattr(engine_module, "TAIL_PADDING_S", 1.0)
    hello = tmp_path / "hello.wav"
    run_tool("espeak-ng", "-w", str(hello), "hello")
    frames_encoded.clear()
    result = aligner.align(hello, "hello there my friend, how are you today")
    assert len(frames_encoded) == 2 and frames_encoded[1] == 3000
    assert abs(frames_encoded[0] - window_frames(result.duration_s, 1.0)) <= 2
    assert result.words[0].status == "aligned"
    assert all(w.status == "not_found" for w in result.words[2:])

    audio, text, _ = crosstalk_mix()
    frames_encoded.clear()
    aligner.align(audio, text)
    assert frames_encoded[0] < 3000 and len(frames_encoded) >= 3
    assert all(frames == 3000 for frames in frames_encoded[1:])
