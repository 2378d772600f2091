"""Command line: `podalign align AUDIO TRANSCRIPT [-o OUT.json|.vtt]`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import ClassVar, TextIO

from alignment import Aligner, AlignmentError, AlignmentOptions
from alignment.captions import to_vtt
from alignment.types import AlignmentResult

EXIT_ALIGNMENT_ERROR = 2
EXIT_USAGE = 64


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="podalign", description="Align an episode's audio with its transcript."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser(
        "align",
        help="align AUDIO with TRANSCRIPT and write word times or captions",
        description="Align AUDIO (MP3, M4A, WAV, FLAC, OGG/Opus, MP4, MKV, WebM, …) with "
        "TRANSCRIPT (UTF-8 or UTF-16 text) and write word times (JSON) or captions (WebVTT).",
    )
    cmd.add_argument("audio", type=Path, help="the episode's audio or video file")
    cmd.add_argument("transcript", type=Path, help="the text spoken in it")
    cmd.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="where to write: .json (words) or .vtt (captions); default: stdout",
    )
    cmd.add_argument(
        "--format",
        choices=("json", "vtt"),
        default=None,
        help="output format (default: from the output's extension, else json)",
    )
    cmd.add_argument(
        "--model",
        default="tiny.en",
        help="faster-whisper model name (tiny.en, base, small, large-v3, …) or a "
        "local CTranslate2 folder (default: the bundled tiny.en)",
    )
    cmd.add_argument(
        "--language",
        default=None,
        help="ISO 639-1 code (en, es, de, …); default: detected from the audio",
    )
    cmd.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to run the model (default: auto, CUDA when present)",
    )
    cmd.add_argument(
        "--compute-type",
        default="auto",
        help="CTranslate2 compute type (default: int8 on CPU, float16 on CUDA)",
    )
    cmd.add_argument("-v", "--verbose", action="store_true", help="log what the engine does")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return _align(args)


def _align(args: argparse.Namespace) -> int:
    suffix = (
        f".{args.format}"
        if args.format
        else (args.output.suffix.lower() if args.output else ".json")
    )
    if suffix not in (".json", ".vtt"):
        print(f"error: usage: cannot write {suffix!r}; use .json or .vtt", file=sys.stderr)
        return EXIT_USAGE
    options = AlignmentOptions(
        model=args.model, language=args.language, device=args.device, compute_type=args.compute_type
    )
    bar = _ProgressBar(sys.stderr)
    try:
        transcript = args.transcript.read_bytes()
        result = Aligner(options).align(args.audio, transcript, progress=bar.update)
    except AlignmentError as exc:
        bar.close()
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_ALIGNMENT_ERROR
    except OSError as exc:
        bar.close()
        print(f"error: file_unreadable: {exc}", file=sys.stderr)
        return EXIT_ALIGNMENT_ERROR
    bar.close()
    _write(result, suffix, args.output)
    return 0


def _write(result: AlignmentResult, suffix: str, output: Path | None) -> None:
    text = (
        to_vtt(result.words)
        if suffix == ".vtt"
        else json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    )
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


class _ProgressBar:
    """A one-line progress bar on a terminal; silent when stderr is not a terminal."""

    _STAGES: ClassVar[dict[str, tuple[float, float]]] = {
        "decode": (0.0, 0.05),
        "align": (0.05, 0.97),
        "refine": (0.97, 1.0),
    }

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._active = stream.isatty()
        self._shown = -1

    def update(self, stage: str, fraction: float) -> None:
        if not self._active:
            return
        low, high = self._STAGES.get(stage, (0.0, 1.0))
        percent = int(100 * (low + (high - low) * fraction))
        if percent == self._shown:
            return
        self._shown = percent
        filled = percent * 30 // 100
        self._stream.write(f"\r{stage:<7} [{'#' * filled}{'.' * (30 - filled)}] {percent:3d}%")
        self._stream.flush()

    def close(self) -> None:
        if self._active and self._shown >= 0:
            self._stream.write("\n")
            self._stream.flush()


if __name__ == "__main__":
    raise SystemExit(main())
