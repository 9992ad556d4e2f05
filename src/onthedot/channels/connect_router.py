"""HTTP routes for connecting network accounts as channels.

`POST /api/v1/channels/connect` starts a connection (or, for a password flow, completes it);
the network sends the user back to `GET /connect/{network}/callback`, outside the API and
without a token: the `state` in the query is what identifies the request.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from onthedot.channels import connect
from onthedot.channels.schemas import SCHEDULE_HELP, ChannelOut, ScheduleIn
from onthedot.deps import BoxDep, ClockDep, MemberDep, NetworksDep, SessionDep, SettingsDep
from onthedot.errors import ConfigurationError, InvalidInput, OnTheDotError
from onthedot.networks import Network
from onthedot.networks.registry import REAL_NETWORKS

connect_router = APIRouter(tags=["channels"])
callback_router = APIRouter(include_in_schema=False)


class NetworkOut(BaseModel):
    network: Network
    flow: str = Field(description="'oauth' (a web page at the network) or 'password'.")
    options: dict[str, str] = Field(description="What `options` the connection takes.")
    ready: bool = Field(description="False when this installation lacks a setting it needs.")
    problem: str | None = Field(default=None, description="What to set, when not ready.")


class ConnectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    network: Network
    options: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Network-specific: {'instance': 'https://mastodon.social'} for Mastodon, "
            "{'identifier': ..., 'app_password': ...} for Bluesky; see GET /networks."
        ),
    )
    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"])
    schedule: ScheduleIn = Field(default="", description=SCHEDULE_HELP)


class ConnectOut(BaseModel):
    authorize_url: str | None = Field(
        default=None, description="Send the user here; the network sends them back to onthedot."
    )
    channel: ChannelOut | None = Field(
        default=None, description="The connected channel, when no web page was needed."
    )


@connect_router.get("/networks", response_model=list[NetworkOut])
async def list_networks(_member: MemberDep, networks: NetworksDep) -> list[NetworkOut]:
    """The networks accounts can be connected from, and how."""
    out = []
    for network in REAL_NETWORKS:
        try:
            connector = networks.connector(network)
        except ConfigurationError as exc:
            out.append(
                NetworkOut(network=network, flow="oauth", options={}, ready=False, problem=str(exc))
            )
            continue
        out.append(
            NetworkOut(
                network=network, flow=connector.flow, options=dict(connector.options), ready=True
            )
        )
    return out


@connect_router.post("/channels/connect", response_model=ConnectOut)
async def start_connection(
    body: ConnectBody,
    session: SessionDep,
    member: MemberDep,
    clock: ClockDep,
    box: BoxDep,
    settings: SettingsDep,
    networks: NetworksDep,
) -> ConnectOut:
    """Connect an account: returns the network's consent page to send the user to, or (for
    an app password) the channel itself."""
    if body.network not in REAL_NETWORKS:
        raise InvalidInput(
            f"{body.network.value} accounts are not connected; add a channel with POST /channels"
        )
    connector = networks.connector(body.network)
    if connector.flow == "password":
        channel = await connect.login(
            session,
            member=member,
            connector=connector,
            options=body.options,
            timezone=body.timezone,
            schedule=body.schedule,
            box=box,
            settings=settings,
            now=clock.now(),
        )
        return ConnectOut(channel=ChannelOut.of(channel))
    url = await connect.start(
        session,
        member=member,
        connector=connector,
        redirect_uri=networks.context.redirect_uri(body.network),
        options=body.options,
        timezone=body.timezone,
        schedule=body.schedule,
        box=box,
        now=clock.now(),
    )
    return ConnectOut(authorize_url=url)


@callback_router.get("/connect/{network}/callback")
async def connection_callback(
    network: Network,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    box: BoxDep,
    settings: SettingsDep,
    networks: NetworksDep,
) -> Response:
    """Where the network sends the user back. Answers a page for people, JSON for tools."""
    query = dict(request.query_params)
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        if network not in REAL_NETWORKS:
            raise InvalidInput(f"{network.value} accounts are not connected through a web page")
        channel = await connect.finish(
            session,
            connector=networks.connector(network),
            state=query.get("state", ""),
            query=query,
            box=box,
            settings=settings,
            now=clock.now(),
        )
    except OnTheDotError as exc:
        if wants_json:
            raise
        # A page, not a problem document: a person reads it. What finish wrote before the
        # error (a declined request's removal) is kept.
        return _page(f"{network.value}: not connected", exc.detail, exc.status)
    out = ChannelOut.of(channel)
    if wants_json:
        return JSONResponse(out.model_dump(mode="json"), status_code=status.HTTP_201_CREATED)
    return _page(
        f"{network.value}: connected",
        f"{out.handle} is connected as channel {out.id}. You can close this page.",
        status.HTTP_201_CREATED,
    )


def _page(title: str, message: str, code: int) -> HTMLResponse:
    body: Any = (
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
    )
    return HTMLResponse(body, status_code=code)
