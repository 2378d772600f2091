"""One place that turns errors into HTTP answers: `{"error": {"code", "message"}}`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from alignment import AlignmentError
from app.headers import security_headers
from app.storage import StorageError, storage_problem

logger = logging.getLogger(__name__)

#: HTTP status for each error code raised below the routes; anything else about the input
#: is 422.
STATUS_BY_CODE = {
    "audio_decode_failed": 415,
    "no_audio_stream": 415,
    "audio_empty": 415,
    "audio_too_long": 413,
    "device_unavailable": 503,
    "storage_full": 507,
    "storage_unavailable": 503,
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def from_alignment_error(exc: AlignmentError) -> ApiError:
    return ApiError(STATUS_BY_CODE.get(exc.code, 422), exc.code, exc.message)


def from_storage_error(exc: StorageError) -> ApiError:
    return ApiError(STATUS_BY_CODE[exc.code], exc.code, exc.message)


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _internal_error(path: str) -> JSONResponse:
    """Sent by Starlette's outermost layer, past the middleware: the headers come with it."""
    return JSONResponse(
        error_body(
            "internal_error",
            "The service failed unexpectedly. Try again; if it fails again, tell the operator "
            "what you sent and when.",
        ),
        500,
        headers=security_headers(path),
    )


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(
            error_body(exc.code, exc.message, **exc.extra), exc.status, headers=headers
        )

    @app.exception_handler(AlignmentError)
    async def _alignment_error(request: Request, exc: AlignmentError) -> JSONResponse:
        return await _api_error(request, from_alignment_error(exc))

    @app.exception_handler(StorageError)
    async def _storage_error(request: Request, exc: StorageError) -> JSONResponse:
        logger.warning("%s %s: %s", request.method, request.url.path, exc)
        return await _api_error(request, from_storage_error(exc))

    @app.exception_handler(OSError)
    @app.exception_handler(SQLAlchemyError)
    async def _storage_or_internal(request: Request, exc: Exception) -> JSONResponse:
        storage = storage_problem(exc)
        if storage is not None:
            return await _storage_error(request, storage)
        logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _internal_error(request.url.path)

    # Starlette calls this one last and then re-raises, so the server logs the traceback.
    @app.exception_handler(Exception)
    async def _internal(request: Request, _exc: Exception) -> JSONResponse:
        return _internal_error(request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{p['where']}: {p['problem']}" for p in problems)
        return JSONResponse(
            error_body("invalid_request", f"The request is not valid: {summary}", details=problems),
            422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)
