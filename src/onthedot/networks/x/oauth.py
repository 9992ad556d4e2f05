"""X's OAuth 2.0 token endpoint: a code or a refresh token in, credentials out.

docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token:
- POST https://api.x.com/2/oauth2/token, form-encoded; a confidential client authenticates
  with HTTP Basic (client id : client secret), a public client sends `client_id` instead;
- access tokens live two hours (`expires_in`); `offline.access` adds a refresh token, which
  is single-use: each refresh hands out a new one and the old one stops working;
- POST https://api.x.com/2/oauth2/revoke takes `token` and `token_type_hint`.

Credentials, as onthedot stores them (sealed): `access_token`, `refresh_token`,
`expires_at` (ISO 8601 UTC), `scope`, `user_id` (the account's id, for finding its posts).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from onthedot.networks.base import AuthRevoked, Permanent, Transient
from onthedot.networks.http import HttpClient, json_body
from onthedot.networks.x.client import SERVICE, problem_detail

__all__ = ["SCOPES", "OAuthClient"]

# tweet.read and users.read to read the account and its posts, tweet.write to post,
# media.write to upload media, offline.access for a refresh token.
SCOPES: Final = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")


@dataclass(frozen=True, slots=True)
class OAuthClient:
    http: HttpClient
    base_url: str
    client_id: str
    client_secret: str | None

    def _auth(self, form: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        if self.client_secret:
            pair = f"{self.client_id}:{self.client_secret}".encode()
            return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}, form
        return {}, {**form, "client_id": self.client_id}

    async def token(
        self,
        form: dict[str, str],
        *,
        now: dt.datetime,
        keep: Mapping[str, Any],
        handle: str,
        connecting: bool = False,
    ) -> dict[str, Any]:
        """Exchange `form` (a code or a refresh token) for new credentials.

        Raises `AuthRevoked` when X refuses (the grant is dead: reconnect), `Transient` when
        it could not be asked. Nothing here may quote a token.
        """
        headers, data = self._auth(form)
        response = await self.http.request(
            "POST",
            f"{self.base_url}/2/oauth2/token",
            service=SERVICE,
            headers=headers,
            data=data,
        )
        body = json_body(response)
        if response.status_code >= 500 or response.status_code == 429:
            raise Transient(
                f"X could not give onthedot access to {handle} just now "
                f"({response.status_code} {response.reason_phrase}); onthedot tries again",
                status=response.status_code,
                maybe_sent=False,
            )
        if response.status_code == 401 and body.get("error") == "unauthorized_client":
            raise Permanent(
                "X does not accept onthedot's X app credentials: whoever runs onthedot must "
                "check ONTHEDOT_X_CLIENT_ID and ONTHEDOT_X_CLIENT_SECRET",
                status=401,
                code="unauthorized_client",
            )
        access = body.get("access_token")
        if not response.is_success or not isinstance(access, str):
            said = problem_detail(body) or f"{response.status_code} {response.reason_phrase}"
            if connecting:
                raise Permanent(
                    f"X refused the sign-in ({said}); connect the channel again",
                    status=response.status_code,
                    code=str(body.get("error") or "") or None,
                )
            raise AuthRevoked(
                f"X no longer lets onthedot renew its access to {handle} ({said}): reconnect "
                "the channel",
                status=response.status_code,
                code=str(body.get("error") or "") or None,
            )
        credentials = dict(keep)
        credentials["access_token"] = access
        refresh = body.get("refresh_token")
        if isinstance(refresh, str):
            credentials["refresh_token"] = refresh
        expires_in = body.get("expires_in")
        if isinstance(expires_in, int | float):
            credentials["expires_at"] = (now + dt.timedelta(seconds=expires_in)).isoformat()
        if isinstance(body.get("scope"), str):
            credentials["scope"] = body["scope"]
        return credentials

    async def revoke(self, token: str, hint: str) -> bool:
        headers, data = self._auth({"token": token, "token_type_hint": hint})
        response = await self.http.request(
            "POST",
            f"{self.base_url}/2/oauth2/revoke",
            service=SERVICE,
            headers=headers,
            data=data,
        )
        return response.is_success
