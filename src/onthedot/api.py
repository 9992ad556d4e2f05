"""Assembly of the HTTP application: routers, the one error-to-problem mapping, lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException as StarletteHTTPException

from onthedot.accounts.router import router as accounts_router
from onthedot.channels.connect_router import callback_router, connect_router
from onthedot.channels.credentials import run_refresher
from onthedot.channels.router import router as channels_router
from onthedot.clock import Clock, SystemClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox, credential_box
from onthedot.db.engine import create_engine, create_sessionmaker
from onthedot.errors import OnTheDotError
from onthedot.media.router import public_router as public_media_router
from onthedot.media.router import router as media_router
from onthedot.networks.runtime import Networks
from onthedot.observability.metrics import DatabaseGauges, Metrics, instrument_engine
from onthedot.observability.observer import Observer
from onthedot.observability.requests import RequestObservability
from onthedot.observability.router import router as operator_router
from onthedot.posts.router import router as posts_router
from onthedot.reports.router import router as reports_router
from onthedot.revenue.router import router as revenue_router

PROBLEM = "application/problem+json"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        **extra,  # first, so context can never overwrite the standard members
        # A relative reference (RFC 9457 allows one): no external page is promised.
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OnTheDotError)
    extra = {k: v for k, v in exc.context.items() if isinstance(v, str | int | float | bool)}
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    response = problem(exc.status, exc.code, exc.title, exc.detail, **extra)
    if headers:
        response.headers.update(headers)
    return response


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": e.get("type"),
        }
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"][1:] if len(first["loc"]) > 1 else first["loc"])
    detail = f"{where}: {first['msg']}" if where else str(first["msg"])
    return problem(422, "invalid_request", "Invalid request", detail, errors=errors)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    # 400 is a body that is not JSON at all (nested too deep, a number too long to read).
    codes = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, "http_error")
    return problem(exc.status_code, code, str(exc.detail), str(exc.detail))


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine: AsyncEngine | None = None,
    box: CredentialBox | None = None,
    with_broadcaster: bool = False,
    with_sandbox: bool = False,
    metrics: Metrics | None = None,
    networks: Networks | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own clock and engine; `onthedot run` passes nothing.

    `onthedot run` also runs the broadcaster in the same process (`with_broadcaster`) and
    serves the sandbox network at /sandbox (`with_sandbox`). Tests hand in `networks` with
    adapters and connectors over the contract fakes.
    """
    owned_engine = engine is None
    engine = engine or create_engine(settings.database_url)
    # Refuses to start without a key outside the demo, with a message that says how to fix it.
    box = box or credential_box(settings)
    the_clock = clock or SystemClock()
    if networks is None:
        from onthedot.broadcaster.service import build_networks

        networks = build_networks(settings, engine=engine, clock=the_clock, box=box)
    the_networks = networks
    # One registry per app: the API's requests and queries, and its broadcaster's posts.
    metrics = metrics if metrics is not None else Metrics()
    stop_timing_queries = instrument_engine(engine, metrics)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        running: list[asyncio.Task[None]] = []
        broadcaster = None
        stop_refreshing = asyncio.Event()
        if with_broadcaster:
            from onthedot.broadcaster.service import create_broadcaster

            broadcaster = create_broadcaster(
                settings,
                engine=engine,
                clock=the_clock,
                box=box,
                adapters=the_networks.adapters(),
                observer=Observer(metrics),
            )
            await broadcaster.start()
            running.append(asyncio.create_task(broadcaster.run(started=True)))
            running.append(
                asyncio.create_task(
                    run_refresher(
                        app.state.sessionmaker,
                        adapters=broadcaster.adapters,
                        box=box,
                        clock=the_clock,
                        stop=stop_refreshing,
                        store=the_networks.context.store,
                    ),
                    name="credentials-refresher",
                )
            )
        try:
            yield
        finally:
            if broadcaster is not None:
                # Stop claiming, finish what is publishing, hand back the rest.
                broadcaster.request_stop()
                stop_refreshing.set()
                await asyncio.gather(*running)
            await the_networks.aclose()
            stop_timing_queries()
            if owned_engine:
                await engine.dispose()

    app = FastAPI(
        title="onthedot",
        version="0.1.0",
        description="Schedule posts to your channels; they go out on the dot.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = the_clock
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.box = box
    app.state.networks = the_networks
    app.state.metrics = metrics
    app.state.database_gauges = DatabaseGauges(
        metrics, engine, clock=the_clock, heartbeat_s=settings.heartbeat_s
    )
    app.add_middleware(RequestObservability, metrics=metrics)
    app.include_router(operator_router)
    app.add_exception_handler(OnTheDotError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for router in (
        accounts_router,
        connect_router,
        channels_router,
        posts_router,
        media_router,
        revenue_router,
    ):
        app.include_router(router, prefix="/api/v1")
    # Reached by browsers and networks, not API clients: outside /api/v1, no token.
    app.include_router(callback_router)
    app.include_router(public_media_router)
    app.include_router(reports_router, prefix="/api/v1")

    if with_sandbox:
        from onthedot.sandbox.app import create_sandbox_app

        app.mount("/sandbox", create_sandbox_app(clock=the_clock))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        sandbox = (
            "<p>Watch posts land on the sandbox network: <a href='/sandbox/'>/sandbox/</a>.</p>"
            if with_sandbox
            else ""
        )
        return (
            "<!doctype html><title>onthedot</title><h1>onthedot</h1>"
            "<p>The API is at <a href='/docs'>/docs</a> (OpenAPI).</p>" + sandbox
        )

    return app
