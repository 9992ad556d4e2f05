"""Instagram (professional accounts, through Facebook Login): adapter and connector."""

from __future__ import annotations

from onthedot.networks import Network
from onthedot.networks.instagram.adapter import InstagramAdapter
from onthedot.networks.instagram.connector import InstagramConnector
from onthedot.networks.meta.factories import (
    FACEBOOK_GRAPH_URL,
    app_keys,
    graph_for,
    public_media_url,
)
from onthedot.networks.registry import NetworkContext

__all__ = ["InstagramAdapter", "InstagramConnector", "create_adapter", "create_connector"]


def create_adapter(context: NetworkContext) -> InstagramAdapter:
    graph = graph_for(context, Network.INSTAGRAM, FACEBOOK_GRAPH_URL, service="Instagram")
    return InstagramAdapter(graph, media_url=public_media_url(context))


def create_connector(context: NetworkContext) -> InstagramConnector:
    app_id, app_secret = app_keys(context, Network.INSTAGRAM)
    graph = graph_for(context, Network.INSTAGRAM, FACEBOOK_GRAPH_URL, service="Instagram")
    return InstagramConnector(graph, app_id=app_id, app_secret=app_secret)
