"""Praat TextGrid (long text format): a tier of the aligned words, silences as empty intervals."""

from __future__ import annotations

from collections.abc import Sequence

from alignment.types import Word


def write_textgrid(words: Sequence[Word], *, duration_s: float | None = None) -> str:
    intervals = _intervals(words)
    xmax = max(duration_s or 0.0, intervals[-1][1] if intervals else 0.0)
    if not intervals or intervals[-1][1] < xmax:
        intervals.append((intervals[-1][1] if intervals else 0.0, xmax, ""))
    rows = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0",
        f"xmax = {_number(xmax)}",
        "tiers? <exists>",
        "size = 1",
        "item []:",
        "    item [1]:",
        '        class = "IntervalTier"',
        '        name = "words"',
        "        xmin = 0",
        f"        xmax = {_number(xmax)}",
        f"        intervals: size = {len(intervals)}",
    ]
    for number, (start, end, text) in enumerate(intervals, start=1):
        rows += [
            f"        intervals [{number}]:",
            f"            xmin = {_number(start)}",
            f"            xmax = {_number(end)}",
            f'            text = "{text.replace(chr(34), chr(34) * 2)}"',
        ]
    return "\n".join(rows) + "\n"


def _intervals(words: Sequence[Word]) -> list[tuple[float, float, str]]:
    """Contiguous intervals from 0: aligned words, with empty ones for the gaps between."""
    out: list[tuple[float, float, str]] = []
    at = 0.0
    for word in words:
        if word.status != "aligned" or word.start is None or word.end is None:
            continue
        start = max(round(word.start, 3), at)
        end = max(round(word.end, 3), start + 0.001)
        if start > at:
            out.append((at, start, ""))
        out.append((start, end, word.text))
        at = end
    return out


def _number(seconds: float) -> str:
    return f"{seconds:.3f}".rstrip("0").rstrip(".") or "0"
