"""Assembling a broadcaster from settings, and running it as a process."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from onthedot.broadcaster.engine import Broadcaster, Config
from onthedot.channels import service as channels_service
from onthedot.channels.credentials import DbCredentialStore, run_refresher
from onthedot.clock import Clock, SystemClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox, credential_box
from onthedot.db import migrate
from onthedot.db.engine import create_engine, create_sessionmaker
from onthedot.errors import ConfigurationError
from onthedot.networks import Network
from onthedot.networks.base import Adapter
from onthedot.networks.runtime import Networks
from onthedot.observability.metrics import DatabaseGauges, Metrics, instrument_engine
from onthedot.observability.observer import Observer
from onthedot.observability.server import MetricsServer

log = logging.getLogger("onthedot.broadcaster")


def build_networks(
    settings: Settings, *, engine: AsyncEngine, clock: Clock, box: CredentialBox | None
) -> Networks:
    """The networks this installation publishes to, their tokens kept in the database."""
    store = DbCredentialStore(create_sessionmaker(engine), box) if box is not None else None
    return Networks(settings, clock=clock, store=store, box=box)


def create_broadcaster(
    settings: Settings,
    *,
    engine: AsyncEngine,
    clock: Clock | None = None,
    box: CredentialBox | None = None,
    adapters: Mapping[Network, Adapter],
    observer: Observer | None = None,
) -> Broadcaster:
    clock = clock or SystemClock()
    sessions = create_sessionmaker(engine)

    async def pause_revoked(channel_id: int, reason: str) -> None:
        async with sessions() as session, session.begin():
            await channels_service.pause_for_reason(
                session,
                channel_id=channel_id,
                reason=f"{reason}. Its posts are held until you reconnect it.",
                now=clock.now(),
            )
        log.warning("channel %s paused: %s", channel_id, reason)

    return Broadcaster(
        engine,
        adapters,
        clock=clock,
        config=Config.from_settings(settings),
        box=box,
        media_dir=settings.media_dir,
        on_channel_revoked=pause_revoked,
        observer=observer,
    )


async def serve(settings: Settings) -> None:
    """Run one broadcaster until SIGTERM or SIGINT, then stop gracefully."""
    engine = create_engine(settings.database_url)
    current, head = await migrate.current_revision(engine), migrate.head_revision()
    if current != head:
        await engine.dispose()
        raise ConfigurationError(
            f"the database is at migration {current or 'none'}, not {head}: run "
            "`onthedot db upgrade` first"
        )
    metrics = Metrics()
    stop_timing_queries = instrument_engine(engine, metrics)
    # Before anything else starts, so a port in use stops the process with nothing to undo.
    server = None
    if settings.metrics_port is not None:
        gauges = DatabaseGauges(
            metrics, engine, clock=SystemClock(), heartbeat_s=settings.heartbeat_s
        )
        server = MetricsServer(
            metrics, host=settings.metrics_host, port=settings.metrics_port, gauges=gauges
        )
        try:
            await server.start()
        except OSError as exc:
            stop_timing_queries()
            await engine.dispose()
            raise ConfigurationError(
                f"cannot serve metrics on {settings.metrics_host}:{settings.metrics_port}: "
                f"{exc.strerror or exc}"
            ) from None
        log.info("metrics at http://%s:%s/metrics", settings.metrics_host, settings.metrics_port)
    box, clock = credential_box(settings), SystemClock()
    networks = build_networks(settings, engine=engine, clock=clock, box=box)
    broadcaster = create_broadcaster(
        settings,
        engine=engine,
        clock=clock,
        box=box,
        adapters=networks.adapters(),
        observer=Observer(metrics),
    )
    stop_refreshing = asyncio.Event()
    refresher = asyncio.create_task(
        run_refresher(
            create_sessionmaker(engine),
            adapters=broadcaster.adapters,
            box=box,
            clock=clock,
            stop=stop_refreshing,
            store=networks.context.store,
        ),
        name="credentials-refresher",
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, broadcaster.request_stop)
    try:
        await broadcaster.run()
    finally:
        if server is not None:
            await server.stop()
        stop_refreshing.set()
        await refresher
        await networks.aclose()
        stop_timing_queries()
        await engine.dispose()
