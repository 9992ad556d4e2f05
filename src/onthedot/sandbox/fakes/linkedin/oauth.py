"""The fake's OAuth 2.0 endpoints and OpenID Connect userinfo
(learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow,
.../programmatic-refresh-tokens, .../consumer/integrations/self-serve/sign-in-with-linkedin-v2)."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from onthedot.sandbox.fakes.linkedin.state import (
    CODE_LIFETIME,
    FakeState,
    json_response,
)


class OAuthEndpoints(FakeState):
    async def authorization(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id or q.get("response_type") != "code":
            return json_response(
                {"error": "invalid_request", "error_description": "bad client"}, 400
            )
        redirect, state = q.get("redirect_uri", ""), q.get("state", "")
        if self.consenting is None:
            query = {
                "error": "user_cancelled_authorize",
                "error_description": "The user cancelled the authorization",
                "state": state,
            }
            return RedirectResponse(f"{redirect}?{urlencode(query)}", 302)
        code = secrets.token_urlsafe(16)
        self.codes[code] = (self.consenting, redirect, self.clock.now())
        return RedirectResponse(f"{redirect}?{urlencode({'code': code, 'state': state})}", 302)

    async def access_token(self, request: Request) -> Response:
        form = await request.form()
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return json_response(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                401,
            )
        grant = form.get("grant_type")
        if grant == "authorization_code":
            found = self.codes.pop(str(form.get("code")), None)
            if (
                found is None
                or found[1] != form.get("redirect_uri")
                or self.clock.now() - found[2] > CODE_LIFETIME
            ):
                return json_response(
                    {
                        "error": "invalid_request",
                        "error_description": "Unable to retrieve access token: appid/redirect "
                        "uri/code verifier does not match authorization code. Or authorization "
                        "code expired.",
                    },
                    400,
                )
            return json_response(self.issue(found[0], refresh=self.grant_refresh_tokens))
        if grant == "refresh_token":
            refresh_token = str(form.get("refresh_token"))
            held = self.refresh_tokens.get(refresh_token)
            if held is None or held[1] <= self.clock.now():
                return json_response(
                    {
                        "error": "invalid_request",
                        "error_description": "The provided refresh token is invalid or expired",
                    },
                    400,
                )
            answer = self.issue(held[0])
            # Refreshing keeps the refresh token and its original end.
            answer["refresh_token"] = refresh_token
            answer["refresh_token_expires_in"] = int((held[1] - self.clock.now()).total_seconds())
            return json_response(answer)
        return json_response(
            {"error": "unsupported_grant_type", "error_description": str(grant)}, 400
        )

    async def userinfo(self, request: Request) -> Response:
        member = self._caller(request, rest=False)
        if isinstance(member, Response):
            return member
        if "openid" not in member.scopes:
            return self._denied("userinfo.GET")
        given, _, family = member.name.partition(" ")
        return json_response(
            {
                "sub": member.sub,
                "name": member.name,
                "given_name": given,
                "family_name": family,
                "locale": {"country": "US", "language": "en"},
            }
        )
