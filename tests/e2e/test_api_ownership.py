"""Who may do what, endpoint by endpoint, through the HTTP API.

For every endpoint that names an object (channel, post, media, token, member):

* each role of the workspace gets 2xx where it may act and 403 `forbidden` where it may not
  (viewers read; editors and owners write; only owners manage members and the workspace);
* the owner of another workspace gets 404 `not_found` -- never 403 -- with the very body an
  id that does not exist gets, so nothing about the object leaks;
* a refused request writes nothing.

And for every endpoint: no token, a malformed, unknown or revoked token is 401.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from onthedot.accounts.models import Role
from onthedot.api import create_app
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from onthedot.posts.models import Post, PostItem, PostStatus
from tests.conftest import Actor, Team
from tests.e2e.helpers import (
    PNG,
    UNKNOWN_ID,
    DbState,
    call,
    new_channel,
    new_post,
    ok,
    problem,
    upload,
)

READ = frozenset(Role)
EDIT = frozenset({Role.OWNER, Role.EDITOR})
OWNER = frozenset({Role.OWNER})

_names = itertools.count(1)
# The database of the running test, for objects only the broadcaster makes (see below).
_database: list[async_sessionmaker[AsyncSession]] = []


@pytest.fixture(autouse=True)
def _remember_the_database(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    _database[:] = [sessionmaker]


@dataclass(frozen=True)
class Target:
    """The object an endpoint is called on."""

    id: int
    channel: int = 0
    # Something only the object's workspace may see; it must not appear in a 404.
    secret: str = ""


UNKNOWN = Target(UNKNOWN_ID, UNKNOWN_ID)

Make = Callable[[httpx.AsyncClient, Team, Actor], Awaitable[Target]]


async def a_channel(client: httpx.AsyncClient, team: Team, _actor: Actor) -> Target:
    handle = f"@secret-handle-{next(_names)}@example.social"
    channel = await new_channel(client, team.owner, handle=handle)
    return Target(channel["id"], channel["id"], handle)


async def a_paused_channel(client: httpx.AsyncClient, team: Team, actor: Actor) -> Target:
    target = await a_channel(client, team, actor)
    ok(await call(client, team.owner, "POST", f"/channels/{target.id}/pause"), 200)
    return target


async def a_queued_post(client: httpx.AsyncClient, team: Team, _actor: Actor) -> Target:
    channel = await new_channel(client, team.owner)
    text = f"secret text {next(_names)}"
    post = await new_post(client, team.owner, channel["id"], text=text)
    return Target(post["id"], channel["id"], text)


async def an_unknown_post(client: httpx.AsyncClient, team: Team, actor: Actor) -> Target:
    """A post the broadcaster could not tell the outcome of (it only gets there by itself)."""
    target = await a_queued_post(client, team, actor)
    async with _database[0]() as session, session.begin():
        await session.execute(
            update(Post)
            .where(Post.id == target.id)
            .values(status=PostStatus.UNKNOWN, last_error="secret: the network timed out")
        )
    return target


async def a_published_post(client: httpx.AsyncClient, team: Team, actor: Actor) -> Target:
    """A post that went out (its sandbox channel reports no engagement: no network is asked)."""
    target = await a_queued_post(client, team, actor)
    async with _database[0]() as session, session.begin():
        await session.execute(
            update(Post).where(Post.id == target.id).values(status=PostStatus.SENT)
        )
        await session.execute(
            update(PostItem).where(PostItem.post_id == target.id).values(network_id="secret-1")
        )
    return target


async def a_media(client: httpx.AsyncClient, team: Team, _actor: Actor) -> Target:
    name = f"secret-file-{next(_names)}.png"
    media = await upload(client, team.owner, filename=name)
    return Target(media["id"], 0, name)


async def a_member(client: httpx.AsyncClient, team: Team, _actor: Actor) -> Target:
    email = f"secret-member-{next(_names)}@acme.test"
    body = {"email": email, "role": "viewer"}
    member = ok(await call(client, team.owner, "POST", "/workspace/members", json=body), 201)
    return Target(member["user_id"], 0, email)


async def own_token(client: httpx.AsyncClient, team: Team, actor: Actor) -> Target:
    """The caller's own token; for the stranger, one of Acme's owner."""
    holder = team.owner if actor is team.stranger else actor
    name = f"secret-token-{next(_names)}"
    token = ok(await call(client, holder, "POST", "/tokens", json={"name": name}), 201)
    return Target(token["id"], 0, name)


async def nothing(_client: httpx.AsyncClient, _team: Team, _actor: Actor) -> Target:
    return Target(0)


Body = Callable[[Target], Any]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # "{id}" is the target's id, "{channel}" its channel
    allowed: frozenset[Role]
    status: int  # of a call that is allowed
    make: Make = nothing
    body: Body | None = None
    upload: bool = False
    label: str = ""  # tells apart two lines of one endpoint

    def __str__(self) -> str:
        return f"{self.method} {self.path}" + (f" ({self.label})" if self.label else "")

    async def send(
        self, client: httpx.AsyncClient, actor: Actor | dict[str, str] | None, target: Target
    ) -> httpx.Response:
        path = self.path.format(id=target.id, channel=target.channel)
        if self.upload:
            return await call(
                client, actor, self.method, path, content=PNG, extra_headers=IMAGE_PNG
            )
        body = self.body(target) if self.body is not None else None
        return await call(client, actor, self.method, path, json=body)


IMAGE_PNG = {"Content-Type": "image/png"}

# Every endpoint that names one object of a workspace.
OBJECT_ENDPOINTS = [
    Endpoint("GET", "/channels/{id}", READ, 200, a_channel),
    Endpoint("PATCH", "/channels/{id}", EDIT, 200, a_channel, lambda _: {"handle": "@new"}),
    Endpoint(
        "PUT", "/channels/{id}/schedule", EDIT, 200, a_channel, lambda _: {"schedule": "Mon 09:00"}
    ),
    Endpoint("POST", "/channels/{id}/pause", EDIT, 200, a_channel),
    Endpoint("POST", "/channels/{id}/resume", EDIT, 200, a_paused_channel),
    Endpoint("DELETE", "/channels/{id}", EDIT, 204, a_channel),
    Endpoint("GET", "/channels/{channel}/queue", READ, 200, a_queued_post),
    Endpoint(
        "PUT",
        "/channels/{channel}/queue/order",
        EDIT,
        200,
        a_queued_post,
        lambda t: {"post_ids": [t.id]},
    ),
    Endpoint("POST", "/channels/{channel}/queue/shuffle", EDIT, 200, a_queued_post),
    Endpoint("GET", "/posts?channel_id={channel}", READ, 200, a_queued_post),
    Endpoint(
        "POST", "/posts", EDIT, 201, a_channel, lambda t: {"channel_ids": [t.id], "text": "hi"}
    ),
    Endpoint("GET", "/posts/{id}", READ, 200, a_queued_post),
    Endpoint("PATCH", "/posts/{id}", EDIT, 200, a_queued_post, lambda _: {"text": "edited"}),
    # A PATCH that changes nothing is still a write: a viewer may not send it.
    Endpoint("PATCH", "/posts/{id}", EDIT, 200, a_queued_post, lambda _: {}, label="empty"),
    Endpoint("PATCH", "/channels/{id}", EDIT, 200, a_channel, lambda _: {}, label="empty"),
    Endpoint("DELETE", "/posts/{id}", EDIT, 204, a_queued_post),
    Endpoint("POST", "/posts/{id}/place", EDIT, 200, a_queued_post, lambda _: {"mode": "draft"}),
    Endpoint("POST", "/posts/{id}/share-now", EDIT, 200, a_queued_post),
    Endpoint("POST", "/posts/{id}/move-to-top", EDIT, 200, a_queued_post),
    Endpoint("POST", "/posts/{id}/move", EDIT, 200, a_queued_post, lambda _: {"position": 1}),
    Endpoint("GET", "/posts/{id}/attempts", READ, 200, a_queued_post),
    Endpoint("GET", "/posts/{id}/engagement", READ, 200, a_published_post),
    Endpoint(
        "POST", "/posts/{id}/resolve", EDIT, 200, an_unknown_post, lambda _: {"outcome": "sent"}
    ),
    Endpoint("GET", "/media/{id}", READ, 200, a_media),
    Endpoint("DELETE", "/media/{id}", EDIT, 204, a_media),
    Endpoint(
        "PATCH", "/workspace/members/{id}", OWNER, 200, a_member, lambda _: {"role": "editor"}
    ),
    Endpoint("DELETE", "/workspace/members/{id}", OWNER, 204, a_member),
    # Tokens are personal: every member revokes their own (a teammate's is another test).
    Endpoint("DELETE", "/tokens/{id}", READ, 200, own_token),
]


def _new_email(_: Target) -> dict[str, str]:
    return {"email": f"new-{next(_names)}@acme.test", "role": "viewer"}


# Endpoints of the caller's own workspace, that name no object.
WORKSPACE_ENDPOINTS = [
    Endpoint("GET", "/workspace", READ, 200),
    Endpoint("PATCH", "/workspace", OWNER, 200, body=lambda _: {"name": "Acme Inc"}),
    Endpoint("POST", "/workspaces", READ, 201, body=lambda _: {"name": "My own"}),
    Endpoint("GET", "/workspace/members", READ, 200),
    Endpoint("POST", "/workspace/members", OWNER, 201, body=_new_email),
    Endpoint("GET", "/tokens", READ, 200),
    Endpoint("POST", "/tokens", READ, 201, body=lambda _: {"name": "ci"}),
    Endpoint("GET", "/channels", READ, 200),
    Endpoint(
        "POST",
        "/channels",
        EDIT,
        201,
        body=lambda _: {"network": "sandbox", "handle": "@a", "timezone": "UTC"},
    ),
    Endpoint("GET", "/posts", READ, 200),
    Endpoint("GET", "/media", READ, 200),
    Endpoint("POST", "/media", EDIT, 201, upload=True),
    Endpoint("GET", "/reports/lateness?due=2026-11-26T08:00", READ, 200),
    Endpoint("GET", "/networks", READ, 200),
    # X's consent address is made without calling X (see `_an_x_app`).
    Endpoint(
        "POST", "/channels/connect", EDIT, 200, body=lambda _: {"network": "x", "timezone": "UTC"}
    ),
    Endpoint("GET", "/reports/lateness.png?due=2026-11-26T08:00", READ, 200),
]

ALL_ENDPOINTS = OBJECT_ENDPOINTS + WORKSPACE_ENDPOINTS

# Not this suite's: the operator's revenue reports and Stripe's signed webhook.
OTHER_SUITES = ("/api/v1/revenue/", "/api/v1/stripe/")


@pytest.fixture(autouse=True)
def _an_x_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """This installation has an X app, so connecting X needs no network call to start."""
    monkeypatch.setenv("ONTHEDOT_X_CLIENT_ID", "ownership-tests")


def test_the_tables_name_every_endpoint(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock, box: CredentialBox
) -> None:
    """A new endpoint must be added to the tables above, with the roles that may call it."""

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0])

    schema = create_app(settings, clock=clock, engine=engine, box=box).openapi()
    served = {
        (method.upper(), shape(path))
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/") and not path.startswith(OTHER_SUITES)
        for method in operations
    }
    tested = {(e.method, shape("/api/v1" + e.path)) for e in ALL_ENDPOINTS}
    assert served - tested == set(), "endpoints without ownership tests"
    assert tested - served == set(), "tested endpoints the app does not serve"


def _actor(team: Team, role: Role) -> Actor:
    actor: Actor = getattr(team, role.value)
    return actor


def _masked(response: httpx.Response, target: Target) -> dict[str, Any]:
    """The body with the target's ids in its text replaced, to compare two 404s."""
    body: dict[str, Any] = response.json()
    for value in {target.id, target.channel} - {0}:
        body = {
            k: re.sub(rf"\b{value}\b", "<id>", v) if isinstance(v, str) else v
            for k, v in body.items()
        }
    return body


