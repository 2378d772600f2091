"""Text the audio lacks and audio the text lacks: reported, never shifting the other words."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from pydub import AudioSegment

from alignment import Aligner
from tests.conftest import Sample, run_tool

HEADER = (
    "Episode 42 show notes. Recorded on 20 September 2024 in Lisbon. Sponsored by Acme "
    "Widgets: visit acme dot com and use code PODCAST for ten percent off your first order."
)
GERMAN = (
    "Guten Abend, meine Damen und Herren. Heute sprechen wir über das Wetter in den Bergen "
    "und über die Preise für Brot und Käse auf dem Wochenmarkt in der Altstadt."
)
INSERT_AFTER_S = 5.85  # the pause after "the open sea."


@pytest.fixture(scope="module")
def spliced(short_clean: Sample, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """The sample with a stretch of German speech put in after its first sentence, with the
    half-second gaps an editor leaves around an inserted clip."""
    folder = tmp_path_factory.mktemp("mismatch")
    german = folder / "german.wav"
    run_tool("espeak-ng", "-v", "de", "-s", "165", "-w", str(german), GERMAN)
    episode = AudioSegment.from_file(short_clean.audio).set_frame_rate(16_000).set_channels(1)
    gap = AudioSegment.silent(duration=500, frame_rate=16_000)
    foreign = gap + AudioSegment.from_file(german).set_frame_rate(16_000).set_channels(1) + gap
    cut = int(INSERT_AFTER_S * 1000)
    out = folder / "spliced.mp3"
    (episode[:cut] + foreign + episode[cut:]).export(out, format="mp3", bitrate="96k")
    return out, len(foreign) / 1000.0


def test_header_not_found_and_insertion_skipped(
    aligner: Aligner, short_clean: Sample, spliced: tuple[Path, float]
) -> None:
    audio, inserted_s = spliced
    result = aligner.align(audio, HEADER + "\n\n" + short_clean.text)
    header_count = len(HEADER.split())
    header, body = result.words[:header_count], result.words[header_count:]
    assert all(w.status == "not_found" and w.start is None for w in header)
    assert [w.text for w in body] == [t["word"] for t in short_clean.truth]

    errors, inside = [], []
    for word, ref in zip(body, short_clean.truth, strict=True):
        expected = float(ref["start"])  # type: ignore[arg-type]
        if expected > INSERT_AFTER_S:
            expected += inserted_s
        if word.start is None or word.end is None:
            errors.append(99.0)
            continue
        errors.append(abs(word.start - expected))
        middle = (word.start + word.end) / 2
        if INSERT_AFTER_S + 0.1 < middle < INSERT_AFTER_S + inserted_s - 0.1:
            inside.append(word)
    # The word right at the seam may be drawn into the foreign speech; nothing else may.
    assert len(inside) <= 1, inside
    assert float(np.median(errors)) <= 0.06
    assert float(np.mean(np.array(errors) <= 0.3)) >= 0.95


def test_dropped_sentence_is_not_found(
    aligner: Aligner, short_clean: Sample, tmp_path: Path
) -> None:
    """The audio loses its second sentence; its words come back not found, the rest in place."""
    second = [i for i, t in enumerate(short_clean.truth) if 17 <= i <= 41]
    cut_from = float(short_clean.truth[17]["start"]) - 0.1  # type: ignore[arg-type]
    cut_to = float(short_clean.truth[42]["start"]) - 0.1  # type: ignore[arg-type]
    episode = AudioSegment.from_file(short_clean.audio)
    out = tmp_path / "dropped.flac"
    (episode[: int(cut_from * 1000)] + episode[int(cut_to * 1000) :]).export(out, format="flac")
    result = aligner.align(out, short_clean.text)
    missing = [result.words[i] for i in second]
    assert sum(w.status == "not_found" for w in missing) >= 0.8 * len(missing)
    shift = cut_to - cut_from
    later = [
        (w, t)
        for w, t in zip(result.words, short_clean.truth, strict=True)
        if float(t["start"]) > cut_to
    ]  # type: ignore[arg-type]
    errors = [
        abs(float(w.start) - (float(t["start"]) - shift))  # type: ignore[arg-type]
        for w, t in later
        if w.start is not None
    ]
    assert len(errors) >= 0.95 * len(later)
    assert float(np.median(errors)) <= 0.06


UNSPOKEN = "This sentence was cut from the recording before it aired."


@pytest.mark.parametrize("sentence", [1, 2, 3])
def test_an_unspoken_sentence_takes_no_word_of_the_next_one_with_it(
    aligner: Aligner, short_clean: Sample, sentence: int
) -> None:
    """A sentence the audio lacks, put in the text before the sample's second, third or
    fourth sentence: its words are not found, and the next sentence's first words are found
    where they are said ("The" and "It" came back not found: the word before them overlapped
    them on Whisper's window; "By noon", heard as "I knew", was lost with the sentence, or on
    the other int8 path the sentence was crammed in before "The")."""
    sentences = re.split(r"(?<=[.!?])\s+", short_clean.text.strip())
    text = " ".join([*sentences[:sentence], UNSPOKEN, *sentences[sentence:]])
    result = aligner.align(short_clean.audio, text)
    before = len(" ".join(sentences[:sentence]).split())
    unspoken = result.words[before : before + len(UNSPOKEN.split())]
    assert sum(w.status == "not_found" for w in unspoken) >= len(unspoken) - 1
    spoken = [*result.words[:before], *result.words[before + len(unspoken) :]]
    assert all(w.status == "aligned" for w in spoken)
    first, truth = spoken[before], short_clean.truth[before]
    assert first.text == truth["word"]
    assert abs(float(first.start) - float(truth["start"])) < 0.1  # type: ignore[arg-type]


def test_text_of_the_recording_s_end_only_is_found_there(
    aligner: Aligner, short_clean: Sample
) -> None:
    """The transcript is the last sentence alone. The one window's transcription runs out of
    tokens before that sentence; the walk looks again from where it stopped."""
    last = [i for i, t in enumerate(short_clean.truth) if float(t["start"]) >= 20.4]  # type: ignore[arg-type]
    text = " ".join(str(short_clean.truth[i]["word"]) for i in last)
    result = aligner.align(short_clean.audio, text)
    assert all(w.status == "aligned" for w in result.words)
    errors = [
        abs(float(w.start) - float(short_clean.truth[i]["start"]))  # type: ignore[arg-type]
        for w, i in zip(result.words, last, strict=True)
    ]
    assert float(np.median(errors)) <= 0.06


def test_a_transcript_that_stops_early_leaves_no_word_on_later_speech(
    aligner: Aligner, short_clean: Sample, tmp_path: Path
) -> None:
    """The text is the first eight words. On a 32 kbit/s mp3, Whisper's window put the lone
    last word ("leave") on speech 20 s later, with a high score: no evidence."""
    low = tmp_path / "low.mp3"
    AudioSegment.from_file(short_clean.audio).export(low, format="mp3", bitrate="32k")
    said = short_clean.truth[:8]
    result = aligner.align(low, " ".join(str(t["word"]) for t in said))
    placed = [(w, t) for w, t in zip(result.words, said, strict=True) if w.status == "aligned"]
    assert len(placed) >= 7
    for word, truth in placed:
        assert abs(float(word.start) - float(truth["start"])) <= 0.3, word  # type: ignore[arg-type]
