"""Telling storage failures (a full disk, a read-only or damaged store) from other errors."""

from __future__ import annotations

import errno
import sqlite3

from sqlalchemy.exc import DBAPIError

#: OS errors that mean "no room": the disk or the user's quota is full.
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
#: OS errors that mean the storage cannot be written at all.
_UNAVAILABLE_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.ENOTDIR}
#: SQLite primary result codes (the low byte of an extended code).
_SQLITE_FULL = {sqlite3.SQLITE_FULL}
_SQLITE_UNAVAILABLE = {
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_NOTADB,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CANTOPEN,
}
#: PostgreSQL SQLSTATEs: disk full; read-only transaction; data or index corrupted.
_PG_FULL = {"53100"}
_PG_UNAVAILABLE = {"25006", "XX001", "XX002"}


class StorageError(Exception):
    """The job store or the job folder cannot take a write; `code` says which kind."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def storage_problem(exc: BaseException) -> StorageError | None:
    """The storage failure behind `exc`, or None when `exc` is about something else."""
    if isinstance(exc, StorageError):
        return exc
    kind = _kind(exc)
    if kind == "full":
        return StorageError(
            "storage_full",
            "The server's disk is full, so nothing new can be stored. Try again later; the "
            "operator can free space by deleting finished alignments.",
        )
    if kind == "unavailable":
        return StorageError(
            "storage_unavailable",
            f"The server cannot write its data ({_reason(exc)}). Try again later; the operator "
            "should check the data folder and the database.",
        )
    return None


def describe(exc: BaseException) -> str:
    """`exc` in one line for a log or /readyz: the storage problem behind it when there is
    one, else its type and text."""
    storage = storage_problem(exc)
    return str(storage) if storage is not None else f"{type(exc).__name__}: {exc}"


def _kind(exc: BaseException) -> str | None:
    if isinstance(exc, OSError):
        if exc.errno in _FULL_ERRNOS:
            return "full"
        return "unavailable" if exc.errno in _UNAVAILABLE_ERRNOS else None
    if isinstance(exc, DBAPIError):
        return _database_kind(exc.orig)
    if isinstance(exc, sqlite3.Error):
        return _database_kind(exc)
    return None


def _database_kind(orig: BaseException | None) -> str | None:
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        if sqlite_code & 0xFF in _SQLITE_FULL:
            return "full"
        return "unavailable" if sqlite_code & 0xFF in _SQLITE_UNAVAILABLE else None
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _PG_FULL:
        return "full"
    return "unavailable" if sqlstate in _PG_UNAVAILABLE else None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError):
        exc = exc.orig or exc
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
