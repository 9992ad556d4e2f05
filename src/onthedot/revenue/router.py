"""HTTP: the Stripe webhook that stores events, and the revenue reports computed from them.

`POST /stripe/webhook` is authenticated by Stripe's signature, not a token: a stale timestamp
(a replay) or a bad signature is refused with 400 and a problem code; a redelivered event is
accepted (Stripe delivers at least once) but stored once. The `GET /revenue/…` reports read every
stored event; they show the whole installation's revenue, so only owners of the operator's
workspace (`ONTHEDOT_OPERATOR_WORKSPACE_ID`) may read them; anyone else gets a 404.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from onthedot.accounts.models import Role
from onthedot.accounts.service import Member
from onthedot.deps import ClockDep, MemberDep, SessionDep, SettingsDep
from onthedot.errors import InvalidInput, NotFound, OnTheDotError
from onthedot.revenue import charts, reports
from onthedot.revenue.audit import read_snapshot
from onthedot.revenue.events import EventReader, ShapeError, read_payloads
from onthedot.revenue.fx import Rates
from onthedot.revenue.models import StripeEvent
from onthedot.revenue.policy import Policy
from onthedot.revenue.webhook import split_secrets, verify

router = APIRouter(tags=["revenue"])
UTC = dt.UTC


class StripeEventInvalid(OnTheDotError):
    status = 400
    code = "stripe_event_invalid"
    title = "Not a Stripe event"


class StripeEventTooLarge(OnTheDotError):
    status = 413
    code = "payload_too_large"
    title = "Request body too large"


# Far above any Stripe event; keeps an unauthenticated endpoint from buffering without end.
MAX_WEBHOOK_BYTES = 4 * 1024 * 1024


async def _read_capped(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BYTES:
            raise StripeEventTooLarge(
                f"a Stripe event is at most {MAX_WEBHOOK_BYTES // (1024 * 1024)} MiB here"
            )
    return bytes(body)


@router.post("/stripe/webhook")
async def stripe_webhook(
    request: Request, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> dict[str, Any]:
    body = await _read_capped(request)
    secret = settings.stripe_webhook_secret
    secrets = split_secrets(secret.get_secret_value()) if secret is not None else []
    verify(
        body,
        request.headers.get("stripe-signature"),
        secrets,
        settings.stripe_webhook_tolerance_s,
        clock.now(),
    )
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StripeEventInvalid(f"the body is not JSON: {exc}") from None
    reader = EventReader()
    event = reader.read(raw)
    if event is None:
        # Signed by Stripe but unreadable (say, an API version we do not read): refuse it, so
        # Stripe keeps it and retries once the reader is upgraded, rather than lose it.
        detail = "; ".join(p.message for p in reader.problems) or "unreadable event"
        raise StripeEventInvalid(detail)
    if await session.get(StripeEvent, event.id) is not None:
        return {"received": True, "id": event.id, "duplicate": True}
    row = StripeEvent(
        id=event.id,
        type=event.type,
        created=dt.datetime.fromtimestamp(event.created, UTC),
        api_version=event.api_version,
        livemode=event.livemode,
        payload=body.decode("utf-8"),
        received_at=clock.now(),
    )
    try:
        async with session.begin_nested():  # a concurrent redelivery may have won the race
            session.add(row)
    except IntegrityError:
        return {"received": True, "id": event.id, "duplicate": True}
    return {"received": True, "id": event.id, "duplicate": False}


AsOf = Annotated[dt.datetime | None, Query(description="Report up to this instant.")]
Currency = Annotated[str | None, Query(min_length=3, max_length=3)]


async def _operator(member: MemberDep, settings: SettingsDep) -> Member:
    """Revenue covers every customer of the installation: only its operator may read it."""
    if (
        settings.operator_workspace_id is None
        or member.workspace_id != settings.operator_workspace_id
    ):
        raise NotFound(
            "revenue reports are available to the operator's workspace only "
            "(ONTHEDOT_OPERATOR_WORKSPACE_ID)"
        )
    member.require(Role.OWNER)
    return member


OperatorDep = Annotated[Member, Depends(_operator)]


async def _context(
    session: SessionDep, member: OperatorDep, as_of: AsOf = None, currency: Currency = None
) -> reports.Context:
    """Every report's input: the stored events, read under the policy and as of a time."""
    rows = (await session.execute(select(StripeEvent.payload))).scalars().all()
    try:
        policy = Policy(reporting_currency=currency) if currency else Policy()
    except ValueError as exc:
        raise InvalidInput(f"currency: {exc}") from None
    at = None
    if as_of is not None:
        at = int((as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)).timestamp())

    def build() -> reports.Context:
        return reports.Context.build(
            read_payloads(rows), policy, Rates(policy.reporting_currency), at
        )

    return await run_in_threadpool(build)


ContextDep = Annotated[reports.Context, Depends(_context)]


@router.get("/revenue/mrr")
async def revenue_mrr(ctx: ContextDep) -> dict[str, Any]:
    return await run_in_threadpool(reports.mrr_report, ctx)


@router.get("/revenue/movements", response_model=None)
async def revenue_movements(
    ctx: ContextDep, format: Literal["json", "png"] = "json"
) -> dict[str, Any] | Response:
    mov = await run_in_threadpool(reports.movements, ctx)
    if format == "png":
        return Response(await run_in_threadpool(charts.movements_png, mov), media_type="image/png")
    return reports.movements_report(ctx, mov)


@router.post("/revenue/audit")
async def revenue_audit_with_snapshot(request: Request, ctx: ContextDep) -> dict[str, Any]:
    """The audit, against a snapshot of Stripe's subscriptions posted as the body (list JSON)."""
    try:
        snapshot = read_snapshot(json.loads(await request.body()))
    except (json.JSONDecodeError, ShapeError) as exc:
        raise InvalidInput(f"snapshot: {exc}") from None
    return await run_in_threadpool(reports.audit_report, ctx, snapshot)


@router.get("/revenue/audit")
async def revenue_audit(ctx: ContextDep) -> dict[str, Any]:
    return await run_in_threadpool(reports.audit_report, ctx, None)


@router.get("/revenue/forecast", response_model=None)
async def revenue_forecast(
    ctx: ContextDep,
    target: Annotated[float | None, Query(gt=0)] = None,
    horizon: Annotated[int, Query(ge=1, le=60)] = 12,
    method: Literal["components", "ets"] = "components",
    format: Literal["json", "png"] = "json",
) -> dict[str, Any] | Response:
    rep, f = await run_in_threadpool(reports.forecast_report, ctx, target, horizon, method)
    if format == "png":
        return Response(await run_in_threadpool(charts.forecast_png, f), media_type="image/png")
    return rep
