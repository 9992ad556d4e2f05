"""The sandbox adapter against the sandbox itself over ASGI: every answer the sandbox can give
becomes the one outcome the broadcaster expects, with a message a person can act on."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.networks import Network
from onthedot.networks.base import (
    AuthRevoked,
    CannotTell,
    Item,
    Job,
    MediaFile,
    Permanent,
    Prepared,
    Published,
    RateLimited,
    Transient,
)
from onthedot.networks.sandbox import SandboxAdapter
from onthedot.networks.sandbox import adapter as adapter_module
from onthedot.sandbox import Sandbox, SandboxConfig, create_sandbox_app

T0 = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
TOKEN = "tok-very-secret"


def make_job(
    *texts: str,
    post_id: int = 41,
    handle: str = "@alice",
    due_at: dt.datetime = T0,
    media: tuple[MediaFile, ...] = (),
) -> Job:
    items = tuple(
        Item(item_id=100 + i, position=i, text=text, media=media if i == 0 else ())
        for i, text in enumerate(texts or ("hello, sandbox",))
    )
    return Job(
        post_id=post_id,
        channel_id=7,
        workspace_id=1,
        network=Network.SANDBOX,
        handle=handle,
        credentials={"token": TOKEN},
        items=items,
        due_at=due_at,
    )


Make = Callable[..., Awaitable[tuple[Sandbox, SandboxAdapter, httpx.AsyncClient]]]


@pytest.fixture
async def make(clock: FrozenClock) -> AsyncIterator[Make]:
    """A sandbox with the given config, an adapter over ASGI, and a client to look inside."""
    clients: list[httpx.AsyncClient] = []

    async def build(
        *, idempotent: bool = True, **config: Any
    ) -> tuple[Sandbox, SandboxAdapter, httpx.AsyncClient]:
        app = create_sandbox_app(SandboxConfig(seed=3, **config), clock=clock)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")
        clients.append(http)
        adapter = SandboxAdapter("http://sandbox/", client=http, idempotent=idempotent, clock=clock)
        return app.state.sandbox, adapter, http

    yield build
    for http in clients:
        await http.aclose()


async def records(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = (await http.get("/api/v1/requests")).json()["requests"]
    return result


async def test_the_adapter_declares_its_network_and_limits() -> None:
    async with httpx.AsyncClient() as http:
        adapter = SandboxAdapter("http://sandbox", client=http)
        assert adapter.network is Network.SANDBOX
        assert (adapter.limits.network_in_flight, adapter.limits.account_in_flight) == (1000, 1)
        assert adapter.idempotent
        assert not SandboxAdapter("http://sandbox", client=http, idempotent=False).idempotent


@pytest.mark.parametrize(("mode", "idempotent"), [("key", True), ("none", False)])
async def test_the_adapter_learns_how_the_sandbox_deduplicates(
    clock: FrozenClock, mode: str, idempotent: bool
) -> None:
    app = create_sandbox_app(SandboxConfig(seed=3, idempotency=mode), clock=clock)  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
    ) as http:
        adapter = SandboxAdapter("http://sandbox/", client=http, clock=clock)
        the_job = make_job()
        await adapter.commit(the_job, Prepared(), the_job.items[0], None)
        assert adapter.idempotent is idempotent


# --- publishing ----------------------------------------------------------------------------


async def test_commit_publishes_with_key_ref_and_due_time(make: Make, clock: FrozenClock) -> None:
    sandbox, adapter, http = await make()
    job = make_job("on the dot")
    item = job.items[0]
    clock.advance(0.2)

    published = await adapter.commit(job, Prepared(), item, None)

    assert published.status == 201
    assert published.url == f"sandbox://alice/{published.network_id}"
    assert published.rate is None  # no rate limit configured, no headers
    [record] = await records(http)
    assert record["account"] == "alice"
    assert record["idempotency_key"] == job.idempotency_key(item)
    assert record["ref"] == "41/0"
    assert record["due_at"] == T0.isoformat()
    assert record["arrived_at"] == (T0 + dt.timedelta(seconds=0.2)).isoformat()
    assert sandbox.posts[published.network_id].text == "on the dot"


async def test_committing_again_returns_the_same_post_and_creates_nothing(make: Make) -> None:
    _, adapter, http = await make()
    job = make_job()
    first = await adapter.commit(job, Prepared(), job.items[0], None)
    again = await adapter.commit(job, Prepared(), job.items[0], None)

    assert again.network_id == first.network_id
    assert again.status == 200
    assert [r["created"] for r in await records(http)] == [True, False]


async def test_the_handle_names_the_account_without_at_or_domain(make: Make) -> None:
    sandbox, adapter, _ = await make()
    job = make_job(handle="@bob@sandbox.example")
    published = await adapter.commit(job, Prepared(), job.items[0], None)
    assert sandbox.posts[published.network_id].account == "bob"
    with pytest.raises(Permanent, match="names no sandbox account"):
        await adapter.commit(make_job(handle="@"), Prepared(), job.items[0], None)


async def test_a_thread_replies_to_the_item_before(make: Make) -> None:
    sandbox, adapter, _ = await make()
    job = make_job("1/2 first", "2/2 second")
    head = await adapter.commit(job, Prepared(), job.items[0], None)
    reply = await adapter.commit(job, Prepared(), job.items[1], head)

    assert sandbox.posts[reply.network_id].reply_to == head.network_id
    assert sandbox.posts[reply.network_id].ref == "41/1"
    assert await adapter.find(job, job.items[1], head) == Published(
        reply.network_id, reply.url, 200, None
    )


async def test_prepare_uploads_media_that_commit_references(make: Make, tmp_path: Path) -> None:
    sandbox, adapter, _ = await make()
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG fake")
    media = MediaFile(path=photo, content_type="image/png", size=9, filename="photo.png")
    job = make_job("with a photo", "and a reply", media=(media,))

    prepared = await adapter.prepare(job)

    [media_id] = prepared.items[0]
    assert prepared.items[1] == []
    assert sandbox.media[media_id].content_type == "image/png"
    assert sandbox.media[media_id].size == 9
    published = await adapter.commit(job, prepared, job.items[0], None)
    assert sandbox.posts[published.network_id].media_ids == [media_id]


async def test_commit_uploads_media_that_was_not_prepared_or_was_forgotten(
    make: Make, tmp_path: Path
) -> None:
    sandbox, adapter, http = await make()
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"png")
    media = MediaFile(path=photo, content_type="image/png", size=3, filename="photo.png")
    job = make_job(media=(media,))

    unprepared = await adapter.commit(job, Prepared(), job.items[0], None)
    assert len(sandbox.posts[unprepared.network_id].media_ids) == 1

    prepared = await adapter.prepare(make_job(post_id=42, media=(media,)))
    await http.post("/api/v1/reset")  # the sandbox forgets the uploads
    job = make_job(post_id=42, media=(media,))
    published = await adapter.commit(job, prepared, job.items[0], None)
    [media_id] = sandbox.posts[published.network_id].media_ids
    assert media_id not in prepared.items[0]


async def test_a_missing_media_file_is_permanent(make: Make, tmp_path: Path) -> None:
    _, adapter, _ = await make()
    gone = MediaFile(
        path=tmp_path / "gone.png", content_type="image/png", size=1, filename="gone.png"
    )
    with pytest.raises(Permanent, match=r"cannot read the media file gone\.png"):
        await adapter.prepare(make_job(media=(gone,)))


async def test_media_the_sandbox_refuses_is_permanent(make: Make, tmp_path: Path) -> None:
    _, adapter, _ = await make(max_media_bytes=2)
    big = tmp_path / "big.png"
    big.write_bytes(b"12345")
    media = MediaFile(path=big, content_type="image/png", size=5, filename="big.png")
    with pytest.raises(
        Permanent, match=r"refused the media file big\.png: the file is 5 bytes"
    ) as err:
        await adapter.prepare(make_job(media=(media,)))
    assert err.value.status == 413


# --- the answers ---------------------------------------------------------------------------


async def test_a_lost_answer_is_transient_and_find_then_finds_the_post(make: Make) -> None:
    sandbox, adapter, _ = await make(ghost_rate=1.0)
    job = make_job()

    with pytest.raises(Transient) as err:
        await adapter.commit(job, Prepared(), job.items[0], None)
    assert err.value.maybe_sent is True
    assert err.value.status == 502
    assert "may have been published" in str(err.value)

    found = await adapter.find(job, job.items[0], None)
    assert found is not None
    assert sandbox.posts[found.network_id].ref == "41/0"
    again = await adapter.commit(job, Prepared(), job.items[0], None)  # deduplicated
    assert again.network_id == found.network_id
    assert len(sandbox.posts) == 1


async def test_a_503_is_transient_and_created_nothing(make: Make) -> None:
    sandbox, adapter, _ = await make(error_rate=1.0)
    job = make_job()
    with pytest.raises(Transient) as err:
        await adapter.commit(job, Prepared(), job.items[0], None)
    assert (err.value.status, err.value.maybe_sent) == (503, True)
    assert sandbox.posts == {}
    assert await adapter.find(job, job.items[0], None) is None


async def test_throttling_is_rate_limited_for_a_second(make: Make) -> None:
    _, adapter, _ = await make(throttle_rate=1.0)
    job = make_job()
    with pytest.raises(RateLimited) as err:
        await adapter.commit(job, Prepared(), job.items[0], None)
    assert err.value.reset_at == T0 + dt.timedelta(seconds=1)
    assert err.value.scope == "account"
    assert "rate-limiting @alice" in str(err.value)


async def test_the_rate_limit_window_is_reported_and_enforced(
    make: Make, clock: FrozenClock
) -> None:
    _, adapter, _ = await make(rate_limit={"requests": 2, "window_s": 60})
    clock.advance(15)
    first = await adapter.commit(make_job(post_id=1), Prepared(), make_job().items[0], None)
    assert first.rate is not None
    assert first.rate.remaining == 1
    assert first.rate.reset_at == T0 + dt.timedelta(seconds=60)
    await adapter.commit(make_job(post_id=2), Prepared(), make_job().items[0], None)

    with pytest.raises(RateLimited) as err:
        await adapter.commit(make_job(post_id=3), Prepared(), make_job().items[0], None)
    assert err.value.reset_at == T0 + dt.timedelta(seconds=60)
    assert err.value.status == 429
    assert "06:01:00 UTC" in str(err.value)


async def test_a_revoked_token_is_auth_revoked_and_the_token_stays_secret(make: Make) -> None:
    _, adapter, _ = await make(revoked_tokens=[TOKEN])
    job = make_job()
    with pytest.raises(AuthRevoked) as err:
        await adapter.commit(job, Prepared(), job.items[0], None)
    assert str(err.value) == (
        "the sandbox revoked onthedot's access to @alice: reconnect the channel"
    )
    assert TOKEN not in str(err.value)
    assert isinstance(err.value, Permanent)


async def test_text_too_long_is_permanent_with_the_networks_message(make: Make) -> None:
    _, adapter, _ = await make(max_chars=5)
    job = make_job("far too long")
    with pytest.raises(Permanent) as err:
        await adapter.commit(job, Prepared(), job.items[0], None)
    assert not isinstance(err.value, AuthRevoked)
    assert str(err.value) == (
        "the sandbox refused the post: the text is 12 characters long; the sandbox takes at most 5"
    )
    assert (err.value.status, err.value.code) == (422, "text_too_long")


# --- finding -------------------------------------------------------------------------------


async def test_find_by_key(make: Make) -> None:
    _, adapter, _ = await make()
    job = make_job()
    assert await adapter.find(job, job.items[0], None) is None
    published = await adapter.commit(job, Prepared(), job.items[0], None)
    found = await adapter.find(job, job.items[0], None)
    assert found is not None
    assert (found.network_id, found.url) == (published.network_id, published.url)
    assert await adapter.find(make_job(post_id=99), job.items[0], None) is None


async def test_find_by_key_on_a_network_without_keys_cannot_tell(make: Make) -> None:
    _, adapter, _ = await make(idempotency="none")
    job = make_job()
    with pytest.raises(CannotTell):
        await adapter.find(job, job.items[0], None)


async def test_find_by_paging_through_recent_posts(make: Make, clock: FrozenClock) -> None:
    _, adapter, http = await make(idempotency="none", idempotent=False)
    job = make_job("the one")
    assert await adapter.find(job, job.items[0], None) is None  # an empty account

    clock.advance(-3600)  # an hour before: the same text, not this post
    old = await adapter.commit(make_job("the one", post_id=1), Prepared(), job.items[0], None)
    clock.advance(3600)
    assert await adapter.find(job, job.items[0], None) is None

    published = await adapter.commit(job, Prepared(), job.items[0], None)
    for i in range(3):
        await http.post(
            "/api/v1/accounts/alice/posts",
            json={"text": f"later {i}"},
            headers={"Authorization": "Bearer x"},
        )
    found = await adapter.find(job, job.items[0], None)
    assert found is not None
    assert found.network_id == published.network_id != old.network_id


async def test_paging_proves_absence_only_once_it_reaches_back_past_the_due_time(
    make: Make, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adapter_module, "FIND_PAGES", 2)
    monkeypatch.setattr(adapter_module, "FIND_PAGE_SIZE", 3)
    _, adapter, http = await make(idempotency="none", idempotent=False)
    job = make_job("not there")

    async def other(text: str) -> None:
        answer = await http.post(
            "/api/v1/accounts/alice/posts",
            json={"text": text},
            headers={"Authorization": "Bearer x"},
        )
        assert answer.status_code == 201

    clock.advance(-600)
    for i in range(4):
        await other(f"older {i}")
    clock.advance(600)
    for i in range(3):
        await other(f"newer {i}")
    # Page 1 holds 3 newer posts, page 2 reaches back before the due time: proof.
    assert await adapter.find(job, job.items[0], None) is None

    for i in range(3):
        await other(f"newest {i}")
    # Two pages of posts after the due time, and more beyond: it cannot tell.
    with pytest.raises(CannotTell, match="check @alice's timeline"):
        await adapter.find(job, job.items[0], None)


async def test_a_ghost_is_found_by_paging_too(make: Make) -> None:
    _, adapter, http = await make(idempotency="none", idempotent=False, ghost_rate=1.0)
    job = make_job("1/2", "2/2")
    with pytest.raises(Transient):
        await adapter.commit(job, Prepared(), job.items[0], None)
    head = await adapter.find(job, job.items[0], None)
    assert head is not None
    assert await adapter.find(job, job.items[1], head) is None  # the reply is not there yet
    await http.put("/api/v1/config", json={"ghost_rate": 0})
    reply = await adapter.commit(job, Prepared(), job.items[1], head)
    assert await adapter.find(job, job.items[1], head) == Published(
        reply.network_id, reply.url, 200, None
    )


@pytest.mark.parametrize("idempotent", [True, False])
async def test_a_blind_network_cannot_tell(make: Make, idempotent: bool) -> None:
    _, adapter, _ = await make(idempotency="blind", idempotent=idempotent)
    job = make_job()
    await adapter.commit(job, Prepared(), job.items[0], None)
    with pytest.raises(CannotTell) as err:
        await adapter.find(job, job.items[0], None)
    assert err.value.status == 501
    assert "publish the post again by hand if it is missing" in str(err.value)


# --- transport failures --------------------------------------------------------------------


def failing(exc: Exception) -> SandboxAdapter:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return SandboxAdapter("http://sandbox", client=client, idempotent=True)


@pytest.mark.parametrize(
    ("exc", "maybe_sent", "says"),
    [
        (httpx.ConnectError("refused"), False, "could not reach the sandbox"),
        (httpx.ConnectTimeout("slow"), False, "nothing was sent"),
        (httpx.WriteTimeout("slow"), False, "nothing was sent"),
        (httpx.ReadTimeout("slow"), True, "did not answer within 30 s"),
        (httpx.RemoteProtocolError("closed"), True, "connection to the sandbox broke"),
    ],
)
async def test_transport_failures_are_transient(
    exc: Exception, maybe_sent: bool, says: str
) -> None:
    adapter = failing(exc)
    job = make_job()
    with pytest.raises(Transient) as err:
        await adapter.commit(job, Prepared(), job.items[0], None)
    assert err.value.maybe_sent is maybe_sent
    assert says in str(err.value)
    assert TOKEN not in str(err.value)
    with pytest.raises(Transient):
        await adapter.find(job, job.items[0], None)


async def test_a_url_that_is_not_http_is_permanent() -> None:
    adapter = SandboxAdapter("ftp://sandbox")
    job = make_job()
    with pytest.raises(Permanent, match="not an http"):
        await adapter.commit(job, Prepared(), job.items[0], None)
    await adapter.aclose()


async def test_aclose_closes_only_the_clients_the_adapter_made() -> None:
    handed_in = httpx.AsyncClient()
    await SandboxAdapter("http://sandbox", client=handed_in).aclose()
    assert not handed_in.is_closed
    await handed_in.aclose()

    own = SandboxAdapter("http://127.0.0.1:1")  # nothing listens there: refused at once
    job = make_job()
    with pytest.raises(Transient) as err:
        await own.commit(job, Prepared(), job.items[0], None)
    assert err.value.maybe_sent is False
    made = own._session
    assert made is not None
    await own.aclose()
    assert made.closed
