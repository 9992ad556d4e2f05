"""The LinkedIn adapter: posts to a member's (or a page's) feed through the Posts API.

- prepare uploads the images or the video and waits until LinkedIn has processed them;
- commit is the one `POST /rest/posts`, which answers 201 with the post's URN in `x-restli-id`
  (learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api);
- find pages back through the author's posts, newest first, for the same text; LinkedIn takes
  no idempotency key, so that look is the only way to know after a lost answer;
- LinkedIn has no threads: a post of several items is refused with a message saying so.

Access tokens last 60 days. LinkedIn hands refresh tokens (one year) only to approved
partners (learn.microsoft.com/linkedin/shared/authentication/programmatic-refresh-tokens):
with one, tokens are refreshed ahead of expiry; without, the token is used until it expires
and the channel must then be reconnected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar

import httpx

from onthedot.clock import Clock
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
    NetworkError,
    Permanent,
    Prepared,
    Published,
    Transient,
    Unsupported,
)
from onthedot.networks.credentials import CredentialStore, TokenKeeper, expires_at
from onthedot.networks.http import MAYBE_PUBLISHED, json_body
from onthedot.networks.linkedin.client import EXPIRED, LinkedInApi, refusal, urn_path
from onthedot.networks.linkedin.media import MediaUploader
from onthedot.networks.linkedin.oauth import OAuthClient
from onthedot.networks.linkedin.text import commentary

__all__ = ["LinkedInAdapter", "post_url"]

T = TypeVar("T")

FIND_PAGES: Final = 4
FIND_PAGE_SIZE: Final = 50
NO_THREADS: Final = (
    "LinkedIn has no threads: a post cannot reply to another. Publish this thread as a single "
    "post (join its parts), or as separate posts"
)


def post_url(urn: str) -> str:
    # The address LinkedIn itself gives a post (learn.microsoft.com/linkedin/dma/content/posts).
    return f"https://www.linkedin.com/feed/update/{urn}/"


def _instant(millis: Any) -> dt.datetime | None:
    if not isinstance(millis, int | float) or isinstance(millis, bool):
        return None
    return dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC)


class LinkedInAdapter(Adapter):
    network = Network.LINKEDIN
    idempotent = False
    # LinkedIn's limits are daily quotas, not concurrency; one call per account at a time
    # keeps a member's posts in order.
    limits = Limits(network_in_flight=100, account_in_flight=1)

    def __init__(
        self, *, api: LinkedInApi, oauth: OAuthClient, clock: Clock, store: CredentialStore
    ) -> None:
        self._api = api
        self._oauth = oauth
        self._clock = clock
        self._keeper = TokenKeeper(store, clock=clock, refresh=self.refresh)

    # --- the protocol -----------------------------------------------------------------------

    async def prepare(self, job: Job) -> Prepared:
        if len(job.items) > 1:
            raise Permanent(NO_THREADS, code="threads_unsupported")
        item = job.items[0]
        urns = await self._with_token(job.account, lambda t: self._upload(job, item, t))
        return Prepared(items={item.position: urns})

    async def commit(
        self, job: Job, prepared: Prepared, item: Item, reply_to: Published | None
    ) -> Published:
        if len(job.items) > 1 or reply_to is not None:
            raise Permanent(NO_THREADS, code="threads_unsupported")

        async def publish(token: str) -> Published:
            urns = prepared.items.get(item.position)
            if urns is None:
                urns = await self._upload(job, item, token)
            return await self._publish(job, item, list(urns), token)

        return await self._with_token(job.account, publish)

    async def find(self, job: Job, item: Item, reply_to: Published | None) -> Published | None:
        return await self._with_token(job.account, lambda t: self._find(job, item, t))

    async def refresh(self, account: Account) -> dict[str, Any]:
        return await self._oauth.refresh(account, _who(account))

    async def engagement(self, account: Account, network_id: str) -> Engagement:
        return await self._with_token(account, lambda t: self._engagement(account, network_id, t))

    # --- tokens -----------------------------------------------------------------------------

    async def _credentials(self, account: Account) -> Mapping[str, Any]:
        if account.credentials.get("refresh_token"):
            return await self._keeper.current(account)
        # Without a refresh token there is nothing to do ahead of expiry: the token is good
        # until the very end, and then only the member can renew it.
        expiry = expires_at(account.credentials)
        if expiry is not None and expiry <= self._clock.now():
            raise AuthRevoked(
                f"LinkedIn access to {_who(account)} expired on {expiry:%Y-%m-%d %H:%M} UTC "
                "(LinkedIn grants 60 days at a time): reconnect the channel to keep posting",
                code=EXPIRED,
            )
        return account.credentials

    async def _with_token(self, account: Account, call: Callable[[str], Awaitable[T]]) -> T:
        """`call` with a valid token; once more with a refreshed one if LinkedIn says the
        token expired (a 401 published nothing, so trying again is safe)."""
        credentials = await self._credentials(account)
        try:
            return await call(_token(credentials))
        except AuthRevoked as exc:
            if exc.code != EXPIRED or not credentials.get("refresh_token"):
                raise
        credentials = await self._keeper.refreshed(account, stale=credentials)
        return await call(_token(credentials))

    # --- the calls --------------------------------------------------------------------------

    async def _upload(self, job: Job, item: Item, token: str) -> list[str]:
        uploader = MediaUploader(self._api, self._clock, who=_who(job.account))
        return await uploader.upload(_author(job.account), token, item.media)

    async def _publish(self, job: Job, item: Item, urns: list[str], token: str) -> Published:
        body: dict[str, Any] = {
            "author": _author(job.account),
            "commentary": commentary(item.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        # posts-api: one image or video is `media`; 2 to 20 images are `multiImage`
        # (learn.microsoft.com/linkedin/marketing/community-management/shares/multiimage-post-api).
        if len(urns) == 1:
            body["content"] = {"media": {"id": urns[0]}}
        elif urns:
            body["content"] = {"multiImage": {"images": [{"id": urn} for urn in urns]}}
        response = await self._api.call("POST", "/rest/posts", token, publishing=True, json=body)
        if not response.is_success:
            raise self._refused(response, job.account, publishing=True)
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:
            raise Transient(
                f"LinkedIn answered {response.status_code} without the post's id; "
                + MAYBE_PUBLISHED,
                status=response.status_code,
                maybe_sent=True,
            )
        return Published(network_id=urn, url=post_url(urn), status=response.status_code)

    async def _find(self, job: Job, item: Item, token: str) -> Published | None:
        """Page back through the author's posts, newest first, until the post turns up or the
        pages reach back before it could have been made."""
        who = _who(job.account)
        wanted = {commentary(item.text), item.text}
        earliest = job.search_from
        for page in range(FIND_PAGES):
            # posts-api, "Find Posts by Authors": q=author, sortBy=CREATED, paged by start.
            response = await self._api.call(
                "GET",
                "/rest/posts",
                token,
                params={
                    "author": _author(job.account),
                    "q": "author",
                    "count": FIND_PAGE_SIZE,
                    "start": page * FIND_PAGE_SIZE,
                    "sortBy": "CREATED",
                },
            )
            if response.status_code == 403:
                raise CannotTell(
                    f"LinkedIn lets onthedot read {who}'s posts only with the r_member_social "
                    "permission, which it grants to approved partners, so onthedot cannot tell "
                    f"whether this post was published; check {who}'s posts on LinkedIn and "
                    "publish it again by hand if it is missing",
                    status=403,
                )
            if not response.is_success:
                raise self._refused(response, job.account, publishing=False)
            elements = [e for e in json_body(response).get("elements") or [] if isinstance(e, dict)]
            for post in elements:
                created = _instant(post.get("createdAt"))
                if post.get("commentary") in wanted and (created is None or created >= earliest):
                    urn = post.get("id")
                    if isinstance(urn, str):
                        return Published(network_id=urn, url=post_url(urn), status=200)
            if len(elements) < FIND_PAGE_SIZE:
                return None
            oldest = _instant(elements[-1].get("createdAt"))
            if oldest is not None and oldest < earliest:
                return None
        raise CannotTell(
            f"onthedot looked through {who}'s {FIND_PAGES * FIND_PAGE_SIZE} most recent LinkedIn "
            "posts without finding this one or reaching back to its due time, so it cannot "
            f"tell whether it was published; check {who}'s posts and publish it again by hand "
            "if it is missing"
        )

    async def _engagement(self, account: Account, urn: str, token: str) -> Engagement:
        # learn.microsoft.com/linkedin/marketing/community-management/shares/social-metadata-api:
        # reaction counts by type and the comment count. LinkedIn reports no reshare count
        # there, and clicks only for a page's posts (organizationalEntityShareStatistics).
        response = await self._api.call("GET", f"/rest/socialMetadata/{urn_path(urn)}", token)
        if response.status_code == 403:
            raise Unsupported(
                "LinkedIn shares a post's reactions and comments only with apps granted "
                "r_member_social (or r_organization_social for a page)",
                status=403,
            )
        if not response.is_success:
            raise self._refused(response, account, publishing=False)
        body = json_body(response)
        reactions = body.get("reactionSummaries")
        likes = sum(
            int(r.get("count") or 0)
            for r in (reactions.values() if isinstance(reactions, dict) else [])
            if isinstance(r, dict)
        )
        comments = body.get("commentSummary")
        replies = comments.get("count") if isinstance(comments, dict) else None
        return Engagement(likes=likes, replies=replies if isinstance(replies, int) else None)

    def _refused(
        self, response: httpx.Response, account: Account, *, publishing: bool
    ) -> NetworkError:
        return refusal(
            response,
            who=_who(account),
            subject="the post",
            action="publishing the post" if publishing else "looking at the posts",
            publishing=publishing,
            now=self._clock.now(),
        )


def _who(account: Account) -> str:
    name = account.credentials.get("name")
    return f"{name} ({account.handle})" if isinstance(name, str) and name else account.handle


def _author(account: Account) -> str:
    author = account.credentials.get("author")
    if not isinstance(author, str) or not author.startswith("urn:li:"):
        raise AuthRevoked(
            f"the channel {account.handle} does not say which LinkedIn member it posts as: "
            "reconnect the channel"
        )
    return author


def _token(credentials: Mapping[str, Any]) -> str:
    token = credentials.get("access_token")
    if not isinstance(token, str) or not token:
        raise AuthRevoked("the channel holds no LinkedIn access token: reconnect the channel")
    return token
