"""The align command's files: inputs and outputs checked before aligning, writing, the summary."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alignment.captions import FORMATS, CaptionOptions, render, run_of
from alignment.types import AlignmentResult

#: Exit status for each kind of failure (README, "Exit status"); alignment errors exit 2.
EXIT_ALIGNMENT_ERROR = 2
EXIT_USAGE = 64
EXIT_NO_INPUT = 66
EXIT_CANNOT_CREATE = 73
EXIT_STATUS_BY_CODE = {
    "usage": EXIT_USAGE,
    "invalid_option": EXIT_USAGE,
    "unknown_format": EXIT_USAGE,
    "file_not_found": EXIT_NO_INPUT,
    "file_unreadable": EXIT_NO_INPUT,
    "output_unwritable": EXIT_CANNOT_CREATE,
}

#: Output format by file extension: each format's own (JSON means ours, not Gentle's), plus
#: the other names TTML and ASS files go by.
EXTENSIONS = {
    **{f.extension.lower(): name for name, f in FORMATS.items() if name != "gentle"},
    ".dfxp": "ttml",
    ".xml": "ttml",
    ".ssa": "ass",
}


class CommandError(Exception):
    """A failure of the command itself (arguments, files), with a stable `code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS_BY_CODE.get(self.code, EXIT_ALIGNMENT_ERROR)


@dataclass(frozen=True)
class Output:
    """Where one rendering goes (None: stdout) and in which format."""

    path: Path | None
    format: str


def plan_outputs(paths: Sequence[Path], fmt: str | None) -> list[Output]:
    """One output per `-o` (stdout when there is none), each format known, each place writable."""
    if not paths:
        return [Output(None, fmt or "json")]
    if fmt is not None and len(paths) > 1:
        raise CommandError(
            "usage", "--format names the format of a single output; give each -o its extension"
        )
    if len({path.resolve() for path in paths}) < len(paths):
        raise CommandError("usage", "the same file is named twice with -o")
    for path in paths:  # first: a folder named by mistake is unwritable, not unknown
        check_writable(path)
    return [Output(path, fmt or _format_of(path)) for path in paths]


def _format_of(path: Path) -> str:
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        known = " ".join(sorted(set(EXTENSIONS)))
        raise CommandError(
            "unknown_format",
            f"cannot tell the format of {path.name!r}; use one of {known} or --format",
        )
    return fmt


def check_writable(path: Path) -> None:
    """Fail before a long alignment, not after it, when a file cannot be written."""
    folder = path.parent
    if not folder.is_dir():
        raise CommandError(
            "output_unwritable", f"cannot write {str(path)!r}: no such folder {str(folder)!r}"
        )
    if path.is_dir():
        raise CommandError("output_unwritable", f"cannot write {str(path)!r}: it is a folder")
    if not os.access(path if path.exists() else folder, os.W_OK):
        raise CommandError("output_unwritable", f"cannot write {str(path)!r}: permission denied")


def check_readable(path: Path, what: str) -> None:
    """A missing input says so, rather than failing later as undecodable."""
    if not path.exists():
        raise CommandError("file_not_found", f"no such file: {str(path)!r} (the {what})")
    if path.is_dir():
        raise CommandError("file_unreadable", f"{str(path)!r} is a folder, not the {what} file")
    if not os.access(path, os.R_OK):
        raise CommandError("file_unreadable", f"cannot read {str(path)!r}: permission denied")


def rendered(result: AlignmentResult, fmt: str, captions: CaptionOptions, transcript: str) -> str:
    """The result as one output's text."""
    return render(
        fmt,
        result.words,
        captions,
        language=result.language,
        duration_s=result.duration_s,
        transcript=transcript,
        about=run_of(result.to_dict()),
    )


def write(text: str, path: Path) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError("output_unwritable", f"cannot write {str(path)!r}: {exc}") from exc


def summary(result: AlignmentResult, elapsed_s: float, outputs: Sequence[Output]) -> str:
    """What a person wants to know at the end of a run on a terminal."""
    aligned, missing = result.count("aligned"), result.count("not_found")
    speed = result.duration_s / elapsed_s if elapsed_s > 0 else 0.0
    lines = [
        f"aligned {aligned:,} of {aligned + missing:,} words ({missing:,} not found)",
        f"audio {_clock(result.duration_s)} aligned in {_clock(elapsed_s)}, "
        f"{speed:.1f}× real time ({result.model} on {result.device})",
    ]
    for output in outputs:
        where = str(output.path) if output.path is not None else "standard output"
        lines.append(f"wrote {where} ({FORMATS[output.format].description})")
    return "\n".join(lines) + "\n"


def _clock(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
