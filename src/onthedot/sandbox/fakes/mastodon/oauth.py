"""The fake instance's OAuth side: app registration, the consent page, the token endpoint,
the account and the instance's settings (methods/apps, methods/oauth, methods/accounts,
methods/instance)."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from onthedot.sandbox.fakes.mastodon.state import (
    ALL_SCOPES,
    IMAGE_TYPES,
    MAX_ATTACHMENTS,
    VIDEO_TYPES,
    App,
    Grant,
    InstanceState,
    Token,
    answer,
    pkce_challenge,
    refuse,
)


class OAuthRoutes(InstanceState):
    async def metadata(self, request: Request) -> Response:
        if (failed := self._failure(request)) is not None:
            return failed
        if not self.pkce:
            return refuse(404, "Not Found")
        base = f"https://{self.domain}"
        return answer(
            {
                "issuer": f"{base}/",
                "authorization_endpoint": f"{base}/oauth/authorize",
                "token_endpoint": f"{base}/oauth/token",
                "revocation_endpoint": f"{base}/oauth/revoke",
                "scopes_supported": sorted(ALL_SCOPES),
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "app_registration_endpoint": f"{base}/api/v1/apps",
            }
        )

    async def register_app(self, request: Request) -> Response:
        if (failed := self._failure(request)) is not None:
            return failed
        params = await self._params(request)
        uris = params.get("redirect_uris")
        if isinstance(uris, str):
            uris = uris.split()
        scopes = str(params.get("scopes") or "read").split()
        if not params.get("client_name"):
            return refuse(422, "Validation failed: Application name can't be blank")
        if not uris or not all(str(u).startswith(("https://", "http://")) for u in uris):
            return refuse(422, "Validation failed: Redirect URI must be an absolute URI.")
        if not set(scopes) <= ALL_SCOPES:
            return refuse(422, "Validation failed: Scopes are invalid")
        app = App(
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            str(params["client_name"]),
            str(params.get("website") or "") or None,
            [str(u) for u in uris],
            scopes,
        )
        self.apps[app.client_id] = app
        return answer(
            {
                "id": self._id(),
                "name": app.name,
                "website": app.website,
                "scopes": app.scopes,
                "redirect_uri": "\n".join(app.redirect_uris),
                "redirect_uris": app.redirect_uris,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "client_secret_expires_at": 0,
            }
        )

    async def authorize(self, request: Request) -> Response:
        """The consent page, answered as if `consent_as` clicked Authorize (or Deny)."""
        if (failed := self._failure(request)) is not None:
            return failed
        q = request.query_params
        app = self.apps.get(q.get("client_id", ""))
        redirect_uri = q.get("redirect_uri", "")
        if app is None or redirect_uri not in app.redirect_uris:
            # Doorkeeper shows an error page rather than redirect to an unknown address.
            return Response(
                "<p>Client authentication failed due to unknown client</p>",
                400,
                media_type="text/html",
            )
        scopes = frozenset((q.get("scope") or "read").replace("+", " ").split())
        target: dict[str, str] = {}
        method = q.get("code_challenge_method")
        if q.get("response_type") != "code":
            target = {"error": "unsupported_response_type"}
        elif not scopes <= set(app.scopes):
            target = {
                "error": "invalid_scope",
                "error_description": "The requested scope is invalid, unknown, or malformed.",
            }
        elif method is not None and (not self.pkce or method != "S256"):
            target = {
                "error": "invalid_request",
                "error_description": "Code challenge method is not supported.",
            }
        elif self.deny_consent or self.consent_as is None:
            target = {
                "error": "access_denied",
                "error_description": "The resource owner or authorization server denied "
                "the request.",
            }
        else:
            grant = Grant(
                secrets.token_urlsafe(32),
                app.client_id,
                redirect_uri,
                scopes,
                self.accounts[self.consent_as].id,
                q.get("code_challenge"),
            )
            self.grants[grant.code] = grant
            target = {"code": grant.code}
        if q.get("state"):
            target["state"] = q["state"]
        return Response(
            status_code=302, headers={"Location": f"{redirect_uri}?{urlencode(target)}"}
        )

    async def token(self, request: Request) -> Response:
        if (failed := self._failure(request)) is not None:
            return failed
        params = await self._params(request)
        app = self.apps.get(str(params.get("client_id", "")))
        if app is None or app.client_secret != params.get("client_secret"):
            return answer(
                {
                    "error": "invalid_client",
                    "error_description": "Client "
                    "authentication failed due to unknown client, no client "
                    "authentication included, or unsupported authentication method.",
                },
                401,
            )
        invalid_grant = answer(
            {
                "error": "invalid_grant",
                "error_description": "The provided "
                "authorization grant is invalid, expired, revoked, does not match "
                "the redirection URI used in the authorization request, or was "
                "issued to another client.",
            },
            400,
        )
        grant_type = params.get("grant_type")
        if grant_type == "refresh_token":
            old = next(
                (
                    t
                    for t in self.tokens.values()
                    if t.refresh_token and t.refresh_token == params.get("refresh_token")
                ),
                None,
            )
            if old is None or old.revoked or old.client_id != app.client_id:
                return invalid_grant
            old.revoked, old.refresh_token = True, None
            return self._token_answer(self._token(old.account_id, old.scopes, app.client_id))
        if grant_type != "authorization_code":
            return answer({"error": "unsupported_grant_type"}, 400)
        grant = self.grants.pop(str(params.get("code", "")), None)
        if grant is None or grant.client_id != app.client_id:
            return invalid_grant
        if grant.redirect_uri != params.get("redirect_uri"):
            return invalid_grant
        if (
            grant.challenge is not None
            and pkce_challenge(str(params.get("code_verifier", ""))) != grant.challenge
        ):
            return invalid_grant
        return self._token_answer(self._token(grant.account_id, grant.scopes, app.client_id))

    def _token_answer(self, token: Token) -> Response:
        body: dict[str, Any] = {
            "access_token": token.value,
            "token_type": "Bearer",
            "scope": " ".join(sorted(token.scopes)),
            "created_at": int(self.clock.now().timestamp()),
        }
        if token.expires_at is not None:
            body["expires_in"] = int((token.expires_at - self.clock.now()).total_seconds())
            body["refresh_token"] = token.refresh_token
        return answer(body)

    # --- accounts and instance ----------------------------------------------------------------

    async def verify_credentials(self, request: Request) -> Response:
        if (failed := self._failure(request)) is not None:
            return failed
        token = self._auth(request, "read:accounts")
        if isinstance(token, Response):
            return token
        account = self._account_by_id(token.account_id)
        assert account is not None
        return answer(self._account_json(account))

    async def instance(self, request: Request) -> Response:
        if (failed := self._failure(request)) is not None:
            return failed
        return answer(
            {
                "domain": self.domain,
                "title": "A Mastodon instance",
                "version": "4.5.0",
                "configuration": {
                    "urls": {"streaming": f"wss://{self.domain}"},
                    "statuses": {
                        "max_characters": self.max_characters,
                        "max_media_attachments": MAX_ATTACHMENTS,
                        "characters_reserved_per_url": 23,
                    },
                    "media_attachments": {
                        "supported_mime_types": sorted(IMAGE_TYPES | VIDEO_TYPES),
                        "description_limit": 1500,
                        "image_size_limit": 16777216,
                        "video_size_limit": 103809024,
                    },
                },
            }
        )
