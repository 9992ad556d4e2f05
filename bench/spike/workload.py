"""The posts of a spike and the one request that publishes a post.

Every contender publishes the same posts (post k on account k mod M, one text each) by the
same request onthedot's sandbox adapter makes: `POST /api/v1/accounts/{a}/posts` with a JSON
body (text, reply_to, media_ids, due_at), a bearer token, an `Idempotency-Key` and an
`X-Onthedot-Ref` header so the sandbox can attribute arrivals. The peers get the posts as a
JSON-lines file written here.

Three network kinds: the sandbox is one network, so the M channels are split in turn into
three groups of accounts (`k1a…`, `k2a…`, `k3a…`) on one sandbox process, standing for three
networks. onthedot sees all of them as the sandbox network (one adapter, one per-network
in-flight cap), which is how every peer sees them too.
"""

from __future__ import annotations

import datetime as dt
import http.client
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

KINDS = 3


def account(n: int) -> str:
    """Channel n's sandbox account: kind (n mod 3) + 1, so the three kinds interleave."""
    return f"k{n % KINDS + 1}a{n}"


def handle(n: int) -> str:
    return f"@{account(n)}"


@dataclass(frozen=True, slots=True)
class Planned:
    k: int
    account: str
    text: str
    ref: str
    key: str
    due_at: dt.datetime

    def row(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "account": self.account,
            "text": self.text,
            "ref": self.ref,
            "key": self.key,
            "due_at": self.due_at.isoformat(),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Planned:
        return cls(
            k=int(row["k"]),
            account=str(row["account"]),
            text=str(row["text"]),
            ref=str(row["ref"]),
            key=str(row["key"]),
            due_at=dt.datetime.fromisoformat(str(row["due_at"])),
        )

    def body(self) -> bytes:
        return orjson.dumps(
            {
                "text": self.text,
                "reply_to": None,
                "media_ids": [],
                "due_at": self.due_at.isoformat(),
            }
        )

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": "Bearer sandbox",
            "Content-Type": "application/json",
            "Idempotency-Key": self.key,
            "X-Onthedot-Ref": self.ref,
        }

    def path(self) -> str:
        return f"/api/v1/accounts/{quote(self.account, safe='')}/posts"


def plan(*, posts: int, channels: int, due_at: dt.datetime, tag: str) -> list[Planned]:
    """The peers' posts: as onthedot's seed makes them (post k on channel k mod M)."""
    return [
        Planned(
            k=k,
            account=account(k % channels),
            text=f"spike {tag} post {k}",
            ref=f"{tag}-{k}/0",
            key=f"{tag}-{k}-0",
            due_at=due_at,
        )
        for k in range(posts)
    ]


def write(path: Path, posts: list[Planned]) -> None:
    path.write_bytes(
        b"".join(orjson.dumps(p.row(), option=orjson.OPT_APPEND_NEWLINE) for p in posts)
    )


def read(path: Path) -> Iterator[Planned]:
    with path.open("rb") as file:
        for line in file:
            if line.strip():
                yield Planned.from_row(orjson.loads(line))


class AsyncPublisher:
    """The request over one aiohttp session, as the sandbox adapter makes it in production,
    with at most `in_flight` connections."""

    def __init__(self, base_url: str, in_flight: int) -> None:
        import aiohttp

        self.base_url = base_url.rstrip("/")
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=in_flight, limit_per_host=in_flight, keepalive_timeout=30
            ),
            timeout=aiohttp.ClientTimeout(total=30),
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
        )
        self._errors = (aiohttp.ClientError, OSError, TimeoutError)

    async def publish(self, post: Planned) -> int:
        """The answer's status; 0 when the call failed (the post may be lost)."""
        try:
            async with self._session.post(
                self.base_url + post.path(), data=post.body(), headers=post.headers()
            ) as answer:
                await answer.read()
                return answer.status
        except self._errors:
            return 0

    async def aclose(self) -> None:
        await self._session.close()


class SyncPublisher:
    """The same request for a peer whose tasks are synchronous (Celery's green threads):
    http.client with one kept-alive connection per (green) thread."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._local = threading.local()

    def publish(self, post: Planned) -> int:
        for _ in range(2):  # once more on a connection the server closed meanwhile
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(
                    self._host, self._port, timeout=30
                )
            try:
                conn.request("POST", post.path(), body=post.body(), headers=post.headers())
                answer = conn.getresponse()
                answer.read()
                return answer.status
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                self._local.conn = None
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                return 0
        return 0
