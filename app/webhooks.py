"""Job-finished callbacks: signed POSTs, sent and retried on their own thread."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Podalign-Signature"


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC of the body>`; receivers recompute it with the shared secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(order=True)
class _Delivery:
    due: float
    url: str = field(compare=False)
    body: bytes = field(compare=False)
    attempt: int = field(default=0, compare=False)


class WebhookSender:
    """Never blocks the worker: `send` only queues. Retries after 1, 4, 16, 64, 256 s."""

    def __init__(self, secret: str, attempts: int = 6, timeout_s: float = 10.0) -> None:
        self._secret = secret
        self._attempts = attempts
        self._timeout_s = timeout_s
        self._queue: queue.PriorityQueue[_Delivery] = queue.PriorityQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def send(self, url: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._queue.put(_Delivery(time.monotonic(), url, body))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delivery = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            wait = delivery.due - time.monotonic()
            if wait > 0:
                self._queue.put(delivery)
                self._stop.wait(min(wait, 0.2))
                continue
            if not self._post(delivery) and delivery.attempt + 1 < self._attempts:
                delivery.attempt += 1
                delivery.due = time.monotonic() + 4 ** (delivery.attempt - 1)
                self._queue.put(delivery)

    def _post(self, delivery: _Delivery) -> bool:
        headers = {"Content-Type": "application/json", "User-Agent": "podalign-webhook"}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, delivery.body)
        request = urllib.request.Request(delivery.url, delivery.body, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                ok = bool(200 <= response.status < 300)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            logger.warning(
                "webhook to %s failed (attempt %d): %s", delivery.url, delivery.attempt + 1, exc
            )
            return False
        return ok
