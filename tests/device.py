"""The device the model tests run on: `PODALIGN_DEVICE=cuda make test` runs them on a GPU."""

from __future__ import annotations

import os
from typing import Literal

Device = Literal["auto", "cpu", "cuda"]


def device_from_env() -> Device:
    """PODALIGN_DEVICE when it names a device (cpu when unset), so the CPU stays the default."""
    value = os.environ.get("PODALIGN_DEVICE", "cpu")
    for device in ("auto", "cpu", "cuda"):
        if value == device:
            return device
    raise ValueError(f"PODALIGN_DEVICE must be auto, cpu or cuda, not {value!r}")


TEST_DEVICE: Device = device_from_env()
