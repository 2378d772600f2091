"""Service settings, read from `PODALIGN_*` environment variables (see the README's table)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The models installed with the package, offered by default: English-only and multilingual.
BUNDLED_MODELS = ("tiny.en", "base")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PODALIGN_", extra="ignore")

    #: Where `podalign serve` listens (its --host and --port win).
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("podalign-data")
    #: Any SQLAlchemy URL; default: a SQLite file in the data directory.
    database_url: str | None = None
    #: The default model; `models` are the ones a client may ask for (default: this one and
    #: the bundled ones).
    model: str = "tiny.en"
    models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Where downloaded and unpacked models live (default: the user's cache folder).
    model_cache_dir: Path | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    #: The GPUs workers use, comma-separated (`0,2`); empty: every visible one. Workers are
    #: spread over them in turn, and the workers of one GPU share its model.
    device_index: Annotated[list[int], NoDecode] = Field(default_factory=list)
    compute_type: str = "auto"
    #: How word boundaries are sharpened unless a job asks otherwise (acoustic, signal, none).
    refine: Literal["acoustic", "precise", "signal", "none"] = "acoustic"
    #: Windows encoded per call (0: the engine's default, 8 on a GPU, 1 on the CPU; at most
    #: 32, else the start is refused with invalid_option; on a GPU at most what its memory
    #: holds, see alignment.weights.batch_limit); `make bench-gpu` measures.
    batch_size: int = 0
    max_upload_bytes: int = 2 * 1024**3
    max_audio_s: float = 6 * 3600.0
    max_transcript_bytes: int = 5 * 1024**2
    #: A transcript may have 1000 words plus this many per second of audio (fast speech is
    #: 3-5 a second); more is refused (422 transcript_too_many_words).
    max_words_per_s: float = 10.0
    #: Free space kept on the data disk: below it uploads get 507 and workers take no new job,
    #: so the database always has room to record what happens.
    min_free_bytes: int = 128 * 1024**2
    workers: int = 1
    #: Finished jobs and their files are deleted after this many days (0: keep forever).
    retention_days: float = 30.0
    max_attempts: int = 3
    lease_s: float = 120.0
    #: Keys allowed besides those made with `podalign keys create`; each one is its own owner.
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: `/metrics` needs a valid API key too.
    metrics_require_key: bool = False
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Signs every callback; without it no callback is accepted (none goes out unsigned).
    webhook_secret: str = ""
    #: Let callbacks go to loopback, private and link-local addresses (on-premises receivers);
    #: cloud metadata addresses stay refused.
    webhook_allow_private_networks: bool = False
    #: Longest `?wait=` a client may ask for, in seconds.
    max_wait_s: float = 60.0
    #: How often a running job's worker renews its lease, in seconds (0: a quarter of the
    #: lease; in distributed mode at most 5 s, since a redelivered job is taken over once its
    #: holder has missed three renewals).
    heartbeat_s: float = 0.0

    # Distributed mode (see the README's "Scaling out"): a RabbitMQ URL switches it on.
    #: amqp://user:password@host:5672/vhost; jobs then run on `podalign worker`s anywhere.
    broker_url: str | None = None
    #: s3://bucket/prefix: uploads and results in S3-compatible object storage (default:
    #: the local job folder, which every process must then share).
    object_store_url: str | None = None
    #: The object store's endpoint (default: AWS S3) and credentials (default: boto3's own
    #: search: AWS_* variables, an instance role).
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    #: How long an object-store request is retried (an outage, a restart) before the job is
    #: put back in the queue or the upload answered 503, in seconds.
    object_store_retry_s: float = 60.0
    #: A queued job whose queue message went out this long ago and has not started gets it
    #: again (the broker may have lost it); duplicates are dropped by the workers.
    republish_after_s: float = 300.0
    #: How often the cluster's periodic duties (lost jobs, re-sends, retention) run, in seconds.
    sweep_every_s: float = 15.0

    @field_validator("models", "api_keys", "cors_origins", "device_index", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    def model_post_init(self, context: object) -> None:
        if not self.models:
            # Every model that ships with the package: a Spanish upload needs a multilingual one.
            self.models = [self.model, *(m for m in BUNDLED_MODELS if m != self.model)]
        elif self.model not in self.models:
            self.models = [self.model, *self.models]

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'podalign.db').resolve()}"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def distributed(self) -> bool:
        return bool(self.broker_url)

    @property
    def beat_s(self) -> float:
        """Seconds between two lease renewals of a running job."""
        if self.heartbeat_s > 0:
            return self.heartbeat_s
        return min(5.0, self.lease_s / 4) if self.distributed else max(1.0, self.lease_s / 4)

    def distributed_problem(self) -> str | None:
        """Why these settings cannot run in distributed mode; None when they can (or when
        distributed mode is off)."""
        if not self.broker_url:
            return None
        if not self.broker_url.startswith(("amqp://", "amqps://", "pyamqp://")):
            return (
                "PODALIGN_BROKER_URL must be a RabbitMQ URL such as "
                "amqp://user:password@rabbitmq:5672// (Redis is not supported: it gives a lost "
                "worker's job back only after a visibility timeout)."
            )
        if self.database.startswith("sqlite"):
            return (
                "PODALIGN_BROKER_URL needs a shared database: set PODALIGN_DATABASE_URL to "
                "PostgreSQL (postgresql+psycopg://user:password@host/db). Workers on other "
                "hosts cannot use this process's SQLite file."
            )
        if self.object_store_url and not self.object_store_url.startswith("s3://"):
            return "PODALIGN_OBJECT_STORE_URL must look like s3://bucket/prefix."
        return None
