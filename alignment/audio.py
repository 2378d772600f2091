"""Audio in any container -> 16 kHz mono float32 samples (PyAV), and signal-level helpers."""

from __future__ import annotations

import re
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

Samples = npt.NDArray[np.float32]
Levels = npt.NDArray[np.float32]


def load_audio(source: str | Path | BinaryIO, max_duration_s: float | None = None) -> Samples:
    """Decode the first audio stream of `source` to 16 kHz mono float32. With
    `max_duration_s`, decoding stops as soon as more samples than that came out
    (AudioTooLongError): what counts is the audio, not what the container header claims."""
    container = _open(source)
    try:
        return _decode_first_audio_stream(container, max_duration_s)
    finally:
        container.close()


def _open(source: str | Path | BinaryIO) -> av.container.InputContainer:
    try:
        return av.open(source if not isinstance(source, Path) else str(source), mode="r")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise AudioDecodeError(
            f"The file could not be read as audio ({_reason(exc)}). Send MP3, M4A/AAC, WAV, "
            "FLAC, OGG/Opus, or a video file with an audio track."
        ) from exc


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
    container: av.container.InputContainer, max_duration_s: float | None
) -> Samples:
    if not container.streams.audio:
        raise NoAudioStreamError(
            "The file has no audio track. Send a file that contains the episode's audio."
        )
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    expected_s = float(container.duration) / 1e6 if container.duration else 60.0
    if max_duration_s is not None:
        expected_s = min(expected_s, max_duration_s)
    buffer = _Growable(int(expected_s * SAMPLE_RATE) + SAMPLE_RATE, max_duration_s)
    bad_packets = 0
    for packet in container.demux(stream):
        try:
            for frame in packet.decode():
                for out in resampler.resample(frame):  # type: ignore[arg-type,unused-ignore]
                    buffer.append(out.to_ndarray().reshape(-1))
        except av.FFmpegError:
            bad_packets += 1
            if bad_packets > 50 and buffer.size == 0:
                break
    for out in resampler.resample(None):
        buffer.append(out.to_ndarray().reshape(-1))
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

    def append(self, chunk: npt.NDArray[Any]) -> None:
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


def quiet_spans_vad(
    samples: Samples, min_silence_s: float = 0.1, block_s: float = 60.0
) -> list[tuple[float, float]]:
    """Stretches without speech according to the Silero voice-activity model that
    faster-whisper ships: unlike an energy threshold, it is not fooled by breath or room noise.
    Runs over blocks of `block_s` so that its memory does not grow with the episode: it
    runs beside the alignment, and a 300 s block took 190 MB at its peak, a 60 s one 60 MB."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=0.5,
        min_silence_duration_ms=int(min_silence_s * 1000),
        speech_pad_ms=0,
        min_speech_duration_ms=50,
    )
    block = int(block_s * SAMPLE_RATE)
    speech: list[tuple[float, float]] = []
    for first in range(0, len(samples), block):
        offset = first / SAMPLE_RATE
        for segment in get_speech_timestamps(samples[first : first + block], options):
            speech.append(
                (offset + segment["start"] / SAMPLE_RATE, offset + segment["end"] / SAMPLE_RATE)
            )
    spans: list[tuple[float, float]] = []
    previous_end = 0.0
    for start, end in speech:
        if start > previous_end:
            spans.append((previous_end, start))
        previous_end = max(previous_end, end)
    duration = len(samples) / SAMPLE_RATE
    if duration > previous_end:
        spans.append((previous_end, duration))
    return spans
