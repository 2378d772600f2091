"""Audio decoding from every common container, and clear errors for what is not audio."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import numpy as np
import pytest
from pydub import AudioSegment

from alignment.audio import (
    SAMPLE_RATE,
    BlockVad,
    _decode_first_audio_stream,
    frame_levels_db,
    has_sound,
    inspect_audio,
    load_audio,
    quiet_spans_vad,
)
from alignment.errors import AudioDecodeError, AudioEmptyError, NoAudioStreamError
from tests.conftest import SAMPLES, run_tool

SOURCE = SAMPLES / "short_clean" / "audio.wav"


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return load_audio(SOURCE)


@pytest.fixture(scope="module")
def stereo_44k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample as 44.1 kHz stereo, the usual shape of a podcast master."""
    path = tmp_path_factory.mktemp("audio") / "stereo.wav"
    clip = AudioSegment.from_file(SOURCE)[:10_000]
    clip.set_frame_rate(44_100).set_channels(2).export(path, format="wav")
    return path


def _make_video(out: Path, seconds: int, *args: str) -> None:
    """A small test-card video of `seconds`, with whatever else `args` adds (audio, codecs)."""
    card = f"color=c=blue:s=64x64:d={seconds}:r=5"
    run_tool("ffmpeg", "-y", "-f", "lavfi", "-i", card, *args, str(out))


@pytest.mark.parametrize(
    ("suffix", "codec_args"),
    [
        (".mp3", ["-c:a", "libmp3lame", "-b:a", "64k"]),
        (".m4a", ["-c:a", "aac", "-b:a", "64k"]),
        (".flac", ["-c:a", "flac"]),
        (".ogg", ["-c:a", "libopus", "-b:a", "32k"]),
        (".opus", ["-c:a", "libopus", "-b:a", "32k"]),
        (".wav", ["-c:a", "pcm_s24le"]),
    ],
)
def test_decodes_audio_containers(
    stereo_44k: Path, tmp_path: Path, suffix: str, codec_args: list[str]
) -> None:
    out = tmp_path / f"clip{suffix}"
    run_tool("ffmpeg", "-y", "-i", str(stereo_44k), *codec_args, str(out))
    samples = load_audio(out)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) / SAMPLE_RATE - 10.0) < 0.1
    assert has_sound(frame_levels_db(samples))


@pytest.mark.parametrize(
    ("suffix", "args"),
    [
        (".mp4", ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]),
        (".mkv", ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libopus"]),
        (".webm", ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus"]),
    ],
)
def test_decodes_the_audio_track_of_videos(
    stereo_44k: Path, tmp_path: Path, suffix: str, args: list[str]
) -> None:
    out = tmp_path / f"video{suffix}"
    _make_video(out, 10, "-i", str(stereo_44k), "-shortest", *args)
    samples = load_audio(out)
    assert abs(len(samples) / SAMPLE_RATE - 10.0) < 0.3


def test_resampled_audio_matches_the_original(reference: np.ndarray, stereo_44k: Path) -> None:
    samples = load_audio(stereo_44k)
    first = reference[: len(samples)]
    correlation = np.corrcoef(first[: 5 * SAMPLE_RATE], samples[: 5 * SAMPLE_RATE])[0, 1]
    assert correlation > 0.95


def test_reads_an_open_binary_file(reference: np.ndarray) -> None:
    with open(SOURCE, "rb") as handle:
        assert len(load_audio(handle)) == len(reference)


def test_text_file_is_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp3"
    path.write_text("This is a transcript, not audio.\n" * 50)
    with pytest.raises(AudioDecodeError) as info:
        load_audio(path)
    assert info.value.code == "audio_decode_failed"


def test_empty_file_says_it_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioEmptyError, match="0 bytes"):  # as the service says
        load_audio(path)


def test_audio_from_a_pipe_is_read_although_its_size_says_0(tmp_path: Path) -> None:
    fifo = tmp_path / "episode.wav"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(SOURCE.read_bytes()))
    writer.start()
    samples = load_audio(fifo)
    writer.join()
    assert len(samples) == len(load_audio(SOURCE))


