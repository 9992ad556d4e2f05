"""The broadcaster process's own small HTTP server: `/metrics` and `/healthz`.

aiohttp's server runs on the broadcaster's event loop without taking over its signals (the
broadcaster's SIGTERM handler stays in charge), and a scrape can await the database gauges.
"""

from __future__ import annotations

from aiohttp import web

from onthedot.observability.metrics import CONTENT_TYPE_LATEST, DatabaseGauges, Metrics

__all__ = ["MetricsServer"]


class MetricsServer:
    def __init__(
        self,
        metrics: Metrics,
        *,
        host: str,
        port: int,
        gauges: DatabaseGauges | None = None,
    ) -> None:
        self._metrics = metrics
        self._gauges = gauges
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._scrape)
        app.router.add_get("/healthz", self._alive)
        # No access log: a scrape every few seconds is not news.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _scrape(self, _request: web.Request) -> web.Response:
        if self._gauges is not None:
            await self._gauges.refresh()
        # CONTENT_TYPE_LATEST carries its charset, which aiohttp wants apart.
        return web.Response(
            body=self._metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def _alive(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})
