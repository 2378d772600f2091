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
    refine: Literal["acoustic", "signal", "none"] = "acoustic"
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
