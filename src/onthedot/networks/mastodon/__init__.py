"""Mastodon: publishing to an account on any Mastodon instance, and connecting one."""

from __future__ import annotations

from onthedot.networks.mastodon.adapter import MastodonAdapter
from onthedot.networks.mastodon.connector import MastodonConnector
from onthedot.networks.registry import NetworkContext

__all__ = ["MastodonAdapter", "MastodonConnector", "create_adapter", "create_connector"]


def create_adapter(context: NetworkContext) -> MastodonAdapter:
    return MastodonAdapter(context)


def create_connector(context: NetworkContext) -> MastodonConnector:
    return MastodonConnector(context)
