"""Clock times as caption formats spell them: they differ only by separators and precision."""

from __future__ import annotations


def clock(seconds: float, *, decimal: str = ".", places: int = 3, hour_width: int = 2) -> str:
    """`clock(3723.5)` -> "01:02:03.500"; SRT uses decimal=",", ASS places=2, hour_width=1."""
    scale = 10**places
    ticks = round(max(seconds, 0.0) * scale)
    hours, rest = divmod(ticks, 3600 * scale)
    minutes, rest = divmod(rest, 60 * scale)
    secs, fraction = divmod(rest, scale)
    return f"{hours:0{hour_width}d}:{minutes:02d}:{secs:02d}{decimal}{fraction:0{places}d}"
