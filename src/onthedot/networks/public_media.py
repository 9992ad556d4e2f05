"""Public, expiring addresses for a post's media, for networks that fetch media themselves.

Threads and Instagram do not take uploads: they are given a URL and download the file from
it. onthedot serves the file at `{public_url}/media/public/{token}`, where the token is the
file's place in the media directory and an expiry, sealed with the installation's key: it
cannot be forged, guessed from another, or used after it expires.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from onthedot.crypto import CredentialBox
from onthedot.errors import ConfigurationError, NotFound
from onthedot.networks.base import MediaFile, Permanent
from onthedot.networks.registry import NetworkContext

__all__ = ["PATH", "public_url_for", "resolve_token"]

PATH = "/media/public/"


def public_url_for(context: NetworkContext, media: MediaFile, *, expires_at: dt.datetime) -> str:
    settings = context.settings
    if not settings.public_url:
        raise Permanent(
            f"{media.filename} must be fetched by the network from a public address, and "
            "onthedot has none: set ONTHEDOT_PUBLIC_URL to the https address the internet "
            "reaches onthedot at",
            code="no_public_url",
        )
    if context.box is None:
        raise ConfigurationError("public media addresses need ONTHEDOT_SECRET_KEY")
    root = settings.media_dir.resolve()
    try:
        relative = media.path.resolve().relative_to(root)
    except ValueError:
        raise Permanent(f"{media.filename} is not in onthedot's media directory") from None
    token = context.box.seal(
        {
            "path": relative.as_posix(),
            "type": media.content_type,
            "exp": int(expires_at.timestamp()),
        }
    ).decode()
    return f"{settings.public_url.rstrip('/')}{PATH}{token}"


def resolve_token(
    token: str, *, box: CredentialBox, media_dir: Path, now: dt.datetime
) -> tuple[Path, str]:
    """The file a token names and its content type, if the token is genuine and not expired."""
    gone = NotFound("this media address is unknown or has expired")
    try:
        data = box.open(token.encode())
    except (ConfigurationError, ValueError):
        raise gone from None
    path, expiry, kind = data.get("path"), data.get("exp"), data.get("type")
    if not isinstance(path, str) or not isinstance(expiry, int) or expiry < now.timestamp():
        raise gone
    if not isinstance(kind, str):
        raise gone
    root = media_dir.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise gone
    return target, kind
