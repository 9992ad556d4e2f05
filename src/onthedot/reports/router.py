"""HTTP: the lateness report of the caller's workspace, as JSON or as a PNG chart.

Any member may read it (viewers too): it says how punctual their own posts were, nothing
about other workspaces.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from onthedot.deps import MemberDep, SessionDep
from onthedot.errors import InvalidInput, UnknownTimezone
from onthedot.observability import lateness
from onthedot.reports import service

router = APIRouter(prefix="/reports", tags=["reports"])

Due = Annotated[
    str,
    Query(
        max_length=64,
        description=(
            "The minute, as wall-clock time in `tz` (2026-11-26T08:00), or with an offset "
            "(2026-10-25T02:30+01:00) to pick one of a repeated hour's minutes."
        ),
    ),
]
Tz = Annotated[str, Query(max_length=64, description="IANA time zone of `due`.")]


async def _report(
    session: SessionDep, member: MemberDep, due: Due, tz: Tz = "UTC"
) -> lateness.LatenessReport:
    try:
        minute = lateness.parse_minute(due, tz, name="due")
    except UnknownTimezone as exc:
        raise UnknownTimezone(f"tz: {exc.detail}") from None
    except InvalidInput as exc:
        raise InvalidInput(f"due: {exc.detail}") from None
    return await service.lateness_report(session, minute=minute, workspace_id=member.workspace_id)


@router.get("/lateness")
async def lateness_report(
    session: SessionDep, member: MemberDep, due: Due, tz: Tz = "UTC"
) -> dict[str, Any]:
    """How late the workspace's posts due in one minute went out: buckets and percentiles,
    in total and per network (schema: docs/lateness-report-and-doctor.md)."""
    return lateness.to_json(await _report(session, member, due, tz))


@router.get(
    "/lateness.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "The chart."}},
)
async def lateness_chart(
    session: SessionDep, member: MemberDep, due: Due, tz: Tz = "UTC"
) -> Response:
    """The same report as a bar chart: posts by lateness bucket, one series per network."""
    report = await _report(session, member, due, tz)
    return Response(await run_in_threadpool(lateness.chart_png, report), media_type="image/png")
