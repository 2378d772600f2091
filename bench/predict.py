"""Runs one aligner on one case and writes the benchmark's prediction JSON.

`python -m bench.predict --engine podalign|stable-ts --model M --audio A --text T --out P`
Model loading is not timed; `elapsed_s` covers decoding, alignment and refinement; `profile`
(podalign) says where that time went, stage by stage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import types
from pathlib import Path
from typing import Any

from alignment.stages import profile_line


def _podalign(args: argparse.Namespace) -> tuple[list[dict[str, Any]], float, str]:
    from alignment import Aligner, AlignmentOptions

    aligner = Aligner(
        AlignmentOptions(
            model=args.model,
            device=args.device,
            cpu_threads=args.threads,
            compute_type=args.compute_type,
            batch_size=args.batch_size,
            **({"refine": args.refine} if args.refine else {}),
        )
    )
    _ = aligner.model
    _ = aligner.acoustic
    started = time.perf_counter()
    # The language stable-ts is given (below), so that both do the same task: without it
    # podalign detects the language, one more window with a multilingual model.
    language = args.language or "en"
    result = aligner.align(args.audio, args.text.read_bytes(), language=language)
    elapsed = time.perf_counter() - started
    words = [{"word": w.text, "start": w.start, "end": w.end} for w in result.words]
    return words, elapsed, profile_line(result.stages)


def _stable_ts(args: argparse.Namespace) -> tuple[list[dict[str, Any]], float, str]:
    _allow_missing_torchaudio()
    import stable_whisper

    from alignment.weights import resolve_model_path

    model = stable_whisper.load_faster_whisper(
        resolve_model_path(args.model),
        device=args.device if args.device != "auto" else "cpu",
        compute_type="int8",
        cpu_threads=args.threads,
    )
    text = args.text.read_text(encoding="utf-8-sig")
    started = time.perf_counter()
    result = model.align(str(args.audio), text, language=args.language or "en", verbose=None)
    elapsed = time.perf_counter() - started
    words = [
        {"word": w.word.strip(), "start": w.start, "end": w.end}
        for segment in result.segments
        for w in segment.words
    ]
    return words, elapsed, ""


def _allow_missing_torchaudio() -> None:
    """stable-ts imports torchaudio at start-up but only calls it to resample or save audio,
    which alignment of a file at any rate does not need (it decodes with ffmpeg at 16 kHz).
    Where no torchaudio build matches the installed torch, a placeholder lets it import."""
    try:
        import torchaudio  # noqa: F401
    except (ImportError, OSError):
        placeholder = types.ModuleType("torchaudio")
        functional = types.ModuleType("torchaudio.functional")

        def unavailable(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("torchaudio is not installed")

        functional.resample = unavailable  # type: ignore[attr-defined]
        functional.highpass_biquad = unavailable  # type: ignore[attr-defined]
        functional.lowpass_biquad = unavailable  # type: ignore[attr-defined]
        placeholder.functional = functional  # type: ignore[attr-defined]
        placeholder.save = unavailable  # type: ignore[attr-defined]
        sys.modules["torchaudio"] = placeholder
        sys.modules["torchaudio.functional"] = functional


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=("podalign", "stable-ts"), required=True)
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--audio", type=Path, required=True)
    parser.add_argument("--text", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--language", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compute-type", default="auto")
    parser.add_argument("--batch-size", type=int, default=0, help="0: the engine's default")
    parser.add_argument(
        "--refine", default=None, help="podalign: acoustic, precise, signal or none"
    )
    args = parser.parse_args()
    run = _podalign if args.engine == "podalign" else _stable_ts
    words, elapsed, profile = run(args)
    args.out.write_text(
        json.dumps({"words": words, "elapsed_s": round(elapsed, 3), "profile": profile})
    )


if __name__ == "__main__":
    main()
