"""The container recipe, checked without a Docker engine: lint, compose validity, and the
image's own entry command and health check run directly on this machine."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import SAMPLES
from tests.service import free_port

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def _stage(target: str) -> list[str]:
    """The instructions of one build stage, continuation lines joined."""
    lines: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending += line.removesuffix("\\").strip() + " "
        if not line.endswith("\\"):
            lines.append(pending.strip())
            pending = ""
    start = next(i for i, ln in enumerate(lines) if ln.endswith(f" AS {target}"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("FROM ")), None)
    return lines[start:end]


def _instruction(stage: list[str], name: str) -> str:
    return next(ln for ln in reversed(stage) if ln.startswith(f"{name} "))[len(name) + 1 :]


def _environment(stage: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in stage:
        if line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value.replace("$PATH", os.environ["PATH"])
    return env


def test_both_targets_run_unprivileged_with_volumes_and_a_health_check() -> None:
    for target in ("cpu", "gpu"):
        stage = _stage(target)
        assert _instruction(stage, "USER") == "10001:10001"
        assert json.loads(_instruction(stage, "VOLUME")) == ["/data", "/models"]
        assert _instruction(stage, "HEALTHCHECK").endswith('CMD ["podalign", "healthcheck"]')
        env = _environment(stage)
        assert env["PODALIGN_DATA_DIR"] == "/data" and env["PODALIGN_MODEL"] == "tiny.en"
    assert _stage("gpu")[0] == "FROM ${CUDA_IMAGE} AS gpu"
    cuda_image = next(ln for ln in DOCKERFILE.read_text().splitlines() if "CUDA_IMAGE=" in ln)
    # cuBLAS 12 is all CTranslate2 opens: the runtime image, not the larger cuDNN one.
    assert "nvidia/cuda:12." in cuda_image and "-runtime-" in cuda_image
    assert "cudnn" not in cuda_image
    constraints = (ROOT / "docker" / "constraints.txt").read_text().lower()
    assert "torch" not in constraints and "ctranslate2==" in constraints


def test_hadolint_passes() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "hadolint"), str(DOCKERFILE)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _compose_config(name: str) -> str:
    """`docker-compose config` of the compose file `name`: the file as Compose reads it."""
    done = subprocess.run(
        ["docker-compose", "-f", str(ROOT / name), "config"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_compose_file_is_valid_and_asks_for_the_gpu() -> None:
    config = _compose_config("docker-compose.yml")
    assert "driver: nvidia" in config and "capabilities:" in config
    assert "/data" in config and "/models" in config and "healthcheck" in config


def test_the_images_entry_command_and_health_check_work_here(tmp_path: Path) -> None:
    stage = _stage("cpu")
    entrypoint = json.loads(_instruction(stage, "ENTRYPOINT"))
    command = json.loads(_instruction(stage, "CMD"))
    health = json.loads(_instruction(stage, "HEALTHCHECK").split("CMD ", 1)[1])
    port = free_port()
    env = {
        **os.environ,
        **_environment(stage),
        # The image's paths, moved to this machine's temporary folder; and a free port.
        "PODALIGN_DATA_DIR": str(tmp_path / "data"),
        "PODALIGN_MODEL_CACHE_DIR": str(tmp_path / "models"),
        "HF_HOME": str(tmp_path / "models" / "hf"),
        "PODALIGN_PORT": str(port),
    }
    bin_dir = Path(sys.executable).parent
    argv = [str(bin_dir / entrypoint[0]), *entrypoint[1:], *command]
    health_argv = [str(bin_dir / health[0]), *health[1:]]
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while subprocess.run(health_argv, env=env).returncode != 0:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the health check never passed"
            time.sleep(0.5)
        sample = SAMPLES / "short_clean"
        answer = httpx.post(
            f"http://127.0.0.1:{port}/v1/alignments",
            params={"wait": 60},
            files={
                "audio": ("a.wav", (sample / "audio.wav").read_bytes()),
                "transcript": ("t.txt", (sample / "text.txt").read_bytes()),
            },
            timeout=120,
        )
        assert answer.json()["status"] == "succeeded"
        assert (tmp_path / "data" / "podalign.db").exists()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert subprocess.run(health_argv, env=env).returncode == 1  # down means unhealthy


def test_distributed_compose_file_is_valid_and_has_every_part() -> None:
    config = _compose_config("docker-compose.distributed.yml")
    for service in ("api:", "worker:", "rabbitmq:", "postgres:", "s3:"):
        assert f"\n  {service}" in config
    assert config.count("healthcheck:") == 5
    assert "replicas:" in config and "driver: nvidia" in config
    assert "consumer_timeout" in config
    assert "PODALIGN_BROKER_URL: amqp://" in config
    assert "PODALIGN_OBJECT_STORE_URL: s3://" in config
