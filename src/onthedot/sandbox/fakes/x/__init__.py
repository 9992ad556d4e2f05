"""A contract fake of the X API v2, written from X's documentation, for the X adapter's tests.

It answers what onthedot calls, the way docs.x.com says X answers it:

- OAuth 2.0 with PKCE: the consent page (which "consents" at once and redirects, as a user
  would), the token endpoint (authorization code and rotating, single-use refresh tokens;
  Basic client authentication for a confidential client, `client_id` for a public one),
  token revocation, and `GET /2/users/me`.
  https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token
- `POST /2/tweets`, `GET /2/tweets/:id` (public_metrics) and `GET /2/users/:id/tweets`
  (newest first, `start_time`, `max_results`, `pagination_token`), texts shown as X shows
  them: links wrapped in t.co, &, < and > escaped, a media link appended, long posts in
  `note_tweet`.  https://docs.x.com/x-api/posts/creation-of-a-post
- The v2 media upload: one-shot `POST /2/media/upload` for images, and
  `initialize` / `{id}/append` / `{id}/finalize` then `GET ?command=STATUS` for video, whose
  `processing_info` goes pending → in_progress → succeeded | failed on the injected clock.
  https://docs.x.com/x-api/media/quickstart/media-upload-chunked
- Rate limits: `x-rate-limit-{limit,remaining,reset}` per user and endpoint on 15-minute
  windows, the per-user 24-hour post cap `x-user-limit-24hour-*` and the app's
  `x-app-limit-24hour-*`, 429 when one runs out.  https://docs.x.com/fundamentals/rate-limits
- Errors as problem+json (`type`, `title`, `detail`, `status`), and the OAuth errors as
  `{"error", "error_description"}`.

Tests script it through its knobs: add users, hand out tokens, expire or revoke them, limit an
account, cap a day, suspend an account, reject a text, slow or fail video processing.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from onthedot.clock import Clock
from onthedot.sandbox.fakes.x import media, oauth, posts
from onthedot.sandbox.fakes.x.state import ALL_SCOPES, Media, Token, Tweet, User, XFake

__all__ = ["ALL_SCOPES", "Media", "Token", "Tweet", "User", "XFake", "app_for", "create_app"]


def app_for(fake: XFake) -> Starlette:
    """The ASGI app answering as X, over `fake`'s state."""

    def route(path: str, handler: Any, method: str) -> Route:
        return Route(path, partial(handler, fake), methods=[method])

    return Starlette(
        routes=[
            route("/i/oauth2/authorize", oauth.authorize, "GET"),
            route("/2/oauth2/token", oauth.token, "POST"),
            route("/2/oauth2/revoke", oauth.revoke, "POST"),
            route("/2/users/me", oauth.me, "GET"),
            route("/2/users/{id}/tweets", posts.timeline, "GET"),
            route("/2/tweets", posts.create_tweet, "POST"),
            route("/2/tweets/{id}", posts.lookup, "GET"),
            route("/2/media/upload", media.upload, "POST"),
            route("/2/media/upload", media.status, "GET"),
            route("/2/media/upload/initialize", media.initialize, "POST"),
            route("/2/media/upload/{id}/append", media.append, "POST"),
            route("/2/media/upload/{id}/finalize", media.finalize, "POST"),
        ]
    )


def create_app(clock: Clock, **options: Any) -> tuple[XFake, Starlette]:
    """The fake's state (for tests to script and inspect) and its ASGI app."""
    fake = XFake(clock, **options)
    return fake, app_for(fake)
