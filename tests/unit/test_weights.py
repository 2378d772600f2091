"""Model resolution: bundled offline models, local folders, devices and compute types."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import ctranslate2
import pytest

from alignment import weights
from alignment.errors import DeviceUnavailableError, InvalidOptionError, ModelUnavailableError
from alignment.weights import (
    BASE_MODEL_SHA256,
    CudaProbe,
    choose_compute_type,
    choose_device,
    load_model,
    resolve_model_path,
)


def test_tiny_en_comes_from_its_package() -> None:
    folder = Path(resolve_model_path("tiny.en"))
    assert (folder / "model.bin").is_file() and (folder / "tokenizer.json").is_file()


def test_base_is_assembled_once_and_checked(tmp_path: Path) -> None:
    folder = Path(resolve_model_path("base", cache_dir=tmp_path))
    digest = hashlib.sha256((folder / "model.bin").read_bytes()).hexdigest()
    assert digest == BASE_MODEL_SHA256
    assert {p.name for p in folder.iterdir()} >= {"config.json", "tokenizer.json", "vocabulary.txt"}
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert Path(resolve_model_path("base", cache_dir=tmp_path)) == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp


def test_other_names_go_to_faster_whisper_unchanged() -> None:
    assert resolve_model_path("large-v3") == "large-v3"


def test_local_folder_without_model_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError):
        resolve_model_path(str(tmp_path))


def test_local_folder_is_loaded(tmp_path: Path) -> None:
    bundled = Path(resolve_model_path("tiny.en"))
    local = tmp_path / "my-model"
    local.mkdir()
    for item in bundled.iterdir():
        (local / item.name).symlink_to(item)
    model = load_model(str(local), device="cpu")
    assert not model.multilingual and model.device_index == 0
    # What CTranslate2 runs, not what was asked for (int8 on a CPU runs as int8_float32).
    assert model.compute_type == model.whisper.model.compute_type
    assert model.compute_type.startswith("int8")


def test_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError) as info:
        load_model(str(tmp_path / "no-such-model"), device="cpu")
    assert info.value.code == "model_unavailable"


def test_a_name_faster_whisper_does_not_know_is_refused_with_every_name_it_knows() -> None:
    with pytest.raises(ModelUnavailableError) as info:
        load_model("nosuchmodel", device="cpu")
    message = info.value.message
    # faster-whisper's list of names, whole (it was cut off mid-name at 200 characters).
    assert "'nosuchmodel'" in message and "large-v3," in message and "turbo)" in message


@pytest.mark.parametrize(
    ("text", "limit", "shortened"),
    [
        ("short", 10, "short"),
        ("abc def ghi", 7, "abc def …"),  # the limit falls on the space: "def" is whole
        ("abc def ghi", 6, "abc …"),
        ("a, b, c, d", 5, "a, b …"),
        ("abcdefgh", 4, "abcd …"),  # no space to cut at
    ],
)
def test_long_load_errors_are_cut_between_words(text: str, limit: int, shortened: str) -> None:
    assert weights._shortened(text, limit) == shortened


def test_compute_type_the_device_cannot_run_is_invalid_option() -> None:
    # No x86 CPU build of CTranslate2 runs float16; it refuses, and so do we, with a code.
    assert "float16" not in weights.supported_compute_types("cpu")
    with pytest.raises(InvalidOptionError) as info:
        load_model("tiny.en", device="cpu", compute_type="float16")
    assert "int8" in info.value.message


# The capability tables below are what ctranslate2.get_supported_compute_types("cuda", i)
# returns on such GPUs; the subject is the choice, not the model.
VOLTA_AND_NEWER = frozenset({"float32", "float16", "int8", "int8_float32", "int8_float16"})
AMPERE_AND_NEWER = VOLTA_AND_NEWER | {"bfloat16", "int8_bfloat16"}
PASCAL = frozenset({"float32", "int8", "int8_float32"})
KEPLER = frozenset({"float32"})


@pytest.mark.parametrize(
    ("supported", "expected"),
    [
        (AMPERE_AND_NEWER, "float16"),
        (VOLTA_AND_NEWER, "float16"),
        (frozenset({"float32", "int8_float16"}), "int8_float16"),
        (PASCAL, "float32"),
        (KEPLER, "float32"),
        (frozenset(), "float32"),
    ],
)
def test_auto_compute_type_on_a_gpu_is_the_first_it_runs(
    supported: frozenset[str], expected: str
) -> None:
    assert choose_compute_type("auto", "cuda", supported) == expected


def test_auto_compute_type_on_the_cpu_and_explicit_ones() -> None:
    cpu = weights.supported_compute_types("cpu")
    assert choose_compute_type("auto", "cpu", cpu) == "int8"
    assert choose_compute_type("int8_float16", "cuda", PASCAL) == "int8_float16"
    with pytest.raises(InvalidOptionError):
        choose_compute_type("int3", "cpu", cpu)
    with pytest.raises(InvalidOptionError):
        choose_device("tpu")


@pytest.mark.parametrize(
    ("probe", "reason", "level"),
    [
        (CudaProbe(0), "no CUDA GPU is visible", logging.DEBUG),
        (CudaProbe(2, ("libcublas.so.12",)), "libcublas.so.12 cannot be loaded", logging.WARNING),
        (
            CudaProbe(0, error="CUDA driver version is insufficient for CUDA runtime version"),
            "driver version is insufficient",
            logging.WARNING,
        ),
    ],
)
def test_a_gpu_that_cannot_be_used(
    probe: CudaProbe, reason: str, level: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A GPU meant to work (a driver answers, or a GPU lacks cuBLAS) is a WARNING when auto
    takes the CPU; a host without any GPU says it only at DEBUG."""
    with caplog.at_level(logging.DEBUG, logger="alignment.weights"):
        assert choose_device("auto", probe) == "cpu"
    assert [r.levelno for r in caplog.records] == [level]
    assert reason in caplog.records[0].getMessage()
    with pytest.raises(DeviceUnavailableError) as info:
        choose_device("cuda", probe)
    assert reason in info.value.message and "device=cpu" in info.value.message


