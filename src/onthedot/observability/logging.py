"""Logging: structlog renders every line, JSON (one object per line) or console, on stdout.

The code logs through the standard library (`logging.getLogger(__name__)`, with fields in
`extra=`) or through structlog; both end in one handler whose `ProcessorFormatter` adds the
time, level, logger name and context variables (the request id), removes credentials, and
renders. `configure_logging` is called once by the entry points (`onthedot run`,
`onthedot broadcaster`); libraries and tests that never call it keep the stdlib defaults.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import IO, Any, Final

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from onthedot.config import Settings

__all__ = ["REDACTED", "configure_logging", "redact"]

REDACTED: Final = "[redacted]"

# Keys whose values are never logged, whatever they hold (compared lower-cased).
SECRET_KEYS: Final = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "password",
        "app_password",
        "passwd",
        "secret",
        "client_secret",
        "secret_key",
        "api_key",
        "authorization",
        "proxy-authorization",
        "credentials",
        "cookie",
        "set-cookie",
        "x-api-key",
    }
)
SECRET_SUFFIXES: Final = ("_token", "_password", "_secret")
# Secrets inside free text: bearer tokens, key=value pairs in URLs and messages, and
# onthedot's own API tokens.
_BEARER: Final = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_PAIR: Final = re.compile(
    r"(?i)\b((?:access_|refresh_|id_)?token|app_password|password|secret|client_secret|api_key)"
    r"(\"?\s*[=:]\s*\"?)([^\s&\"',;]+)"
)
_API_TOKEN: Final = re.compile(r"\bodt_[A-Za-z0-9_-]{8,}")
# One cheap search first: most values (ids, states, times) contain none of these words.
_SUSPECT: Final = re.compile(r"(?i)bearer|basic|token|passw|secret|api_key|odt_")
_PLAIN: Final = (int, float, bool, type(None))


@functools.lru_cache(maxsize=1024)
def _secret_key(key: str) -> bool:
    name = key.lower()
    return name in SECRET_KEYS or name.endswith(SECRET_SUFFIXES)


def _clean_text(text: str) -> str:
    if _SUSPECT.search(text) is None:
        return text
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _API_TOKEN.sub(REDACTED, text)


def _clean(value: Any, depth: int = 0) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, str):
        return _clean_text(value)
    if depth > 6:
        return value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if _secret_key(str(k)) else _clean(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        if len(value) == 2 and isinstance(value[0], str) and _secret_key(value[0]):
            return [value[0], REDACTED]  # a (name, value) pair, as headers come
        return [_clean(v, depth + 1) for v in value]
    return value


def redact(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """Remove credentials from every event: by key, and from the text of every value."""
    for key, value in list(event.items()):
        if key.startswith("_"):
            continue  # structlog's own bookkeeping (the record, the original event)
        event[key] = REDACTED if _secret_key(key) else _clean(value)
    return event


def _drop_color_message(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """uvicorn passes its message again with terminal colours, as an extra field."""
    event.pop("color_message", None)
    return event


def _json(event: MutableMapping[str, Any], **_kw: Any) -> str:
    return orjson.dumps(event, default=str).decode()


def _processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_logging(settings: Settings, *, stream: IO[str] | None = None) -> None:
    """Route the standard library's and structlog's logs through one structlog formatter."""
    renderer: Processor
    if settings.log_format == "json":
        renderer = structlog.processors.JSONRenderer(serializer=_json)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_processors(), structlog.stdlib.ExtraAdder(), _drop_color_message],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks as text before redaction: an exception's message may hold a secret.
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # Servers and clients with handlers of their own log through ours instead.
    # Their levels too: an earlier server in this process (uvicorn sets its loggers' levels
    # from its own log_level) must not silence ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiohttp.access"):
        server_log = logging.getLogger(name)
        server_log.handlers.clear()
        server_log.propagate = True
        server_log.setLevel(logging.NOTSET)
        server_log.disabled = False
    # One line per request from the HTTP client would drown the broadcaster's own lines.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_processors(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
