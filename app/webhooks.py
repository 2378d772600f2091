"""Job-finished callbacks: stored in the database, then sent, signed, by their own thread and
retried with backoff, so neither the worker nor a restart can hold up or drop one. Never sent
unsigned, never to a refused address (see `destinations`), never along a redirect."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from http.client import HTTPException
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import WebhookDelivery
from app.destinations import Refused, post

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Podalign-Signature"
#: A claimed delivery becomes due again this long after its post's timeout, in seconds.
_CLAIM_MARGIN_S = 30.0


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC of the body>`; receivers recompute it with the shared secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """`send` stores a delivery (one short insert); the thread posts due deliveries and
    retries failures after 1, 4, 16, 64 and 256 s. Delivery is at least once: a receiver
    should treat a repeated (id, event) as the same news."""

    def __init__(
        self,
        engine: Engine,
        secret: str,
        allow_private_networks: bool = False,
        attempts: int = 6,
        timeout_s: float = 10.0,
    ) -> None:
        self._sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self._secret = secret
        self._allow_private_networks = allow_private_networks
        self._attempts = attempts
        self._timeout_s = timeout_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def send(self, job_id: str, url: str, payload: dict[str, Any]) -> None:
        now = time.time()
        delivery = WebhookDelivery(
            job_id=job_id,
            url=url,
            body=json.dumps(payload, ensure_ascii=False),
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
        with self._sessions.begin() as session:
            session.add(delivery)
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                due = self._due()
            except Exception:
                logger.exception("webhooks: could not read pending deliveries")
                due = []
            for delivery in due:
                if self._stop.is_set():
                    return
                try:
                    self._attempt(delivery)
                except Exception:  # a database outage must not end the sender
                    logger.exception("webhooks: delivery %s not attempted now", delivery.id)
                    self._stop.wait(2.0)
            if not due:
                self._wake.wait(0.5)
                self._wake.clear()

    def _due(self) -> list[WebhookDelivery]:
        with self._sessions() as session:
            query = (
                select(WebhookDelivery)
                .where(
                    WebhookDelivery.delivered_at.is_(None),
                    WebhookDelivery.gave_up_at.is_(None),
                    WebhookDelivery.next_attempt_at <= time.time(),
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(20)
            )
            return list(session.scalars(query))

    def _claim(self, delivery: WebhookDelivery) -> bool:
        """Make the delivery this sender's: its next attempt moves past this one's end, in
        one UPDATE that matches only while no other sender (another process of a cluster)
        has done the same. A sender that dies meanwhile leaves it due again after that."""
        with self._sessions.begin() as session:
            claimed = session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery.id,
                    WebhookDelivery.next_attempt_at == delivery.next_attempt_at,
                    WebhookDelivery.delivered_at.is_(None),
                    WebhookDelivery.gave_up_at.is_(None),
                )
                .values(next_attempt_at=time.time() + self._timeout_s + _CLAIM_MARGIN_S)
            ).rowcount  # type: ignore[attr-defined]
        return bool(claimed == 1)

    def _attempt(self, delivery: WebhookDelivery) -> None:
        if not self._claim(delivery):
            return
        error, final = self._post(delivery.url, delivery.body.encode())
        now = time.time()
        with self._sessions.begin() as session:
            row = session.get(WebhookDelivery, delivery.id)
            if row is None:
                return
            row.attempts += 1
            if error is None:
                row.delivered_at = now
                logger.info("job %s: webhook delivered to %s", row.job_id, row.url)
                return
            row.last_error = error
            if final or row.attempts >= self._attempts:
                row.gave_up_at = now
                logger.error(
                    "job %s: webhook to %s given up after %d attempts: %s",
                    row.job_id,
                    row.url,
                    row.attempts,
                    error,
                )
            else:
                row.next_attempt_at = now + 4 ** (row.attempts - 1)
                logger.warning(
                    "job %s: webhook to %s failed (attempt %d): %s",
                    row.job_id,
                    row.url,
                    row.attempts,
                    error,
                )

    def _post(self, url: str, body: bytes) -> tuple[str | None, bool]:
        """(None, _) when the receiver took it (2xx); otherwise what went wrong, and whether
        trying again is pointless."""
        if not self._secret:
            return "not sent: there is no PODALIGN_WEBHOOK_SECRET to sign it with", True
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "podalign-webhook",
            SIGNATURE_HEADER: sign(self._secret, body),
        }
        try:
            status = post(url, body, headers, self._allow_private_networks, self._timeout_s)
        except Refused as exc:
            return f"not sent: {exc}", True
        except (OSError, HTTPException, ValueError) as exc:
            return (str(exc) or type(exc).__name__)[:500], False
        if 300 <= status < 400:
            return f"HTTP {status} (redirects are not followed)", False
        return (None, False) if 200 <= status < 300 else (f"HTTP {status}", False)
