"""A contract fake of one Mastodon instance, written from docs.joinmastodon.org.

It answers the calls onthedot makes, with the paths, payloads, status codes and error bodies
the documentation gives:

- app registration and OAuth (methods/apps, methods/oauth, the RFC 8414 metadata Mastodon
  4.3+ serves at /.well-known/oauth-authorization-server, with PKCE S256);
- verify_credentials, GET /api/v2/instance (configuration.statuses.max_characters);
- POST /api/v2/media (200 for images, 202 for video until processing ends), GET
  /api/v1/media/:id (206 while processing) — methods/media;
- POST /api/v1/statuses with Idempotency-Key (kept 1 hour), GET /api/v1/statuses/:id and
  /:id/source, GET /api/v1/accounts/:id/statuses with max_id paging — methods/statuses,
  methods/accounts;
- the X-RateLimit-* headers (Reset an ISO 8601 instant) and 429s of api/rate-limits: 300
  calls / 5 min per account, 30 media uploads / 30 min, and the 300 statuses / 3 h per
  account that Mastodon's RateLimiter adds.

Time is the injected clock's: media processing and token expiry move only when it does.
Knobs for tests: `throttle`, `revoke`, `expire`, `reject_text`, `fail_next`, `processing`,
`fail_processing`, `token_lifetime`, `pkce`, `consent_as`/`deny_consent`.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from onthedot.clock import Clock
from onthedot.sandbox.fakes.mastodon.content import ContentRoutes
from onthedot.sandbox.fakes.mastodon.oauth import OAuthRoutes
from onthedot.sandbox.fakes.mastodon.state import Account, App, Media, Status, Token

__all__ = ["Account", "App", "FakeMastodon", "Media", "Status", "Token", "create_app"]


class FakeMastodon(OAuthRoutes, ContentRoutes):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.app = Starlette(
            routes=[
                Route("/.well-known/oauth-authorization-server", self.metadata),
                Route("/api/v1/apps", self.register_app, methods=["POST"]),
                Route("/oauth/authorize", self.authorize),
                Route("/oauth/token", self.token, methods=["POST"]),
                Route("/api/v1/accounts/verify_credentials", self.verify_credentials),
                Route("/api/v1/accounts/{id}/statuses", self.account_statuses),
                Route("/api/v2/instance", self.instance),
                Route("/api/v2/media", self.upload, methods=["POST"]),
                Route("/api/v1/media/{id}", self.get_media),
                Route("/api/v1/statuses", self.post_status, methods=["POST"]),
                Route("/api/v1/statuses/{id}", self.get_status),
                Route("/api/v1/statuses/{id}/source", self.status_source),
            ]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The fake is its own ASGI app, so it can be mounted or handed to a transport."""
        await self.app(scope, receive, send)


def create_app(clock: Clock, **options: Any) -> FakeMastodon:
    """A fake instance: an ASGI app whose state the tests read and script."""
    return FakeMastodon(clock=clock, **options)
