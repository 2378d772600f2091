"""Which GPU each worker gets, and which workers share a model (no GPU needed: the host's
GPUs are described by a probe)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignment.errors import DeviceUnavailableError, InvalidOptionError
from alignment.weights import CudaProbe
from app.claims import ClaimSlot
from app.main import worker_models
from app.placement import describe_placement, gpu_of_process, place_workers, sharing
from app.settings import Settings

FOUR_GPUS = CudaProbe(4)


def test_workers_go_round_the_visible_gpus() -> None:
    assert place_workers("auto", [], 6, FOUR_GPUS) == [0, 1, 2, 3, 0, 1]
    assert place_workers("cuda", [], 2, FOUR_GPUS) == [0, 1]


def test_the_listed_gpus_only_in_their_order() -> None:
    placement = place_workers("cuda", [3, 1], 5, FOUR_GPUS)
    assert placement == [3, 1, 3, 1, 3]
    assert sharing(placement) == {3: 3, 1: 2}
    assert describe_placement([f"worker-{i}" for i in range(1, 6)], placement) == {
        "worker-1": "cuda:3",
        "worker-2": "cuda:1",
        "worker-3": "cuda:3",
        "worker-4": "cuda:1",
        "worker-5": "cuda:3",
    }


def test_a_gpu_that_is_not_there_is_named() -> None:
    with pytest.raises(DeviceUnavailableError, match=r"GPU 4 .* 4 GPU\(s\) are visible"):
        place_workers("auto", [0, 4], 2, FOUR_GPUS)
    with pytest.raises(InvalidOptionError, match="twice"):
        place_workers("cuda", [1, 1], 2, FOUR_GPUS)


def test_cpu_workers_get_no_gpu() -> None:
    assert place_workers("cpu", [0], 3, FOUR_GPUS) == [None, None, None]
    # auto without a usable GPU: the CPU (the model load says why at WARNING).
    assert place_workers("auto", [], 2, CudaProbe(0)) == [None, None]
    assert place_workers("auto", [], 2, CudaProbe(2, ("libcublas.so.12",))) == [None, None]
    assert sharing([None, None]) == {}


def test_workers_of_one_gpu_share_one_model_and_cpu_workers_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("app.placement.probe_cuda", lambda: CudaProbe(2))
    models = worker_models(Settings(device="cuda", device_index=[0, 1]), 3)
    assert models[0] is models[2] and models[0] is not models[1]
    assert [m.device_index for m in models] == [0, 1, 0]
    assert [m.where("tiny.en") for m in models] == ["cuda:0", "cuda:1", "cuda:0"]
    # Two workers on GPU 0 align side by side with one copy of the weights there.
    assert models[0].concurrent_calls == 2 and models[1].concurrent_calls == 1

    cpu = worker_models(Settings(device="cpu"), 2)
    assert cpu[0] is not cpu[1] and [m.where("tiny.en") for m in cpu] == ["cpu", "cpu"]


def test_device_index_setting_is_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODALIGN_DEVICE_INDEX", "2, 0")
    assert Settings().device_index == [2, 0]
    monkeypatch.delenv("PODALIGN_DEVICE_INDEX")
    assert Settings().device_index == []


def test_each_worker_process_of_a_host_takes_the_next_gpu(tmp_path: Path) -> None:
    """Distributed mode runs one single-job process per GPU: the replicas of a host share a
    claims folder, and the n-th live process takes the n-th GPU (a slot freed by a process
    that ended goes to the next one started, with its GPU)."""
    slots = [ClaimSlot.acquire(tmp_path) for _ in range(3)]
    try:
        gpus = [gpu_of_process("cuda", [], slot.number, CudaProbe(2)) for slot in slots]
        assert gpus == [0, 1, 0]
        assert gpu_of_process("cuda", [3, 1], slots[1].number, FOUR_GPUS) == 1
        assert gpu_of_process("cpu", [], slots[1].number, FOUR_GPUS) is None
        slots[1].release()
        again = ClaimSlot.acquire(tmp_path)
        assert gpu_of_process("cuda", [], again.number, CudaProbe(2)) == 1
        again.release()
    finally:
        for slot in slots:
            slot.release()
