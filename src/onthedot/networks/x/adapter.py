"""The X adapter: posts, threads, images and video through the X API v2.

- prepare: renews the token if it is about to expire, uploads every item's media and waits
  out video processing (`media.py`), so the due-time call is one small `POST /2/tweets`.
- commit: `POST /2/tweets` {text, media.media_ids, reply.in_reply_to_tweet_id}
  (docs.x.com/x-api/posts/creation-of-a-post). X takes no idempotency key, so the adapter is
  not idempotent: a try that may have gone out is looked for before the next one.
- find: pages through the account's own posts since just before the due time
  (`GET /2/users/:id/tweets` with `start_time`, docs.x.com/x-api/posts/timelines) for one
  with the same text replying to the same post. X shows texts with links wrapped in t.co,
  &, < and > escaped and a media link appended, so texts are compared with their links
  masked. The pages end before the due time, so not finding it there proves it is absent.
- A 403 "duplicate content" on commit means the same text is already on the account: when
  it is there since the due time, replying where this one would, it is this post (an earlier
  try that went out unheard) and counts as sent; otherwise the post fails with X's reason.
- A 401 is answered by renewing the token once (through `TokenKeeper`, because X's refresh
  tokens are single-use) and trying again; a second 401 means the access was revoked.
- engagement: `GET /2/tweets/:id?tweet.fields=public_metrics`.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Mapping
from functools import partial
from typing import Any, Final

import httpx

from onthedot.clock import Clock
from onthedot.networks import Network
from onthedot.networks._links import url_spans
from onthedot.networks.base import (
    Account,
    Adapter,
    AuthRevoked,
    CannotTell,
    Engagement,
    Item,
    Job,
    Limits,
    Permanent,
    Prepared,
    Published,
    Transient,
)
from onthedot.networks.credentials import CredentialStore, TokenKeeper
from onthedot.networks.http import HttpClient, json_body
from onthedot.networks.x.client import DUPLICATE_DETAIL, XClient, problem_detail, rate_info
from onthedot.networks.x.media import Uploader
from onthedot.networks.x.oauth import OAuthClient

__all__ = ["XAdapter"]

FIND_PAGES: Final = 5
FIND_PAGE_SIZE: Final = 100
_LINK: Final = "\x00"


def comparable(text: str) -> str:
    """A text as both onthedot and X's read endpoints would agree on it: unescaped, links
    masked (X shows t.co links), trailing links dropped (X appends one for media)."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    for start, end in reversed(url_spans(text)):
        text = text[:start] + _LINK + text[end:]
    text = text.strip()
    while text.endswith(_LINK):
        text = text.removesuffix(_LINK).rstrip()
    return text


def _replied_to(tweet: dict[str, Any]) -> str | None:
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to":
            ref_id = ref.get("id")
            return ref_id if isinstance(ref_id, str) else None
    return None


