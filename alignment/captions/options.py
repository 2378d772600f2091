"""Caption layout options: one dataclass shared by the library, the CLI and the HTTP API."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from alignment.errors import InvalidOptionError

Highlight = Literal["none", "words"]


@dataclass(frozen=True)
class CaptionOptions:
    """How words become cues. Defaults follow common broadcast and streaming style guides."""

    max_chars_per_line: int = 42
    max_lines: int = 2
    min_duration_s: float = 1.0
    max_duration_s: float = 7.0
    #: Reading speed, met where the timing allows (a cue lingers into the silence after it).
    max_chars_per_s: float = 20.0
    #: Gap kept between consecutive cues: two frames at 25 fps.
    min_gap_s: float = 0.08
    #: A cue ending less than this before the next one is extended up to it (less flicker).
    chain_gap_s: float = 0.5
    #: A pause at least this long is a good place to start a new cue.
    pause_break_s: float = 0.5
    #: "words": per-word timing where the format has it (WebVTT timestamps, ASS karaoke).
    highlight: Highlight = "none"
    #: Speaker labels of the transcript ("ANNA:") as WebVTT voices, ASS names, TTML agents.
    speakers: bool = True

    def __post_init__(self) -> None:
        _check(self)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(opts: CaptionOptions) -> None:
    _require(5 <= opts.max_chars_per_line <= 500, "max_chars_per_line must be 5–500.")
    _require(1 <= opts.max_lines <= 10, "max_lines must be 1–10.")
    _require(0.0 <= opts.min_duration_s <= 10.0, "min_duration_s must be 0–10 seconds.")
    _require(
        max(0.5, opts.min_duration_s) <= opts.max_duration_s <= 60.0,
        "max_duration_s must be at least 0.5 s and min_duration_s, and at most 60 s.",
    )
    _require(1.0 <= opts.max_chars_per_s <= 100.0, "max_chars_per_s must be 1–100.")
    _require(0.0 <= opts.min_gap_s <= 1.0, "min_gap_s must be 0–1 second.")
    _require(0.0 <= opts.chain_gap_s <= 5.0, "chain_gap_s must be 0–5 seconds.")
    _require(0.05 <= opts.pause_break_s <= 10.0, "pause_break_s must be 0.05–10 seconds.")
    _require(opts.highlight in ("none", "words"), "highlight must be 'none' or 'words'.")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidOptionError(message)
