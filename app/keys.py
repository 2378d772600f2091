"""API keys and who is calling: keys live in the job store as SHA-256 hashes (or, as a simple
alternative, in PODALIGN_API_KEYS); each key is an owner that sees only its own jobs, and an
admin key sees every job."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Engine, Select, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import ApiKey, Job

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: the owner its jobs get, and whether it sees all jobs."""

    owner: str | None
    admin: bool

    def may_see(self, job: Job) -> bool:
        return self.admin or job.owner == self.owner


#: Nobody has to show a key (none exists): one tenant, which sees everything.
ANONYMOUS = Caller(owner=None, admin=True)


class KeyCommandError(Exception):
    """A key command that cannot be done; the message says why."""


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def settings_key_owner(key: str) -> str:
    """The owner of a key from PODALIGN_API_KEYS: stable, and not the key itself."""
    return f"key-{key_hash(key)[:12]}"


class KeyStore:
    def __init__(self, engine: Engine) -> None:
        self._sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)

    def create(self, name: str, admin: bool = False) -> str:
        """A new key for `name`, returned once (only its hash is kept)."""
        if not _NAME.fullmatch(name):
            raise KeyCommandError("A key name is 1-100 letters, digits, '.', '_' or '-'.")
        key = "pa_" + secrets.token_urlsafe(32)
        with self._sessions.begin() as session:
            if session.scalar(_active().where(ApiKey.name == name)) is not None:
                raise KeyCommandError(f"{name!r} already has a key; revoke it first.")
            session.add(
                ApiKey(name=name, key_hash=key_hash(key), admin=admin, created_at=time.time())
            )
        return key

    def list(self) -> list[ApiKey]:
        with self._sessions() as session:
            return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))

    def revoke(self, name: str) -> bool:
        """Whether `name` had a key that is now revoked."""
        with self._sessions.begin() as session:
            keys = list(session.scalars(_active().where(ApiKey.name == name)))
            for key in keys:
                key.revoked_at = time.time()
            return bool(keys)

    def any_active(self) -> bool:
        with self._sessions() as session:
            return session.scalar(_active().limit(1)) is not None

    def caller(self, key: str) -> Caller | None:
        with self._sessions() as session:
            row = session.scalar(_active().where(ApiKey.key_hash == key_hash(key)))
        return Caller(owner=row.name, admin=row.admin) if row is not None else None


def _active() -> Select[ApiKey]:
    return select(ApiKey).where(ApiKey.revoked_at.is_(None))


def caller_for(key: str, store: KeyStore, settings_keys: list[str]) -> Caller | None:
    """The caller a presented key stands for, or None when it is no valid key."""
    for candidate in settings_keys:
        if hmac.compare_digest(key.encode(), candidate.encode()):
            return Caller(owner=settings_key_owner(candidate), admin=False)
    return store.caller(key)
