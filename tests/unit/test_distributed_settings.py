"""Distributed mode's settings: what switches it on, and the settings it refuses."""

from __future__ import annotations

from pathlib import Path

from app.broker import queue_name
from app.settings import Settings


def _settings(tmp_path: Path, **values: str) -> Settings:
    return Settings(data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_the_embedded_default_is_not_distributed(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert not settings.distributed and settings.distributed_problem() is None
    assert settings.beat_s == 30.0  # a quarter of the 120 s lease, as before


def test_a_broker_needs_a_shared_database(tmp_path: Path) -> None:
    problem = _settings(tmp_path, broker_url="amqp://rabbitmq//").distributed_problem()
    assert problem is not None and "PODALIGN_DATABASE_URL" in problem and "PostgreSQL" in problem


def test_only_rabbitmq_and_s3_urls_are_taken(tmp_path: Path) -> None:
    database = "postgresql+psycopg://podalign@db/podalign"
    redis = _settings(tmp_path, broker_url="redis://cache:6379/0", database_url=database)
    assert "RabbitMQ" in (redis.distributed_problem() or "")
    store = _settings(
        tmp_path,
        broker_url="amqp://rabbitmq//",
        database_url=database,
        object_store_url="/mnt/shared",
    )
    assert "s3://" in (store.distributed_problem() or "")
    good = _settings(
        tmp_path,
        broker_url="amqp://rabbitmq//",
        database_url=database,
        object_store_url="s3://bucket/prefix",
    )
    assert good.distributed and good.distributed_problem() is None
    assert good.beat_s == 5.0  # renewals a taken-over job's watcher can see within seconds


def test_each_model_has_a_queue_of_its_own() -> None:
    assert queue_name("large-v3") == "podalign.large-v3"
    assert queue_name("tiny.en") != queue_name("base")
    assert queue_name("/models/my whisper") == "podalign._models_my_whisper"
