"""Threads: the adapter and the connector, built from settings."""

from __future__ import annotations

from typing import Final

from onthedot.networks import Network
from onthedot.networks.meta.factories import app_keys, graph_for, public_media_url
from onthedot.networks.registry import NetworkContext
from onthedot.networks.threads.adapter import ThreadsAdapter
from onthedot.networks.threads.connector import ThreadsConnector

__all__ = ["ThreadsAdapter", "ThreadsConnector", "create_adapter", "create_connector"]

API_URL: Final = "https://graph.threads.net"


def create_adapter(context: NetworkContext) -> ThreadsAdapter:
    graph = graph_for(context, Network.THREADS, API_URL, service="Threads")
    return ThreadsAdapter(graph, context.store, media_url=public_media_url(context))


def create_connector(context: NetworkContext) -> ThreadsConnector:
    app_id, app_secret = app_keys(context, Network.THREADS)
    graph = graph_for(context, Network.THREADS, API_URL, service="Threads")
    return ThreadsConnector(graph, app_id=app_id, app_secret=app_secret)
