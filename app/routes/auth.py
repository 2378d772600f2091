"""Who is calling: once any API key exists (made with `podalign keys create`, or listed in
PODALIGN_API_KEYS), `/v1` and the Gentle routes need `Authorization: Bearer KEY`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.errors import ApiError
from app.keys import ANONYMOUS, Caller, caller_for
from app.service import Service, ServiceDep

_bearer = HTTPBearer(
    auto_error=False,
    description="An API key: `podalign keys create NAME` prints one (needed once any exists).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def keys_required(service: Service) -> bool:
    return bool(service.settings.api_keys) or service.keys.any_active()


def identify(service: Service, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    """The caller behind the credentials; 401 without a key, 403 with one that is not valid."""
    if credentials is None:
        raise ApiError(
            401, "unauthorized", "This service needs an API key: send 'Authorization: Bearer KEY'."
        )
    caller = caller_for(credentials.credentials.strip(), service.keys, service.settings.api_keys)
    if caller is None:
        raise ApiError(403, "forbidden", "The API key is not valid. Ask the operator for one.")
    return caller


def require_caller(service: ServiceDep, credentials: Credentials) -> Caller:
    return identify(service, credentials) if keys_required(service) else ANONYMOUS


def require_metrics_caller(service: ServiceDep, request: Request) -> None:
    """A valid key when PODALIGN_METRICS_REQUIRE_KEY is set. Read from the request, not
    declared in the schema: whether it is needed is the operator's choice."""
    if service.settings.metrics_require_key:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        given = HTTPAuthorizationCredentials(scheme=scheme, credentials=key)
        identify(service, given if scheme.lower() == "bearer" and key else None)


CallerDep = Annotated[Caller, Depends(require_caller)]
