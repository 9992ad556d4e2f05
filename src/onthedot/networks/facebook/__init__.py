"""Facebook Pages: adapter and connector."""

from __future__ import annotations

from onthedot.networks import Network
from onthedot.networks.facebook.adapter import FacebookAdapter
from onthedot.networks.facebook.connector import FacebookConnector
from onthedot.networks.meta.factories import FACEBOOK_GRAPH_URL, app_keys, graph_for
from onthedot.networks.registry import NetworkContext

__all__ = ["FacebookAdapter", "FacebookConnector", "create_adapter", "create_connector"]


def create_adapter(context: NetworkContext) -> FacebookAdapter:
    return FacebookAdapter(
        graph_for(context, Network.FACEBOOK, FACEBOOK_GRAPH_URL, service="Facebook")
    )


def create_connector(context: NetworkContext) -> FacebookConnector:
    app_id, app_secret = app_keys(context, Network.FACEBOOK)
    graph = graph_for(context, Network.FACEBOOK, FACEBOOK_GRAPH_URL, service="Facebook")
    return FacebookConnector(graph, app_id=app_id, app_secret=app_secret)
