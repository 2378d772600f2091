"""Engine options are checked before any model loads."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future

import pytest

from alignment import AlignmentOptions
from alignment.engine import (
    MAX_BATCH_SIZE,
    _inside,
    available_cores,
    check_options,
    cpu_threads_for,
    dropping_pool,
    vad_threads,
)
from alignment.errors import InvalidOptionError


@pytest.mark.parametrize("batch_size", [0, 1, 8, MAX_BATCH_SIZE])
def test_batch_sizes_within_the_bound_are_accepted(batch_size: int) -> None:
    check_options(AlignmentOptions(batch_size=batch_size))


@pytest.mark.parametrize("batch_size", [-1, MAX_BATCH_SIZE + 1, 1000])
def test_batch_sizes_out_of_bounds_are_invalid_option(batch_size: int) -> None:
    with pytest.raises(InvalidOptionError) as info:
        check_options(AlignmentOptions(batch_size=batch_size))
    assert info.value.code == "invalid_option"
    assert str(MAX_BATCH_SIZE) in info.value.message and str(batch_size) in info.value.message


def test_every_thread_asked_for_is_used_and_by_default_every_core_up_to_16() -> None:
    assert [cpu_threads_for(n) for n in (1, 2, 16)] == [1, 2, 16]
    assert cpu_threads_for(0) == min(available_cores(), 16)
    assert [vad_threads(n) for n in (1, 2, 4, 16)] == [1, 1, 2, 8]


def test_the_cores_counted_are_those_the_process_may_use() -> None:
    assert available_cores() == len(os.sched_getaffinity(0)) >= 1


def test_a_failing_body_drops_the_queued_work_and_waits_for_the_running() -> None:
    running, release = threading.Event(), threading.Event()

    def first() -> str:
        running.set()
        release.wait(5)
        return "done"

    futures: list[Future[str]] = []
    with pytest.raises(RuntimeError), dropping_pool(1, "test") as pool:
        futures.append(pool.submit(first))
        futures += [pool.submit(lambda: "queued") for _ in range(5)]
        assert running.wait(5)
        threading.Timer(0.2, release.set).start()
        raise RuntimeError("the file is silent")
    assert futures[0].result(0) == "done"  # waited for, not abandoned
    assert all(f.cancelled() for f in futures[1:])


def test_a_body_that_succeeds_gets_all_its_work_done() -> None:
    with dropping_pool(2, "test") as pool:
        futures = [pool.submit(lambda k=k: k * k) for k in range(6)]
    assert [f.result(0) for f in futures] == [0, 1, 4, 9, 16, 25]


@pytest.mark.parametrize(
    ("span", "inside"),
    [
        ((1.0, 2.0), (1.0, 2.0)),
        ((-0.11, 1.13), (0.0, 1.13)),  # the model's lag taken off a first word
        ((24.92, 25.21), (24.92, 25.2)),  # an end offset past a cut-off last word
        ((25.3, 25.4), (25.2, 25.2)),  # wholly after the end: at the end, no length
        (None, None),
    ],
)
def test_word_times_are_kept_inside_the_audio(
    span: tuple[float, float] | None, inside: tuple[float, float] | None
) -> None:
    assert _inside(span, 25.2) == inside