def test_a_usable_gpu_is_taken_and_the_cpu_when_asked() -> None:
    assert choose_device("auto", CudaProbe(1)) == "cuda"
    assert choose_device("cuda", CudaProbe(4)) == "cuda"
    assert choose_device("cpu", CudaProbe(4)) == "cpu"


def test_device_index_must_name_a_visible_gpu() -> None:
    weights.check_device_index(1, CudaProbe(2))
    for index in (2, -1):
        with pytest.raises(DeviceUnavailableError, match="2 GPU"):
            weights.check_device_index(index, CudaProbe(2))


def test_this_host_is_probed_without_error() -> None:
    probe = weights.probe_cuda()
    assert probe.device_count >= 0
    assert choose_device("auto") == ("cuda" if probe.problem() is None else "cpu")


def test_missing_cuda_libraries_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights, "CUDA_LIBRARIES", ("libpodalign-absent.so.1", "libc.so.6"))
    assert weights.missing_cuda_libraries() == ["libpodalign-absent.so.1"]


def test_cuda_libraries_are_those_ctranslate2_opens() -> None:
    """The check names what the installed CTranslate2 opens at run time, and no more."""
    package = Path(ctranslate2.__file__).parent
    found = sorted(package.parent.glob("ctranslate2*/libctranslate2*.so*"))
    assert found, f"no libctranslate2 next to {package}"
    binary = found[0].read_bytes()
    for name in weights.CUDA_LIBRARIES:
        assert name.encode() + b"\0" in binary
    opened = set(re.findall(rb"lib(cublas|cublasLt|cudnn|cudart)[a-zA-Z]*\.so\.\d+\0", binary))
    assert b"cudnn" not in opened
    assert opened <= {n.removeprefix("lib").split(".")[0].encode() for n in weights.CUDA_LIBRARIES}


def test_fetch_model_unpacks_bundled_models_and_names_bad_ones(tmp_path: Path) -> None:
    assert (weights.fetch_model("base", tmp_path) / "model.bin").is_file()
    with pytest.raises(ModelUnavailableError, match="could not be downloaded"):
        weights.fetch_model("no-such-model", tmp_path)


def test_batches_are_bounded_by_the_gpus_memory() -> None:
    large = weights.weight_bytes("large-v3", "large-v3", "float16")
    assert large == int(1550e6 * 2)
    # A 24 GB GPU holds the largest batch; an 8 GB one fewer large-v3 windows, fewer still
    # when two workers share the model and may each run a batch.
    assert weights.batch_limit(24 * 10**9, large) >= 32
    on_8_gb = weights.batch_limit(8 * 10**9, large)
    assert 8 <= on_8_gb < 32
    assert weights.batch_limit(8 * 10**9, large, concurrent_calls=2) == pytest.approx(
        on_8_gb / 2, abs=1
    )
    # int8 weights take half the room; a GPU too small for more still gets one window.
    assert weights.weight_bytes("large-v3", "large-v3", "int8_float16") == int(1550e6)
    assert weights.batch_limit(4 * 10**9, large) == 1


def test_weight_size_from_the_folder_or_the_name(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"\0" * 1000)
    assert weights.weight_bytes("my-model", str(tmp_path), "float16") == 1000
    assert weights.weight_bytes("my-model", str(tmp_path), "float32") == 2000
    assert weights.weight_bytes("Systran/faster-whisper-tiny.en", "x", "float16") == int(78e6)
    assert weights.weight_bytes("large-v3-turbo", "x", "float16") == int(809e6 * 2)
    assert weights.weight_bytes("distil-large-v3", "x", "float32") == int(756e6 * 4)
    assert weights.weight_bytes("someone/custom-asr", "x", "float16") is None  # no bound


def test_gpu_memory_is_unknown_without_a_driver() -> None:
    assert weights.gpu_total_memory(0) is None  # this host has no NVIDIA driver
