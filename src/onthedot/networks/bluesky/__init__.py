"""Bluesky (AT Protocol): posts written to the account's PDS over XRPC.

See docs/networks/bluesky.md for connecting an account, what is supported and the limits.
"""

from __future__ import annotations

from onthedot.networks import Network
from onthedot.networks.bluesky.adapter import BlueskyAdapter
from onthedot.networks.bluesky.connector import BlueskyConnector
from onthedot.networks.bluesky.xrpc import ENTRYWAY, VIDEO_SERVICE
from onthedot.networks.registry import NetworkContext

__all__ = ["BlueskyAdapter", "BlueskyConnector", "create_adapter", "create_connector"]

# The video service is a second address; settings.network_urls may point it elsewhere too.
VIDEO_URL_KEY = "bluesky_video"


def create_adapter(context: NetworkContext) -> BlueskyAdapter:
    return BlueskyAdapter(
        http=context.http,
        clock=context.clock,
        store=context.store,
        video_service=context.settings.network_urls.get(VIDEO_URL_KEY, VIDEO_SERVICE),
    )


def create_connector(context: NetworkContext) -> BlueskyConnector:
    return BlueskyConnector(
        http=context.http,
        clock=context.clock,
        entryway=context.base_url(Network.BLUESKY, ENTRYWAY),
    )
