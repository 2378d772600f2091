"""Who claims jobs: each process that runs workers holds a numbered slot in the data folder
(an exclusive lock the system drops when the process dies, even by SIGKILL). A process that
gets a slot knows its previous holder is gone, so jobs claimed under that slot are orphans it
can requeue at once; jobs of live processes stay covered by their leases."""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import BinaryIO

#: Slots tried before giving up (more worker processes than this on one data folder is odd).
_MAX_SLOTS = 256


class ClaimSlot:
    def __init__(self, identity: str, handle: BinaryIO, number: int = 1) -> None:
        #: Recorded on every job this process claims: "<host>/slot-<n>".
        self.identity = identity
        #: n: this is the n-th live worker process on the folder (a GPU worker takes the n-th
        #: GPU by it).
        self.number = number
        self._handle = handle  # held open: the lock lives as long as the process

    @classmethod
    def acquire(cls, data_dir: Path) -> ClaimSlot:
        """The lowest free slot under `data_dir/claims`."""
        folder = data_dir / "claims"
        folder.mkdir(parents=True, exist_ok=True)
        for number in range(1, _MAX_SLOTS + 1):
            handle = (folder / f"slot-{number}.lock").open("ab")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            os.set_inheritable(handle.fileno(), False)
            return cls(f"{socket.gethostname()}/slot-{number}", handle, number)
        raise RuntimeError(f"all {_MAX_SLOTS} claim slots in {folder} are held by live processes")

    def release(self) -> None:
        self._handle.close()
