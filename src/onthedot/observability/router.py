"""The operator's endpoints of the API: liveness, readiness and the Prometheus scrape.

They read what `create_app` put on `app.state` (settings, clock, engine, metrics, the
database gauges) and sit outside `/api/v1`: probes and scrapers carry no token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onthedot.observability.health import readiness
from onthedot.observability.metrics import CONTENT_TYPE_LATEST, DatabaseGauges, Metrics

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive: the process answers. Nothing else is asked, so a slow database never gets a
    healthy process restarted."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    found = await readiness(state.engine, state.settings, clock=state.clock)
    return JSONResponse(found.body(), status_code=200 if found.ready else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    state = request.app.state
    gauges: DatabaseGauges = state.database_gauges
    await gauges.refresh()
    exported: Metrics = state.metrics
    return Response(exported.exposition(), media_type=CONTENT_TYPE_LATEST)
