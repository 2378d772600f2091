"""Small file systems for the storage tests: a tmpfs of a given size, a read-only view of a
folder, and filling a disk to the last byte. They need root (CI runs as root)."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    assert done.returncode == 0, f"mount {' '.join(args)} failed (it needs root): {done.stderr}"


@contextmanager
def tmpfs(path: Path, size_mb: int) -> Iterator[Path]:
    """A fresh tmpfs of `size_mb` MB at `path`, unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size_mb}m", "podalign-test", str(path))
    try:
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


@contextmanager
def read_only_view(source: Path, path: Path) -> Iterator[Path]:
    """`source` seen read-only at `path` (a bind mount): writes fail with EROFS, even as root."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("--bind", str(source), str(path))
    try:
        _mount("-o", "remount,bind,ro", str(path))
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False)


def fill(folder: Path) -> Path:
    """Write a file in `folder` until its disk has no byte left; the file, to delete later."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (1024 * 1024, 4096, 1):
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler
