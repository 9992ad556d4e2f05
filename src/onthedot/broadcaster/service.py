"""Assembling a broadcaster from settings, and running it as a process."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from onthedot.broadcaster.engine import Broadcaster, Config
from onthedot.channels import service as channels_service
from onthedot.clock import Clock, SystemClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox, credential_box
from onthedot.db import migrate
from onthedot.db.engine import create_engine, create_sessionmaker
from onthedot.errors import ConfigurationError
from onthedot.networks import Network
from onthedot.networks.base import Adapter

log = logging.getLogger("onthedot.broadcaster")


def sandbox_url(settings: Settings) -> str:
    """Where the sandbox network answers: its own server, or /sandbox of `onthedot run`."""
    if settings.sandbox_url:
        return settings.sandbox_url.rstrip("/")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    return f"http://{host}:{settings.port}/sandbox"


def build_adapters(settings: Settings, *, clock: Clock) -> dict[Network, Adapter]:
    """The adapters this installation publishes through, by network."""
    from onthedot.networks.sandbox import SandboxAdapter

    return {
        Network.SANDBOX: SandboxAdapter(
            sandbox_url(settings), clock=clock, timeout_s=settings.publish_timeout_s
        ),
    }


def create_broadcaster(
    settings: Settings,
    *,
    engine: AsyncEngine,
    clock: Clock | None = None,
    box: CredentialBox | None = None,
    adapters: Mapping[Network, Adapter] | None = None,
) -> Broadcaster:
    clock = clock or SystemClock()
    sessions = create_sessionmaker(engine)

    async def pause_revoked(channel_id: int, reason: str) -> None:
        async with sessions() as session, session.begin():
            await channels_service.pause_for_reason(
                session,
                channel_id=channel_id,
                reason=f"{reason}. Its posts are held until you reconnect and resume it.",
                now=clock.now(),
            )
        log.warning("channel %s paused: %s", channel_id, reason)

    return Broadcaster(
        engine,
        adapters if adapters is not None else build_adapters(settings, clock=clock),
        clock=clock,
        config=Config.from_settings(settings),
        box=box,
        media_dir=settings.media_dir,
        on_channel_revoked=pause_revoked,
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
    broadcaster = create_broadcaster(settings, engine=engine, box=credential_box(settings))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, broadcaster.request_stop)
    try:
        await broadcaster.run()
    finally:
        for adapter in set(broadcaster.adapters.values()):
            await adapter.aclose()
        await engine.dispose()
