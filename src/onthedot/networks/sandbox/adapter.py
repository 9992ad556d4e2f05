"""The adapter for onthedot's sandbox network (`onthedot.sandbox`).

It is written like the adapters for real networks, and it is the reference for them: every
answer the sandbox can give maps to exactly one of the broadcaster's outcomes, and every
message says what happened and, where there is something to do, what.

How a post is found again after a lost answer depends on the sandbox's idempotency mode, which
the adapter is told at construction (`idempotent`) or, by default, asks the sandbox for before
its first post: by idempotency key, or by paging through the account's recent posts. A
sandbox that can do neither answers 501, and the adapter says it cannot tell.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote

import aiohttp
import httpx
import orjson

from onthedot.clock import Clock, SystemClock
from onthedot.networks import Network
from onthedot.networks.base import (
    Adapter,
    AuthRevoked,
    CannotTell,
    Item,
    Job,
    Limits,
    NetworkError,
    Permanent,
    Prepared,
    Published,
    RateInfo,
    RateLimited,
    Transient,
    utc,
)

__all__ = ["SandboxAdapter"]

FIND_PAGES: Final = 5
FIND_PAGE_SIZE: Final = 100

# Failures that happen before the whole request has gone out: the sandbox cannot have acted.
_NOT_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.WriteTimeout,
    httpx.WriteError,
    httpx.PoolTimeout,
)
_MAYBE_PUBLISHED: Final = (
    "the post may have been published, so onthedot checks before it tries again"
)


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return utc(dt.datetime.fromisoformat(value))
    except ValueError:
        return None


class _Answer:
    """An aiohttp answer with what the adapter reads of an httpx.Response. Building a real
    httpx.Response per call (headers copied, a byte stream read) was about a tenth of a
    broadcaster's CPU during a spike (py-spy, 10,000 posts)."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers  # aiohttp's, case-insensitive like httpx's
        self.content = content

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def reason_phrase(self) -> str:
        return httpx.codes.get_reason_phrase(self.status_code)


# What a call answers: an httpx.Response (a handed-in client) or an aiohttp `_Answer`.
Answer = httpx.Response | _Answer


def _body(response: Answer) -> dict[str, Any]:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _reason(exc: Exception) -> str:
    detail = str(exc)
    name = type(exc).__name__
    return f"{name}: {detail}" if detail else name