@pytest.mark.parametrize("endpoint", OBJECT_ENDPOINTS, ids=str)
async def test_object_endpoint(
    client: httpx.AsyncClient, team: Team, state: DbState, endpoint: Endpoint
) -> None:
    # Another workspace's owner: not found, exactly like an id that does not exist.
    target = await endpoint.make(client, team, team.stranger)
    async with state.unchanged():
        theirs = await endpoint.send(client, team.stranger, target)
        missing = await endpoint.send(client, team.stranger, UNKNOWN)
    problem(theirs, 404, "not_found")
    problem(missing, 404, "not_found")
    assert target.secret not in theirs.text
    assert _masked(theirs, target) == _masked(missing, UNKNOWN)

    # Members of the workspace, each on a fresh object.
    for role in (Role.VIEWER, Role.EDITOR, Role.OWNER):
        actor = _actor(team, role)
        target = await endpoint.make(client, team, actor)
        if role in endpoint.allowed:
            ok(await endpoint.send(client, actor, target), endpoint.status)
        else:
            async with state.unchanged():
                refused = await endpoint.send(client, actor, target)
            problem(refused, 403, "forbidden")
            assert role.value in refused.json()["detail"]


@pytest.mark.parametrize("endpoint", WORKSPACE_ENDPOINTS, ids=str)
async def test_workspace_endpoint(
    client: httpx.AsyncClient, team: Team, state: DbState, endpoint: Endpoint
) -> None:
    for role in (Role.VIEWER, Role.EDITOR, Role.OWNER):
        actor = _actor(team, role)
        if role in endpoint.allowed:
            ok(await endpoint.send(client, actor, Target(0)), endpoint.status)
        else:
            async with state.unchanged():
                refused = await endpoint.send(client, actor, Target(0))
            problem(refused, 403, "forbidden")


