"""podalign's alignment engine: Whisper forced alignment of a transcript to long audio."""

from alignment.engine import Aligner, align
from alignment.errors import AlignmentError
from alignment.types import AlignmentOptions, AlignmentResult, Word

__all__ = ["Aligner", "AlignmentError", "AlignmentOptions", "AlignmentResult", "Word", "align"]