class XAdapter(Adapter):
    network = Network.X
    idempotent = False
    # One call at a time per account keeps a thread in order and spares X's per-user window
    # (POST /2/tweets is limited per user per 15 minutes); X limits the app as a whole by
    # the day, not by concurrency.
    limits = Limits(network_in_flight=200, account_in_flight=1)

    def __init__(
        self,
        *,
        http: HttpClient,
        clock: Clock,
        store: CredentialStore,
        base_url: str,
        oauth: OAuthClient | None,
    ) -> None:
        self._client = XClient(http, base_url=base_url, clock=clock)
        self._clock = clock
        self._oauth = oauth
        self._keeper = TokenKeeper(store, clock=clock, refresh=self.refresh)
        self._uploader = Uploader(self._client, clock)

    # --- credentials ------------------------------------------------------------------------

    async def refresh(self, account: Account) -> dict[str, Any]:
        refresh_token = account.credentials.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise AuthRevoked(
                f"onthedot's access to {account.handle} on X has expired and cannot be renewed "
                "(it was granted without offline access): reconnect the channel"
            )
        if self._oauth is None:
            raise Permanent(
                "renewing X access needs ONTHEDOT_X_CLIENT_ID: whoever runs onthedot must set "
                "it (see docs/networks/x.md)"
            )
        return await self._oauth.token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            now=self._clock.now(),
            keep=account.credentials,
            handle=account.handle,
        )

    async def _call(
        self, account: Account, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        """A call with the account's current token; on 401, once more with a renewed one."""
        credentials = await self._keeper.current(account)
        response = await self._client.call(
            method, path, token=_token(account, credentials), **kwargs
        )
        if response.status_code == 401:
            # X refused the token, so nothing was done: renewing and repeating is safe.
            credentials = await self._keeper.refreshed(account, stale=credentials)
            response = await self._client.call(
                method, path, token=_token(account, credentials), **kwargs
            )
        return response

    # --- the protocol -----------------------------------------------------------------------

    async def prepare(self, job: Job) -> Prepared:
        account = job.account
        await self._keeper.current(account)
        call = partial(self._call, account)
        items: dict[int, Any] = {}
        for item in job.items:
            items[item.position] = [
                await self._uploader.upload(call, job.handle, media) for media in item.media
            ]
        return Prepared(items=items)

    async def commit(
        self, job: Job, prepared: Prepared, item: Item, reply_to: Published | None
    ) -> Published:
        account = job.account
        uploaded = prepared.items.get(item.position)
        media_ids = list(uploaded) if uploaded is not None else await self._upload(job, item)
        response = await self._post(account, item, reply_to, media_ids)
        if response.status_code == 400 and media_ids and uploaded is not None:
            said = (problem_detail(json_body(response)) or "").lower()
            if "media" in said:
                # The media uploaded at preparation expired or was dropped by X; a 400 posted
                # nothing, so upload again and post once more.
                media_ids = await self._upload(job, item)
                response = await self._post(account, item, reply_to, media_ids)
        if response.status_code == 403:
            said = problem_detail(json_body(response)) or ""
            if DUPLICATE_DETAIL in said.lower():
                found = await self.find(job, item, reply_to)
                if found is not None:
                    return found
                raise Permanent(
                    f"X refused the post: {job.handle} posted the same text recently, and X "
                    "does not allow a duplicate. Change the text and schedule it again",
                    status=403,
                    code="duplicate",
                )
        if not response.is_success:
            raise self._client.refusal(response, job.handle, subject="the post", publishing=True)
        data = json_body(response).get("data")
        post_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(post_id, str) or not post_id:
            raise Transient(
                f"X answered {response.status_code} without the post's id; the post may have "
                "been published, so onthedot checks before it tries again",
                status=response.status_code,
                maybe_sent=True,
            )
        return self._published(job.handle, post_id, response)

    async def find(self, job: Job, item: Item, reply_to: Published | None) -> Published | None:
        account = job.account
        user_id = await self._user_id(account)
        target = comparable(item.text)
        parent = reply_to.network_id if reply_to is not None else None
        earliest = job.search_from
        params: dict[str, Any] = {
            "start_time": earliest.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_results": FIND_PAGE_SIZE,
            "exclude": "retweets",
            "tweet.fields": "created_at,referenced_tweets,note_tweet",
        }
        for _ in range(FIND_PAGES):
            response = await self._call(account, "GET", f"/2/users/{user_id}/tweets", params=params)
            if not response.is_success:
                raise self._client.refusal(
                    response, job.handle, subject="the look for the post", publishing=False
                )
            body = json_body(response)
            for tweet in body.get("data") or []:
                if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str):
                    continue
                note = tweet.get("note_tweet")
                text = note.get("text") if isinstance(note, dict) else tweet.get("text")
                if (
                    isinstance(text, str)
                    and comparable(text) == target
                    and _replied_to(tweet) == parent
                ):
                    return self._published(job.handle, tweet["id"], response)
            meta = body.get("meta")
            next_token = meta.get("next_token") if isinstance(meta, dict) else None
            if not isinstance(next_token, str):
                return None  # every post since before the due time was seen
            params["pagination_token"] = next_token
        raise CannotTell(
            f"{job.handle} posted more than {FIND_PAGES * FIND_PAGE_SIZE} times on X since "
            "this post was due, and onthedot did not find it among them, so it cannot tell "
            f"whether it was published; check {job.handle} on x.com and publish it again by "
            "hand if it is missing"
        )

    async def engagement(self, account: Account, network_id: str) -> Engagement:
        response = await self._call(
            account, "GET", f"/2/tweets/{network_id}", params={"tweet.fields": "public_metrics"}
        )
        if not response.is_success:
            raise self._client.refusal(
                response, account.handle, subject="the post's figures", publishing=False
            )
        body = json_body(response)
        data = body.get("data")
        if not isinstance(data, dict):
            said = problem_detail(body) or "X did not return it"
            raise Permanent(f"X no longer shows this post ({said}); it was probably deleted")
        metrics = data.get("public_metrics")
        m: dict[str, Any] = metrics if isinstance(metrics, dict) else {}

        def count(key: str) -> int | None:
            value = m.get(key)
            return value if isinstance(value, int) else None

        # Link clicks are a non-public metric X gives only for 30 days; not read here.
        return Engagement(
            likes=count("like_count"),
            reposts=count("retweet_count"),
            replies=count("reply_count"),
            quotes=count("quote_count"),
            impressions=count("impression_count"),
        )

    # --- helpers ----------------------------------------------------------------------------

    async def _upload(self, job: Job, item: Item) -> list[str]:
        call = partial(self._call, job.account)
        return [await self._uploader.upload(call, job.handle, media) for media in item.media]

    async def _post(
        self, account: Account, item: Item, reply_to: Published | None, media_ids: list[str]
    ) -> httpx.Response:
        body: dict[str, Any] = {}
        if item.text:
            body["text"] = item.text
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if reply_to is not None:
            body["reply"] = {"in_reply_to_tweet_id": reply_to.network_id}
        return await self._call(account, "POST", "/2/tweets", publishing=True, json=body)

    async def _user_id(self, account: Account) -> str:
        """The account's X id, kept in its credentials since it was connected."""
        user_id = account.credentials.get("user_id")
        if isinstance(user_id, str) and user_id:
            return user_id
        response = await self._call(account, "GET", "/2/users/me")
        if not response.is_success:
            raise self._client.refusal(
                response, account.handle, subject="the account", publishing=False
            )
        data = json_body(response).get("data")
        found = data.get("id") if isinstance(data, dict) else None
        if not isinstance(found, str):
            raise Transient("X did not say which account this is; onthedot tries again")
        return found

    def _published(self, handle: str, post_id: str, response: httpx.Response) -> Published:
        name = handle.strip().removeprefix("@")
        url = f"https://x.com/{name or 'i/web'}/status/{post_id}"
        return Published(
            network_id=post_id, url=url, status=response.status_code, rate=rate_info(response)
        )


def _token(account: Account, credentials: Mapping[str, Any]) -> str:
    token = credentials.get("access_token")
    if not isinstance(token, str) or not token:
        raise AuthRevoked(f"onthedot holds no X access for {account.handle}: reconnect the channel")
    return token