BAD_CREDENTIALS: list[dict[str, str] | None] = [
    None,
    {"Authorization": ""},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer    "},
    {"Authorization": "Basic b3duZXI6c2VjcmV0"},
    {"Authorization": "Token odt_abc"},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Bearer odt_" + "A" * 43},
]


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS, ids=str)
async def test_no_valid_token_is_unauthenticated(
    client: httpx.AsyncClient, team: Team, state: DbState, endpoint: Endpoint
) -> None:
    target = await endpoint.make(client, team, team.owner)
    revoked = ok(await call(client, team.owner, "POST", "/tokens", json={"name": "old"}), 201)
    ok(await call(client, team.owner, "DELETE", f"/tokens/{revoked['id']}"), 200)
    credentials = [*BAD_CREDENTIALS, {"Authorization": f"Bearer {revoked['token']}"}]
    async with state.unchanged():
        for sent in credentials:
            response = await endpoint.send(client, sent, target)
            problem(response, 401, "unauthenticated")
            assert response.headers["www-authenticate"] == "Bearer"
            if target.secret:
                assert target.secret not in response.text


async def test_a_revoked_token_stops_working_at_once(client: httpx.AsyncClient, team: Team) -> None:
    created = ok(await call(client, team.editor, "POST", "/tokens", json={"name": "laptop"}), 201)
    laptop = {"Authorization": f"Bearer {created['token']}"}
    ok(await call(client, laptop, "GET", "/channels"), 200)

    # A token can revoke itself; the very next request with it is refused.
    revoked = ok(await call(client, laptop, "DELETE", f"/tokens/{created['id']}"), 200)
    assert revoked["revoked_at"] is not None
    problem(await call(client, laptop, "GET", "/channels"), 401, "unauthenticated")
    # The holder's other tokens keep working.
    ok(await call(client, team.editor, "GET", "/channels"), 200)

    # The owner revokes a teammate's token.
    tokens = ok(await call(client, team.owner, "GET", "/tokens"), 200)
    (viewers,) = [t for t in tokens if t["user_id"] == team.viewer.member.user_id]
    ok(await call(client, team.owner, "DELETE", f"/tokens/{viewers['id']}"), 200)
    body = problem(await call(client, team.viewer, "GET", "/workspace"), 401, "unauthenticated")
    assert "revoked" in body["detail"]


