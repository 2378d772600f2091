"""`make bench`: podalign and stable-ts over every benchmark case, scored, as a markdown table.

Cases: every folder under the dev benchmark's `cases/` (next to this repository, in
`shared/bench`), any folder of cases given with --cases, and the long-form episode that
`bench.longform` builds. Each run is a fresh process, so wall time and peak RSS are its own.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.longform import make_case
from bench.shift import audio_of, base_name, shifted_case

ROOT = Path(__file__).resolve().parent.parent
SHARED_BENCH = ROOT.parent / "shared" / "bench"
BREAK_REGION_TYPES = {"music", "advert"}
AFTER_BREAK_S = 15.0


@dataclass(frozen=True)
class Run:
    engine: str
    model: str
    case: Path
    score: dict[str, Any]
    wall_s: float
    peak_rss_mb: float
    failed: str | None
    #: Seconds and calls per stage (podalign only), as bench.predict wrote them.
    profile: str = ""
    #: CPU seconds (user + system) the run's process used, model load included: on a busy
    #: machine a steadier measure of the work than wall time.
    cpu_s: float = 0.0


def _cases(folders: list[Path], with_longform: bool, out: Path) -> list[Path]:
    cases = sorted(
        case for folder in folders for case in folder.iterdir() if (case / "truth.json").is_file()
    )
    if with_longform:
        generator = SHARED_BENCH / "tools" / "make_tts_case.py"
        cases.append(make_case(out / "cases" / "longform_episode", generator))
    return cases


def predict_command(engine: str, model: str, case: Path, pred: Path, *extra: str) -> list[str]:
    """The `bench.predict` command for one case (its language, when the case has one)."""
    command = [
        sys.executable,
        "-m",
        "bench.predict",
        "--engine",
        engine,
        "--model",
        model,
        "--audio",
        str(audio_of(case)),
        "--text",
        str(case / "text.txt"),
        "--out",
        str(pred),
        *extra,
    ]
    language = case_language(case)
    if language is not None:
        command += ["--language", language]
    return command


def case_language(case: Path) -> str | None:
    """The language a case is said in: its `spec.json`'s `language` (the shared bench's
    generator writes one); None for English, or where the case names none (the
    English-only models need none)."""
    spec = case / "spec.json"
    if not spec.exists():
        return None
    language = json.loads(spec.read_text("utf-8")).get("language")
    return str(language) if language and language != "en" else None


def _run_one(engine: str, model: str, case: Path, preds: Path, extra: tuple[str, ...] = ()) -> Run:
    pred = preds / f"{case.name}.json"
    command = predict_command(engine, model, case, pred, *extra)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    failed = None if status == 0 else (stderr.strip().splitlines() or ["failed"])[-1]
    score = score_case(case, pred) if failed is None else {}
    profile = str(json.loads(pred.read_text()).get("profile", "")) if failed is None else ""
    cpu = usage.ru_utime + usage.ru_stime
    return Run(engine, model, case, score, wall, usage.ru_maxrss / 1024, failed, profile, cpu)


def score_case(case: Path, pred: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(SHARED_BENCH / "score.py"), str(case), str(pred)],
        capture_output=True,
        text=True,
        check=True,
    )
    score = dict(json.loads(done.stdout.splitlines()[0]))
    score["missed_after_breaks"] = missed_after_breaks(case, pred)
    return score


@functools.cache
def _scorer() -> Any:
    spec = importlib.util.spec_from_file_location("bench_score", SHARED_BENCH / "score.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def missed_after_breaks(case: Path, pred: Path) -> int | None:
    """Spoken words left unplaced within AFTER_BREAK_S after music or an advert ends: the words
    people notice missing (a title after the intro, the show coming back after an ad)."""
    truth = json.loads((case / "truth.json").read_text())
    breaks = [r["end"] for r in truth.get("regions", []) if r.get("type") in BREAK_REGION_TYPES]
    if not breaks:
        return None
    scorer = _scorer()
    words, _, _ = scorer.load_prediction(str(pred))
    spell = (truth.get("language") or "en").startswith("en")

    def normal(items: list[dict[str, Any]]) -> list[str]:
        return ["".join(scorer.normalize_word(w["word"], spell)) for w in items]

    mapping = scorer.align_words(normal(truth["words"]), normal(words))
    missed = 0
    for i, word in enumerate(truth["words"]):
        start = word.get("start")
        if not word.get("spoken", True) or start is None:
            continue
        if any(end <= start <= end + AFTER_BREAK_S for end in breaks):
            placed = any(words[j]["start"] is not None for j in mapping.get(i, []))
            missed += not placed
    return missed


def _fmt(value: object, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _row(run: Run) -> str:
    s = run.score
    if run.failed:
        return f"| {run.case.name} | {run.engine} | failed: {run.failed[:80]} |" + " |" * 16
    start, end = s.get("start_err_ms") or {}, s.get("end_err_ms") or {}
    within = s.get("start_within") or {}
    duration = s.get("duration_s") or 0.0
    elapsed = s.get("elapsed_s") or 0.0
    speed = duration / elapsed if elapsed else None
    return (
        "| "
        + " | ".join(
            [
                run.case.name,
                run.engine,
                _fmt(s.get("coverage"), 3),
                _fmt(start.get("median"), 1),
                _fmt(start.get("mean"), 1),
                _fmt(start.get("p90"), 1),
                _fmt(end.get("median"), 1),
                _fmt(end.get("p90"), 1),
                _fmt(within.get("50"), 3),
                _fmt(within.get("100"), 3),
                _fmt(within.get("200"), 3),
                f"{s.get('nonspoken_placed', 0)}/{s.get('n_nonspoken', 0)}",
                _fmt(s.get("distractor_placements")),
                _fmt(s.get("segment_containment"), 3),
                _fmt(s.get("missed_after_breaks")),
                _fmt(elapsed, 1),
                _fmt(speed, 1),
                _fmt(run.peak_rss_mb, 0),
            ]
        )
        + " |"
    )


HEADER = (
    "| case | aligner | coverage | start med ms | start mean ms | start p90 ms | end med ms | "
    "end p90 ms | start ≤50 | start ≤100 | start ≤200 | non-spoken placed | in music/ad | "
    "in own utterance | missed ≤15 s after music/ad | time s | × real time | peak RSS MB |\n|"
    + "---|"
    * 18
)


def _profile(run: Run) -> str:
    return f"{run.profile}; process CPU {run.cpu_s:.1f} s, wall {run.wall_s:.1f} s"


def _ratios(runs: list[Run]) -> list[str]:
    lines = ["", "stable-ts ÷ podalign (above 1: podalign better):", ""]
    lines.append("| case | start median | start p90 | time |\n|---|---|---|---|")
    ours = {r.case.name: r for r in runs if r.engine == "podalign" and not r.failed}
    for run in runs:
        mine = ours.get(run.case.name)
        if run.engine != "stable-ts" or run.failed or mine is None:
            continue
        cells = []
        for metric, key in (("start_err_ms", "median"), ("start_err_ms", "p90")):
            a, b = (run.score.get(metric) or {}).get(key), (mine.score.get(metric) or {}).get(key)
            cells.append(_fmt(a / b, 2) if a and b else "–")
        a, b = run.score.get("elapsed_s"), mine.score.get("elapsed_s")
        cells.append(_fmt(a / b, 2) if a and b else "–")
        lines.append(f"| {run.case.name} | " + " | ".join(cells) + " |")
    return lines


#: The columns averaged over a case's shifted copies: (heading, score key, sub-key, digits).
_AVERAGED = (
    ("start med ms", "start_err_ms", "median", 1),
    ("start mean ms", "start_err_ms", "mean", 1),
    ("start p90 ms", "start_err_ms", "p90", 1),
    ("end med ms", "end_err_ms", "median", 1),
    ("end p90 ms", "end_err_ms", "p90", 1),
    ("start ≤50", "start_within", "50", 3),
    ("start ≤100", "start_within", "100", 3),
)


def averaged_over_shifts(runs: list[Run]) -> list[str]:
    """Per case and aligner, each accuracy column's mean over the case's shifted copies
    (`--shifts`), and the range of its start median."""
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        if not run.failed:
            groups.setdefault((base_name(run.case.name), run.engine), []).append(run)
    heading = " | ".join(name for name, *_ in _AVERAGED)
    lines = ["", "Mean over the shifted copies (`--shifts`):", ""]
    lines.append(f"| case | aligner | copies | {heading} | start med range |")
    lines.append("|" + "---|" * (len(_AVERAGED) + 4))
    for (case, engine), group in groups.items():
        cells = []
        for _, key, sub, digits in _AVERAGED:
            values = [(r.score.get(key) or {}).get(sub) for r in group]
            known = [float(v) for v in values if v is not None]
            cells.append(_fmt(sum(known) / len(known), digits) if known else "–")
        medians = [(r.score.get("start_err_ms") or {}).get("median") for r in group]
        spread = [float(m) for m in medians if m is not None]
        span = f"{min(spread):.1f}–{max(spread):.1f}" if spread else "–"
        lines.append(f"| {case} | {engine} | {len(group)} | " + " | ".join(cells) + f" | {span} |")
    return lines


def cpu_model() -> str:
    """lscpu's model name: int8 speed and numerics differ between CPU families."""
    try:
        done = subprocess.run(["lscpu"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    for line in done.stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cases",
        type=Path,
        action="append",
        default=[],
        help="a folder of cases (repeatable); default: the dev benchmark",
    )
    parser.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    parser.add_argument("--only", nargs="*", default=None, help="case names to run")
    parser.add_argument("--no-stable-ts", action="store_true")
    parser.add_argument("--no-longform", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--refine", default=None, help="podalign: acoustic, precise, signal or none"
    )
    parser.add_argument(
        "--shifts",
        type=int,
        nargs="+",
        default=None,
        help="also run each case with its audio delayed by these milliseconds (0: the case "
        "itself), and average each case's figures over them (bench/shift.py)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    folders = args.cases or [SHARED_BENCH / "cases"]
    cases = _cases(folders, not args.no_longform, args.out)
    if args.only:
        cases = [c for c in cases if c.name in args.only]
    if args.shifts:
        cases = [
            case if shift == 0 else shifted_case(case, shift, args.out / "shifted")
            for case in cases
            for shift in args.shifts
        ]
    engines = ["podalign"] + ([] if args.no_stable_ts else ["stable-ts"])
    report = [
        f"Machine: {platform.machine()} ({cpu_model()}), {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.threads} threads per run; "
        f"{time.strftime('%Y-%m-%d')}.",
    ]
    for model in args.models:
        runs: list[Run] = []
        for case in cases:
            if model.endswith(".en") and case_language(case) is not None:
                continue
            for engine in engines:
                preds = args.out / "preds" / engine / model
                preds.mkdir(parents=True, exist_ok=True)
                extra: tuple[str, ...] = ("--threads", str(args.threads))
                if args.refine and engine == "podalign":
                    extra += ("--refine", args.refine)
                run = _run_one(engine, model, case, preds, extra)
                runs.append(run)
                print(_row(run), flush=True)
                if run.profile:
                    print(f"  profile {case.name}: {_profile(run)}", flush=True)
        report += ["", f"### model `{model}`", "", HEADER, *(_row(r) for r in runs)]
        report += _ratios(runs)
        if args.shifts:
            report += averaged_over_shifts(runs)
        report += ["", "Where podalign's time went (seconds/calls per stage):", ""]
        report += [f"- {r.case.name}: {_profile(r)}" for r in runs if r.profile]
    text = "\n".join(report) + "\n"
    (args.out / "summary.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
