"""Which GPU each worker thread uses: workers are spread over the GPUs in turn, and the
workers of one GPU share one model there (CTranslate2 runs their calls side by side and keeps
one copy of the weights per GPU)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from alignment.errors import InvalidOptionError
from alignment.weights import CudaProbe, check_device_index, probe_cuda


def place_workers(
    device: str, device_indices: Sequence[int], workers: int, probe: CudaProbe | None = None
) -> list[int | None]:
    """The GPU of each of `workers` workers (None: the CPU). `device_indices` are the GPUs to
    use (empty: every visible one); a GPU that is not there is an error that says which are."""
    if len(set(device_indices)) != len(device_indices):
        raise InvalidOptionError(
            f"PODALIGN_DEVICE_INDEX lists a GPU twice ({', '.join(map(str, device_indices))});"
            " name each GPU once."
        )
    if device == "cpu" or workers == 0:
        return [None] * workers
    found = probe or probe_cuda()
    if found.problem() is not None:
        # device=auto takes the CPU (the model load says why); device=cuda fails there.
        return [None] * workers
    gpus = list(device_indices) or list(range(found.device_count))
    for index in gpus:
        check_device_index(index, found)
    return [gpus[i % len(gpus)] for i in range(workers)]


def gpu_of_process(
    device: str, device_indices: Sequence[int], number: int, probe: CudaProbe | None = None
) -> int | None:
    """The GPU of a host's `number`-th single-job worker process (distributed mode: one
    process per GPU, numbered by its claim slot), or None for the CPU."""
    return place_workers(device, device_indices, number, probe)[-1]


def sharing(placement: Sequence[int | None]) -> dict[int, int]:
    """How many workers share each GPU's model."""
    return dict(Counter(index for index in placement if index is not None))


def describe_placement(names: Sequence[str], placement: Sequence[int | None]) -> dict[str, str]:
    """Each worker's device as /readyz and the log show it: `cuda:1`, or `cpu`."""
    return {
        name: "cpu" if index is None else f"cuda:{index}"
        for name, index in zip(names, placement, strict=True)
    }
