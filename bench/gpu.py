"""`make bench-gpu`: real-time factor and GPU memory per model and batch size, on a CUDA GPU.

    python -m bench.gpu [--models tiny.en,base,large-v3] [--batch-sizes 4,8,16]
                        [--compute-type float16] [--case DIR]

Each run is a fresh process (its own model load and GPU memory); peak GPU memory is the most
`nvidia-smi` reports for that process, sampled every 0.2 s. The case defaults to the 45-minute
long-form episode (`bench.longform`), falling back to the dev cases. Results go to
bench/out/gpu.md. Models other than the bundled tiny.en and base are downloaded (network).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.longform import make_case
from bench.run import ROOT, SHARED_BENCH, predict_command, score_case


@dataclass(frozen=True)
class GpuRun:
    model: str
    batch_size: int
    compute_type: str
    wall_s: float
    aligned_s: float
    audio_s: float
    peak_gpu_mb: float
    start_median_ms: float | None
    failed: str | None


class _GpuMemory:
    """Samples the GPU memory a process uses until stopped; keeps the maximum."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_mb = pid, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        query = [
            "nvidia-smi",
            "--query-compute-apps=pid,used_memory",
            "--format=csv,noheader,nounits",
        ]
        while not self._stop.wait(0.2):
            done = subprocess.run(query, capture_output=True, text=True)
            for line in done.stdout.splitlines():
                pid, _, used = line.partition(",")
                if pid.strip() == str(self.pid) and used.strip().isdigit():
                    self.peak_mb = max(self.peak_mb, float(used))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def _run(model: str, batch: int, compute_type: str, case: Path, out: Path) -> GpuRun:
    pred = out / f"gpu-{model.replace('/', '_')}-b{batch}.json"
    command = predict_command(
        "podalign",
        model,
        case,
        pred,
        "--device",
        "cuda",
        "--compute-type",
        compute_type,
        "--batch-size",
        str(batch),
    )
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    memory = _GpuMemory(process.pid)
    _, stderr = process.communicate()
    wall, peak = time.perf_counter() - started, memory.stop()
    if process.returncode != 0:
        last = (stderr.strip().splitlines() or ["failed"])[-1]
        return GpuRun(model, batch, compute_type, wall, 0.0, 0.0, peak, None, last)
    score = score_case(case, pred)
    start = score.get("start_err_ms") or {}
    return GpuRun(
        model,
        batch,
        compute_type,
        wall,
        float(score.get("elapsed_s") or 0.0),
        float(score.get("duration_s") or 0.0),
        peak,
        start.get("median"),
        None,
    )


def _table(runs: list[GpuRun], case: Path, device: str) -> str:
    rows = [
        f"GPU benchmark on `{case.name}` — {device}",
        "",
        "| model | compute | batch | align s | × real time | wall s (with load) | peak GPU MB "
        "| start median ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        if r.failed:
            rows.append(
                f"| {r.model} | {r.compute_type} | {r.batch_size} | failed: "
                f"{r.failed[:100]} | | | | |"
            )
            continue
        rtf = r.audio_s / r.aligned_s if r.aligned_s else 0.0
        median = f"{r.start_median_ms:.1f}" if r.start_median_ms is not None else "–"
        rows.append(
            f"| {r.model} | {r.compute_type} | {r.batch_size} | {r.aligned_s:.1f} | {rtf:.0f} | "
            f"{r.wall_s:.1f} | {r.peak_gpu_mb:.0f} | {median} |"
        )
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="tiny.en,base,large-v3")
    parser.add_argument("--batch-sizes", default="4,8,16")
    parser.add_argument("--compute-type", default="float16")
    parser.add_argument("--case", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    if shutil.which("nvidia-smi") is None:
        sys.exit("bench.gpu needs an NVIDIA GPU and nvidia-smi; run `make bench` on a CPU host.")
    args.out.mkdir(parents=True, exist_ok=True)
    case = args.case or make_case(
        args.out / "cases" / "longform_episode", SHARED_BENCH / "tools" / "make_tts_case.py"
    )
    device = subprocess.run(
        ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    runs = []
    for model in args.models.split(","):
        for batch in (int(b) for b in args.batch_sizes.split(",")):
            run = _run(model, batch, args.compute_type, case, args.out)
            print(run, flush=True)
            runs.append(run)
    table = _table(runs, case, device)
    (args.out / "gpu.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
