"""Connecting a Mastodon account: register onthedot on the user's instance, then OAuth.

Mastodon has no central app registry: onthedot registers itself on each instance with
POST /api/v1/apps (docs.joinmastodon.org/methods/apps/#create) and sends the user to the
instance's /oauth/authorize. Instances on Mastodon 4.3+ publish RFC 8414 metadata at
/.well-known/oauth-authorization-server and accept PKCE (S256), which is then used; older ones
answer 404 there and get the plain code flow with the client secret. The code is exchanged at
/oauth/token (methods/oauth/#token); verify_credentials gives the account, and GET
/api/v2/instance the instance's own text limit (configuration.statuses.max_characters).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlencode

import httpx

from onthedot.networks import Network
from onthedot.networks.base import NetworkError, Permanent
from onthedot.networks.connect import Authorization, Connected, Connector
from onthedot.networks.http import json_body
from onthedot.networks.mastodon.api import (
    MastodonApi,
    error_text,
    instance_url,
    refusal,
    token_fields,
)
from onthedot.networks.registry import NetworkContext

__all__ = ["SCOPES", "MastodonConnector"]

# The granular scopes (docs.joinmastodon.org/api/oauth-scopes/): post, upload, read back our
# own statuses (reconciliation, engagement), and read the account (verify_credentials).
# `profile` (4.3+) reads only the account itself, so it replaces read:accounts where offered.
SCOPES: Final = ("write:statuses", "write:media", "read:statuses")
CLIENT_NAME: Final = "onthedot"


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class MastodonConnector(Connector):
    network = Network.MASTODON
    flow = "oauth"
    options: Mapping[str, str] = {
        "instance": "the Mastodon server the account is on, for example mastodon.social",
    }

    def __init__(self, context: NetworkContext) -> None:
        self._context = context
        # One registration per instance and redirect address for this process's life, rather
        # than a new app on the user's server at every attempt.
        self._apps: dict[tuple[str, str, str], dict[str, str]] = {}

    def _api(self, instance: str, token: str | None = None) -> MastodonApi:
        return MastodonApi(
            self._context.http, self._context.base_url(Network.MASTODON, instance), token=token
        )

    async def authorize(
        self, *, redirect_uri: str, state: str, options: Mapping[str, str]
    ) -> Authorization:
        given = options.get("instance", "")
        if not given.strip():
            raise Permanent("connecting Mastodon needs the server's address: set `instance`")
        instance = instance_url(given, allow_http=self._context.settings.allow_private_addresses)
        api = self._api(instance)
        pkce, scopes = await self._capabilities(api)
        app = await self._register(api, instance, redirect_uri, scopes)
        query = {
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": redirect_uri,
            "scope": scopes,
            "state": state,
        }
        secret: dict[str, Any] = {"instance": instance, **app, "scope": scopes, "state": state}
        if pkce:
            verifier = secrets.token_urlsafe(64)
            query |= {"code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
            secret["code_verifier"] = verifier
        return Authorization(
            url=f"{api.base_url}/oauth/authorize?{urlencode(query)}", secret=secret
        )

    async def finish(
        self, *, redirect_uri: str, query: Mapping[str, str], secret: Mapping[str, Any]
    ) -> Connected:
        instance = str(secret.get("instance") or "")
        api = self._api(instance)
        host = api.host
        if query.get("error"):
            if query["error"] == "access_denied":
                raise Permanent(
                    f"authorization was declined on {host}, so nothing was connected; connect "
                    "again and choose Authorize",
                    code="access_denied",
                )
            reason = query.get("error_description") or query["error"]
            raise Permanent(f"{host} did not authorize onthedot: {reason}", code=query["error"])
        if not instance or secret.get("state") != query.get("state"):
            raise Permanent(
                f"this answer from {host or 'Mastodon'} does not belong to the connection that "
                "was started (its state does not match); start connecting the account again",
                code="state_mismatch",
            )
        code = query.get("code")
        if not code:
            raise Permanent(f"{host} sent no authorization code back; connect again")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": str(secret.get("client_id") or ""),
            "client_secret": str(secret.get("client_secret") or ""),
            "redirect_uri": redirect_uri,
            "scope": str(secret.get("scope") or ""),
        }
        if secret.get("code_verifier"):
            form["code_verifier"] = str(secret["code_verifier"])
        response = await api.call("POST", "/oauth/token", data=form)
        if response.status_code in (400, 401):
            raise Permanent(
                f"{host} would not exchange the authorization code ({error_text(response)}); "
                "connect the account again",
                status=response.status_code,
                code=str(json_body(response).get("error") or "") or None,
            )
        if not response.is_success:
            raise self._refused(api, response, "the authorization code")
        try:
            credentials = token_fields(json_body(response), self._context.clock.now())
        except ValueError:
            raise Permanent(f"{host} answered the code exchange without a token") from None
        granted = set(credentials["scope"].split())
        missing = [s for s in SCOPES if s not in granted and s.split(":")[0] not in granted]
        if granted and missing:
            raise Permanent(
                f"{host} granted onthedot less than it needs (missing {', '.join(missing)}); "
                "connect again and allow every permission asked for"
            )
        api.token = credentials["access_token"]
        account = await self._get(api, "/api/v1/accounts/verify_credentials", "the account")
        account_id, username = account.get("id"), account.get("username")
        if not isinstance(account_id, str) or not isinstance(username, str):
            raise Permanent(f"{host} did not say which account was connected; connect again")
        domain, max_chars = await self._instance(api)
        display = account.get("display_name")
        return Connected(
            handle=f"@{username}@{domain or host}",
            credentials={
                "instance": instance,
                **credentials,
                "account_id": account_id,
                "client_id": str(secret.get("client_id") or ""),
                "client_secret": str(secret.get("client_secret") or ""),
            },
            account_id=account_id,
            display_name=display if isinstance(display, str) and display else None,
            max_chars=max_chars,
        )

    # --- steps ------------------------------------------------------------------------------

    async def _capabilities(self, api: MastodonApi) -> tuple[bool, str]:
        """Whether the instance takes PKCE, and the scopes to ask for."""
        response = await api.call("GET", "/.well-known/oauth-authorization-server")
        if 300 <= response.status_code < 500:
            # 404 before Mastodon 4.3; a compatible server may redirect or refuse instead.
            return False, " ".join((*SCOPES, "read:accounts"))
        if not response.is_success:
            raise self._refused(api, response, "the request for its OAuth settings")
        metadata = json_body(response)
        methods = metadata.get("code_challenge_methods_supported") or []
        offered = metadata.get("scopes_supported") or []
        account_scope = "profile" if "profile" in offered else "read:accounts"
        return "S256" in methods, " ".join((*SCOPES, account_scope))

    async def _register(
        self, api: MastodonApi, instance: str, redirect_uri: str, scopes: str
    ) -> dict[str, str]:
        key = (instance, redirect_uri, scopes)
        if key in self._apps:
            return self._apps[key]
        form = {"client_name": CLIENT_NAME, "redirect_uris": redirect_uri, "scopes": scopes}
        if self._context.settings.public_url:
            form["website"] = self._context.settings.public_url
        body = await self._get(api, "/api/v1/apps", "onthedot's registration", data=form)
        client_id, client_secret = body.get("client_id"), body.get("client_secret")
        if not isinstance(client_id, str) or not isinstance(client_secret, str):
            raise Permanent(f"{api.host} registered onthedot without client credentials")
        app = {"client_id": client_id, "client_secret": client_secret}
        self._apps[key] = app
        return app

    async def _instance(self, api: MastodonApi) -> tuple[str | None, int | None]:
        """The instance's account domain and its text limit, if it tells them."""
        response = await api.call("GET", "/api/v2/instance")
        if not response.is_success:
            return None, None  # the limit stays Mastodon's default of 500
        body = json_body(response)
        config = body.get("configuration")
        statuses = config.get("statuses") if isinstance(config, dict) else None
        limit = statuses.get("max_characters") if isinstance(statuses, dict) else None
        domain = body.get("domain")
        return (
            domain if isinstance(domain, str) and domain else None,
            limit if isinstance(limit, int) and limit > 0 else None,
        )

    async def _get(
        self, api: MastodonApi, path: str, subject: str, **kwargs: Any
    ) -> dict[str, Any]:
        method = "POST" if "data" in kwargs else "GET"
        response = await api.call(method, path, **kwargs)
        if not response.is_success:
            raise self._refused(api, response, subject)
        return json_body(response)

    def _refused(self, api: MastodonApi, response: httpx.Response, subject: str) -> NetworkError:
        return refusal(
            response,
            host=api.host,
            who="the account being connected",
            subject=subject,
            publishing=False,
            now=self._context.clock.now(),
        )
