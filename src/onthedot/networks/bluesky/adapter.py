"""The Bluesky adapter: app.bsky.feed.post records written to the account's PDS.

- `prepare` resolves mentions to DIDs (com.atproto.identity.resolveHandle), builds the
  facets, uploads images, has video processed by the video service and makes link cards:
  everything but the record itself.
- `commit` is one com.atproto.repo.createRecord with a record key derived from the post
  (see `records.record_key`); a thread's items reply to the one before, with strong
  references (uri + cid) to the thread's root and to the parent.
- `find` reads that record key back (com.atproto.repo.getRecord), for each slot a late try
  could have used: the PDS is the authority on its repository, so "RecordNotFound" proves
  the post is not there.

The PDS does not answer a repeated create with the first record (it refuses the key, with
500 today -- github.com/bluesky-social/atproto issue 3718 -- and RecordAlreadyExists once
pull request 4728 lands), so the adapter is not `idempotent`: after a lost answer the
broadcaster looks first, which one getRecord settles.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

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
    Permanent,
    Prepared,
    Published,
    Transient,
)
from onthedot.networks.bluesky import media, xrpc
from onthedot.networks.bluesky.records import (
    POST_COLLECTION,
    SLOT,
    AtUri,
    post_url,
    record_key,
    slot_at,
)
from onthedot.networks.bluesky.richtext import find_spans, link_card_url, to_facets
from onthedot.networks.bluesky.session import Session
from onthedot.networks.credentials import CredentialStore, TokenKeeper
from onthedot.networks.http import HttpClient, json_body

__all__ = ["BlueskyAdapter"]

# app.bsky.feed.getPosts is served by the AppView; the PDS forwards it when asked to
# (https://docs.bsky.app/docs/advanced-guides/api-directory, "service proxying").
APPVIEW_PROXY: Final = "did:web:api.bsky.app#bsky_appview"
_MISSING_BLOB: Final = ("BlobNotFound",)
# `find` reads one key per five-minute slot after the due time, a day of them at most: the
# broadcaster gives up retrying long before (ONTHEDOT_RETRY_DEADLINE_S, an hour by default).
MAX_FIND_SLOTS: Final = 288


def _created_at(now: dt.datetime) -> str:
    """RFC 3339 with milliseconds and "Z", the form Bluesky's own apps write."""
    now = now.astimezone(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class BlueskyAdapter(Adapter):
    network = Network.BLUESKY
    idempotent = False
    # The PDS limits requests per IP (3000 per 5 minutes) and writes per account; one post
    # at a time per account keeps a thread in order.
    limits = Limits(network_in_flight=100, account_in_flight=1)

    def __init__(
        self,
        *,
        http: HttpClient,
        clock: Clock,
        store: CredentialStore,
        video_service: str = xrpc.VIDEO_SERVICE,
    ) -> None:
        self._http = http
        self._xrpc = xrpc.Xrpc(http)
        self._clock = clock
        self._keeper = TokenKeeper(store, clock=clock, refresh=self.refresh)
        self._video_service = video_service.rstrip("/")
        # uri -> (cid, the thread root's strong ref), so a reply needs no extra call.
        self._refs: dict[str, tuple[str, dict[str, str]]] = {}

    async def _session(self, account: Account) -> Session:
        return await Session(
            account, keeper=self._keeper, client=self._xrpc, clock=self._clock
        ).start()

    # --- the protocol -----------------------------------------------------------------------

    async def prepare(self, job: Job) -> Prepared:
        session = await self._session(job.account)
        return Prepared(items={i.position: await self._prepare_item(session, i) for i in job.items})

    async def commit(
        self, job: Job, prepared: Prepared, item: Item, reply_to: Published | None
    ) -> Published:
        session = await self._session(job.account)
        ready = prepared.items.get(item.position)
        try:
            return await self._create(session, job, item, reply_to, ready)
        except Permanent as exc:
            if ready is None or not _blob_gone(exc):
                raise
        # The PDS dropped the blobs uploaded at preparation (unused blobs are removed after a
        # while); the refusal created nothing, so upload again and post once more.
        return await self._create(session, job, item, reply_to, None)

    async def find(self, job: Job, item: Item, reply_to: Published | None) -> Published | None:
        # getRecord needs no session: the answer holds even when the tokens do not.
        session = Session(job.account, keeper=self._keeper, client=self._xrpc, clock=self._clock)
        if not session.did:
            raise AuthRevoked(
                f"onthedot holds no Bluesky session for {session.handle}: connect the account "
                "again with an app password",
                code="no_session",
            )
        last = slot_at(job, self._clock.now())
        for slot in range(min(last, MAX_FIND_SLOTS) + 1):
            found = await self._get(session, session.did, record_key(job, item, slot))
            # Another record under a key (a clash of keys) is not this post.
            if found is not None and found[1].get("text") == item.text:
                return found[0]
        if last > MAX_FIND_SLOTS:
            raise CannotTell(
                f"onthedot looked for the post on {session.handle} under every key it could "
                f"have used in the {MAX_FIND_SLOTS * SLOT // dt.timedelta(hours=1)} hours after "
                "its due time without finding it, but it may have been tried later; check the "
                "account's posts on bsky.app and publish it again by hand if it is missing",
                code="too_late_to_tell",
            )
        return None

    async def refresh(self, account: Account) -> dict[str, Any]:
        """A new session from com.atproto.server.refreshSession, authenticated with the
        refresh JWT; the PDS rotates the refresh JWT too."""
        credentials = account.credentials
        handle = "@" + str(credentials.get("handle") or account.handle).removeprefix("@")
        refresh_jwt = credentials.get("refresh_token")
        service = str(credentials.get("service") or xrpc.ENTRYWAY).rstrip("/")
        if not isinstance(refresh_jwt, str) or not refresh_jwt:
            raise AuthRevoked(
                f"onthedot holds no Bluesky session for {handle}: connect the account again "
                "with an app password",
                code="no_session",
            )
        response = await self._xrpc.procedure(
            service, "com.atproto.server.refreshSession", token=refresh_jwt
        )
        if response.is_success:
            new = xrpc.session_credentials(json_body(response), service=service)
            if new is None:
                raise Transient(
                    "Bluesky answered the session refresh without a session; onthedot tries again",
                    status=response.status_code,
                    maybe_sent=False,
                )
            return new
        outcome = xrpc.refusal(
            response,
            clock=self._clock,
            handle=handle,
            subject="the session refresh",
            action="refreshing the session",
            publishing=False,
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise outcome
        if isinstance(outcome, AuthRevoked):
            raise outcome
        raise AuthRevoked(
            f"Bluesky refused to renew onthedot's session for {handle} "
            f"({xrpc.error_name(response) or response.status_code}): connect the account "
            "again with a new app password",
            status=response.status_code,
            code=xrpc.error_name(response),
        )

    async def engagement(self, account: Account, network_id: str) -> Engagement:
        session = await self._session(account)
        response = await session.call(
            "GET",
            "app.bsky.feed.getPosts",
            subject="the post's counts",
            action="reading the post's likes and reposts",
            params={"uris": network_id},
            headers={"atproto-proxy": APPVIEW_PROXY},
        )
        posts = json_body(response).get("posts")
        post = posts[0] if isinstance(posts, list) and posts else None
        if not isinstance(post, dict):
            raise Permanent(
                f"the post {network_id} is no longer on Bluesky (deleted, or hidden by "
                "moderation); it has no counts to read",
                code="NotFound",
            )

        def count(key: str) -> int | None:
            value = post.get(key)
            return value if isinstance(value, int) else None

        return Engagement(
            likes=count("likeCount"),
            reposts=count("repostCount"),
            replies=count("replyCount"),
            quotes=count("quoteCount"),
        )

    # --- preparation ------------------------------------------------------------------------

    async def _prepare_item(self, session: Session, item: Item) -> dict[str, Any]:
        spans = find_spans(item.text)
        handles = sorted({s.value for s in spans if s.kind == "mention"})
        dids = {h: did for h in handles if (did := await self._resolve(session, h)) is not None}
        ready: dict[str, Any] = {"facets": to_facets(spans, dids)}
        embed = await self._embed(session, item, link_card_url(spans))
        if embed is not None:
            ready["embed"] = embed
        return ready

    async def _resolve(self, session: Session, handle: str) -> str | None:
        response = await session.call(
            "GET",
            "com.atproto.identity.resolveHandle",
            subject=f"the mention @{handle}",
            action=f"looking up @{handle}",
            params={"handle": handle},
            # An unknown handle stays plain text, as in Bluesky's apps.
            accept=("InvalidRequest", "HandleNotFound"),
        )
        did = json_body(response).get("did") if response.is_success else None
        return did if isinstance(did, str) and did.startswith("did:") else None

    async def _embed(self, session: Session, item: Item, link: str | None) -> dict[str, Any] | None:
        if not item.media:
            if link is None:
                return None
            return await media.embed_link_card(session, self._http, link)
        kinds = {m.content_type.split("/")[0] for m in item.media}
        if kinds == {"image"}:
            return await media.embed_images(session, item.media)
        if kinds == {"video"} and len(item.media) == 1:
            return await media.embed_video(
                session, item.media[0], video_service=self._video_service, clock=self._clock
            )
        raise Permanent(
            "Bluesky takes up to 4 images or one MP4 video per post, not both; split the "
            "attachments over several posts",
            code="unsupported_media",
        )

    # --- publishing -------------------------------------------------------------------------

    async def _create(
        self,
        session: Session,
        job: Job,
        item: Item,
        reply_to: Published | None,
        ready: dict[str, Any] | None,
    ) -> Published:
        if ready is None:
            ready = await self._prepare_item(session, item)
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": item.text,
            "createdAt": _created_at(self._clock.now()),
        }
        if ready.get("facets"):
            record["facets"] = ready["facets"]
        if ready.get("embed"):
            record["embed"] = ready["embed"]
        root: dict[str, str] | None = None
        if reply_to is not None:
            root, parent = await self._thread_refs(session, reply_to)
            record["reply"] = {"root": root, "parent": parent}
        rkey = record_key(job, item, slot_at(job, self._clock.now()))
        response = await session.call(
            "POST",
            "com.atproto.repo.createRecord",
            subject="the post",
            action="publishing the post",
            publishing=True,
            accept=("RecordAlreadyExists",),
            json={
                "repo": session.did,
                "collection": POST_COLLECTION,
                "rkey": rkey,
                "record": record,
            },
        )
        if not response.is_success:
            # An earlier try went through: the record under this key is the post.
            found = await self._get(session, session.did, rkey)
            if found is not None and found[1].get("text") == item.text:
                return found[0]
            raise Permanent(
                f"another post already uses the record key {rkey} on {session.handle}; "
                "schedule this post again at another second",
                status=response.status_code,
                code="RecordAlreadyExists",
            )
        body = json_body(response)
        uri, cid = body.get("uri"), body.get("cid")
        parsed = AtUri.parse(uri) if isinstance(uri, str) else None
        if parsed is None or not isinstance(cid, str):
            raise Transient(
                f"Bluesky answered {response.status_code} without the post's address; the "
                "post may have been published, so onthedot checks before it tries again",
                status=response.status_code,
                maybe_sent=True,
            )
        if item is not job.items[-1]:
            # Only a thread's next item needs it; a broadcaster's memory must not grow with
            # every post it ever sent. It is taken (popped) when the reply is made.
            self._refs[str(parsed)] = (cid, root or {"uri": str(parsed), "cid": cid})
        return Published(
            network_id=str(parsed),
            url=post_url(parsed),
            status=response.status_code,
            rate=xrpc.rate_info(response),
        )

    async def _thread_refs(
        self, session: Session, parent: Published
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Strong refs to the thread's root and to `parent`: remembered from publishing the
        parent, or read back from the PDS (after a restart)."""
        uri = parent.network_id
        known = self._refs.pop(uri, None)
        if known is None:
            parsed = AtUri.parse(uri)
            found = await self._get(session, parsed.did, parsed.rkey) if parsed else None
            if found is None:
                raise Permanent(
                    f"the post this one replies to ({uri}) is no longer on Bluesky; the rest "
                    "of the thread cannot be published under it",
                    code="ParentNotFound",
                )
            uri = found[0].network_id
            known = self._refs.pop(uri)
        cid, root = known
        return root, {"uri": uri, "cid": cid}

    async def _get(
        self, session: Session, repo: str, rkey: str
    ) -> tuple[Published, dict[str, Any]] | None:
        response = await session.call(
            "GET",
            "com.atproto.repo.getRecord",
            subject="the lookup",
            action="looking for the post",
            params={"repo": repo, "collection": POST_COLLECTION, "rkey": rkey},
            accept=("RecordNotFound",),
            anonymous=True,
        )
        if not response.is_success:
            return None
        body = json_body(response)
        uri, cid, value = body.get("uri"), body.get("cid"), body.get("value")
        parsed = AtUri.parse(uri) if isinstance(uri, str) else None
        if parsed is None or not isinstance(cid, str) or not isinstance(value, dict):
            raise Transient(
                "Bluesky answered the lookup without the record; onthedot looks again",
                status=response.status_code,
                maybe_sent=False,
            )
        reply = value.get("reply")
        root = reply.get("root") if isinstance(reply, dict) else None
        if not (isinstance(root, dict) and {"uri", "cid"} <= root.keys()):
            root = {"uri": str(parsed), "cid": cid}
        self._refs[str(parsed)] = (cid, {"uri": str(root["uri"]), "cid": str(root["cid"])})
        published = Published(
            network_id=str(parsed),
            url=post_url(parsed),
            status=response.status_code,
            rate=xrpc.rate_info(response),
        )
        return published, value


def _blob_gone(exc: Permanent) -> bool:
    return exc.code in _MISSING_BLOB or (
        exc.code == "InvalidRequest" and "could not find blob" in exc.message.lower()
    )
