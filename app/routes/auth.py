"""Optional API keys: with `PODALIGN_API_KEYS` set, `/v1` and the Gentle routes need one."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header

from app.errors import ApiError
from app.service import ServiceDep


def require_key(service: ServiceDep, authorization: Annotated[str | None, Header()] = None) -> None:
    keys = service.settings.api_keys
    if not keys:
        return
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(
            401, "unauthorized", "This service needs an API key: send 'Authorization: Bearer KEY'."
        )
    given = authorization[7:].strip().encode()
    if not any(hmac.compare_digest(given, key.encode()) for key in keys):
        raise ApiError(403, "forbidden", "The API key is not valid. Ask the operator for one.")


Authorized = Depends(require_key)
Key = Annotated[None, Authorized]
