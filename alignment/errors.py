"""Errors raised by the engine, each with a stable machine-readable `code`."""

from __future__ import annotations


class AlignmentError(Exception):
    """Base class: `code` is stable across releases; the message says what to do."""

    code = "alignment_failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class AudioDecodeError(AlignmentError):
    code = "audio_decode_failed"


class NoAudioStreamError(AlignmentError):
    code = "no_audio_stream"


class AudioEmptyError(AlignmentError):
    code = "audio_empty"


class AudioTooLongError(AlignmentError):
    code = "audio_too_long"


class NoSpeechError(AlignmentError):
    code = "no_speech"


class TranscriptEmptyError(AlignmentError):
    code = "transcript_empty"


class TranscriptEncodingError(AlignmentError):
    code = "transcript_encoding"


class ModelUnavailableError(AlignmentError):
    code = "model_unavailable"


class DeviceUnavailableError(AlignmentError):
    code = "device_unavailable"


class UnsupportedLanguageError(AlignmentError):
    code = "unsupported_language"


class InvalidOptionError(AlignmentError):
    code = "invalid_option"


class AcousticModelError(AlignmentError):
    code = "acoustic_model_unavailable"
