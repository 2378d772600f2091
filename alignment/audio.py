"""Audio in any container -> 16 kHz mono float32 samples (PyAV), and signal-level helpers."""

from __future__ import annotations

import functools
import re
import stat
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import av
import numpy as np
import numpy.typing as npt

from alignment.errors import (
    AudioDecodeError,
    AudioEmptyError,
    AudioTooLongError,
    NoAudioStreamError,
)

SAMPLE_RATE = 16_000
LEVEL_FRAME_S = 0.005
_SILENT_DB = -100.0
#: The resampler hands out 4 s at a time: one Python round per mp3 frame (26 ms) cost a
#: second of CPU on a 45-minute episode, more than the decoding itself.
_CHUNK_SAMPLES = 4 * SAMPLE_RATE

Samples = npt.NDArray[np.float32]
Levels = npt.NDArray[np.float32]


def load_audio(
    source: str | Path | BinaryIO,
    max_duration_s: float | None = None,
    on_chunk: Callable[[Samples], None] | None = None,
) -> Samples:
    """Decode the first audio stream of `source` to 16 kHz mono float32. With
    `max_duration_s`, decoding stops as soon as more samples than that came out
    (AudioTooLongError): what counts is the audio, not what the container header claims.
    `on_chunk` sees every decoded chunk, in order, as it comes out."""
    container = _open(source)
    try:
        return _decode_first_audio_stream(container, max_duration_s, on_chunk)
    finally:
        container.close()


#: FFmpeg's demuxers for text shown as video (chosen by a name such as `.txt`): such a file
#: would otherwise be "a video without an audio track".
_TEXT_FORMATS = {"tty"}


def _open(source: str | Path | BinaryIO) -> av.container.InputContainer:
    if isinstance(source, str | Path) and _size(source) == 0:
        raise AudioEmptyError("The audio file is empty (0 bytes). Send the episode's audio.")
    try:
        container = av.open(source if not isinstance(source, Path) else str(source), mode="r")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise AudioDecodeError(
            f"The file could not be read as audio ({_reason(exc)}). Send MP3, M4A/AAC, WAV, "
            "FLAC, OGG/Opus, or a video file with an audio track."
        ) from exc
    if container.format.name in _TEXT_FORMATS:
        container.close()
        raise AudioDecodeError(
            "The file is text, not audio (is the transcript given as the audio?). Send MP3, "
            "M4A/AAC, WAV, FLAC, OGG/Opus, or a video file with an audio track."
        )
    return container


def _size(path: str | Path) -> int | None:
    """A regular file's size; None for anything else (a pipe says 0 and may hold audio)."""
    try:
        status = Path(path).stat()
    except OSError:  # missing or unreadable: PyAV says which
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


@dataclass(frozen=True)
class AudioProbe:
    """What a look at the header and first packets found."""

    #: From the container, or the first packets' timing; 0.0 when neither says.
    duration_s: float
    #: The media type of the container that was read (never taken from a file name).
    media_type: str


#: Media type by PyAV's container format name; audio-only where the container can be either.
_MEDIA_TYPES = {
    "wav": "audio/wav",
    "w64": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "aac": "audio/aac",
    "aiff": "audio/aiff",
    "caf": "audio/x-caf",
    "amr": "audio/amr",
    "mov,mp4,m4a,3gp,3g2,mj2": "audio/mp4",
    "matroska,webm": "audio/webm",
    "asf": "audio/x-ms-wma",
}


def probe_audio(source: str | Path) -> float:
    """Check that `source` holds decodable audio without decoding all of it; its duration in
    seconds (estimated from the container, or from the first packets' timing when absent)."""
    return inspect_audio(source).duration_s


def inspect_audio(source: str | Path) -> AudioProbe:
    """Check that `source` holds decodable audio without decoding all of it: its estimated
    duration and the media type of its container."""
    container = _open(source)
    try:
        if not container.streams.audio:
            raise NoAudioStreamError(
                "The file has no audio track. Send a file that contains the episode's audio."
            )
        stream = container.streams.audio[0]
        decoded = _decodes_some(container, stream)
        if not decoded:
            raise AudioDecodeError(
                "The audio stream could not be decoded (corrupt or truncated). Re-export it."
            )
        media_type = _MEDIA_TYPES.get(container.format.name, "application/octet-stream")
        return AudioProbe(_estimated_duration_s(container, stream), media_type)
    finally:
        container.close()


def _estimated_duration_s(container: av.container.InputContainer, stream: av.AudioStream) -> float:
    if container.duration:
        return float(container.duration) / 1e6
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return 0.0


