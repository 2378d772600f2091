"""What processes of a cluster share through PostgreSQL: the periodic duties are held by one
process at a time, a webhook is delivered by one sender, a running job is taken over only from
a claim that stopped renewing, and leases are measured by the database's clock."""

from __future__ import annotations

import http.server
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import Engine, event, update

from app.broker import Dispatcher, queue_name
from app.cluster import DutyLease, Housekeeper
from app.db import ClusterLease, connect, migrate
from app.files import JobFiles
from app.jobs import Claim, JobStore, NewJob
from app.settings import Settings
from app.webhooks import WebhookSender
from tests.cluster import RabbitMQ, wait_until
from tests.postgres import postgres


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with postgres() as url:
        engine = connect(url)
        migrate(engine)
        yield engine
        engine.dispose()


def _new() -> NewJob:
    return NewJob("tiny.en", None, "a.mp3", 10, 5.0, None, None)


def test_one_process_at_a_time_holds_the_periodic_duties(engine: Engine) -> None:
    store = JobStore(engine)
    first, second = (DutyLease(engine, store, "sweep-test", f"host/{n}") for n in (1, 2))
    assert first.hold(ttl_s=60)
    assert not second.hold(ttl_s=60)
    assert first.hold(ttl_s=60)  # renewed by its holder
    with engine.begin() as connection:  # the holder stops renewing: its lease runs out
        connection.execute(
            update(ClusterLease)
            .where(ClusterLease.name == "sweep-test")
            .values(expires_at=ClusterLease.expires_at - 120)
        )
    assert second.hold(ttl_s=60)
    assert not first.hold(ttl_s=60)


