"""Publishing to a Mastodon account, on whatever instance it lives.

- prepare: every attachment is uploaded with POST /api/v2/media and, when the instance
  answers 202 (video, audio, large images: still processing), polled with GET
  /api/v1/media/:id until it answers 200 instead of 206 — a status cannot attach media that
  is still processing (docs.joinmastodon.org/methods/media/).
- commit: one POST /api/v1/statuses, with an Idempotency-Key the instance remembers for an
  hour (methods/statuses#create): a repeat within that hour returns the status already made,
  so the adapter is idempotent. Later than that, commit looks for the item first (as find
  does). Each thread item replies to the one before (in_reply_to_id).
- find: the account's own statuses (GET /api/v1/accounts/:id/statuses, newest first) paged
  back to the due time, matched on the reply parent and the source text (GET
  /api/v1/statuses/:id/source), so a post is found even after the key is forgotten.
- Tokens: Mastodon's never expire, and a 401 means the access was revoked. A compatible server
  that hands out expiring tokens with a refresh token gets them refreshed ahead of time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

import httpx

from onthedot.networks import Network
from onthedot.networks.base import (
    Account,
    Adapter,
    AuthRevoked,
    CannotTell,
    Engagement,
    Item,
    Job,
    Limits,
    MediaFile,
    NetworkError,
    Permanent,
    Prepared,
    Published,
    Transient,
    utc,
)
from onthedot.networks.credentials import TokenKeeper
from onthedot.networks.http import json_body, parse_instant
from onthedot.networks.mastodon.api import (
    RECONNECT,
    MastodonApi,
    error_text,
    rate_info,
    refusal,
    token_fields,
)
from onthedot.networks.registry import NetworkContext

__all__ = ["MastodonAdapter"]

# methods/accounts#statuses: at most 40 statuses a page. Mastodon lets an account post 300
# statuses in 3 hours, so ten pages reach back past any post made in the last 3 hours.
FIND_PAGE_SIZE: Final = 40
FIND_PAGES: Final = 10
POLL_FIRST: Final = dt.timedelta(seconds=1)
POLL_MAX: Final = dt.timedelta(seconds=5)
PROCESSING_LIMIT: Final = dt.timedelta(minutes=10)
# methods/statuses#create: "Idempotency keys are stored for up to 1 hour"; less a margin for
# the instance's clock.
KEY_MEMORY: Final = dt.timedelta(minutes=55)


def _same_text(a: str, b: str) -> bool:
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


class MastodonAdapter(Adapter):
    network = Network.MASTODON
    idempotent = True
    # Mastodon is thousands of servers; this caps onthedot's calls to all of them together.
    limits = Limits(network_in_flight=300, account_in_flight=1)

    def __init__(
        self, context: NetworkContext, *, processing_limit: dt.timedelta = PROCESSING_LIMIT
    ) -> None:
        self._context = context
        self._clock = context.clock
        self._processing_limit = processing_limit
        self._keeper = TokenKeeper(context.store, clock=context.clock, refresh=self.refresh)

    # --- the protocol -----------------------------------------------------------------------

    async def prepare(self, job: Job) -> Prepared:
        account = job.account
        items: dict[int, Any] = {}
        for item in job.items:
            items[item.position] = [await self._upload(account, media) for media in item.media]
        return Prepared(items=items)

    async def commit(
        self, job: Job, prepared: Prepared, item: Item, reply_to: Published | None
    ) -> Published:
        account = job.account
        if self._clock.now() - utc(job.due_at) >= KEY_MEMORY:
            # The instance may have forgotten the key of an earlier try by now, so a late try
            # (a retry, an overdue post) looks for the item before making it again. If the
            # look cannot tell, neither can onthedot: the post becomes `unknown` for a person
            # to settle, rather than risk a second copy.
            found = await self.find(job, item, reply_to)
            if found is not None:
                return found
        uploaded = prepared.items.get(item.position)
        media_ids = (
            list(uploaded)
            if uploaded is not None
            else [await self._upload(account, m) for m in item.media]
        )
        response = await self._post(job, item, reply_to, media_ids)
        if response.status_code == 422 and uploaded and "not found" in error_text(response).lower():
            # The instance dropped the media uploaded at preparation (unattached media is
            # cleaned up after a day). A 422 created nothing: upload again, post once more.
            media_ids = [await self._upload(account, m) for m in item.media]
            response = await self._post(job, item, reply_to, media_ids)
        if not response.is_success:
            raise self._refusal(account, response, "the post", publishing=True)
        published = self._published(json_body(response), response)
        if published is None:
            raise Transient(
                f"{self._host(account)} answered {response.status_code} without a status id; "
                "the post may have been published, so onthedot checks before it tries again",
                status=response.status_code,
                maybe_sent=True,
            )
        return published

    async def find(self, job: Job, item: Item, reply_to: Published | None) -> Published | None:
        """Page back through the account's statuses until the item turns up, or the pages
        reach back before it could have been made (then it provably is not there)."""
        account = job.account
        account_id = await self._account_id(account)
        parent = reply_to.network_id if reply_to is not None else None
        earliest = job.search_from
        max_id: str | None = None
        for _ in range(FIND_PAGES):
            params: dict[str, Any] = {"limit": FIND_PAGE_SIZE, "exclude_reblogs": "true"}
            if max_id is not None:
                params["max_id"] = max_id
            response = await self._call(
                account, "GET", f"/api/v1/accounts/{account_id}/statuses", params=params
            )
            if not response.is_success:
                raise self._refusal(account, response, "the account's posts", publishing=False)
            page = [s for s in _json_list(response) if isinstance(s.get("id"), str)]
            for status in page:
                created = parse_instant(status.get("created_at"))
                if created is not None and created < earliest:
                    return None
                if status.get("in_reply_to_id") == parent and await self._is_item(
                    account, status, item
                ):
                    return self._published(status, response)
            if not page:
                return None  # no older statuses
            max_id = page[-1]["id"]
        host, who = self._host(account), self._who(account)
        raise CannotTell(
            f"onthedot looked through {who}'s {FIND_PAGES * FIND_PAGE_SIZE} most recent posts "
            f"on {host} without finding this one or reaching back to its due time, so it cannot "
            "tell whether it was published; check the account and resolve the post"
        )

    async def refresh(self, account: Account) -> dict[str, Any]:
        """Only for servers that issue expiring tokens with a refresh token: Mastodon's own
        never expire, so a token it refuses cannot be renewed, only replaced by reconnecting."""
        credentials = account.credentials
        refresh_token = credentials.get("refresh_token")
        host, who = self._host(account), self._who(account)
        if not isinstance(refresh_token, str) or not refresh_token:
            raise AuthRevoked(
                f"{host} ended onthedot's access to {who} and gave no way to renew it: {RECONNECT}",
                code="invalid_token",
            )
        response = await MastodonApi(self._context.http, self._base(credentials)).call(
            "POST",
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": str(credentials.get("client_id") or ""),
                "client_secret": str(credentials.get("client_secret") or ""),
            },
        )
        if response.status_code in (400, 401):
            raise AuthRevoked(
                f"{host} would not renew onthedot's access to {who} ({error_text(response)}): "
                f"{RECONNECT}",
                status=response.status_code,
                code="invalid_grant",
            )
        if not response.is_success:
            raise self._refusal(account, response, "the token renewal", publishing=False)
        try:
            fresh = token_fields(json_body(response), self._clock.now())
        except ValueError:
            raise Transient(
                f"{host} renewed onthedot's access to {who} without a token; onthedot tries again",
                status=response.status_code,
                maybe_sent=False,
            ) from None
        fresh.setdefault("refresh_token", refresh_token)
        return {**credentials, **fresh}

    async def engagement(self, account: Account, network_id: str) -> Engagement:
        response = await self._call(account, "GET", f"/api/v1/statuses/{network_id}")
        if not response.is_success:
            raise self._refusal(account, response, f"the post {network_id}", publishing=False)
        status = json_body(response)
        return Engagement(
            likes=_count(status, "favourites_count"),
            reposts=_count(status, "reblogs_count"),
            replies=_count(status, "replies_count"),
            quotes=_count(status, "quotes_count"),
        )

    # --- the calls --------------------------------------------------------------------------

    def _base(self, credentials: Mapping[str, Any]) -> str:
        instance = credentials.get("instance")
        if not isinstance(instance, str) or not instance:
            raise Permanent(f"the channel has no Mastodon server on record: {RECONNECT}")
        return self._context.base_url(Network.MASTODON, instance)

    def _host(self, account: Account) -> str:
        instance = account.credentials.get("instance")
        return str(instance).split("://", 1)[-1] if instance else "the Mastodon server"

    def _who(self, account: Account) -> str:
        return account.handle or "the account"

    async def _call(
        self, account: Account, method: str, path: str, *, publishing: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """One call with credentials good now. When the server says the token expired, the
        token is renewed (once per channel, whoever asks) and the call made once more: a 401
        created nothing, so repeating even a publish is safe."""
        credentials = await self._keeper.current(account)
        api = MastodonApi(
            self._context.http, self._base(credentials), token=_token(credentials, account)
        )
        response = await api.call(method, path, publishing=publishing, **kwargs)
        if response.status_code == 401 and "expired" in error_text(response).lower():
            credentials = await self._keeper.refreshed(account, stale=credentials)
            api.token = _token(credentials, account)
            response = await api.call(method, path, publishing=publishing, **kwargs)
        return response

    def _refusal(
        self, account: Account, response: httpx.Response, subject: str, *, publishing: bool
    ) -> NetworkError:
        return refusal(
            response,
            host=self._host(account),
            who=self._who(account),
            subject=subject,
            publishing=publishing,
            now=self._clock.now(),
        )

    async def _account_id(self, account: Account) -> str:
        known = account.credentials.get("account_id")
        if isinstance(known, str) and known:
            return known
        response = await self._call(account, "GET", "/api/v1/accounts/verify_credentials")
        account_id = json_body(response).get("id") if response.is_success else None
        if not isinstance(account_id, str):
            raise self._refusal(account, response, "the account", publishing=False)
        return account_id

    async def _upload(self, account: Account, media: MediaFile) -> str:
        data = await media.read()
        # methods/media#v2: `description` is the alt text. MediaFile carries none yet.
        alt = getattr(media, "alt_text", None)
        response = await self._call(
            account,
            "POST",
            "/api/v2/media",
            files={"file": (media.filename, data, media.content_type)},
            data={"description": alt} if isinstance(alt, str) and alt else None,
        )
        subject = f"the media file {media.filename}"
        media_id = json_body(response).get("id") if response.is_success else None
        if not isinstance(media_id, str):
            if response.is_success:
                raise Transient(
                    f"{self._host(account)} accepted {media.filename} but gave no media id; "
                    "onthedot uploads it again",
                    status=response.status_code,
                    maybe_sent=False,
                )
            raise self._refusal(account, response, subject, publishing=False)
        if response.status_code == 202:
            await self._processed(account, media_id, media.filename)
        return media_id

    async def _processed(self, account: Account, media_id: str, filename: str) -> None:
        """Poll until the instance has processed the upload: 206 while it works, 200 when done
        (methods/media#get). The injected clock paces the polls."""
        deadline = self._clock.now() + self._processing_limit
        delay = POLL_FIRST
        while True:
            await self._clock.sleep_until(self._clock.now() + delay)
            response = await self._call(account, "GET", f"/api/v1/media/{media_id}")
            if response.status_code == 200:
                return
            if response.status_code != 206:
                raise self._refusal(
                    account, response, f"the media file {filename}", publishing=False
                )
            if self._clock.now() >= deadline:
                minutes = self._processing_limit.total_seconds() / 60
                raise Transient(
                    f"{self._host(account)} was still processing {filename} after "
                    f"{minutes:g} minutes; onthedot uploads it again",
                    status=206,
                    maybe_sent=False,
                )
            delay = min(delay * 2, POLL_MAX)

    async def _post(
        self, job: Job, item: Item, reply_to: Published | None, media_ids: list[str]
    ) -> httpx.Response:
        body: dict[str, Any] = {"status": item.text}
        if media_ids:
            body["media_ids"] = media_ids
        if reply_to is not None:
            body["in_reply_to_id"] = reply_to.network_id
        return await self._call(
            job.account,
            "POST",
            "/api/v1/statuses",
            publishing=True,
            json=body,
            headers={"Idempotency-Key": job.idempotency_key(item)},
        )

    async def _is_item(self, account: Account, status: Mapping[str, Any], item: Item) -> bool:
        attachments = status.get("media_attachments")
        if isinstance(attachments, list) and len(attachments) != len(item.media):
            return False
        text = status.get("text")  # present only on some answers; content is rendered HTML
        if not isinstance(text, str):
            response = await self._call(account, "GET", f"/api/v1/statuses/{status['id']}/source")
            if response.status_code == 404:
                return False  # deleted meanwhile
            if not response.is_success:
                raise self._refusal(account, response, "the post's text", publishing=False)
            text = json_body(response).get("text")
        return isinstance(text, str) and _same_text(text, item.text)

    def _published(self, data: Mapping[str, Any], response: httpx.Response) -> Published | None:
        status_id = data.get("id")
        if not isinstance(status_id, str) or not status_id:
            return None
        url = data.get("url")
        return Published(
            network_id=status_id,
            url=url if isinstance(url, str) else None,
            status=response.status_code,
            rate=rate_info(response),
        )


def _token(credentials: Mapping[str, Any], account: Account) -> str:
    token = credentials.get("access_token")
    if not isinstance(token, str) or not token:
        raise AuthRevoked(f"the channel {account.handle} has no Mastodon token: {RECONNECT}")
    return token


def _json_list(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        return []
    return [s for s in data if isinstance(s, dict)] if isinstance(data, list) else []


def _count(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) else None
