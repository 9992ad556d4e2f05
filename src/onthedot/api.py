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
from onthedot.channels.router import router as channels_router
from onthedot.clock import Clock, SystemClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox, credential_box
from onthedot.db.engine import create_engine, create_sessionmaker
from onthedot.errors import OnTheDotError
from onthedot.media.router import router as media_router
from onthedot.posts.router import router as posts_router
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
) -> FastAPI:
    """Build the app. Tests pass their own clock and engine; `onthedot run` passes nothing.

    `onthedot run` also runs the broadcaster in the same process (`with_broadcaster`) and
    serves the sandbox network at /sandbox (`with_sandbox`).
    """
    owned_engine = engine is None
    engine = engine or create_engine(settings.database_url)
    # Refuses to start without a key outside the demo, with a message that says how to fix it.
    box = box or credential_box(settings)
    the_clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        running: asyncio.Task[None] | None = None
        broadcaster = None
        if with_broadcaster:
            from onthedot.broadcaster.service import create_broadcaster

            broadcaster = create_broadcaster(settings, engine=engine, clock=the_clock, box=box)
            await broadcaster.start()
            running = asyncio.create_task(broadcaster.run(started=True))
        try:
            yield
        finally:
            if broadcaster is not None and running is not None:
                # Stop claiming, finish what is publishing, hand back the rest.
                broadcaster.request_stop()
                await running
                for adapter in set(broadcaster.adapters.values()):
                    await adapter.aclose()
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
    app.add_exception_handler(OnTheDotError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for router in (accounts_router, channels_router, posts_router, media_router, revenue_router):
        app.include_router(router, prefix="/api/v1")

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

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
