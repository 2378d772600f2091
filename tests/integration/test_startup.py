"""What `podalign serve` says when it starts: one line per fact, no library chatter."""

from __future__ import annotations

from pathlib import Path

from tests.service import Server


def test_start_up_says_one_line_per_fact(tmp_path: Path) -> None:
    server = Server(tmp_path / "data").start()
    try:
        lines = server.log.read_text().splitlines()
    finally:
        server.stop()
    assert not [line for line in lines if "alembic" in line], lines
    assert sum(f"data directory {(tmp_path / 'data').resolve()}" in line for line in lines) == 1
    assert sum(f"{server.url} (API docs at /docs)" in line for line in lines) == 1
    assert sum("model tiny.en ready on cpu" in line for line in lines) == 1
