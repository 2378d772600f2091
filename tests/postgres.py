"""A throwaway PostgreSQL server for tests (Debian's `postgresql` package), on a free port."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.service import free_port


def _bin_dir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))  # Debian's layout
    assert found, "PostgreSQL is missing: run `make test-tools`"
    return found[-1].parent


@contextmanager
def postgres() -> Iterator[str]:
    """Yields a SQLAlchemy URL; the cluster is removed afterwards. As root, the server runs as
    the `postgres` user (PostgreSQL refuses to run as root)."""
    bin_dir = _bin_dir()
    root = Path(tempfile.mkdtemp(prefix="podalign-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    subprocess.run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "podalign"],
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root}"
    subprocess.run(
        [
            *as_user,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        time.sleep(0.2)
        yield f"postgresql+psycopg://podalign@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
