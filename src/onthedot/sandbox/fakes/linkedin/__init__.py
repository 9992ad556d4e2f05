"""A contract fake of LinkedIn: the OAuth endpoints, userinfo, and the versioned REST API's
Posts, Images, Videos and Social Metadata resources, as LinkedIn documents them.

- learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow (authorization,
  accessToken, codes valid 30 minutes, tokens 60 days) and .../programmatic-refresh-tokens;
- learn.microsoft.com/linkedin/shared/api-guide/concepts/error-handling ({"status",
  "serviceErrorCode", "code", "message"}; 401 for invalid, revoked and expired tokens; 403
  ACCESS_DENIED for a missing permission) and .../concepts/rate-limits (daily quotas, a 429
  without reset headers);
- learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api, images-api,
  videos-api (4 MiB parts, ETags, finalizeUpload), multiimage-post-api, social-metadata-api.

One app answers for both api.linkedin.com and www.linkedin.com. Time is the injected clock's.
Tests script it through the attributes under "knobs".
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from onthedot.clock import Clock
from onthedot.sandbox.fakes.linkedin.media import MediaEndpoints
from onthedot.sandbox.fakes.linkedin.oauth import OAuthEndpoints
from onthedot.sandbox.fakes.linkedin.posts import PostEndpoints
from onthedot.sandbox.fakes.linkedin.state import FakeMember, FakePost

__all__ = ["FakeMember", "FakePost", "LinkedInFake", "create_app"]


class LinkedInFake(OAuthEndpoints, MediaEndpoints, PostEndpoints):
    def __init__(
        self,
        clock: Clock,
        *,
        client_id: str = "onthedot-client",
        client_secret: str = "onthedot-secret",  # noqa: S107 - the fake's own
    ) -> None:
        super().__init__(clock, client_id=client_id, client_secret=client_secret)
        self.app = Starlette(
            routes=[
                Route("/oauth/v2/authorization", self.authorization, methods=["GET"]),
                Route("/oauth/v2/accessToken", self.access_token, methods=["POST"]),
                Route("/v2/userinfo", self.userinfo, methods=["GET"]),
                Route("/rest/posts", self.create_post, methods=["POST"]),
                Route("/rest/posts", self.find_posts, methods=["GET"]),
                Route("/rest/images", self.images_action, methods=["POST"]),
                Route("/rest/videos", self.videos_action, methods=["POST"]),
                Route("/rest/images/{urn:path}", self.get_media, methods=["GET"]),
                Route("/rest/videos/{urn:path}", self.get_media, methods=["GET"]),
                Route("/dms-uploads/{media_id}/{part:int}", self.upload, methods=["PUT"]),
                Route("/rest/socialMetadata/{urn:path}", self.social_metadata, methods=["GET"]),
            ]
        )


def create_app(clock: Clock) -> LinkedInFake:
    """The fake; its ASGI app is `.app`, its state and knobs are its attributes."""
    return LinkedInFake(clock)
