"""The job table (SQLAlchemy) and the database connection; the schema is Alembic's to change."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Boolean, Engine, Float, Integer, String, Text, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MIGRATIONS = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    pass


class Job(Base):
    """One alignment request. Times are seconds since the epoch (UTC)."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    stage: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[float] = mapped_column(Float, index=True)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    model: Mapped[str] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    detected_language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: The refinement the job asked for (None: the server's setting).
    refine: Mapped[str | None] = mapped_column(String(16), nullable=True)
    audio_filename: Mapped[str | None] = mapped_column(String(300), nullable=True)
    audio_bytes: Mapped[int] = mapped_column(Integer, default=0)
    audio_duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: What the probe found the audio to be (None for jobs from before it was recorded).
    audio_media_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    callback_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    client_metadata: Mapped[str | None] = mapped_column(Text, nullable=True)
    words_aligned: Mapped[int | None] = mapped_column(Integer, nullable=True)
    words_not_found: Mapped[int | None] = mapped_column(Integer, nullable=True)
    words_non_speech: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The name of the API key that submitted it (None: submitted while no key was needed).
    owner: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    #: The claim slot of the process running it (see app.claims).
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: Distributed mode: when the job's queue message was last sent (database clock).
    published_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class WebhookDelivery(Base):
    """One callback to send; kept until delivered or given up, so restarts do not lose it."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(32), index=True)
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(Float, index=True)
    delivered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    gave_up_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ClusterLease(Base):
    """A duty that one process of a cluster holds at a time (the periodic sweeps): whoever
    holds an unexpired row does it. Times come from the database's clock."""

    __tablename__ = "cluster_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[float] = mapped_column(Float)


class ApiKey(Base):
    """A key that may call the API; only a SHA-256 of the key is kept. Jobs belong to the
    key's name, so a key revoked and created again under its name keeps its jobs."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)


def connect(url: str) -> Engine:
    """An engine; SQLite gets WAL (readers never wait for the worker) and a busy timeout."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(connection: object, _record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the schema up to date (Alembic `upgrade head`)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