def test_a_transcript_given_as_the_audio_is_text_not_a_silent_video(tmp_path: Path) -> None:
    # FFmpeg reads a `.txt` file as text drawn on video: "no audio track" misled.
    path = tmp_path / "transcript.txt"
    path.write_bytes((SAMPLES / "short_clean" / "text.txt").read_bytes())
    with pytest.raises(AudioDecodeError, match="text, not audio"):
        load_audio(path)
    with pytest.raises(AudioDecodeError, match="text, not audio"):
        inspect_audio(path)


def test_corrupt_audio_is_reported(tmp_path: Path) -> None:
    """An MP3 tag followed by garbage: a file that claims to be audio and is not."""
    path = tmp_path / "corrupt.mp3"
    path.write_bytes(
        b"ID3" + bytes(200) + bytes(np.random.default_rng(1).integers(0, 255, 5000, dtype=np.uint8))
    )
    with pytest.raises(AudioDecodeError):
        load_audio(path)


def test_video_without_audio_track(tmp_path: Path) -> None:
    out = tmp_path / "silent_video.mp4"
    _make_video(out, 2, "-c:v", "libx264", "-preset", "ultrafast")
    with pytest.raises(NoAudioStreamError) as info:
        load_audio(out)
    assert info.value.code == "no_audio_stream"


def test_zero_length_audio_track(tmp_path: Path) -> None:
    out = tmp_path / "empty.wav"
    AudioSegment.silent(duration=0, frame_rate=16_000).export(out, format="wav")
    with pytest.raises((AudioEmptyError, AudioDecodeError)):
        load_audio(out)


def test_silence_has_no_sound() -> None:
    assert not has_sound(frame_levels_db(np.zeros(SAMPLE_RATE * 3, dtype=np.float32)))


def test_voice_activity_during_decoding_finds_what_the_whole_file_gives(tmp_path: Path) -> None:
    """Blocks of voice activity run in a background thread while the file is decoded; the
    spans must be those of the whole decoded file, across block edges (150 s: three blocks)."""
    clip = AudioSegment.from_file(SOURCE)
    long = tmp_path / "long.mp3"
    (clip * 6)[:150_000].export(long, format="mp3", bitrate="64k")
    whole = quiet_spans_vad(load_audio(long))
    # 0 waiting: every block is read from the decoded file at the end; 3 threads: blocks
    # finish out of order (as on a host with many cores).
    for waiting, threads in ((2, 1), (0, 1), (16, 3), (1, 3)):
        with ThreadPoolExecutor(threads) as pool:
            vad = BlockVad(pool)
            vad.max_waiting_blocks = waiting
            samples = load_audio(long, on_chunk=vad.add)
            quiet = vad.finish(samples).result()
        assert quiet == whole, (waiting, threads)
    assert len(whole) > 5 * 7  # the pauses of every copy


class _Packets:
    """A container whose packets are real 44.1 kHz audio frames, some of which the codec
    refuses (as a damaged AAC or Opus stream does): the decoding loop is the subject."""

    duration = None

    def __init__(self, plan: list[bool]) -> None:
        self.plan = plan
        self.streams = type("Streams", (), {"audio": [object()]})()

    def demux(self, _stream: object) -> Iterator[object]:
        for index, broken in enumerate(self.plan):
            yield _Packet(index, broken)


class _Packet:
    def __init__(self, index: int, broken: bool) -> None:
        self.index, self.broken = index, broken

    def decode(self) -> list[av.AudioFrame]:
        if self.broken:
            raise av.error.InvalidDataError(1094995529, "Invalid data found")
        wave = np.sin(np.arange(1152) * 0.05 + self.index).astype(np.float32)[None, :] * 0.3
        frame = av.AudioFrame.from_ndarray(wave, format="fltp", layout="mono")
        frame.sample_rate = 44_100
        return [frame]


def test_broken_packets_after_the_first_good_ones_do_not_end_decoding() -> None:
    """60 refused packets after 2 s of audio (which the resampler may still be holding): the
    rest of the file is decoded; only a stream that never decoded anything stops early."""
    good_s = 1152 / 44_100
    samples = _decode_first_audio_stream(
        _Packets([False] * 77 + [True] * 60 + [False] * 766), None, None
    )  # type: ignore[arg-type]
    assert len(samples) / SAMPLE_RATE == pytest.approx((77 + 766) * good_s, abs=0.05)
    with pytest.raises(AudioDecodeError):
        _decode_first_audio_stream(_Packets([True] * 60 + [False] * 10), None, None)  # type: ignore[arg-type]
