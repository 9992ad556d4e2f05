"""What the Meta networks' factories share: a Graph client at the network's address (or the
one the settings point to), the app's id and secret, and the public media addresses."""

from __future__ import annotations

import datetime as dt
from typing import Final

from onthedot.networks import Network
from onthedot.networks.base import MediaFile
from onthedot.networks.meta.graph import Graph
from onthedot.networks.meta.publishing import MediaUrl
from onthedot.networks.registry import NetworkContext

__all__ = ["FACEBOOK_GRAPH_URL", "app_keys", "graph_for", "public_media_url"]

FACEBOOK_GRAPH_URL: Final = "https://graph.facebook.com"


def graph_for(context: NetworkContext, network: Network, url: str, *, service: str) -> Graph:
    return Graph(context.http, context.base_url(network, url), service=service, clock=context.clock)


def app_keys(context: NetworkContext, network: Network) -> tuple[str, str]:
    """The app's id and secret, or the error that says which setting to set: Threads has an app
    of its own, Facebook Login (for Pages and Instagram) the Meta app."""
    settings = context.settings
    if network is Network.THREADS:
        setting, app_id, secret = "threads", settings.threads_app_id, settings.threads_app_secret
    else:
        setting, app_id, secret = "meta", settings.meta_app_id, settings.meta_app_secret
    return (
        context.require(app_id, f"{setting}_app_id", network),
        context.require(
            secret.get_secret_value() if secret else None, f"{setting}_app_secret", network
        ),
    )


def public_media_url(context: NetworkContext) -> MediaUrl:
    from onthedot.networks.public_media import public_url_for

    def media_url(media: MediaFile, expires_at: dt.datetime) -> str:
        return public_url_for(context, media, expires_at=expires_at)

    return media_url
