"""LinkedIn's OAuth 2.0 token endpoint: exchanging a code, refreshing a token.

learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow: the token
endpoint takes a form (grant_type, code, redirect_uri, client_id, client_secret) and answers
access_token and expires_in (60 days); approved partners also get refresh_token and
refresh_token_expires_in (365 days), and refreshing keeps the refresh token's original end
(learn.microsoft.com/linkedin/shared/authentication/programmatic-refresh-tokens).
Errors are {"error", "error_description"}.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from onthedot.clock import Clock
from onthedot.networks.base import Account, AuthRevoked, Permanent, Transient
from onthedot.networks.credentials import expires_at
from onthedot.networks.http import HttpClient, json_body, parse_instant
from onthedot.networks.linkedin.client import SERVICE

__all__ = ["OAuthClient"]


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat()


class OAuthClient:
    def __init__(
        self,
        http: HttpClient,
        base_url: str,
        *,
        clock: Clock,
        client_id: str | None,
        client_secret: str | None,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret

    def require_client(self) -> dict[str, str]:
        if not self.client_id or not self.client_secret:
            raise Permanent(
                "onthedot has no LinkedIn app configured: set ONTHEDOT_LINKEDIN_CLIENT_ID and "
                "ONTHEDOT_LINKEDIN_CLIENT_SECRET (see docs/networks/linkedin.md)",
                code="not_configured",
            )
        return {"client_id": self.client_id, "client_secret": self.client_secret}

    async def token(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        response = await self.http.request(
            "POST",
            f"{self.base_url}/oauth/v2/accessToken",
            service=SERVICE,
            data={**form, **self.require_client()},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return response.status_code, json_body(response)

    def credentials(
        self, answer: Mapping[str, Any], *, keep: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Credentials from a token answer, keeping what it does not renew from `keep`."""
        now = self.clock.now()
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise Transient(
                "LinkedIn answered without an access token; onthedot tries again",
                maybe_sent=False,
            )
        new: dict[str, Any] = dict(keep or {})
        new["access_token"] = token
        lifetime = answer.get("expires_in")
        if isinstance(lifetime, int):
            new["expires_at"] = _iso(now + dt.timedelta(seconds=lifetime))
        refresh = answer.get("refresh_token")
        if isinstance(refresh, str) and refresh:
            new["refresh_token"] = refresh
            refresh_lifetime = answer.get("refresh_token_expires_in")
            if isinstance(refresh_lifetime, int):
                new["refresh_token_expires_at"] = _iso(now + dt.timedelta(seconds=refresh_lifetime))
        scope = answer.get("scope")
        if isinstance(scope, str):
            new["scope"] = scope
        return new

    async def refresh(self, account: Account, who: str) -> dict[str, Any]:
        credentials = account.credentials
        now = self.clock.now()
        refresh_token = credentials.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            expiry = expires_at(credentials)
            when = f"{expiry:%Y-%m-%d %H:%M} UTC" if expiry else "soon"
            verb = "expired" if expiry is not None and expiry <= now else "expires"
            raise AuthRevoked(
                f"LinkedIn access to {who} {verb} on {when}, and LinkedIn lets only approved "
                "partners renew it: reconnect the channel to keep posting",
                code="reauthorize",
            )
        ends = credentials.get("refresh_token_expires_at")
        refresh_end = parse_instant(ends) if isinstance(ends, str) else None
        if refresh_end is not None and refresh_end <= now:
            raise AuthRevoked(
                f"LinkedIn's yearly authorisation of {who} ended on {refresh_end:%Y-%m-%d} "
                "UTC: reconnect the channel to keep posting",
                code="reauthorize",
            )
        status, answer = await self.token(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )
        if status == 200:
            return self.credentials(answer, keep=credentials)
        if status in (400, 401):
            said = answer.get("error_description") or answer.get("error") or status
            raise AuthRevoked(
                f"LinkedIn would not renew onthedot's access to {who} ({said}): reconnect the "
                "channel to keep posting",
                status=status,
                code=str(answer.get("error") or "") or None,
            )
        raise Transient(
            f"LinkedIn could not renew onthedot's access to {who} just now ({status}); "
            "onthedot tries again",
            status=status,
            maybe_sent=False,
        )