async def test_a_removed_members_tokens_stop_working(client: httpx.AsyncClient, team: Team) -> None:
    ok(await call(client, team.editor, "GET", "/workspace"), 200)
    user_id = team.editor.member.user_id
    ok(await call(client, team.owner, "DELETE", f"/workspace/members/{user_id}"), 204)
    problem(await call(client, team.editor, "GET", "/workspace"), 401, "unauthenticated")


async def test_teammates_tokens_are_the_owners_to_manage(
    client: httpx.AsyncClient, team: Team, state: DbState
) -> None:
    owner_tokens = ok(await call(client, team.owner, "GET", "/tokens"), 200)
    assert {t["user_id"] for t in owner_tokens} == {
        team.owner.member.user_id,
        team.editor.member.user_id,
        team.viewer.member.user_id,
    }
    for actor in (team.editor, team.viewer):
        mine = ok(await call(client, actor, "GET", "/tokens"), 200)
        assert {t["user_id"] for t in mine} == {actor.member.user_id}
        # Another member's token does not exist for a non-owner.
        (owners,) = [t for t in owner_tokens if t["user_id"] == team.owner.member.user_id]
        async with state.unchanged():
            response = await call(client, actor, "DELETE", f"/tokens/{owners['id']}")
        problem(response, 404, "not_found")
    assert all("token" not in t for t in owner_tokens)


