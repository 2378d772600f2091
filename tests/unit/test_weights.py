"""Model resolution: bundled offline models, local folders, devices and compute types."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from alignment import weights
from alignment.errors import DeviceUnavailableError, InvalidOptionError, ModelUnavailableError
from alignment.weights import (
    BASE_MODEL_SHA256,
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
    assert not model.multilingual and model.compute_type == "int8"


def test_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError) as info:
        load_model(str(tmp_path / "no-such-model"), device="cpu")
    assert info.value.code == "model_unavailable"


def test_devices_and_compute_types() -> None:
    assert choose_device("cpu") == "cpu"
    assert choose_device("auto") in ("cpu", "cuda")
    assert choose_compute_type("auto", "cpu") == "int8"
    assert choose_compute_type("auto", "cuda") == "float16"
    with pytest.raises(InvalidOptionError):
        choose_compute_type("int3", "cpu")
    with pytest.raises(InvalidOptionError):
        choose_device("tpu")


def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    if choose_device("auto") == "cuda":
        assert choose_device("cuda") == "cuda"
        return
    with pytest.raises(DeviceUnavailableError) as info:
        choose_device("cuda")
    assert "device=cpu" in info.value.message


def test_missing_cuda_libraries_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weights, "CUDA_LIBRARIES", ("libpodalign-absent.so.1", "libc.so.6"))
    assert weights.missing_cuda_libraries() == ["libpodalign-absent.so.1"]


def test_fetch_model_unpacks_bundled_models_and_names_bad_ones(tmp_path: Path) -> None:
    assert (weights.fetch_model("base", tmp_path) / "model.bin").is_file()
    with pytest.raises(ModelUnavailableError, match="could not be downloaded"):
        weights.fetch_model("no-such-model", tmp_path)
