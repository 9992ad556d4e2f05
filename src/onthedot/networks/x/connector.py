"""Connecting an X account: OAuth 2.0 Authorization Code with PKCE.

docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token:
1. send the user to https://x.com/i/oauth2/authorize with response_type=code, client_id,
   redirect_uri, scope, state, code_challenge and code_challenge_method=S256;
2. X redirects back with `code` and `state` (or `error=access_denied`);
3. POST /2/oauth2/token (grant_type=authorization_code, code, redirect_uri, code_verifier)
   gives an access token for two hours and, with offline.access, a refresh token;
4. GET /2/users/me says which account it is (id, name, username).

The PKCE verifier (RFC 7636: 43 to 128 characters) and the state stay sealed on onthedot's
side between steps 1 and 3, as the `Authorization.secret`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlencode

from onthedot.clock import Clock
from onthedot.networks import Network
from onthedot.networks.base import NetworkError, Permanent, Transient
from onthedot.networks.connect import Authorization, Connected, Connector
from onthedot.networks.http import HttpClient, json_body
from onthedot.networks.x.client import SERVICE, problem_detail
from onthedot.networks.x.oauth import SCOPES, OAuthClient

__all__ = ["AUTHORIZE_URL", "XConnector", "pkce_pair"]

AUTHORIZE_URL: Final = "https://x.com/i/oauth2/authorize"


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636 §4.1-4.2)."""
    verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class XConnector(Connector):
    network = Network.X
    flow = "oauth"
    options: Mapping[str, str] = {}

    def __init__(
        self,
        *,
        http: HttpClient,
        clock: Clock,
        oauth: OAuthClient,
        base_url: str,
        authorize_url: str = AUTHORIZE_URL,
    ) -> None:
        self._http = http
        self._clock = clock
        self._oauth = oauth
        self._base_url = base_url.rstrip("/")
        self._authorize_url = authorize_url

    async def authorize(
        self, *, redirect_uri: str, state: str, options: Mapping[str, str]
    ) -> Authorization:
        verifier, challenge = pkce_pair()
        query = {
            "response_type": "code",
            "client_id": self._oauth.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES),
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return Authorization(
            url=f"{self._authorize_url}?{urlencode(query)}",
            secret={"code_verifier": verifier, "state": state},
        )

    async def finish(
        self, *, redirect_uri: str, query: Mapping[str, str], secret: Mapping[str, Any]
    ) -> Connected:
        error = query.get("error")
        if error:
            if error == "access_denied":
                raise Permanent(
                    "X says the connection was not allowed (consent was declined); connect the "
                    "channel again and choose Authorize app on X"
                )
            said = query.get("error_description") or error
            raise Permanent(f"X did not connect the account ({said}); connect it again")
        expected = str(secret.get("state") or "")
        if not expected or not hmac.compare_digest(
            query.get("state", "").encode(), expected.encode()
        ):
            raise Permanent(
                "this X sign-in does not belong to the connection onthedot started (its state "
                "does not match); start connecting the channel again"
            )
        code = query.get("code")
        verifier = secret.get("code_verifier")
        if not code or not isinstance(verifier, str):
            raise Permanent("X sent no authorization code back; connect the channel again")
        credentials = await self._oauth.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            now=self._clock.now(),
            keep={},
            handle="the account",
            connecting=True,
        )
        me = await self._me(credentials["access_token"])
        credentials["user_id"] = me["id"]
        return Connected(
            handle=f"@{me['username']}",
            credentials=credentials,
            account_id=me["id"],
            display_name=me.get("name") or None,
        )

    async def revoke(self, credentials: Mapping[str, Any]) -> None:
        """Give the tokens back to X when a channel is removed (best effort)."""
        for key, hint in (("refresh_token", "refresh_token"), ("access_token", "access_token")):
            token = credentials.get(key)
            if isinstance(token, str) and token:
                with contextlib.suppress(NetworkError):
                    await self._oauth.revoke(token, hint)

    async def _me(self, token: str) -> dict[str, str]:
        response = await self._http.request(
            "GET",
            f"{self._base_url}/2/users/me",
            service=SERVICE,
            headers={"Authorization": f"Bearer {token}"},
        )
        data = json_body(response).get("data")
        if not response.is_success or not isinstance(data, dict):
            said = problem_detail(json_body(response)) or str(response.status_code)
            if response.status_code >= 500 or response.status_code == 429:
                raise Transient(f"X could not say which account this is ({said})")
            raise Permanent(f"X would not say which account this is ({said})")
        if not isinstance(data.get("id"), str) or not isinstance(data.get("username"), str):
            raise Permanent("X did not say which account this is")
        return {k: v for k, v in data.items() if isinstance(v, str)}