def _decodes_some(container: av.container.InputContainer, stream: av.AudioStream) -> bool:
    for count, packet in enumerate(container.demux(stream)):
        try:
            if packet.decode():
                return True
        except av.FFmpegError:
            pass
        if count > 50:
            break
    return False


def _decode_first_audio_stream(
    container: av.container.InputContainer,
    max_duration_s: float | None,
    on_chunk: Callable[[Samples], None] | None,
) -> Samples:
    if not container.streams.audio:
        raise NoAudioStreamError(
            "The file has no audio track. Send a file that contains the episode's audio."
        )
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(
        format="flt", layout="mono", rate=SAMPLE_RATE, frame_size=_CHUNK_SAMPLES
    )
    expected_s = float(container.duration) / 1e6 if container.duration else 60.0
    if max_duration_s is not None:
        expected_s = min(expected_s, max_duration_s)
    buffer = _Growable(int(expected_s * SAMPLE_RATE) + SAMPLE_RATE, max_duration_s)
    bad_packets, decoded_any = 0, False
    for packet in container.demux(stream):
        try:
            for frame in packet.decode():
                decoded_any = True  # the resampler may hold it back for a while
                for out in resampler.resample(frame):  # type: ignore[arg-type,unused-ignore]
                    buffer.append(out.to_ndarray().reshape(-1), on_chunk)
        except av.FFmpegError:
            bad_packets += 1
            if bad_packets > 50 and not decoded_any:
                break
    for out in resampler.resample(None):
        buffer.append(out.to_ndarray().reshape(-1), on_chunk)
    if buffer.size == 0:
        if bad_packets:
            raise AudioDecodeError(
                "The audio stream could not be decoded (the file is corrupt or truncated). "
                "Re-export it and try again."
            )
        raise AudioEmptyError("The audio track is empty. Send a file with sound in it.")
    return buffer.samples()


class _Growable:
    """A float32 buffer that grows in place, so a 3 h file is never held twice; it refuses
    to grow past `max_duration_s` of samples."""

    def __init__(self, capacity: int, max_duration_s: float | None = None) -> None:
        self._data = np.zeros(max(capacity, SAMPLE_RATE), dtype=np.float32)
        self.size = 0
        self._max_duration_s = max_duration_s
        self._max_samples = None if max_duration_s is None else int(max_duration_s * SAMPLE_RATE)

    def append(
        self, chunk: npt.NDArray[Any], on_chunk: Callable[[Samples], None] | None = None
    ) -> None:
        needed = self.size + len(chunk)
        if self._max_samples is not None and needed > self._max_samples:
            raise AudioTooLongError(
                f"The audio lasts longer than {self._max_duration_s:.0f} s, the limit here "
                "(whatever its header says). Split the episode and send the parts."
            )
        if needed > len(self._data):
            self._data.resize(max(needed, int(len(self._data) * 1.25)), refcheck=False)
        self._data[self.size : needed] = chunk
        self.size = needed
        if on_chunk is not None:
            on_chunk(self._data[needed - len(chunk) : needed])

    def samples(self) -> Samples:
        self._data.resize(self.size, refcheck=False)
        return self._data


def _reason(exc: Exception) -> str:
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc).strip())
    return text.split(": '")[0] if text else type(exc).__name__


def frame_levels_db(samples: Samples, frame_s: float = LEVEL_FRAME_S) -> Levels:
    """RMS level of consecutive frames in dBFS (digital silence reads -100 dB)."""
    frame = max(1, round(frame_s * SAMPLE_RATE))
    count = len(samples) // frame
    levels = np.empty(count, dtype=np.float32)
    step = 1 << 20
    for first in range(0, count, step):
        last = min(count, first + step)
        block = samples[first * frame : last * frame].reshape(-1, frame)
        power = np.mean(np.square(block, dtype=np.float32), axis=1)
        levels[first:last] = 10.0 * np.log10(np.maximum(power, 1e-10))
    return np.maximum(levels, _SILENT_DB)


def has_sound(levels: Levels, floor_db: float = -55.0) -> bool:
    """Whether any stretch of 50 ms is louder than `floor_db` (silence-only files are not)."""
    if len(levels) < 10:
        return False
    smoothed = np.convolve(levels, np.ones(10) / 10, mode="valid")
    return bool(np.max(smoothed) > floor_db)


def speech_threshold_db(levels: Levels) -> float:
    """A level between the noise floor and typical speech, adapted to the recording."""
    floor, loud = np.percentile(levels, [5, 95])
    return float(floor + max(8.0, 0.25 * (loud - floor)))


#: Voice activity runs over blocks this long, so that its memory does not grow with the
#: episode (a 300 s block took 190 MB at its peak, a 60 s one 60 MB) and it can start on
#: the first blocks while the rest of the file is still being decoded.
VAD_BLOCK_S = 60.0
Span = tuple[float, float]


