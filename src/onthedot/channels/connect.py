"""Connecting a network account as a channel, and connecting it again.

OAuth takes two requests: `start` asks the network's connector for the address to send the
user to and keeps the request (its secret sealed) under a random `state`; `finish` takes the
network's redirect back, exchanges the code and saves the channel. Bluesky's app password
needs one: `login`. Connecting an account that already is a channel of the workspace (same
network, same account id) replaces that channel's credentials, and resumes it if onthedot had
paused it for lost access.

Network calls happen before anything is written, so a slow network never holds a write lock.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from onthedot.accounts import service as accounts_service
from onthedot.accounts.service import Member
from onthedot.channels import queries, service
from onthedot.channels.models import Channel, ConnectRequest
from onthedot.channels.schedule import Schedule, zone
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from onthedot.errors import Conflict, InvalidInput, NetworkRefused, NetworkUnavailable, NotFound
from onthedot.networks import Network
from onthedot.networks.base import NetworkError, Transient
from onthedot.networks.connect import Connected, Connector
from onthedot.networks.credentials import expires_at

__all__ = ["finish", "login", "start"]

# How long a user has to consent on the network's page.
CONNECT_TTL = dt.timedelta(minutes=30)


def _network_error(network: Network, exc: NetworkError) -> NetworkRefused | NetworkUnavailable:
    if isinstance(exc, Transient):
        return NetworkUnavailable(f"{network.value}: {exc.message}; nothing was connected")
    return NetworkRefused(f"{network.value}: {exc.message}")


def _channel_spec(timezone: str, schedule: str | list[dict[str, Any]]) -> dict[str, Any]:
    """Checked before the user is sent anywhere: a typo must not cost them a consent."""
    zone(timezone)
    return {"timezone": timezone, "schedule": service.parse_schedule(schedule).to_json()}


def _box(box: CredentialBox | None) -> CredentialBox:
    if box is None:
        raise Conflict(
            "channel credentials cannot be stored: set ONTHEDOT_SECRET_KEY (create one with "
            "`onthedot secret generate`)"
        )
    return box


async def start(
    session: AsyncSession,
    *,
    member: Member,
    connector: Connector,
    redirect_uri: str,
    options: Mapping[str, str],
    timezone: str,
    schedule: str | list[dict[str, Any]],
    box: CredentialBox | None,
    now: dt.datetime,
) -> str:
    """Begin an OAuth connection; the address to send the user to."""
    member.require_editor()
    if connector.flow != "oauth":
        raise InvalidInput(
            f"{connector.network.value} connects with a password, not through a web page: "
            "send the options " + ", ".join(connector.options) + " instead"
        )
    sealer = _box(box)
    spec = _channel_spec(timezone, schedule)
    state = secrets.token_urlsafe(32)
    try:
        authorization = await connector.authorize(
            redirect_uri=redirect_uri, state=state, options=options
        )
    except NetworkError as exc:
        raise _network_error(connector.network, exc) from None
    await session.execute(queries.expired_connect_requests(now=now))
    session.add(
        ConnectRequest(
            state=state,
            workspace_id=member.workspace_id,
            user_id=member.user_id,
            network=connector.network.value,
            redirect_uri=redirect_uri,
            secret=sealer.seal(authorization.secret),
            channel=spec,
            expires_at=now + CONNECT_TTL,
        )
    )
    await session.flush()
    return authorization.url


async def pending(session: AsyncSession, *, state: str, now: dt.datetime) -> ConnectRequest:
    request = await session.get(ConnectRequest, state)
    if request is None or request.expires_at < now:
        raise NotFound(
            "this connection request is unknown or older than "
            f"{int(CONNECT_TTL.total_seconds() // 60)} minutes; start connecting again"
        )
    return request


async def finish(
    session: AsyncSession,
    *,
    connector: Connector,
    state: str,
    query: Mapping[str, str],
    box: CredentialBox | None,
    settings: Settings | None,
    now: dt.datetime,
) -> Channel:
    """Complete an OAuth connection from the network's redirect back to onthedot."""
    sealer = _box(box)
    request = await pending(session, state=state, now=now)
    if request.network != connector.network.value:
        raise InvalidInput(
            f"this connection request is for {request.network}, not {connector.network.value}"
        )
    if query.get("error"):
        await session.delete(request)
        said = query.get("error_description") or query["error"]
        raise NetworkRefused(
            f"{connector.network.value} did not grant access ({said}); nothing was connected"
        )
    try:
        connected = await connector.finish(
            redirect_uri=request.redirect_uri, query=query, secret=sealer.open(request.secret)
        )
    except NetworkError as exc:
        raise _network_error(connector.network, exc) from None
    # A state is good once: two redirects racing connect once.
    gone = await session.execute(
        delete(ConnectRequest).where(ConnectRequest.state == state).returning(ConnectRequest.state)
    )
    if gone.first() is None:
        raise Conflict("this connection was completed already; see the channel list")
    membership = await accounts_service.membership(
        session, workspace_id=request.workspace_id, user_id=request.user_id
    )
    member = Member(
        user_id=request.user_id, workspace_id=request.workspace_id, role=membership.role
    )
    return await _save(
        session,
        member=member,
        network=connector.network,
        connected=connected,
        spec=request.channel,
        box=sealer,
        settings=settings,
        now=now,
    )


