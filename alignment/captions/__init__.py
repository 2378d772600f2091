"""Caption writers: pure functions from aligned words to caption text (no model, no I/O)."""

from alignment.captions.cues import Cue, CueOptions, build_cues
from alignment.captions.vtt import to_vtt

__all__ = ["Cue", "CueOptions", "build_cues", "to_vtt"]
