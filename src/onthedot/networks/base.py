"""What the broadcaster asks of a network adapter, and what an adapter may answer.

An adapter publishes in two phases:

- `prepare(job)` runs ahead of the due time (the lead time is a setting): validate, refresh
  a token, upload media, create a container. Whatever it returns is handed back to `commit`.
- `commit(job, prepared, item, reply_to)` is the one small call made at the due time, once
  per thread item, each item replying to the one before.

After a crash, `find(job, item, reply_to)` says whether an item already exists on the
network (by idempotency key, record key, container status or the account's recent posts):
the published item, `None` when it provably is not there, or `CannotTell`.

Failures are told apart by type, so the broadcaster knows what to do next:
`Transient` (retry with backoff), `RateLimited` (wait for the reset, no try used up),
`Permanent` (fail with the message), `AuthRevoked` (fail and pause the channel).
Messages are shown to users as they are: they say what happened and what to do.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from onthedot.networks import Network


def utc(instant: dt.datetime) -> dt.datetime:
    """An instant in UTC; the broadcaster's times are UTC, so a naive one is read as UTC,
    never as this host's local time."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class MediaFile:
    path: Path
    content_type: str
    size: int
    filename: str

    async def read(self) -> bytes:
        """The file's bytes, read off the event loop; a file gone from disk fails the post."""
        try:
            return await asyncio.to_thread(self.path.read_bytes)
        except OSError as exc:
            raise Permanent(
                f"onthedot cannot read the media file {self.filename} "
                f"({exc.strerror or exc}); attach the file to the post again"
            ) from None


@dataclass(frozen=True, slots=True)
class Item:
    """One item of a post: a single post has one, a thread several."""

    item_id: int
    position: int
    text: str
    media: tuple[MediaFile, ...] = ()


# onthedot's clock and a network's may differ: when a post is looked for after a lost answer,
# anything made up to this long before its due time may be it, and a listing proves the
# post absent only once it reaches back past that.
CLOCK_SLACK: Final = dt.timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Account:
    """One connected account: what an adapter needs for calls that are not a publish
    (refreshing its tokens, reading a sent post's engagement)."""

    channel_id: int
    workspace_id: int
    network: Network
    handle: str
    credentials: Mapping[str, Any]

    def with_credentials(self, credentials: Mapping[str, Any]) -> Account:
        return replace(self, credentials=credentials)


@dataclass(frozen=True, slots=True)
class Job:
    """Everything an adapter needs to publish one post to one channel."""

    post_id: int
    channel_id: int
    workspace_id: int
    network: Network
    handle: str
    credentials: Mapping[str, Any]
    items: tuple[Item, ...]
    due_at: dt.datetime

    def idempotency_key(self, item: Item) -> str:
        """Stable across retries and broadcasters, distinct per post, channel and item."""
        seed = f"onthedot:{self.post_id}:{self.channel_id}:{item.position}"
        return hashlib.sha256(seed.encode()).hexdigest()[:32]

    @property
    def search_from(self) -> dt.datetime:
        """Where a search for this post after a lost answer starts (see `CLOCK_SLACK`)."""
        return utc(self.due_at) - CLOCK_SLACK

    @property
    def account(self) -> Account:
        return Account(
            channel_id=self.channel_id,
            workspace_id=self.workspace_id,
            network=self.network,
            handle=self.handle,
            credentials=self.credentials,
        )


@dataclass(frozen=True, slots=True)
class RateInfo:
    """What a network's rate-limit headers said: calls left, and when the window resets."""

    remaining: int | None = None
    reset_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Published:
    network_id: str
    url: str | None = None
    status: int | None = None
    rate: RateInfo | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """How many publish calls may be in flight at once, per network and per account."""

    network_in_flight: int = 500
    account_in_flight: int = 1


@dataclass(slots=True)
class NetworkError(Exception):
    message: str
    status: int | None = None
    code: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(slots=True)
class Transient(NetworkError):
    """Timeouts, connection errors, 5xx: worth another try.

    `maybe_sent` is true when the request may have reached the network (a timeout after
    sending, a 5xx): unless the network deduplicates by idempotency key, the post must be
    looked for before it is tried again.
    """

    maybe_sent: bool = True


@dataclass(slots=True)
class RateLimited(NetworkError):
    """The network asked to wait until `reset_at`; the post was not published."""

    reset_at: dt.datetime | None = None
    # "account" when only this account must wait, "network" when every account must.
    scope: str = "account"


@dataclass(slots=True)
class Permanent(NetworkError):
    """The network refused the post for good (content rejected, media invalid, …)."""


@dataclass(slots=True)
class AuthRevoked(Permanent):
    """The account's access is gone; the channel must be reconnected."""


@dataclass(slots=True)
class Unsupported(Permanent):
    """The network offers no way to do this (read clicks, say)."""


@dataclass(slots=True)
class CannotTell(NetworkError):
    """The network cannot say whether a post exists."""


@dataclass(frozen=True, slots=True)
class Engagement:
    """What a sent post has earned so far; None where the network does not tell."""

    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    clicks: int | None = None
    impressions: int | None = None


@dataclass(slots=True)
class Prepared:
    """What `prepare` did ahead of time, handed back to `commit` (per item position)."""

    items: dict[int, Any] = field(default_factory=dict)


class Adapter(ABC):
    network: Network
    # True when the network deduplicates retries by the idempotency key: a try that may
    # have reached it can be repeated safely without looking first.
    idempotent: bool = False
    limits: Limits = Limits()

    async def prepare(self, job: Job) -> Prepared:
        return Prepared()

    @abstractmethod
    async def commit(
        self, job: Job, prepared: Prepared, item: Item, reply_to: Published | None
    ) -> Published: ...

    @abstractmethod
    async def find(self, job: Job, item: Item, reply_to: Published | None) -> Published | None: ...

    async def refresh(self, account: Account) -> dict[str, Any]:
        """New credentials for `account`, its old ones exchanged or refreshed.

        Raises `AuthRevoked` when the network will not refresh them (the user must connect
        the account again) and `Transient` when it could not be asked: a transient error never
        disconnects a channel.
        """
        raise Unsupported(f"{self.network.value} credentials do not expire")

    async def engagement(self, account: Account, network_id: str) -> Engagement:
        """Likes, reposts, replies (and clicks where offered) of one published item."""
        raise Unsupported(f"{self.network.value} does not report engagement")

    async def aclose(self) -> None:
        return None
