"""Per-request observability for the API: a request id, one log line, one histogram sample.

A pure ASGI middleware (no per-request task, unlike `BaseHTTPMiddleware`). The request id
comes from the client's `X-Request-ID` when it is a sane token, else a new one; it is echoed
in the response and bound to every log line written while the request runs. Routes are
labelled by their template (`/api/v1/posts/{post_id}`), never by the raw path, so ids never
become label values; a path no route matched is `unmatched`.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any, Final

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onthedot.observability.metrics import Metrics

__all__ = ["RequestObservability"]

log = logging.getLogger("onthedot.http")

_VALID_ID: Final = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Probes and scrapes, every few seconds: logged at DEBUG so they do not drown the rest.
_QUIET: Final = frozenset({"/healthz", "/readyz", "/metrics"})
# The mounted sandbox network's traffic is the broadcaster's own publishing, a request per
# post at 08:00: DEBUG too, like the post lines themselves.
_QUIET_PREFIX: Final = "/sandbox"


def _route_of(scope: Scope, status: int) -> str:
    """The matched route's template: the path with each path parameter's value replaced by
    its name. Built from the path rather than the route object, so routes of included
    routers and of mounted apps (the sandbox) read the same way."""
    if scope.get("route") is None:
        # FastAPI serves its docs (/docs, /openapi.json) without a route object. Anything
        # else no route matched (a 404, a trailing-slash redirect) is labelled as one, so
        # raw paths never become labels.
        return str(scope.get("path", "")) if 200 <= status < 300 else "unmatched"
    path = str(scope.get("path", ""))
    params = scope.get("path_params") or {}
    by_value = {str(v): k for k, v in params.items()}
    segments = [f"{{{by_value[part]}}}" if part in by_value else part for part in path.split("/")]
    route = "/".join(segments)
    for value, name in by_value.items():
        if "/" in value:  # a `{path:path}` parameter spans segments
            route = route.replace(value, f"{{{name}}}", 1)
    return route or "/"


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = str(value.decode("latin-1"))
            if _VALID_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def _level(route: str, status: int) -> int:
    if status >= 500:
        return logging.WARNING
    if route in _QUIET or route.startswith(_QUIET_PREFIX):
        return logging.DEBUG
    return logging.INFO


class RequestObservability:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        started = time.perf_counter()
        status = 500  # what the client sees if the app raises before answering
        raw_id = request_id.encode("latin-1")

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers: list[Any] = list(message.get("headers", ()))
                headers.append((b"x-request-id", raw_id))
                message = {**message, "headers": headers}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                route = _route_of(scope, status)
                method = str(scope.get("method", ""))
                self.metrics.http_duration.labels(method, route, str(status)).observe(seconds)
                level = _level(route, status)
                if log.isEnabledFor(level):
                    log.log(
                        level,
                        "request",
                        extra={
                            "method": method,
                            "route": route,
                            "status": status,
                            "duration_ms": round(seconds * 1000, 3),
                        },
                    )
