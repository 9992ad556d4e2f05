"""Channel credentials in the database: renewals that never overlap (one process or two),
the refresher that renews them ahead of expiry, public media addresses, and engagement."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from onthedot.api import create_app
from onthedot.channels.credentials import DbCredentialStore, refresh_expiring
from onthedot.channels.models import Channel
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from onthedot.db.engine import create_engine, create_sessionmaker
from onthedot.networks import Network
from onthedot.networks.base import (
    Account,
    Adapter,
    AuthRevoked,
    Engagement,
    Item,
    Job,
    MediaFile,
    Prepared,
    Published,
    Transient,
    Unsupported,
)
from onthedot.networks.public_media import public_url_for
from onthedot.networks.runtime import Networks
from onthedot.posts.models import PostItem
from tests.conftest import Team
from tests.integration.posts.helpers import add_post, make_channel

Maker = async_sessionmaker[AsyncSession]


def _creds(token: str, expires: dt.datetime) -> dict[str, Any]:
    return {"access_token": token, "refresh_token": f"r-{token}", "expires_at": expires.isoformat()}


async def _seal(maker: Maker, box: CredentialBox, channel_id: int, creds: dict[str, Any]) -> None:
    async with maker() as s, s.begin():
        await s.execute(
            update(Channel)
            .where(Channel.id == channel_id)
            .values(
                credentials=box.seal(creds),
                credentials_expire_at=dt.datetime.fromisoformat(creds["expires_at"]),
            )
        )


class Renewing(Adapter):
    network = Network.MASTODON

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.used: list[str] = []
        self.fail: Exception | None = None
        self.gate = asyncio.Event()
        self.gate.set()

    async def refresh(self, account: Account) -> dict[str, Any]:
        if self.fail is not None:
            raise self.fail
        used = account.credentials["refresh_token"]
        assert used not in self.used, "a single-use refresh token was used twice"
        self.used.append(used)
        await self.gate.wait()
        return _creds(f"t{len(self.used)}", self.clock.now() + dt.timedelta(days=60))

    async def commit(
        self, job: Job, prepared: Prepared, item: Item, reply_to: Published | None
    ) -> Published:
        raise AssertionError("not publishing here")

    async def find(self, job: Job, item: Item, reply_to: Published | None) -> Published | None:
        return None

    async def engagement(self, account: Account, network_id: str) -> Engagement:
        if network_id == "gone":
            raise Unsupported("mastodon cannot find that status any more")
        assert account.credentials["access_token"] == "t0"
        return Engagement(likes=3, reposts=2, replies=1)


async def test_two_processes_renewing_at_once_use_the_refresh_token_once(
    sessionmaker: Maker, db_url: str, team: Team, clock: FrozenClock, box: CredentialBox
) -> None:
    channel_id = await make_channel(sessionmaker, team, clock)
    stale = _creds("t0", clock.now())
    await _seal(sessionmaker, box, channel_id, stale)
    adapter = Renewing(clock)
    adapter.gate.clear()
    # A second engine is a second process's connection pool: PostgreSQL keeps them apart with
    # the channel's row lock. SQLite has one writing process, whose store keeps its own
    # callers apart.
    other = create_engine(db_url)
    first = DbCredentialStore(sessionmaker, box)
    second = (
        first if db_url.startswith("sqlite") else DbCredentialStore(create_sessionmaker(other), box)
    )
    stores = [first, second]

    async def renew(stored: dict[str, Any]) -> dict[str, Any]:
        return await adapter.refresh(
            Account(channel_id, 1, Network.MASTODON, "@a", credentials=stored)
        )

    try:
        running = [
            asyncio.create_task(store.refresh(channel_id, stale=stale, renew=renew))
            for store in stores
        ]
        # Let both reach the renewal (or wait for the lock) before the network answers.
        for _ in range(20):
            await asyncio.sleep(0.01)
        adapter.gate.set()
        results = await asyncio.gather(*running)
    finally:
        await other.dispose()
    assert adapter.used == ["r-t0"]
    assert [r["access_token"] for r in results] == ["t1", "t1"]
    loaded = await stores[0].load(channel_id)
    assert loaded["access_token"] == "t1"


async def test_the_refresher_renews_what_expires_soon_and_pauses_what_cannot_be(
    sessionmaker: Maker, team: Team, clock: FrozenClock, box: CredentialBox
) -> None:
    soon = await make_channel(sessionmaker, team, clock, handle="@soon@example.social")
    later = await make_channel(sessionmaker, team, clock, handle="@later@example.social")
    await _seal(sessionmaker, box, soon, _creds("t0", clock.now() + dt.timedelta(days=1)))
    await _seal(sessionmaker, box, later, _creds("x0", clock.now() + dt.timedelta(days=30)))
    adapter = Renewing(clock)
    adapters = {Network.MASTODON: adapter}

    report = await refresh_expiring(sessionmaker, adapters=adapters, box=box, clock=clock)
    assert report.refreshed == [soon]
    async with sessionmaker() as s:
        renewed = await s.get(Channel, soon)
        assert renewed is not None and renewed.credentials is not None
        assert box.open(renewed.credentials)["access_token"] == "t1"
        assert renewed.credentials_expire_at == clock.now() + dt.timedelta(days=60)

    # A network that cannot be reached leaves the channel alone; one that refuses pauses it.
    clock.advance(dt.timedelta(days=28))
    adapter.fail = Transient("mastodon.example did not answer")
    report = await refresh_expiring(sessionmaker, adapters=adapters, box=box, clock=clock)
    assert report.failed == [later]
    adapter.fail = AuthRevoked("the app's authorisation was revoked on mastodon.example")
    report = await refresh_expiring(sessionmaker, adapters=adapters, box=box, clock=clock)
    assert report.revoked == [later]
    async with sessionmaker() as s:
        paused = await s.get(Channel, later)
        assert paused is not None and paused.paused
        assert paused.paused_reason is not None
        assert "revoked on mastodon.example" in paused.paused_reason
        assert "reconnect" in paused.paused_reason


async def test_public_media_addresses_serve_the_file_until_they_expire(
    settings: Settings,
    engine: AsyncEngine,
    clock: FrozenClock,
    box: CredentialBox,
    tmp_path: Path,
) -> None:
    settings = settings.model_copy(update={"public_url": "https://odt.example"})
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    path = settings.media_dir / "ab" / "photo.jpg"
    path.parent.mkdir()
    path.write_bytes(b"\xff\xd8jpeg")
    outside = tmp_path / "secret.txt"
    outside.write_text("no")
    networks = Networks(settings, clock=clock, box=box)
    media = MediaFile(path=path, content_type="image/jpeg", size=6, filename="photo.jpg")
    url = public_url_for(networks.context, media, expires_at=clock.now() + dt.timedelta(hours=1))
    assert url.startswith("https://odt.example/media/public/")
    app = create_app(settings, clock=clock, engine=engine, box=box, networks=networks)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        served = await http.get(url.removeprefix("https://odt.example"))
        assert served.status_code == 200
        assert served.content == b"\xff\xd8jpeg"
        assert served.headers["content-type"] == "image/jpeg"
        forged = await http.get(url.removeprefix("https://odt.example")[:-4] + "AAAA")
        assert forged.status_code == 404
        clock.advance(dt.timedelta(hours=1, seconds=1))
        expired = await http.get(url.removeprefix("https://odt.example"))
        assert expired.status_code == 404
    await networks.aclose()
    with pytest.raises(Exception, match="not in onthedot's media directory"):
        public_url_for(
            networks.context,
            MediaFile(path=outside, content_type="text/plain", size=2, filename="secret.txt"),
            expires_at=clock.now() + dt.timedelta(hours=1),
        )
    unset = Networks(settings.model_copy(update={"public_url": None}), clock=clock, box=box)
    with pytest.raises(Exception, match="ONTHEDOT_PUBLIC_URL"):
        public_url_for(unset.context, media, expires_at=clock.now())


async def test_engagement_is_read_item_by_item_from_the_network(
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: Maker,
    team: Team,
    clock: FrozenClock,
    box: CredentialBox,
) -> None:
    channel_id = await make_channel(sessionmaker, team, clock)
    await _seal(sessionmaker, box, channel_id, _creds("t0", clock.now() + dt.timedelta(days=9)))
    post = await add_post(sessionmaker, team, clock, channel_id, "hello")
    networks = Networks(
        settings, clock=clock, box=box, adapters={Network.MASTODON: Renewing(clock)}
    )
    app = create_app(settings, clock=clock, engine=engine, box=box, networks=networks)
    transport = httpx.ASGITransport(app=app)
    path = f"/api/v1/posts/{post.id}/engagement"
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        early = await http.get(path, headers=team.owner.headers)
        assert early.status_code == 409
        assert "not been published yet" in early.json()["detail"]
        async with sessionmaker() as s, s.begin():
            await s.execute(
                update(PostItem)
                .where(PostItem.post_id == post.id)
                .values(network_id="109", network_url="https://example.social/@a/109")
            )
        read = await http.get(path, headers=team.owner.headers)
        stranger = await http.get(path, headers=team.stranger.headers)
    await networks.aclose()
    assert read.status_code == 200, read.text
    [row] = read.json()
    assert (row["likes"], row["reposts"], row["replies"], row["clicks"]) == (3, 2, 1, None)
    assert row["url"] == "https://example.social/@a/109"
    assert stranger.status_code == 404
