"""Bad input at every endpoint: each is a 4xx problem with a stable code, and writes nothing.

One test per endpoint, one line per bad input. A world of channels, posts and media (and
another workspace's) is built first; after every refused request, every table and the media
dir must be exactly as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onthedot.accounts.models import ApiToken
from onthedot.accounts.service import Member
from onthedot.channels import service as channels
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.media import service as media
from onthedot.networks import Network
from onthedot.posts import service as posts
from onthedot.posts.models import PostStatus
from onthedot.posts.service import ItemInput, Mode
from tests.conftest import Team
from tests.e2e.helpers import (
    PNG,
    SCHEDULE,
    UNKNOWN_ID,
    DbState,
    call,
    cursor_of,
    problem,
)

TOO_BIG_ID = 2**63


@dataclass(frozen=True)
class World:
    """Acme's objects (the caller is Acme's owner) and some of another workspace."""

    owner: int  # user ids
    editor: int
    s_user: int
    ch: int  # sandbox, Europe/Berlin, SCHEDULE: q1 (with media_used), q2, draft
    q1: int
    q2: int
    draft: int
    ch_x: int  # X, UTC, daily 09:00
    ch_paused: int  # paused, with held post
    held: int
    ch_empty: int  # no posting times, with a draft
    empty_draft: int
    ch_busy: int  # its post is being published
    busy: int
    failed: int  # in ch_busy: the network refused it
    media: int
    media_used: int
    s_ch: int  # the other workspace's
    s_post: int
    s_media: int
    s_token: int


async def _bytes(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _store(
    session: AsyncSession, member: Member, settings: Settings, data: bytes, now: dt.datetime
) -> int:
    stored = await media.store(
        session,
        member=member,
        filename="pixel.png",
        content_type="image/png",
        chunks=_bytes(data),
        media_dir=settings.media_dir,
        max_bytes=settings.max_media_bytes,
        now=now,
    )
    return stored.id


async def _channel(session: AsyncSession, member: Member, now: dt.datetime, **fields: Any) -> int:
    args: dict[str, Any] = {
        "network": Network.SANDBOX,
        "handle": "@acme@example.social",
        "timezone": "Europe/Berlin",
        "schedule": SCHEDULE,
    }
    args.update(fields)
    channel = await channels.create_channel(session, member=member, now=now, **args)
    return channel.id


async def _post(
    session: AsyncSession,
    member: Member,
    channel_id: int,
    now: dt.datetime,
    text: str,
    mode: Mode = Mode.QUEUE,
    media_ids: tuple[int, ...] = (),
) -> int:
    (post,) = await posts.create_posts(
        session,
        member=member,
        channel_ids=[channel_id],
        items=[ItemInput(text, media_ids)],
        mode=mode,
        at=None,
        now=now,
    )
    return post.id


@pytest.fixture
async def world(
    sessionmaker: async_sessionmaker[AsyncSession],
    team: Team,
    clock: FrozenClock,
    settings: Settings,
) -> World:
    now = clock.now()
    owner, stranger = team.owner.member, team.stranger.member
    async with sessionmaker() as s, s.begin():
        media_used = await _store(s, owner, settings, PNG, now)
        free_media = await _store(s, owner, settings, PNG + b"free", now)
        ch = await _channel(s, owner, now)
        q1 = await _post(s, owner, ch, now, "first", media_ids=(media_used,))
        q2 = await _post(s, owner, ch, now, "second")
        draft = await _post(s, owner, ch, now, "a draft", Mode.DRAFT)
        ch_x = await _channel(
            s, owner, now, network=Network.X, timezone="UTC", schedule="daily 09:00"
        )
        ch_paused = await _channel(s, owner, now)
        held = await _post(s, owner, ch_paused, now, "held")
        await channels.pause(s, member=owner, channel_id=ch_paused, now=now)
        ch_empty = await _channel(s, owner, now, schedule="")
        empty_draft = await _post(s, owner, ch_empty, now, "nowhere to go", Mode.DRAFT)
        ch_busy = await _channel(s, owner, now)
        busy = await _post(s, owner, ch_busy, now, "going out")
        busy_post = await posts.get_post(s, member=owner, post_id=busy)
        busy_post.status = PostStatus.CLAIMED
        failed = await _post(s, owner, ch_busy, now, "refused")
        failed_post = await posts.get_post(s, member=owner, post_id=failed)
        failed_post.status = PostStatus.FAILED
        failed_post.last_error = "the network refused the post: media type not supported"
        s_media = await _store(s, stranger, settings, PNG + b"theirs", now)
        s_ch = await _channel(s, stranger, now, handle="@other@example.social")
        s_post = await _post(s, stranger, s_ch, now, "theirs")
        s_token = await s.scalar(
            select(ApiToken.id).where(ApiToken.workspace_id == stranger.workspace_id)
        )
        assert s_token is not None
    # Tokens record their use at most once a minute: after this, a refused request that
    # committed anything at all would show in api_tokens.last_used_at.
    clock.advance(dt.timedelta(minutes=5))
    return World(
        owner=owner.user_id,
        editor=team.editor.member.user_id,
        s_user=stranger.user_id,
        ch=ch,
        q1=q1,
        q2=q2,
        draft=draft,
        ch_x=ch_x,
        ch_paused=ch_paused,
        held=held,
        ch_empty=ch_empty,
        empty_draft=empty_draft,
        ch_busy=ch_busy,
        busy=busy,
        failed=failed,
        media=free_media,
        media_used=media_used,
        s_ch=s_ch,
        s_post=s_post,
        s_media=s_media,
        s_token=s_token,
    )


# --- the table ------------------------------------------------------------------------------

_NO_BODY = object()
Json = Any  # a JSON value, or a function of the World giving one


@dataclass(frozen=True)
class Bad:
    why: str
    status: int
    code: str
    json: Json = _NO_BODY
    path: str | None = None  # instead of the endpoint's path; "{w.ch}" etc. are World ids
    content: bytes | None = None
    content_type: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    detail: str = ""  # a part of the detail, where it must say something specific
    extra: dict[str, Any] = field(default_factory=dict)  # fields the problem must carry


def _cases() -> dict[str, list[Bad]]:
    big = f"{TOO_BIG_ID}"
    unknown = f"{UNKNOWN_ID}"
    past = "2026-11-26T05:00:00Z"
    future = "2026-12-01T09:00"
    return {
        # -- the workspace, members and tokens ----------------------------------------------
        "PATCH /workspace": [
            Bad("name not a string", 422, "invalid_request", {"name": 5}),
            Bad("name missing", 422, "invalid_request", {}, detail="name"),
            Bad("unknown field", 422, "invalid_request", {"name": "A", "plan": "pro"}),
            Bad("blank name", 422, "invalid_request", {"name": "   "}),
            Bad("name too long", 422, "invalid_request", {"name": "a" * 201}),
            Bad("NUL in name", 422, "invalid_request", {"name": "Ac\x00me"}),
            Bad("body is a list", 422, "invalid_request", ["Acme"]),
            Bad("not JSON", 422, "invalid_request", content=b"{name: Acme"),
            Bad(
                "JSON as text/plain",
                422,
                "invalid_request",
                content=b'{"name": "A"}',
                content_type="text/plain",
            ),
        ],
        "POST /workspaces": [
            Bad("name missing", 422, "invalid_request", {}),
            Bad("name null", 422, "invalid_request", {"name": None}),
            Bad("empty name", 422, "invalid_request", {"name": ""}),
            Bad("unknown field", 422, "invalid_request", {"name": "B", "owner": "x@y.z"}),
        ],
        "POST /workspace/members": [
            Bad("not an email", 422, "invalid_request", {"email": "nobody"}, detail="not an email"),
            Bad("email a number", 422, "invalid_request", {"email": 42}),
            Bad("email missing", 422, "invalid_request", {"role": "editor"}),
            Bad("unknown role", 422, "invalid_request", {"email": "x@acme.test", "role": "admin"}),
            Bad("unknown field", 422, "invalid_request", {"email": "x@acme.test", "name": "X"}),
            Bad("NUL in email", 422, "invalid_request", {"email": "x\x00@acme.test"}),
            Bad("already a member", 409, "conflict", {"email": "EDITOR@acme.test"}),
        ],
        "PATCH /workspace/members/{id}": [
            Bad(
                "unknown user",
                404,
                "not_found",
                {"role": "editor"},
                path=f"/workspace/members/{unknown}",
            ),
            Bad(
                "another workspace's user",
                404,
                "not_found",
                {"role": "editor"},
                path="/workspace/members/{w.s_user}",
            ),
            Bad(
                "unknown role",
                422,
                "invalid_request",
                {"role": "boss"},
                path="/workspace/members/{w.editor}",
            ),
            Bad("role missing", 422, "invalid_request", {}, path="/workspace/members/{w.editor}"),
            Bad(
                "last owner",
                409,
                "conflict",
                {"role": "viewer"},
                path="/workspace/members/{w.owner}",
                detail="at least one owner",
            ),
            Bad(
                "id not a number",
                422,
                "invalid_request",
                {"role": "editor"},
                path="/workspace/members/abc",
            ),
            Bad(
                "id too big",
                422,
                "invalid_request",
                {"role": "editor"},
                path=f"/workspace/members/{big}",
            ),
        ],
        "DELETE /workspace/members/{id}": [
            Bad("last owner", 409, "conflict", path="/workspace/members/{w.owner}"),
            Bad("another workspace's user", 404, "not_found", path="/workspace/members/{w.s_user}"),
            Bad("unknown user", 404, "not_found", path=f"/workspace/members/{unknown}"),
            Bad("id zero", 422, "invalid_request", path="/workspace/members/0"),
        ],
        "POST /tokens": [
            Bad("name not a string", 422, "invalid_request", {"name": 5}),
            Bad("name too long", 422, "invalid_request", {"name": "a" * 201}),
            Bad("NUL in name", 422, "invalid_request", {"name": "ci\x00"}),
            Bad("unknown field", 422, "invalid_request", {"name": "ci", "expires": "never"}),
        ],
        "DELETE /tokens/{id}": [
            Bad("unknown token", 404, "not_found", path=f"/tokens/{unknown}"),
            Bad("another workspace's token", 404, "not_found", path="/tokens/{w.s_token}"),
            Bad("id not a number", 422, "invalid_request", path="/tokens/latest"),
            Bad("id too big", 422, "invalid_request", path=f"/tokens/{big}"),
        ],
        # -- channels ------------------------------------------------------------------------
        "POST /channels": [
            Bad("empty body", 422, "invalid_request", {}),
            Bad("unknown network", 422, "invalid_request", _channel_body(network="myspace")),
            Bad("timezone missing", 422, "invalid_request", _channel_body(timezone=None)),
            Bad("timezone a number", 422, "invalid_request", _channel_body(timezone=1)),
            Bad("unknown zone", 422, "unknown_timezone", _channel_body(timezone="Mars/Olympus")),
            Bad(
                "misspelt zone",
                422,
                "unknown_timezone",
                _channel_body(timezone="Europe/Berln"),
                detail="did you mean 'Europe/Berlin'",
            ),
            Bad(
                "zone as a path",
                422,
                "unknown_timezone",
                _channel_body(timezone="../../etc/passwd"),
            ),
            Bad("hour 25", 422, "invalid_schedule", _channel_body(schedule="Mon 25:00")),
            Bad("unknown day", 422, "invalid_schedule", _channel_body(schedule="Funday 08:00")),
            Bad(
                "rule without times",
                422,
                "invalid_schedule",
                _channel_body(schedule=[{"days": ["mon"]}]),
            ),
            Bad(
                "rule with 8am",
                422,
                "invalid_schedule",
                _channel_body(schedule=[{"days": ["mon"], "times": ["8am"]}]),
            ),
            Bad("schedule a number", 422, "invalid_request", _channel_body(schedule=5)),
            Bad(
                "max_chars on X", 422, "invalid_request", _channel_body(network="x", max_chars=1000)
            ),
            Bad("max_chars zero", 422, "invalid_request", _channel_body(max_chars=0)),
            Bad("empty handle", 422, "invalid_request", _channel_body(handle="")),
            Bad("blank handle", 422, "invalid_request", _channel_body(handle="   ")),
            Bad("NUL in handle", 422, "invalid_request", _channel_body(handle="@a\x00")),
            Bad("unknown field", 422, "invalid_request", _channel_body(paused=True)),
            Bad(
                "credentials a string", 422, "invalid_request", _channel_body(credentials="hunter2")
            ),
        ],
        "GET /channels": [
            *_bad_pages(),
            Bad("cursor of two values", 422, "invalid_cursor", params={"cursor": cursor_of(1, 2)}),
        ],
        "GET /channels/{id}": [
            Bad("unknown channel", 404, "not_found", path=f"/channels/{unknown}"),
            Bad("another workspace's", 404, "not_found", path="/channels/{w.s_ch}"),
            Bad("id not a number", 422, "invalid_request", path="/channels/main"),
            Bad("id too big", 422, "invalid_request", path=f"/channels/{big}"),
            Bad("id negative", 422, "invalid_request", path="/channels/-1"),
        ],
        "PATCH /channels/{id}": [
            Bad("unknown zone", 422, "unknown_timezone", {"timezone": "Nowhere/City"}),
            Bad("bad schedule", 422, "invalid_schedule", {"schedule": "Mon 99:99"}),
            Bad("empty schedule with a queue", 409, "schedule_empty", {"schedule": ""}),
            Bad("max_chars not a number", 422, "invalid_request", {"max_chars": "many"}),
            Bad("network cannot change", 422, "invalid_request", {"network": "x"}),
            Bad("empty handle", 422, "invalid_request", {"handle": ""}),
            Bad(
                "max_chars on X",
                422,
                "invalid_request",
                {"max_chars": 1000},
                path="/channels/{w.ch_x}",
            ),
            Bad(
                "another workspace's",
                404,
                "not_found",
                {"handle": "@mine"},
                path="/channels/{w.s_ch}",
            ),
            Bad(
                "unknown channel",
                404,
                "not_found",
                {"handle": "@mine"},
                path=f"/channels/{unknown}",
            ),
        ],
        "PUT /channels/{id}/schedule": [
            Bad("schedule missing", 422, "invalid_request", {}),
            Bad("schedule null", 422, "invalid_request", {"schedule": None}),
            Bad("not a schedule", 422, "invalid_schedule", {"schedule": "whenever"}),
            Bad(
                "unknown day code",
                422,
                "invalid_schedule",
                {"schedule": [{"days": ["xyz"], "times": ["08:00"]}]},
            ),
            Bad(
                "unknown key",
                422,
                "invalid_schedule",
                {"schedule": [{"days": ["mon"], "times": ["08:00"], "every": 2}]},
            ),
            Bad(
                "empty with a queue",
                409,
                "schedule_empty",
                {"schedule": ""},
                detail="2 post(s) wait",
            ),
            Bad(
                "another workspace's",
                404,
                "not_found",
                {"schedule": "Mon 08:00"},
                path="/channels/{w.s_ch}/schedule",
            ),
        ],
        "POST /channels/{id}/pause": [
            Bad("another workspace's", 404, "not_found", path="/channels/{w.s_ch}/pause"),
            Bad("unknown channel", 404, "not_found", path=f"/channels/{unknown}/pause"),
        ],
        "POST /channels/{id}/resume": [
            Bad("another workspace's", 404, "not_found", path="/channels/{w.s_ch}/resume"),
            Bad("id too big", 422, "invalid_request", path=f"/channels/{big}/resume"),
            Bad(
                "past_pinned not a policy",
                422,
                "invalid_request",
                path="/channels/{w.ch_paused}/resume",
                params={"past_pinned": "later"},
                detail="past_pinned: Input should be 'publish' or 'missed'",
            ),
            Bad(
                "past_pinned empty",
                422,
                "invalid_request",
                path="/channels/{w.ch_paused}/resume",
                params={"past_pinned": ""},
                detail="past_pinned",
            ),
        ],
        "DELETE /channels/{id}": [
            Bad("another workspace's", 404, "not_found", path="/channels/{w.s_ch}"),
            Bad("a post is being published", 409, "conflict", path="/channels/{w.ch_busy}"),
        ],
        "GET /channels/{id}/queue": [
            *_bad_pages(),
            Bad("a channel list cursor", 422, "invalid_cursor", params={"cursor": cursor_of(5)}),
            Bad(
                "naive time in cursor",
                422,
                "invalid_cursor",
                params={"cursor": cursor_of("2026-11-26T08:00:00", 1)},
            ),
            Bad(
                "time before year 1 UTC",
                422,
                "invalid_cursor",
                params={"cursor": cursor_of("0001-01-01T00:00:00+14:00", 1)},
            ),
            Bad("another workspace's", 404, "not_found", path="/channels/{w.s_ch}/queue"),
        ],
        "PUT /channels/{id}/queue/order": [
            Bad("post_ids missing", 422, "invalid_request", {}),
            Bad("post_ids a string", 422, "invalid_request", {"post_ids": "1,2"}),
            Bad("post id zero", 422, "invalid_request", {"post_ids": [0]}),
            Bad("post id too big", 422, "invalid_request", {"post_ids": [TOO_BIG_ID]}),
            Bad(
                "unknown field",
                422,
                "invalid_request",
                lambda w: {"post_ids": [w.q2, w.q1], "order": "desc"},
            ),
            Bad(
                "another workspace's post",
                409,
                "conflict",
                lambda w: {"post_ids": [w.q2, w.q1, w.s_post]},
                detail="not in this queue",
            ),
            Bad(
                "a post missing", 409, "conflict", lambda w: {"post_ids": [w.q1]}, detail="missing"
            ),
            Bad("a draft", 409, "conflict", lambda w: {"post_ids": [w.q2, w.q1, w.draft]}),
            Bad(
                "a post twice",
                422,
                "invalid_request",
                lambda w: {"post_ids": [w.q2, w.q1, w.q1]},
                detail="twice",
            ),
            Bad(
                "stale queue_version",
                409,
                "conflict",
                lambda w: {"post_ids": [w.q2, w.q1], "queue_version": 999},
                detail="changed since you read it",
            ),
            Bad(
                "another workspace's channel",
                404,
                "not_found",
                lambda w: {"post_ids": [w.s_post]},
                path="/channels/{w.s_ch}/queue/order",
            ),
        ],
        "POST /channels/{id}/queue/shuffle": [
            Bad("another workspace's", 404, "not_found", path="/channels/{w.s_ch}/queue/shuffle"),
            Bad("unknown channel", 404, "not_found", path=f"/channels/{unknown}/queue/shuffle"),
        ],
        # -- posts ---------------------------------------------------------------------------
        "POST /posts": [
            Bad("empty body", 422, "invalid_request", {}),
            Bad(
                "JSON nested too deep",
                400,
                "invalid_request",
                content=b"[" * 100_000,
                content_type="application/json",
            ),
            Bad(
                "a 5000-digit number",
                400,
                "invalid_request",
                content=b'{"channel_ids": [' + b"7" * 5000 + b'], "text": "x"}',
                content_type="application/json",
            ),
            Bad(
                "no text nor items",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch]},
                detail="needs `text` or `items`",
            ),
            Bad(
                "channel_ids not a list",
                422,
                "invalid_request",
                lambda w: {"channel_ids": w.ch, "text": "x"},
            ),
            Bad("no channel", 422, "invalid_request", {"channel_ids": [], "text": "x"}),
            Bad("channel id a word", 422, "invalid_request", {"channel_ids": ["one"], "text": "x"}),
            Bad(
                "channel id too big",
                422,
                "invalid_request",
                {"channel_ids": [TOO_BIG_ID], "text": "x"},
            ),
            Bad(
                "too many channels",
                422,
                "invalid_request",
                {"channel_ids": list(range(1, 52)), "text": "x"},
            ),
            Bad("unknown channel", 404, "not_found", {"channel_ids": [UNKNOWN_ID], "text": "x"}),
            Bad(
                "another workspace's channel",
                404,
                "not_found",
                lambda w: {"channel_ids": [w.s_ch], "text": "x"},
            ),
            Bad(
                "one channel of another workspace",
                404,
                "not_found",
                lambda w: {"channel_ids": [w.ch, w.s_ch], "text": "x"},
            ),
            Bad(
                "another workspace's media",
                404,
                "not_found",
                lambda w: {"channel_ids": [w.ch], "text": "x", "media_ids": [w.s_media]},
            ),
            Bad(
                "unknown media",
                404,
                "not_found",
                lambda w: {"channel_ids": [w.ch], "text": "x", "media_ids": [UNKNOWN_ID]},
            ),
            Bad(
                "media id too big",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "text": "x", "media_ids": [TOO_BIG_ID]},
            ),
            Bad(
                "the same media twice",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "items": [{"media_ids": [w.media, w.media]}]},
            ),
            Bad(
                "text and items",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "text": "x", "items": [{"text": "y"}]},
            ),
            Bad("no items", 422, "invalid_request", lambda w: {"channel_ids": [w.ch], "items": []}),
            Bad(
                "26 items",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "items": [{"text": "x"}] * 26},
            ),
            Bad(
                "unknown item field",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "items": [{"text": "x", "alt": "y"}]},
            ),
            Bad(
                "unknown field",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "text": "x", "colour": "red"},
            ),
            Bad(
                "text a number",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "text": 5},
            ),
            Bad(
                "empty text",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "text": ""},
                detail="needs text or media",
            ),
            Bad(
                "blank text",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "text": " \u200b "},
            ),
            Bad(
                "NUL in text",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "text": "a\x00b"},
            ),
            Bad(
                "501 characters on the sandbox",
                422,
                "text_too_long",
                lambda w: {"channel_ids": [w.ch], "text": "x" * 501},
                detail="shorten it by 1",
                extra={"over": 1, "limit": 500, "length": 501},
            ),
            Bad(
                "141 CJK characters on X",
                422,
                "text_too_long",
                lambda w: {"channel_ids": [w.ch_x], "text": "界" * 141},
                detail="shorten it by 2",
                extra={"over": 2, "limit": 280, "network": "x"},
            ),
            Bad(
                "too long on one channel of two",
                422,
                "text_too_long",
                lambda w: {"channel_ids": [w.ch, w.ch_x], "text": "a" * 300},
                detail="shorten it by 20",
                extra={"over": 20},
            ),
            Bad(
                "second item of a thread too long",
                422,
                "text_too_long",
                lambda w: {"channel_ids": [w.ch], "items": [{"text": "ok"}, {"text": "y" * 600}]},
                detail="item 2",
                extra={"item": 2, "over": 100},
            ),
            Bad(
                "over 100,000 characters",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "text": "x" * 100_001},
                detail="100000",
            ),
            Bad(
                "unknown mode",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "text": "x", "mode": "later"},
            ),
            Bad(
                "custom time without at",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "text": "x", "mode": "custom"},
                detail="`at`",
            ),
            Bad(
                "custom time in the past",
                422,
                "schedule_in_past",
                lambda w: {"channel_ids": [w.ch], "text": "x", "mode": "custom", "at": past},
            ),
            Bad(
                "wall time past in the channel's zone",
                422,
                "schedule_in_past",
                lambda w: {
                    "channel_ids": [w.ch],
                    "text": "x",
                    "mode": "custom",
                    "at": "2026-11-26T06:30",
                },
                detail="Europe/Berlin",
            ),
            Bad(
                "custom time not a time",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "text": "x", "mode": "custom", "at": "soon"},
            ),
            Bad(
                "custom time past year 9999",
                422,
                "invalid_request",
                lambda w: {
                    "channel_ids": [w.ch],
                    "text": "x",
                    "mode": "custom",
                    "at": "9999-12-31T23:00:00-05:00",
                },
            ),
            Bad(
                "at without custom mode",
                422,
                "invalid_request",
                lambda w: {"channel_ids": [w.ch], "text": "x", "mode": "queue", "at": future},
            ),
            Bad(
                "share now on a paused channel",
                409,
                "channel_paused",
                lambda w: {"channel_ids": [w.ch_paused], "text": "x", "mode": "now"},
            ),
            Bad(
                "queue without posting times",
                409,
                "schedule_empty",
                lambda w: {"channel_ids": [w.ch_empty], "text": "x", "mode": "queue"},
            ),
            Bad(
                "share next without posting times",
                409,
                "schedule_empty",
                lambda w: {"channel_ids": [w.ch, w.ch_empty], "text": "x", "mode": "next"},
            ),
        ],
        "GET /posts": [
            *_bad_pages(),
            Bad("unknown status", 422, "invalid_request", params={"status": "lost"}),
            Bad("another workspace's channel", 404, "not_found", params={"channel_id": "{w.s_ch}"}),
            Bad("channel id a word", 422, "invalid_request", params={"channel_id": "main"}),
            Bad("channel id too big", 422, "invalid_request", params={"channel_id": big}),
        ],
        "GET /posts/{id}": [
            Bad("another workspace's", 404, "not_found", path="/posts/{w.s_post}"),
            Bad("unknown post", 404, "not_found", path=f"/posts/{unknown}"),
            Bad("id not a number", 422, "invalid_request", path="/posts/first"),
        ],
        "PATCH /posts/{id}": [
            Bad("text a number", 422, "invalid_request", {"text": 5}),
            Bad("text and items", 422, "invalid_request", {"text": "x", "items": [{"text": "y"}]}),
            Bad("no items", 422, "invalid_request", {"items": []}),
            Bad("unknown field", 422, "invalid_request", {"status": "sent"}),
            Bad("too long", 422, "text_too_long", {"text": "x" * 501}, extra={"over": 1}),
            Bad("over 100,000 characters", 422, "invalid_request", {"text": "x" * 100_001}),
            Bad("NUL in text", 422, "invalid_request", {"items": [{"text": "a\x00"}]}),
            Bad(
                "another workspace's media",
                404,
                "not_found",
                lambda w: {"text": "x", "media_ids": [w.s_media]},
            ),
            Bad(
                "another workspace's post",
                404,
                "not_found",
                {"text": "mine"},
                path="/posts/{w.s_post}",
            ),
            Bad("being published", 409, "post_not_editable", {"text": "x"}, path="/posts/{w.busy}"),
        ],
        "DELETE /posts/{id}": [
            Bad("another workspace's", 404, "not_found", path="/posts/{w.s_post}"),
            Bad("being published", 409, "post_not_editable", path="/posts/{w.busy}"),
        ],
        "POST /posts/{id}/place": [
            Bad("mode missing", 422, "invalid_request", {}),
            Bad("unknown mode", 422, "invalid_request", {"mode": "soon"}),
            Bad(
                "custom time without at", 422, "invalid_request", {"mode": "custom"}, detail="`at`"
            ),
            Bad(
                "custom time in the past",
                422,
                "schedule_in_past",
                {"mode": "custom", "at": "2026-11-25T09:00:00+01:00"},
            ),
            Bad("at without custom mode", 422, "invalid_request", {"mode": "queue", "at": future}),
            Bad(
                "share now on a paused channel",
                409,
                "channel_paused",
                {"mode": "now"},
                path="/posts/{w.held}/place",
            ),
            Bad(
                "queue without posting times",
                409,
                "schedule_empty",
                {"mode": "queue"},
                path="/posts/{w.empty_draft}/place",
            ),
            Bad(
                "another workspace's",
                404,
                "not_found",
                {"mode": "draft"},
                path="/posts/{w.s_post}/place",
            ),
            Bad(
                "being published",
                409,
                "post_not_editable",
                {"mode": "draft"},
                path="/posts/{w.busy}/place",
            ),
        ],
        "GET /posts/{id}/attempts": [
            *_bad_pages(),
            Bad("another workspace's", 404, "not_found", path="/posts/{w.s_post}/attempts"),
            Bad("unknown post", 404, "not_found", path=f"/posts/{unknown}/attempts"),
            Bad("id not a number", 422, "invalid_request", path="/posts/first/attempts"),
        ],
        "POST /posts/{id}/resolve": [
            Bad("outcome missing", 422, "invalid_request", {}, detail="outcome"),
            Bad("outcome unknown", 422, "invalid_request", {"outcome": "published"}),
            Bad("outcome null", 422, "invalid_request", {"outcome": None}),
            Bad("unknown field", 422, "invalid_request", {"outcome": "sent", "at": "now"}),
            Bad("not JSON", 422, "invalid_request", content=b"sent"),
            Bad(
                "a queued post",
                409,
                "conflict",
                {"outcome": "retry"},
                detail="is scheduled",
                extra={"post_status": "scheduled"},
            ),
            Bad("a draft", 409, "conflict", {"outcome": "sent"}, path="/posts/{w.draft}/resolve"),
            Bad(
                "a failed post marked sent",
                409,
                "conflict",
                {"outcome": "sent"},
                path="/posts/{w.failed}/resolve",
                detail="media type not supported",
            ),
            Bad(
                "being published",
                409,
                "conflict",
                {"outcome": "retry"},
                path="/posts/{w.busy}/resolve",
                detail="is claimed",
            ),
            Bad(
                "a held post",
                409,
                "conflict",
                {"outcome": "retry"},
                path="/posts/{w.held}/resolve",
                detail="is held",
            ),
            Bad(
                "another workspace's",
                404,
                "not_found",
                {"outcome": "retry"},
                path="/posts/{w.s_post}/resolve",
            ),
        ],
        "POST /posts/{id}/share-now": [
            Bad("paused channel", 409, "channel_paused", path="/posts/{w.held}/share-now"),
            Bad("another workspace's", 404, "not_found", path="/posts/{w.s_post}/share-now"),
            Bad("being published", 409, "post_not_editable", path="/posts/{w.busy}/share-now"),
        ],
        "POST /posts/{id}/move-to-top": [
            Bad("a draft", 409, "conflict", path="/posts/{w.draft}/move-to-top"),
            Bad("another workspace's", 404, "not_found", path="/posts/{w.s_post}/move-to-top"),
        ],
        "POST /posts/{id}/move": [
            Bad("position missing", 422, "invalid_request", {}),
            Bad("position zero", 422, "invalid_request", {"position": 0}),
            Bad("position a word", 422, "invalid_request", {"position": "first"}),
            Bad(
                "position past the end",
                422,
                "invalid_request",
                {"position": 3},
                detail="between 1 and 2",
            ),
            Bad("a draft", 409, "conflict", {"position": 1}, path="/posts/{w.draft}/move"),
            Bad(
                "another workspace's",
                404,
                "not_found",
                {"position": 1},
                path="/posts/{w.s_post}/move",
            ),
        ],
        # -- media ---------------------------------------------------------------------------
        "POST /media": [
            Bad(
                "text file",
                422,
                "invalid_request",
                content=b"hello",
                content_type="text/plain",
                detail="text/plain",
            ),
            Bad(
                "executable",
                422,
                "invalid_request",
                content=b"MZ",
                content_type="application/x-msdownload",
            ),
            Bad("no content type", 422, "invalid_request", content=b"\x89PNG"),
            Bad(
                "empty",
                422,
                "invalid_request",
                content=b"",
                content_type="image/png",
                detail="empty",
            ),
            Bad(
                "over the size limit",
                422,
                "invalid_request",
                content=b"\0" * (1024 * 1024 + 1),
                content_type="image/png",
                detail="1 MiB",
            ),
            Bad(
                "type too long",
                422,
                "invalid_request",
                content=b"\x89PNG",
                content_type="image/" + "a" * 200,
            ),
            Bad(
                "file name too long",
                422,
                "invalid_request",
                content=b"\x89PNG",
                content_type="image/png",
                params={"filename": "a" * 256},
            ),
        ],
        "GET /media": _bad_pages(),
        "GET /media/{id}": [
            Bad("another workspace's", 404, "not_found", path="/media/{w.s_media}"),
            Bad("id not a number", 422, "invalid_request", path="/media/logo.png"),
        ],
        "DELETE /media/{id}": [
            Bad("another workspace's", 404, "not_found", path="/media/{w.s_media}"),
            Bad("attached to a post", 409, "conflict", path="/media/{w.media_used}"),
            Bad("unknown media", 404, "not_found", path=f"/media/{unknown}"),
        ],
    }


def _channel_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "network": "sandbox",
        "handle": "@new@example.social",
        "timezone": "Europe/Berlin",
        "schedule": SCHEDULE,
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def _bad_pages() -> list[Bad]:
    """What every paginated list refuses."""
    return [
        Bad("cursor not base64 JSON", 422, "invalid_cursor", params={"cursor": "%%%"}),
        Bad("cursor of a word", 422, "invalid_cursor", params={"cursor": cursor_of("next")}),
        Bad("cursor of a huge number", 422, "invalid_cursor", params={"cursor": cursor_of(10**30)}),
        Bad("cursor of true", 422, "invalid_cursor", params={"cursor": cursor_of(True)}),
        Bad(
            "cursor of nested lists",
            422,
            "invalid_cursor",
            params={"cursor": cursor_of([[[[[[1]]]]]])},
        ),
        Bad("cursor far too long", 422, "invalid_cursor", params={"cursor": "W" * 5000}),
        Bad("limit zero", 422, "invalid_request", params={"limit": 0}),
        Bad("limit over 200", 422, "invalid_request", params={"limit": 201}),
        Bad("limit negative", 422, "invalid_request", params={"limit": -1}),
        Bad("limit a word", 422, "invalid_request", params={"limit": "ten"}),
    ]


CASES = _cases()


def _filled(template: str, world: World) -> str:
    return template.format(w=world)


# Where an endpoint's `{id}` points when a line gives no path of its own.
_DEFAULT_TARGETS = {
    "/channels/": "{w.ch}",
    "/posts/": "{w.q1}",
    "/media/": "{w.media}",
    "/workspace/members/": "{w.editor}",
}


def _default_path(path: str) -> str:
    for prefix, target in _DEFAULT_TARGETS.items():
        if path.startswith(prefix):
            return path.replace("{id}", target)
    return path


async def _send(
    client: httpx.AsyncClient, team: Team, world: World, endpoint: str, bad: Bad
) -> httpx.Response:
    method, default_path = endpoint.split(" ", 1)
    path = _filled(bad.path or _default_path(default_path), world)
    params = {k: _filled(v, world) if isinstance(v, str) else v for k, v in bad.params.items()}
    headers = {"Content-Type": bad.content_type} if bad.content_type else {}
    if bad.json is not _NO_BODY:
        json = bad.json(world) if callable(bad.json) else bad.json
        return await call(
            client, team.owner, method, path, json=json, params=params, extra_headers=headers
        )
    return await call(
        client,
        team.owner,
        method,
        path,
        content=bad.content,
        params=params,
        extra_headers=headers,
    )


@pytest.mark.parametrize("endpoint", list(CASES), ids=str)
async def test_bad_input_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, team: Team, world: World, state: DbState, endpoint: str
) -> None:
    before = await state.take()
    failures: list[str] = []
    for bad in CASES[endpoint]:
        response = await _send(client, team, world, endpoint, bad)
        try:
            body = problem(response, bad.status, bad.code)
            assert bad.detail in body["detail"], f"detail lacks {bad.detail!r}: {body['detail']}"
            for key, value in bad.extra.items():
                assert body.get(key) == value, f"{key}={body.get(key)!r}, wanted {value!r}"
            before.assert_same_as(await state.take())
        except AssertionError as exc:
            failures.append(f"{bad.why}: {exc}")
            before = await state.take()  # report each write once
    assert not failures, f"{endpoint}:\n" + "\n".join(failures)