async def test_another_workspaces_lists_show_nothing_of_acme(
    client: httpx.AsyncClient, team: Team
) -> None:
    channel = await new_channel(client, team.owner, handle="@acme-only@example.social")
    post = await new_post(client, team.owner, channel["id"], text="acme only")
    media = await upload(client, team.owner, filename="acme-only.png")

    stranger = team.stranger
    assert ok(await call(client, stranger, "GET", "/channels"), 200)["items"] == []
    assert ok(await call(client, stranger, "GET", "/posts"), 200)["items"] == []
    assert ok(await call(client, stranger, "GET", "/media"), 200)["items"] == []
    workspace = ok(await call(client, stranger, "GET", "/workspace"), 200)
    assert workspace["name"] == "Other"
    members = ok(await call(client, stranger, "GET", "/workspace/members"), 200)
    assert [m["email"] for m in members] == [stranger.email]
    tokens = ok(await call(client, stranger, "GET", "/tokens"), 200)
    assert {t["user_id"] for t in tokens} == {stranger.member.user_id}
    # Filtering by an Acme channel is not a way in either.
    problem(
        await call(client, stranger, "GET", "/posts", params={"channel_id": channel["id"]}),
        404,
        "not_found",
    )
    # While Acme sees its own.
    assert [c["id"] for c in ok(await call(client, team.viewer, "GET", "/channels"))["items"]] == [
        channel["id"]
    ]
    assert [p["id"] for p in ok(await call(client, team.viewer, "GET", "/posts"))["items"]] == [
        post["id"]
    ]
    assert [m["id"] for m in ok(await call(client, team.viewer, "GET", "/media"))["items"]] == [
        media["id"]
    ]