def quiet_spans_vad(samples: Samples, min_silence_s: float = 0.1) -> list[Span]:
    """Stretches without speech according to the Silero voice-activity model that
    faster-whisper ships: unlike an energy threshold, it is not fooled by breath or room noise.
    Runs over blocks of VAD_BLOCK_S."""
    block = int(VAD_BLOCK_S * SAMPLE_RATE)
    speech = [
        span
        for first in range(0, len(samples), block)
        for span in speech_spans_vad(samples[first : first + block], first, min_silence_s)
    ]
    return quiet_between(speech, len(samples) / SAMPLE_RATE)


@functools.cache
def load_vad_model() -> None:
    """Load the voice-activity model and run it once on silence, so that the first job pays
    for neither; once a process (faster-whisper keeps the model for the process)."""
    speech_spans_vad(np.zeros(int(VAD_BLOCK_S * SAMPLE_RATE), dtype=np.float32), 0)


def speech_spans_vad(block: Samples, first_sample: int, min_silence_s: float = 0.1) -> list[Span]:
    """Speech in one block of audio that starts at sample `first_sample`, in seconds."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=0.5,
        min_silence_duration_ms=int(min_silence_s * 1000),
        speech_pad_ms=0,
        min_speech_duration_ms=50,
    )
    offset = first_sample / SAMPLE_RATE
    return [
        (offset + segment["start"] / SAMPLE_RATE, offset + segment["end"] / SAMPLE_RATE)
        for segment in get_speech_timestamps(block, options)
    ]


def quiet_between(speech: list[Span], duration_s: float) -> list[Span]:
    """The stretches between speech spans (in order), to the end of the audio."""
    spans: list[Span] = []
    previous_end = 0.0
    for start, end in speech:
        if start > previous_end:
            spans.append((previous_end, start))
        previous_end = max(previous_end, end)
    if duration_s > previous_end:
        spans.append((previous_end, duration_s))
    return spans


class BlockVad:
    """Voice activity found block by block in background threads while the audio is still
    being decoded (`add` each decoded chunk, then `finish` with all the samples): the same
    spans as `quiet_spans_vad` on the whole file, most of them ready when decoding ends."""

    #: Blocks copied and waiting for the voice-activity threads, at most; past that, decoding
    #: does not wait: the later blocks are read from the decoded file at `finish` (so a 3 h
    #: file does not pile up copies of itself when decoding outruns the voice activity).
    #: 16 blocks are 61 MB: enough to keep a second core on voice activity for as long as a
    #: 45-minute mp3 decodes (2.4 s, with voice activity 400x real time); with 2 it stopped
    #: after 0.3 s, and the long-form case took 1.5 s longer (median of three pairs,
    #: bench/RESULTS.md).
    max_waiting_blocks = 16

    def __init__(self, pool: Executor, timed: Callable[[float], None] = lambda _s: None) -> None:
        self._pool = pool
        self._timed = timed
        self._block = int(VAD_BLOCK_S * SAMPLE_RATE)
        self._chunks: list[Samples] = []
        self._held = 0
        self._submitted = 0
        self._behind = False
        self._blocks: list[Future[list[Span]]] = []

    def add(self, chunk: Samples) -> None:
        if self._behind:
            return
        self._chunks.append(np.array(chunk, dtype=np.float32))  # a copy: buffers get reused
        self._held += len(chunk)
        while self._held >= self._block:
            if sum(not f.done() for f in self._blocks) >= self.max_waiting_blocks:
                self._behind, self._chunks, self._held = True, [], 0
                return
            self._submit(self._take(self._block))

    def finish(self, samples: Samples) -> Future[list[Span]]:
        """The quiet spans of `samples` (everything that was added), once every block is done."""
        for first in range(self._submitted, len(samples), self._block):
            self._submit(samples[first : first + self._block])
        self._chunks, self._held = [], 0
        duration_s = len(samples) / SAMPLE_RATE
        blocks = list(self._blocks)
        return self._pool.submit(
            lambda: quiet_between([s for b in blocks for s in b.result()], duration_s)
        )

    def _take(self, count: int) -> Samples:
        joined = np.concatenate(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
        self._chunks = [joined[count:]] if len(joined) > count else []
        self._held = len(joined) - count
        return joined[:count]

    def _submit(self, block: Samples) -> None:
        first = self._submitted
        self._submitted += len(block)
        self._blocks.append(self._pool.submit(self._run, block, first))

    def _run(self, block: Samples, first: int) -> list[Span]:
        started = time.perf_counter()
        try:
            return speech_spans_vad(block, first)
        finally:
            self._timed(time.perf_counter() - started)
