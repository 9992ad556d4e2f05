"""The webhook and the report endpoints, over a small app with an in-memory database."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from onthedot.accounts.models import Role
from onthedot.accounts.service import Member
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.db.base import Base
from onthedot.deps import get_clock, get_member, get_session, get_settings
from onthedot.errors import OnTheDotError
from onthedot.revenue.models import StripeEvent
from onthedot.revenue.router import router
from onthedot.revenue.simulate import simulate
from onthedot.revenue.webhook import sign

SECRET = "whsec_test"
NOW = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)


@pytest.fixture
async def client() -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    engine = create_async_engine(
        "sqlite+aiosqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all, tables=[StripeEvent.__table__])
    maker = async_sessionmaker(engine, expire_on_commit=False)
    state: dict[str, Any] = {"role": Role.OWNER, "maker": maker}

    async def session() -> AsyncIterator[AsyncSession]:
        async with maker() as s, s.begin():
            yield s

    app = FastAPI()
    app.include_router(router, prefix="/api/v1")
    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_settings] = lambda: Settings(
        stripe_webhook_secret=SECRET, operator_workspace_id=1
    )
    app.dependency_overrides[get_clock] = lambda: FrozenClock(NOW)
    app.dependency_overrides[get_member] = lambda: Member(
        1, state.get("workspace", 1), state["role"]
    )

    async def problem(_r: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, OnTheDotError)
        return JSONResponse({"code": exc.code, "detail": exc.detail}, status_code=exc.status)

    app.add_exception_handler(OnTheDotError, problem)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c, state
    await engine.dispose()


def signed(event: dict[str, Any], t: int | None = None, secret: str = SECRET) -> dict[str, Any]:
    body = json.dumps(event).encode()
    ts = int(NOW.timestamp()) if t is None else t
    return {"content": body, "headers": {"Stripe-Signature": sign(body, secret, ts)}}


EVENT = {"id": "evt_1", "object": "event", "type": "customer.created", "created": 1_700_000_000,
         "api_version": "2025-09-30.clover", "livemode": False,
         "data": {"object": {"id": "cus_1", "object": "customer"}}}  # fmt: skip


async def count(state: dict[str, Any]) -> int:
    async with state["maker"]() as s:
        return int((await s.execute(select(func.count()).select_from(StripeEvent))).scalar_one())


async def test_signed_event_is_stored_once(client: Any) -> None:
    c, state = client
    r = await c.post("/api/v1/stripe/webhook", **signed(EVENT))
    assert r.status_code == 200 and r.json()["duplicate"] is False
    r = await c.post("/api/v1/stripe/webhook", **signed(EVENT))
    assert r.status_code == 200 and r.json()["duplicate"] is True
    assert await count(state) == 1
    async with state["maker"]() as s:
        row = await s.get(StripeEvent, "evt_1")
        assert row is not None and row.created.tzinfo is not None and row.type == EVENT["type"]
        assert json.loads(row.payload) == EVENT


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"secret": "whsec_other"}, "stripe_signature_invalid"),
        ({"t": int(NOW.timestamp()) - 301}, "stripe_signature_stale"),
        ({"t": int(NOW.timestamp()) + 400}, "stripe_signature_stale"),
    ],
)
async def test_forged_or_replayed_requests_are_refused(
    client: Any, kwargs: dict[str, Any], code: str
) -> None:
    c, state = client
    r = await c.post("/api/v1/stripe/webhook", **signed(EVENT, **kwargs))
    assert (r.status_code, r.json()["code"]) == (400, code)
    assert await count(state) == 0


async def test_missing_signature_and_tampered_body_are_refused(client: Any) -> None:
    c, _ = client
    r = await c.post("/api/v1/stripe/webhook", content=json.dumps(EVENT).encode())
    assert (r.status_code, r.json()["code"]) == (400, "stripe_signature_missing")
    req = signed(EVENT)
    req["content"] = req["content"].replace(b"cus_1", b"cus_2")
    r = await c.post("/api/v1/stripe/webhook", **req)
    assert r.json()["code"] == "stripe_signature_invalid"


async def test_signed_but_not_an_event_is_refused(client: Any) -> None:
    c, _ = client
    r = await c.post("/api/v1/stripe/webhook", **signed({"hello": "world"}))  # type: ignore[arg-type]
    assert (r.status_code, r.json()["code"]) == (400, "stripe_event_invalid")


async def test_reports_from_stored_events(client: Any) -> None:
    c, state = client
    sim = simulate(5, 8, 40, duplicate_rate=0.05)
    assert sim.events is not None
    usd = [e for e in sim.events if _usd_only(e)]
    for e in usd:
        r = await c.post("/api/v1/stripe/webhook", **signed(e))
        assert r.status_code == 200
    as_of = dt.datetime.fromtimestamp(sim.end, dt.UTC).isoformat()
    mrr = (await c.get("/api/v1/revenue/mrr", params={"as_of": as_of})).json()
    mov = (await c.get("/api/v1/revenue/movements", params={"as_of": as_of})).json()
    assert mov["currency"] == "USD" and len(mov["months"]) == 8
    assert mov["months"][-1]["mrr_end"] == mrr["mrr"]
    for m in mov["months"]:
        moved = sum(
            m[k] for k in ("new", "expansion", "contraction", "churn", "reactivation", "fx")
        )
        assert round(m["mrr_start"] + moved, 2) == m["mrr_end"]
    audit = (await c.get("/api/v1/revenue/audit", params={"as_of": as_of})).json()
    assert audit["mrr_overreported"] == 0
    fc = await c.get("/api/v1/revenue/forecast", params={"as_of": as_of, "target": 5000})
    assert fc.status_code == 200 and len(fc.json()["forecast"]) == 12
    png = await c.get("/api/v1/revenue/movements", params={"as_of": as_of, "format": "png"})
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    state["role"] = Role.VIEWER
    r = await c.get("/api/v1/revenue/mrr")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    # The owner of any other workspace does not see that revenue reports exist.
    state["role"], state["workspace"] = Role.OWNER, 2
    r = await c.get("/api/v1/revenue/mrr")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")


def _usd_only(e: dict[str, Any]) -> bool:
    """Without a rates table, the API reports one currency; keep the simulated USD business."""
    obj = e["data"]["object"]
    cur = obj.get("currency")
    return cur in (None, "usd")


async def test_an_oversized_body_is_refused_before_it_is_read_whole(client: Any) -> None:
    c, state = client
    event = {**EVENT, "padding": "x" * (5 * 1024 * 1024)}
    r = await c.post("/api/v1/stripe/webhook", **signed(event))
    assert (r.status_code, r.json()["code"]) == (413, "payload_too_large")
    assert await count(state) == 0