async def login(
    session: AsyncSession,
    *,
    member: Member,
    connector: Connector,
    options: Mapping[str, str],
    timezone: str,
    schedule: str | list[dict[str, Any]],
    box: CredentialBox | None,
    settings: Settings | None,
    now: dt.datetime,
) -> Channel:
    """Connect with a password (Bluesky's app password) in one step."""
    member.require_editor()
    if connector.flow != "password":
        raise InvalidInput(
            f"{connector.network.value} connects through its own web page: start the "
            "connection and open the address it gives"
        )
    sealer = _box(box)
    spec = _channel_spec(timezone, schedule)
    try:
        connected = await connector.login(options=options)
    except NetworkError as exc:
        raise _network_error(connector.network, exc) from None
    return await _save(
        session,
        member=member,
        network=connector.network,
        connected=connected,
        spec=spec,
        box=sealer,
        settings=settings,
        now=now,
    )


async def _save(
    session: AsyncSession,
    *,
    member: Member,
    network: Network,
    connected: Connected,
    spec: Mapping[str, Any],
    box: CredentialBox,
    settings: Settings | None,
    now: dt.datetime,
) -> Channel:
    member.require_editor()
    existing = await session.scalar(
        queries.channel_of_account(
            workspace_id=member.workspace_id,
            network=network.value,
            account_id=connected.account_id,
        )
    )
    if existing is None:
        channel = await service.create_channel(
            session,
            member=member,
            network=network,
            handle=connected.handle,
            timezone=spec["timezone"],
            schedule=Schedule.from_json(spec["schedule"]),
            max_chars=connected.max_chars,
            credentials=connected.credentials,
            box=box,
            now=now,
        )
        channel.account_id = connected.account_id
        channel.credentials_expire_at = expires_at(connected.credentials)
        await session.flush()
        return channel
    channel = await service.lock_channel(session, member=member, channel_id=existing.id)
    channel.handle = connected.handle
    channel.credentials = box.seal(connected.credentials)
    channel.credentials_expire_at = expires_at(connected.credentials)
    if connected.max_chars is not None:
        channel.max_chars = connected.max_chars
    channel.updated_at = now
    await session.flush()
    if channel.paused and channel.paused_reason is not None:
        # onthedot paused it for lost access; that is mended now. A pause a person chose
        # (no reason) stays.
        channel = await service.resume(
            session, member=member, channel_id=channel.id, now=now, settings=settings
        )
    return channel
