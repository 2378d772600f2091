"""Security headers on every response: no type sniffing, no framing, and a Content-Security-
Policy (the page may use only itself; everything else may run nothing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The web page and the API docs: their own scripts, styles and images; audio and captions
#: the page fetched (blob:).
PAGE_POLICY = (
    "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: Everything else (JSON, captions, the uploaded audio): nothing may run; a browser that
#: opens the audio may still play it.
API_POLICY = "default-src 'none'; media-src 'self'; base-uri 'none'; frame-ancestors 'none'"

_PAGE_PATHS = ("/", "/index.html", "/docs", "/favicon.ico")


def policy_for(path: str) -> str:
    if path in _PAGE_PATHS or path.startswith("/static/"):
        return PAGE_POLICY
    return API_POLICY


def security_headers(path: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": policy_for(path),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }


class SecurityHeaders:
    """ASGI middleware that adds `security_headers` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in security_headers(scope.get("path", "")).items()
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((name, value) for name, value in extra if name not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
