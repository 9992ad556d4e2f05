"""The fake's OAuth 2.0 with PKCE: consent page, token endpoint, revocation, users/me.
https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/user-access-token"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from onthedot.sandbox.fakes.x.state import Code, XFake, oauth_error, problem


async def authorize(fake: XFake, request: Request) -> Response:
    """The consent page, consenting (or not) at once as the scripted user."""
    q = request.query_params
    if q.get("client_id") != fake.client_id or q.get("response_type") != "code":
        return JSONResponse({"error": "invalid_request"}, status_code=400)
    if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
        return JSONResponse({"error": "invalid_request"}, status_code=400)
    redirect_uri = q.get("redirect_uri", "")
    state = q.get("state", "")
    if fake.deny_consent or fake.consenting_user is None:
        query = {"error": "access_denied", "state": state}
    else:
        code = secrets.token_urlsafe(16)
        fake.codes[code] = Code(
            fake.consenting_user,
            fake.client_id,
            redirect_uri,
            q["code_challenge"],
            frozenset(q.get("scope", "").split()),
        )
        query = {"state": state, "code": code}
    return RedirectResponse(f"{redirect_uri}?{urlencode(query)}", status_code=302)


def client_ok(fake: XFake, request: Request, form: dict[str, str]) -> bool:
    if fake.client_secret is None:
        return form.get("client_id") == fake.client_id
    expected = base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()
    return request.headers.get("authorization") == f"Basic {expected}"


def tokens(fake: XFake, user_id: str, scopes: frozenset[str]) -> JSONResponse:
    access, refresh, _ = fake.issue(fake.users[user_id], scopes)
    body: dict[str, Any] = {
        "token_type": "bearer",
        "expires_in": int(fake.access_ttl.total_seconds()),
        "access_token": access,
        "scope": " ".join(sorted(scopes)),
    }
    if refresh is not None:
        body["refresh_token"] = refresh
    return JSONResponse(body)


async def token(fake: XFake, request: Request) -> Response:
    fake.calls.append((request.method, request.url.path))
    async with request.form() as fields:
        form = {k: str(v) for k, v in fields.items()}
    if not client_ok(fake, request, form):
        return oauth_error(401, "unauthorized_client", "Missing valid authorization header")
    grant = form.get("grant_type")
    if grant == "authorization_code":
        code = fake.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if (
            code is None
            or code.redirect_uri != form.get("redirect_uri")
            or code.challenge != challenge
        ):
            return oauth_error(
                400, "invalid_request", "Value passed for the authorization code was invalid."
            )
        return tokens(fake, code.user_id, code.scopes)
    if grant == "refresh_token":
        # Single use: the old refresh token dies with this exchange.
        old = fake.refresh.pop(form.get("refresh_token", ""), None)
        if old is None or old.revoked:
            return oauth_error(400, "invalid_request", "Value passed for the token was invalid.")
        return tokens(fake, old.user_id, old.scopes)
    return oauth_error(400, "unsupported_grant_type", "Grant type is not supported.")


async def revoke(fake: XFake, request: Request) -> Response:
    async with request.form() as fields:
        form = {k: str(v) for k, v in fields.items()}
    if not client_ok(fake, request, form):
        return oauth_error(401, "unauthorized_client", "Missing valid authorization header")
    value = form.get("token", "")
    for tokens in (fake.access, fake.refresh):
        if value in tokens:
            tokens[value].revoked = True
    return JSONResponse({"revoked": True})


async def me(fake: XFake, request: Request) -> Response:
    token, headers, refused = fake.authorised(request, "users.me")
    if refused is not None or token is None:
        return refused or problem(401, "Unauthorized", "Unauthorized")
    user = fake.users[token.user_id]
    return JSONResponse(
        {"data": {"id": user.id, "name": user.name, "username": user.username}},
        headers=headers,
    )
