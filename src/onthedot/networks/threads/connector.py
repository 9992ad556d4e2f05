"""Connecting a Threads account: OAuth on threads.net, then a 60-day token.

developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions: the user
is sent to https://threads.net/oauth/authorize (client_id, redirect_uri, scope, response_type
=code, state); the code that comes back is exchanged with POST /oauth/access_token for a
short-lived token (one hour), which GET /access_token?grant_type=th_exchange_token turns into
a long-lived one (60 days; .../long-lived-tokens). Threads offers no PKCE.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlencode

from onthedot.networks import Network
from onthedot.networks.base import Permanent
from onthedot.networks.connect import Authorization, Connected, Connector
from onthedot.networks.meta.graph import Graph
from onthedot.networks.meta.oauth import returned_code

__all__ = ["SCOPES", "ThreadsConnector"]

AUTHORIZE_URL: Final = "https://threads.net/oauth/authorize"
# threads_basic for everything, threads_content_publish to post, threads_manage_replies to
# publish a thread's later items (replies) and read the reply quota, threads_read_replies to
# find them again after a crash, threads_manage_insights for engagement
# (developers.facebook.com/docs/threads/get-started, "Authorization";
# developers.facebook.com/documentation/threads/retrieve-and-manage-replies, "Rate limits").
SCOPES: Final = (
    "threads_basic",
    "threads_content_publish",
    "threads_manage_replies",
    "threads_read_replies",
    "threads_manage_insights",
)


class ThreadsConnector(Connector):
    network = Network.THREADS
    flow = "oauth"
    options: Mapping[str, str] = {}

    def __init__(self, graph: Graph, *, app_id: str, app_secret: str) -> None:
        self._graph = graph
        self._app_id = app_id
        self._app_secret = app_secret

    async def authorize(
        self, *, redirect_uri: str, state: str, options: Mapping[str, str]
    ) -> Authorization:
        query = {
            "client_id": self._app_id,
            "redirect_uri": redirect_uri,
            "scope": ",".join(SCOPES),
            "response_type": "code",
            "state": state,
        }
        return Authorization(url=f"{AUTHORIZE_URL}?{urlencode(query)}", secret={"state": state})

    async def finish(
        self, *, redirect_uri: str, query: Mapping[str, str], secret: Mapping[str, Any]
    ) -> Connected:
        code = returned_code("Threads", query, secret)
        short = await self._graph.call(
            "POST",
            "oauth/access_token",
            token=None,
            account="the account",
            doing="exchanging the authorization code",
            data={
                "client_id": self._app_id,
                "client_secret": self._app_secret,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        long = await self._graph.call(
            "GET",
            "access_token",
            token=None,
            account="the account",
            doing="exchanging the token for a long-lived one",
            params={
                "grant_type": "th_exchange_token",
                "client_secret": self._app_secret,
                "access_token": str(short.get("access_token") or ""),
            },
        )
        token = long.get("access_token")
        if not isinstance(token, str) or not token:
            raise Permanent("Threads sent no access token back; connect the channel again")
        me = await self._graph.call(
            "GET",
            "v1.0/me",
            token=token,
            account="the account",
            doing="reading the account's profile",
            params={"fields": "id,username,name"},
        )
        user_id = str(me.get("id") or short.get("user_id") or "")
        username = me.get("username")
        if not user_id or not isinstance(username, str):
            raise Permanent("Threads did not say which account connected; connect again")
        now = self._graph.clock.now()
        expires_in = long.get("expires_in")
        seconds = expires_in if isinstance(expires_in, int | float) else 60 * 24 * 3600
        return Connected(
            handle=f"@{username}",
            credentials={
                "access_token": token,
                "user_id": user_id,
                "issued_at": now.isoformat(),
                "expires_at": (now + dt.timedelta(seconds=seconds)).isoformat(),
            },
            account_id=user_id,
            display_name=me.get("name") if isinstance(me.get("name"), str) else None,
        )
