"""One place that turns errors into HTTP answers: `{"error": {"code", "message"}}`."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        #: Response headers that go with it (e.g. Content-Range on a 416).
        self.headers: dict[str, str] = {}


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
        headers = {**exc.headers, **({"WWW-Authenticate": "Bearer"} if exc.status == 401 else {})}
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
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method the path has, not just one route's
            headers["Allow"] = allowed_methods(request)
        return JSONResponse(
            error_body(_CODE_BY_STATUS.get(exc.status_code, "http_error"), str(exc.detail)),
            exc.status_code,
            headers=headers,
        )


def allowed_methods(request: Request) -> str:
    """The methods some route answers on this path (a mount of static files: GET, HEAD)."""
    # Matched from the application's root, also when raised inside a mount.
    scope = {**request.scope, "root_path": request.scope.get("app_root_path", "")}
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Mount):
            if route.matches(scope)[0] != Match.NONE:
                methods |= {"GET", "HEAD"}
            continue
        for method in _METHODS:
            if route.matches({**scope, "method": method})[0] == Match.FULL:
                methods.add(method)
    return ", ".join(sorted(methods))


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


#: Codes for errors that only have an HTTP status (raised by the framework, or by a response
#: such as a file's Range handling).
_CODE_BY_STATUS = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    416: "range_not_satisfiable",
}


class JsonErrors:
    """ASGI middleware: an error response that is not JSON (Starlette's own plain-text answers,
    e.g. to a bad Range header) is rewritten to the documented shape, its headers kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: dict[str, Any] = {}

        async def send_json_errors(message: Message) -> None:
            if message["type"] == "http.response.start" and _needs_rewrite(message):
                held["start"], held["body"] = message, b""
                return
            if message["type"] != "http.response.body" or "start" not in held:
                await send(message)
                return
            held["body"] += message.get("body", b"")
            if not message.get("more_body", False):
                for rewritten in _as_json_error(held["start"], held["body"]):
                    await send(rewritten)

        await self.app(scope, receive, send_json_errors)


def _needs_rewrite(start: Message) -> bool:
    headers = {k.lower(): v for k, v in start.get("headers", [])}
    kind = headers.get(b"content-type", b"").split(b";")[0].strip()
    return int(start["status"]) >= 400 and kind != b"application/json"


def _as_json_error(start: Message, body: bytes) -> list[Message]:
    status = int(start["status"])
    detail = body.decode("utf-8", "replace").strip() or HTTPStatus(status).phrase
    payload = json.dumps(
        error_body(_CODE_BY_STATUS.get(status, "http_error"), detail[:500])
    ).encode()
    headers = [
        (k, v)
        for k, v in start.get("headers", [])
        if k.lower() not in (b"content-type", b"content-length")
    ]
    headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    return [
        {**start, "headers": headers},
        {"type": "http.response.body", "body": payload, "more_body": False},
    ]
