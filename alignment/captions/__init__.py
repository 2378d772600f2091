"""Caption writers: pure functions from aligned words to caption text (no model, no I/O)."""

from alignment.captions.cues import Cue, build_cues
from alignment.captions.display import CueWord, display_words
from alignment.captions.documents import caption_document, gentle_document, run_of
from alignment.captions.formats import FORMATS, CaptionFormat, cues_for, render
from alignment.captions.options import CaptionOptions

__all__ = [
    "FORMATS",
    "CaptionFormat",
    "CaptionOptions",
    "Cue",
    "CueWord",
    "build_cues",
    "caption_document",
    "cues_for",
    "display_words",
    "gentle_document",
    "render",
    "run_of",
]
