"""Connecting a Bluesky account with an app password.

The user creates an app password on bsky.app (Settings → Privacy and security → App
passwords) and gives it to onthedot with the account's handle; onthedot opens a session with
com.atproto.server.createSession and keeps the session, never the password
(https://docs.bsky.app/docs/api/com-atproto-server-create-session). The session's DID
document names the account's PDS, where every later call goes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, Literal

import httpx

from onthedot.clock import Clock
from onthedot.networks import Network
from onthedot.networks.base import Permanent, RateLimited, Transient
from onthedot.networks.bluesky import xrpc
from onthedot.networks.connect import Connected, Connector
from onthedot.networks.http import HttpClient, json_body

__all__ = ["BlueskyConnector"]

# Bluesky shows app passwords as four groups of four letters and digits.
_APP_PASSWORD_RE: Final = re.compile(r"[a-z0-9]{4}(?:-[a-z0-9]{4}){3}", re.IGNORECASE)


class BlueskyConnector(Connector):
    network = Network.BLUESKY
    flow: Literal["oauth", "password"] = "password"
    options: Mapping[str, str] = {
        "identifier": "the account's handle (alice.bsky.social) or email address",
        "app_password": "an app password created on bsky.app under Settings → Privacy and "
        "security → App passwords (not the account's own password)",
        "service": f"the account's server, if not hosted by Bluesky (default {xrpc.ENTRYWAY})",
    }

    def __init__(self, *, http: HttpClient, clock: Clock, entryway: str = xrpc.ENTRYWAY) -> None:
        self._xrpc = xrpc.Xrpc(http)
        self._clock = clock
        self._entryway = entryway.rstrip("/")

    async def login(self, *, options: Mapping[str, str]) -> Connected:
        identifier = options.get("identifier", "").strip().removeprefix("@")
        password = (options.get("app_password") or options.get("password") or "").strip()
        service = (options.get("service") or self._entryway).strip().rstrip("/")
        if not identifier or not password:
            raise Permanent(
                "connecting Bluesky needs the account's handle (identifier=…) and an app "
                "password (app_password=…)",
                code="missing_option",
            )
        if not _APP_PASSWORD_RE.fullmatch(password):
            raise Permanent(
                "that is not a Bluesky app password (four groups of four letters or digits, "
                "like abcd-1234-efgh-5678): create one on bsky.app under Settings → Privacy "
                "and security → App passwords; onthedot does not take the account's own "
                "password",
                code="not_an_app_password",
            )
        if not service.startswith(("https://", "http://")):
            service = f"https://{service}"
        response = await self._xrpc.procedure(
            service,
            "com.atproto.server.createSession",
            json={"identifier": identifier, "password": password},
        )
        if not response.is_success:
            raise self._refused(response, identifier)
        body = json_body(response)
        credentials = xrpc.session_credentials(body, service=service)
        if credentials is None:
            raise Transient(
                f"{service} answered the sign-in without a session; try again",
                status=response.status_code,
                maybe_sent=False,
            )
        handle = str(credentials["handle"])
        return Connected(
            handle="@" + handle,
            credentials=credentials,
            account_id=str(credentials["did"]),
            display_name=await self._display_name(credentials),
        )

    async def _display_name(self, credentials: Mapping[str, object]) -> str | None:
        """The profile's display name, if it can be read; connecting does not depend on it."""
        try:
            response = await self._xrpc.query(
                str(credentials["service"]),
                "app.bsky.actor.getProfile",
                params={"actor": credentials["did"]},
                token=str(credentials["access_token"]),
            )
        except (Transient, Permanent):
            return None
        name = json_body(response).get("displayName") if response.is_success else None
        return name if isinstance(name, str) and name else None

    def _refused(self, response: httpx.Response, identifier: str) -> Exception:
        name = xrpc.error_name(response)
        status = response.status_code
        if status == 429:
            outcome = xrpc.refusal(
                response,
                clock=self._clock,
                handle=identifier,
                subject="the sign-in",
                action="signing in",
                publishing=False,
            )
            assert isinstance(outcome, RateLimited)
            when = (
                f"after {outcome.reset_at:%H:%M} UTC" if outcome.reset_at is not None else "later"
            )
            return RateLimited(
                f"Bluesky allows only a few sign-ins per account (30 in 5 minutes, 300 a "
                f"day) and {identifier} has used them up; try again {when}",
                status=status,
                code=name,
                reset_at=outcome.reset_at,
                scope="account",
            )
        if name == "AuthFactorTokenRequired":
            return Permanent(
                "Bluesky asks this account for an email code, which happens with the account's "
                "own password: use an app password instead",
                status=status,
                code=name,
            )
        if name in xrpc.ACCOUNT_ERRORS:
            return Permanent(
                f"{xrpc.ACCOUNT_ERRORS[name]} ({identifier}); onthedot cannot post for it",
                status=status,
                code=name,
            )
        if status in (400, 401):
            return Permanent(
                f"Bluesky refused the handle {identifier} with that app password: check both "
                "(the app password may have been revoked) and try again",
                status=status,
                code=name,
            )
        return xrpc.refusal(
            response,
            clock=self._clock,
            handle=identifier,
            subject="the sign-in",
            action="signing in",
            publishing=False,
        )
