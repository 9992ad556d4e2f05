"""Connecting a LinkedIn member: OAuth 2.0 3-legged, then OpenID Connect's userinfo.

learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow: the member is sent
to /oauth/v2/authorization (response_type=code, client_id, redirect_uri, state, scope) and
comes back to the redirect URI with `code` and `state`, or with `error` and
`error_description` when they decline (user_cancelled_login, user_cancelled_authorize).
LinkedIn's web flow uses the client secret, not PKCE (PKCE is offered to native apps only).
learn.microsoft.com/linkedin/consumers/integrations/self-serve/sign-in-with-linkedin-v2:
GET /v2/userinfo answers `sub`, the member's id, whose person URN is urn:li:person:{sub}.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlencode

from onthedot.networks import Network
from onthedot.networks.base import Permanent, Transient
from onthedot.networks.connect import Authorization, Connected, Connector
from onthedot.networks.http import json_body
from onthedot.networks.linkedin.client import SERVICE, LinkedInApi, refusal
from onthedot.networks.linkedin.oauth import OAuthClient

__all__ = ["SCOPES", "LinkedInConnector"]

# openid and profile give userinfo; w_member_social lets onthedot post as the member
# (learn.microsoft.com/linkedin/consumers/integrations/self-serve/share-on-linkedin).
SCOPES: Final = ("openid", "profile", "w_member_social")


class LinkedInConnector(Connector):
    network = Network.LINKEDIN
    flow = "oauth"
    options: Mapping[str, str] = {}

    def __init__(self, *, api: LinkedInApi, oauth: OAuthClient) -> None:
        self._api = api
        self._oauth = oauth

    async def authorize(
        self, *, redirect_uri: str, state: str, options: Mapping[str, str]
    ) -> Authorization:
        client_id = self._oauth.require_client()["client_id"]
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "scope": " ".join(SCOPES),
            }
        )
        return Authorization(
            url=f"{self._oauth.base_url}/oauth/v2/authorization?{query}", secret={"state": state}
        )

    async def finish(
        self, *, redirect_uri: str, query: Mapping[str, str], secret: Mapping[str, Any]
    ) -> Connected:
        error = query.get("error")
        if error:
            if error.startswith("user_cancelled"):
                raise Permanent(
                    "you declined to let onthedot post on LinkedIn, so no channel was "
                    "connected; start connecting again to allow it",
                    code=error,
                )
            raise Permanent(
                f"LinkedIn did not connect the account ({query.get('error_description') or error}"
                "); start connecting again",
                code=error,
            )
        expected = secret.get("state")
        if not expected or not secrets.compare_digest(str(expected), query.get("state", "")):
            raise Permanent(
                "the answer from LinkedIn does not belong to this connection attempt (its state "
                "does not match); start connecting the channel again",
                code="state_mismatch",
            )
        code = query.get("code")
        if not code:
            raise Permanent(
                "LinkedIn came back without an authorisation code; start connecting again",
                code="no_code",
            )
        status, answer = await self._oauth.token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        )
        if status != 200:
            said = answer.get("error_description") or answer.get("error") or status
            if status >= 500:
                raise Transient(
                    f"LinkedIn failed to finish the connection ({said}); try again shortly",
                    status=status,
                    maybe_sent=False,
                )
            raise Permanent(
                f"LinkedIn would not finish the connection ({said}); start connecting again",
                status=status,
                code=str(answer.get("error") or "") or None,
            )
        credentials = self._oauth.credentials(answer)
        profile = await self._userinfo(credentials["access_token"])
        sub = profile.get("sub")
        if not isinstance(sub, str) or not sub:
            raise Transient(
                "LinkedIn did not say who signed in; try connecting again", maybe_sent=False
            )
        name = profile.get("name") if isinstance(profile.get("name"), str) else None
        credentials["author"] = f"urn:li:person:{sub}"
        if name:
            credentials["name"] = name
        return Connected(
            handle=name or f"urn:li:person:{sub}",
            credentials=credentials,
            account_id=sub,
            display_name=name,
        )

    async def _userinfo(self, token: str) -> dict[str, Any]:
        response = await self._api.http.request(
            "GET",
            f"{self._api.base_url}/v2/userinfo",
            service=SERVICE,
            headers={"Authorization": f"Bearer {token}"},
        )
        if not response.is_success:
            raise refusal(
                response,
                who="the new account",
                subject="reading the profile",
                action="reading the member's profile",
                publishing=False,
                now=self._oauth.clock.now(),
            )
        return json_body(response)