class SandboxAdapter(Adapter):
    network = Network.SANDBOX
    limits = Limits(network_in_flight=1000, account_in_flight=1)

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient | None = None,
        idempotent: bool | None = None,
        timeout_s: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # True when the sandbox runs in "key" mode: retries are deduplicated and a post is
        # found by its key. False for "none" (find by paging) and "blind" (cannot find).
        # None until the sandbox's configuration was read (see `_learn_mode`).
        self._mode_known = idempotent is not None
        self._mode_lock = asyncio.Lock()
        self.idempotent = True if idempotent is None else idempotent
        self._timeout_s = timeout_s
        self._timeout = httpx.Timeout(timeout_s)
        self._clock: Clock = clock or SystemClock()
        # A handed-in httpx client (tests, over ASGI) is used as it is. Otherwise calls go
        # through one aiohttp session: at 08:00 it costs a fifth of httpx's CPU per request
        # (measured: 0.16 ms against 0.82 ms), and the broadcaster is CPU-bound there.
        self._client = client
        self._session: aiohttp.ClientSession | None = None

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.limits.network_in_flight,
                limit_per_host=self.limits.network_in_flight,
                keepalive_timeout=30,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self._timeout_s),
                auto_decompress=False,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- the protocol -----------------------------------------------------------------------

    async def prepare(self, job: Job) -> Prepared:
        """Upload every item's media ahead of time, so the due-time call is one small post."""
        account = self._account(job)
        await self._learn_mode(account)
        return Prepared(items={i.position: await self._upload(job, account, i) for i in job.items})

    async def commit(
        self, job: Job, prepared: Prepared, item: Item, reply_to: Published | None
    ) -> Published:
        account = self._account(job)
        await self._learn_mode(account)
        uploaded = prepared.items.get(item.position)
        media_ids = (
            list(uploaded) if uploaded is not None else await self._upload(job, account, item)
        )
        response = await self._post(job, account, item, reply_to, media_ids)
        if (
            response.status_code == 422
            and _body(response).get("error") == "unknown_media"
            and uploaded is not None
        ):
            # The sandbox forgot the media uploaded at preparation (it was reset or restarted);
            # a 422 created nothing, so upload again and post once more.
            media_ids = await self._upload(job, account, item)
            response = await self._post(job, account, item, reply_to, media_ids)
        if not response.is_success:
            raise self._refusal(
                response, account, "the post", "publishing the post", publishing=True
            )
        data = _body(response)
        published = self._published(data, response)
        if published is None:
            raise Transient(
                f"the sandbox answered {response.status_code} without a post id; "
                + _MAYBE_PUBLISHED,
                status=response.status_code,
                maybe_sent=True,
            )
        return published

    async def find(self, job: Job, item: Item, reply_to: Published | None) -> Published | None:
        account = self._account(job)
        await self._learn_mode(account)
        if self.idempotent:
            response = await self._lookup(
                job, account, {"idempotency_key": job.idempotency_key(item)}
            )
            posts = _body(response).get("posts")
            if isinstance(posts, list) and posts and isinstance(posts[0], dict):
                return self._published(posts[0], response)
            return None
        return await self._find_recent(job, account, item, reply_to)

    # --- the calls --------------------------------------------------------------------------

    async def _learn_mode(self, account: str) -> None:
        """Ask the sandbox once whether it deduplicates by idempotency key.

        The broadcaster relies on it: after a try that may have gone out, a deduplicating
        network is simply tried again with the same key, any other is looked at first.
        """
        if self._mode_known:
            return
        # One question for every lane starting at 08:00, not one each.
        async with self._mode_lock:
            if self._mode_known:
                return
            response = await self._send(
                "GET", f"{self.base_url}/api/v1/config", account, publishing=False
            )
            if not response.is_success:
                raise Transient(
                    f"the sandbox did not say how it deduplicates posts ({response.status_code}); "
                    "onthedot tries again",
                    status=response.status_code,
                    maybe_sent=False,
                )
            self.idempotent = _body(response).get("idempotency") == "key"
            self._mode_known = True

    def _account(self, job: Job) -> str:
        # "@alice" and "@alice@sandbox.example" are both the sandbox account "alice".
        account = job.handle.strip().removeprefix("@").partition("@")[0]
        if not account:
            raise Permanent(
                f"the channel's handle {job.handle!r} names no sandbox account; "
                "set the channel's handle, for example @alice"
            )
        return account

    def _url(self, account: str, what: str) -> str:
        return f"{self.base_url}/api/v1/accounts/{quote(account, safe='')}/{what}"

    def _auth(self, job: Job) -> dict[str, str]:
        return {"Authorization": f"Bearer {job.credentials.get('token', 'sandbox')}"}

    async def _send(
        self, method: str, url: str, account: str, *, publishing: bool, **kwargs: Any
    ) -> Answer:
        """One call, with transport failures turned into the broadcaster's outcomes.
        `publishing` says whether the call could publish a post."""
        then = _MAYBE_PUBLISHED if publishing else "onthedot tries again"
        try:
            if self._client is not None:
                return await self._client.request(method, url, timeout=self._timeout, **kwargs)
            if not url.startswith(("http://", "https://")):
                raise httpx.UnsupportedProtocol(url)
            return await self._request_aiohttp(method, url, **kwargs)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL):
            raise Permanent(
                f"the sandbox address {self.base_url!r} is not an http(s) URL; "
                "fix the sandbox address in onthedot's settings"
            ) from None
        except (*_NOT_SENT, aiohttp.ClientConnectorError) as exc:
            raise Transient(
                f"onthedot could not reach the sandbox at {self.base_url} ({_reason(exc)}); "
                "nothing was sent. onthedot tries again; if this goes on, check that the "
                "sandbox is running",
                maybe_sent=False,
            ) from None
        except (httpx.TimeoutException, TimeoutError):
            raise Transient(
                f"the sandbox did not answer within {self._timeout_s:g} s; {then}",
                maybe_sent=publishing,
            ) from None
        except (httpx.TransportError, aiohttp.ClientError, OSError) as exc:
            raise Transient(
                f"the connection to the sandbox broke before it answered ({_reason(exc)}); {then}",
                maybe_sent=publishing,
            ) from None

    async def _request_aiohttp(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> _Answer:
        """The call over aiohttp."""
        async with self._session_now().request(
            method, url, data=content, params=params, headers=headers
        ) as answer:
            return _Answer(answer.status, answer.headers, await answer.read())

    async def _upload(self, job: Job, account: str, item: Item) -> list[str]:
        ids: list[str] = []
        for media in item.media:
            data = await media.read()
            # An upload publishes nothing: failing or repeating one is always safe.
            response = await self._send(
                "POST",
                self._url(account, "media"),
                account,
                publishing=False,
                content=data,
                headers={**self._auth(job), "Content-Type": media.content_type},
            )
            media_id = _body(response).get("id") if response.is_success else None
            if not isinstance(media_id, str):
                if response.is_success:
                    raise Transient(
                        f"the sandbox accepted {media.filename} but gave no media id; "
                        "onthedot uploads it again",
                        status=response.status_code,
                        maybe_sent=False,
                    )
                raise self._refusal(
                    response,
                    account,
                    f"the media file {media.filename}",
                    f"uploading {media.filename}",
                    publishing=False,
                )
            ids.append(media_id)
        return ids

    async def _post(
        self,
        job: Job,
        account: str,
        item: Item,
        reply_to: Published | None,
        media_ids: list[str],
    ) -> Answer:
        body = {
            "text": item.text,
            "reply_to": reply_to.network_id if reply_to is not None else None,
            "media_ids": media_ids,
            "due_at": utc(job.due_at).isoformat(),
        }
        headers = {
            **self._auth(job),
            "Content-Type": "application/json",
            "Idempotency-Key": job.idempotency_key(item),
            "X-Onthedot-Ref": f"{job.post_id}/{item.position}",
        }
        return await self._send(
            "POST",
            self._url(account, "posts"),
            account,
            publishing=True,
            content=orjson.dumps(body),
            headers=headers,
        )

    async def _lookup(self, job: Job, account: str, params: Mapping[str, Any]) -> Answer:
        response = await self._send(
            "GET",
            self._url(account, "posts"),
            account,
            publishing=False,
            params=dict(params),
            headers=self._auth(job),
        )
        if response.status_code == 501:
            raise CannotTell(
                f"the sandbox cannot say whether @{account}'s post was published (it keeps no "
                f"lookup of posts); check @{account}'s timeline and publish the post again by "
                "hand if it is missing",
                status=501,
                code=str(_body(response).get("error") or "") or None,
            )
        if not response.is_success:
            raise self._refusal(
                response, account, "the lookup", "looking for the post", publishing=False
            )
        return response

    async def _find_recent(
        self, job: Job, account: str, item: Item, reply_to: Published | None
    ) -> Published | None:
        """Page back through the account's posts until the post turns up, or the pages reach
        back before it could have been made (then it provably is not there)."""
        parent = reply_to.network_id if reply_to is not None else None
        earliest = job.search_from
        before: str | None = None
        for _ in range(FIND_PAGES):
            params: dict[str, Any] = {"limit": FIND_PAGE_SIZE}
            if before is not None:
                params["before"] = before
            response = await self._lookup(job, account, params)
            posts = [p for p in _body(response).get("posts") or [] if isinstance(p, dict)]
            for post in posts:
                created = _parse_time(post.get("created_at"))
                if (
                    post.get("text") == item.text
                    and post.get("reply_to") == parent
                    and (created is None or created >= earliest)
                ):
                    return self._published(post, response)
            if len(posts) < FIND_PAGE_SIZE:
                return None  # the account has no older posts
            oldest = _parse_time(posts[-1].get("created_at"))
            if oldest is not None and oldest < earliest:
                return None
            last_id = posts[-1].get("id")
            if not isinstance(last_id, str):
                break
            before = last_id
        raise CannotTell(
            f"onthedot looked through @{account}'s {FIND_PAGES * FIND_PAGE_SIZE} most recent "
            "posts on the sandbox without finding this one or reaching back to its due time, "
            f"so it cannot tell whether it was published; check @{account}'s timeline and "
            "publish the post again by hand if it is missing"
        )

    # --- answers ----------------------------------------------------------------------------

    def _published(self, data: Mapping[str, Any], response: Answer) -> Published | None:
        post_id = data.get("id")
        if not isinstance(post_id, str) or not post_id:
            return None
        url = data.get("url")
        return Published(
            network_id=post_id,
            url=url if isinstance(url, str) else None,
            status=response.status_code,
            rate=self._rate(response),
        )

    def _rate(self, response: Answer) -> RateInfo | None:
        remaining = response.headers.get("ratelimit-remaining")
        reset = response.headers.get("ratelimit-reset")
        if remaining is None and reset is None:
            return None
        try:
            left = int(remaining) if remaining is not None else None
        except ValueError:
            left = None
        return RateInfo(remaining=left, reset_at=self._after_seconds(reset))

    def _after_seconds(self, value: str | None) -> dt.datetime | None:
        try:
            seconds = float(value) if value is not None else None
        except ValueError:
            seconds = None
        if seconds is None or not 0 <= seconds < 10**9:
            return None
        return self._clock.now() + dt.timedelta(seconds=seconds)

    def _reset_at(self, response: Answer) -> dt.datetime | None:
        """When a 429 ends: Retry-After (seconds or an HTTP date), else RateLimit-Reset."""
        retry_after = response.headers.get("retry-after")
        if retry_after is not None:
            at = self._after_seconds(retry_after)
            if at is not None:
                return at
            try:
                return utc(email.utils.parsedate_to_datetime(retry_after))
            except (TypeError, ValueError):
                pass
        return self._after_seconds(response.headers.get("ratelimit-reset"))

    def _refusal(
        self,
        response: Answer,
        account: str,
        subject: str,
        action: str,
        *,
        publishing: bool,
    ) -> NetworkError:
        """The outcome of a non-2xx answer about `subject` ("the post"), sent while onthedot
        was doing `action` ("publishing the post")."""
        status = response.status_code
        body = _body(response)
        code = body.get("error") if isinstance(body.get("error"), str) else None
        said = body.get("message")
        message = said if isinstance(said, str) and said else f"{status} {response.reason_phrase}"
        if status == 429:
            reset_at = self._reset_at(response)
            wait = f"until {reset_at:%H:%M:%S} UTC" if reset_at is not None else "a moment"
            return RateLimited(
                f"the sandbox is rate-limiting @{account}; onthedot waits {wait} and tries again",
                status=status,
                code=code,
                reset_at=reset_at,
                scope="account",
            )
        if status == 401:
            return AuthRevoked(
                f"the sandbox revoked onthedot's access to @{account}: reconnect the channel",
                status=status,
                code=code,
            )
        if 400 <= status < 500:
            return Permanent(f"the sandbox refused {subject}: {message}", status=status, code=code)
        if status >= 500:
            then = _MAYBE_PUBLISHED if publishing else "onthedot tries again"
            return Transient(
                f"the sandbox failed with {status} {response.reason_phrase} while onthedot "
                f"was {action}; {then}",
                status=status,
                code=code,
                maybe_sent=publishing,
            )
        return Permanent(
            f"the sandbox at {self.base_url} answered {status} {response.reason_phrase}, which "
            "is not an answer of the sandbox's API; check the sandbox address in onthedot's "
            "settings",
            status=status,
            code=code,
        )