def test_racing_processes_never_both_hold_the_duties(engine: Engine) -> None:
    store = JobStore(engine)
    leases = [DutyLease(engine, store, "race-test", f"host/{n}") for n in range(6)]
    results: list[bool] = []
    barrier = threading.Barrier(len(leases))

    def contend(lease: DutyLease) -> None:
        barrier.wait()
        results.append(lease.hold(ttl_s=60))

    threads = [threading.Thread(target=contend, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1


def test_leases_are_measured_by_the_database_clock(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This host's clock runs an hour fast; the lease still ends 100 s after the database's
    now, as every host of the cluster measures it."""
    store = JobStore(engine)
    job = store.create(_new())
    fast = time.time() + 3600
    monkeypatch.setattr("app.jobs.time.time", lambda: fast)
    claimed = store.claim(job.id, lease_s=100)
    assert claimed is not None and claimed.lease_expires_at is not None
    with engine.connect() as connection:
        database_now = float(
            connection.exec_driver_sql("SELECT extract(epoch from now())").scalar()
        )  # type: ignore[arg-type]
    assert abs(claimed.lease_expires_at - (database_now + 100)) < 5


def test_a_job_is_taken_over_only_from_the_claim_that_was_seen(engine: Engine) -> None:
    store = JobStore(engine)
    job = store.claim(store.create(_new()).id, lease_s=60, claimant="host/a")
    assert job is not None
    seen = Claim(job.attempts, job.lease_expires_at)
    assert store.report(job.id, job.attempts, "align", 0.5, 60)  # the holder renewed meanwhile
    assert store.take_over(job.id, seen, 60, "host/b", max_attempts=3) is None
    fresh = store.get(job.id)
    assert fresh is not None
    taken = store.take_over(
        job.id, Claim(fresh.attempts, fresh.lease_expires_at), 60, "host/b", max_attempts=3
    )
    assert taken is not None and (taken.attempts, taken.claimed_by) == (2, "host/b")
    assert not store.report(job.id, 1, "align", 0.9, 60)  # the old claim is fenced off
    last = Claim(taken.attempts, taken.lease_expires_at)
    failed = store.take_over(job.id, last, 60, "host/c", max_attempts=2)
    assert failed is not None and (failed.status, failed.error_code) == ("failed", "worker_lost")


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: ClassVar[Counter[str]] = Counter()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(0.05)  # a receiver that takes a moment: senders overlap
        type(self).received[body.decode()] += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_each_webhook_is_delivered_by_one_of_several_senders(engine: Engine) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    senders = [WebhookSender(engine, "secret", allow_private_networks=True) for _ in range(3)]
    for n in range(12):
        senders[n % 3].send(f"job-{n}", url, {"n": n})
    for sender in senders:
        sender.start()
    try:
        wait_until(lambda: len(_Receiver.received) == 12, "all 12 deliveries", 60)
    finally:
        for sender in senders:  # joins each: a duplicate under way would be counted by now
            sender.stop()
        server.shutdown()
    assert set(_Receiver.received.values()) == {1}


@contextmanager
def _when_it_has_looked(
    engine: Engine, looks_at: str, act: Callable[[], bool]
) -> Iterator[list[bool]]:
    """Run `act` (another process's write) once, right after the next SELECT on `engine`
    that reads `looks_at`: the moment between a look and a change. Yields what it returned."""
    done: list[bool] = []

    def after(conn: object, cursor: object, statement: str, *args: object) -> None:
        if not done and statement.lstrip().upper().startswith("SELECT") and looks_at in statement:
            done.append(act())

    event.listen(engine, "after_cursor_execute", after)
    try:
        yield done
    finally:
        event.remove(engine, "after_cursor_execute", after)


def test_a_job_finished_while_the_sweep_or_a_cancel_looks_keeps_its_outcome(
    engine: Engine,
) -> None:
    """The holder of a claim whose lease just ran out (a stall) succeeds between the sweep's
    look and its change; so does a holder while a client cancels. Neither outcome is undone:
    no second run, no canceled job with a stored result."""
    looker = connect(engine.url.render_as_string(hide_password=False))
    store, holder = JobStore(looker), JobStore(engine)
    counts = {"aligned": 1, "not_found": 0, "non_speech": 0}
    try:
        stalled = store.create(_new()).id
        assert store.claim(stalled, -1.0, "host/1") is not None  # running, lease run out
        succeed = lambda: holder.succeed(stalled, 1, "en", 5.0, counts)  # noqa: E731
        with _when_it_has_looked(looker, "lease_expires_at", succeed) as finished:
            assert store.recover(max_attempts=3) == (0, 0)
        assert finished == [True]
        job = store.get(stalled)
        assert job is not None and (job.status, job.attempts) == ("succeeded", 1)

        running = store.create(_new()).id
        assert store.claim(running, 60.0, "host/1") is not None
        succeed = lambda: holder.succeed(running, 1, "en", 5.0, counts)  # noqa: E731
        with _when_it_has_looked(looker, "jobs.status", succeed) as finished:
            assert store.cancel(running) == "succeeded"
        assert finished == [True]
        job = store.get(running)
        assert job is not None and job.status == "succeeded" and job.words_aligned == 1
    finally:
        looker.dispose()


def test_the_sweeper_resends_a_lost_message_but_not_one_waiting_in_a_backlog(
    engine: Engine, tmp_path: Path
) -> None:
    """Jobs waiting behind a backlog keep their one message (no duplicate every round); a
    queued job whose message the broker lost (the queue is empty) gets it again."""
    rabbit = RabbitMQ(tmp_path / "rabbit", consumer_timeout_ms=1_800_000).start()
    settings = Settings(
        data_dir=tmp_path,
        broker_url=rabbit.url,
        database_url=engine.url.render_as_string(hide_password=False),
        republish_after_s=0.0,
    )
    store = JobStore(engine)
    dispatcher = Dispatcher(settings, store)
    sweeper = Housekeeper(settings, store, JobFiles(tmp_path / "jobs"), dispatcher)
    model = "backlog-model"
    try:
        for _ in range(3):
            job = store.create(NewJob(model, None, "a.mp3", 10, 5.0, None, None))
            assert dispatcher.publish(job.id, model)
        wait_until(lambda: dispatcher.waiting(model) == 3, "three messages waiting")
        time.sleep(0.05)  # older than republish_after_s
        assert sweeper.sweep()
        assert dispatcher.waiting(model) == 3  # still one message per job
        with dispatcher.app.connection_for_write() as connection:
            connection.default_channel.queue_purge(queue_name(model))  # the broker lost them
        assert sweeper.sweep()
        wait_until(lambda: dispatcher.waiting(model) == 3, "the lost messages sent again")
    finally:
        dispatcher.close()
        rabbit.stop()
