"""The broadcaster's metrics at each outcome, the database figures and their queries' plans,
and the API's request metrics and request ids."""

from __future__ import annotations

import datetime as dt
import random

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from onthedot.api import create_app
from onthedot.broadcaster.engine import Broadcaster, Config
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from onthedot.db.engine import create_engine
from onthedot.networks import Network
from onthedot.networks.base import Permanent, RateLimited, Transient
from onthedot.observability.doctor import DOCTOR_QUERIES
from onthedot.observability.health import HEALTH_QUERIES
from onthedot.observability.metrics import (
    METRICS_QUERIES,
    OVERDUE_GRACE_S,
    DatabaseGauges,
    Metrics,
)
from onthedot.observability.observer import Observer
from onthedot.observability.query_guard import explain
from onthedot.sandbox.spike import free_port
from tests.conftest import T0, Team
from tests.integration.broadcaster.conftest import World

S = dt.timedelta(seconds=1)


def value(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def observed(world: World, metrics: Metrics) -> Broadcaster:
    return Broadcaster(
        world.engine,
        {Network.SANDBOX: world.net},
        clock=world.clock,
        config=Config.from_settings(prepare_lead_s=60.0),
        rng=random.Random(7),
        observer=Observer(metrics),
    )


async def test_every_metrics_and_health_query_uses_an_index(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        findings = [
            finding
            for name, build in {**METRICS_QUERIES, **HEALTH_QUERIES, **DOCTOR_QUERIES}.items()
            for finding in await explain(conn, name, build())
        ]
    assert findings == [], "\n\n".join(map(str, findings))


async def test_outcomes_retries_and_rate_limits_are_counted(world: World) -> None:
    metrics = Metrics()
    b = observed(world, metrics)
    await b.start()
    try:
        ch = [await world.channel(f"@c{n}") for n in range(3)]
        due = world.clock.now() + 5 * S
        for channel in ch:
            await world.post(channel, due)
        world.net.script = [
            Transient("503", status=503, maybe_sent=False),
            Permanent("too long"),
            RateLimited("slow down", reset_at=due + 60 * S),
        ]
        await b.pump()
        world.clock.set(due)
        await b.settle()
    finally:
        await b.shutdown()
    net = {"network": "sandbox"}
    assert value(metrics, "onthedot_publish_attempts_total", **net) == 3
    for result in ("retry", "failed", "rate_limited"):
        assert value(metrics, "onthedot_publish_outcomes_total", **net, result=result) == 1
    assert value(metrics, "onthedot_publish_outcomes_total", **net, result="sent") == 0
    assert value(metrics, "onthedot_publish_retries_total", **net) == 1
    # Nothing was sent, so nothing was late.
    assert value(metrics, "onthedot_publish_lateness_seconds_count", **net) == 0
    beat = value(metrics, "onthedot_broadcaster_heartbeat_timestamp_seconds", broadcaster=b.id)
    assert beat == T0.timestamp()  # registered then; no heartbeat round ran


async def test_overdue_claims_and_database_figures(world: World) -> None:
    metrics = Metrics()
    ch = await world.channel()
    due = world.clock.now() + 5 * S
    await world.post(ch, due)
    gauges = DatabaseGauges(metrics, world.engine, clock=world.clock, heartbeat_s=2.0)
    assert await gauges.refresh()
    assert value(metrics, "onthedot_queue_posts", state="scheduled") == 1
    assert value(metrics, "onthedot_overdue_posts") == 0
    # Every broadcaster was down when the post fell due.
    world.clock.set(due + (OVERDUE_GRACE_S + 1) * S)
    assert await gauges.refresh()
    assert value(metrics, "onthedot_overdue_posts") == 1
    assert value(metrics, "onthedot_broadcasters", state="alive") == 0

    b = observed(world, metrics)
    await b.start()
    try:
        assert await gauges.refresh()
        assert value(metrics, "onthedot_broadcasters", state="alive") == 1
        await b.pump()
        assert value(metrics, "onthedot_posts_claimed_overdue_total") == 1
        assert await gauges.refresh()
        assert value(metrics, "onthedot_overdue_posts") == 0
        await b.settle()
        late = (world.clock.now() - due).total_seconds()
        assert value(metrics, "onthedot_publish_lateness_seconds_sum", network="sandbox") == late
        # A broadcaster that stops heartbeating shows as stale.
        world.clock.advance(11 * S)
        assert await gauges.refresh()
        assert value(metrics, "onthedot_broadcasters", state="stale") == 1
    finally:
        await b.shutdown()


async def test_a_database_that_does_not_answer_keeps_the_scrape_up() -> None:
    metrics = Metrics()
    # Nothing listens there: the connection is refused at once.
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none")
    try:
        gauges = DatabaseGauges(metrics, engine, clock=FrozenClock(T0), heartbeat_s=2)
        assert not await gauges.refresh()
    finally:
        await engine.dispose()
    assert value(metrics, "onthedot_metrics_refresh_errors_total") == 1
    assert b"onthedot_publish_lateness_seconds" in metrics.exposition()


@pytest.fixture
async def api(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock, box: CredentialBox
) -> tuple[httpx.AsyncClient, Metrics]:
    metrics = Metrics()
    app = create_app(settings, clock=clock, engine=engine, box=box, metrics=metrics)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t"), metrics


async def test_requests_are_timed_by_route_template_and_echo_their_id(
    api: tuple[httpx.AsyncClient, Metrics], team: Team
) -> None:
    http, metrics = api
    async with http:
        given = await http.get(
            "/api/v1/posts/12345", headers={**team.owner.headers, "X-Request-ID": "abc-123"}
        )
        made = await http.get("/api/v1/channels", headers=team.owner.headers)
        missing = await http.get("/no/such/page/42")
        odd = await http.get("/healthz", headers={"X-Request-ID": "not ok\x7f" * 30})
        slash = await http.get("/api/v1/posts/777/", headers=team.owner.headers)
        docs = await http.get("/openapi.json")
        scraped = await http.get("/metrics")
    assert given.status_code == 404 and given.headers["x-request-id"] == "abc-123"
    assert len(made.headers["x-request-id"]) == 32
    assert odd.headers["x-request-id"] != "not ok"
    assert missing.status_code == 404
    seconds = "onthedot_http_request_duration_seconds_count"
    assert value(metrics, seconds, method="GET", route="/api/v1/posts/{post_id}", status="404") == 1
    assert value(metrics, seconds, method="GET", route="/api/v1/channels", status="200") == 1
    assert value(metrics, seconds, method="GET", route="unmatched", status="404") == 1
    assert slash.status_code == 307 and docs.status_code == 200
    assert value(metrics, seconds, method="GET", route="unmatched", status="307") == 1
    assert value(metrics, seconds, method="GET", route="/openapi.json", status="200") == 1
    labels = {
        s.labels.get("route")
        for family in text_string_to_metric_families(scraped.text)
        for s in family.samples
        if s.name.startswith("onthedot_http_request")
    }
    assert not any(label and any(n in label for n in ("12345", "42", "777")) for label in labels)
    assert value(metrics, "onthedot_db_query_duration_seconds_count", query="posts.one") >= 1
    assert value(metrics, "onthedot_db_query_duration_seconds_count", query="auth.token_by_hash")
