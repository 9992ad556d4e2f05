"""What every Meta adapter is: a Graph client, calls made as one account, and no idempotency.

No Meta network deduplicates publish calls, so a lost answer is looked for (`meta.find`)
before it is retried; and one publish per account at a time is all their daily quotas allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from onthedot.clock import Clock
from onthedot.networks.base import Adapter, Limits
from onthedot.networks.meta.caller import Caller
from onthedot.networks.meta.graph import GRAPH_VERSION, Graph

__all__ = ["GraphAdapter"]


class GraphAdapter(Adapter):
    idempotent = False
    limits = Limits(network_in_flight=200, account_in_flight=1)
    # Paths are relative to this API version.
    version: ClassVar[str] = GRAPH_VERSION
    # What to say when the channel holds no token.
    no_access: ClassVar[str]

    def __init__(self, graph: Graph) -> None:
        self._graph = graph
        self._clock: Clock = graph.clock

    def _name(self, handle: str) -> str:
        """How messages name the account: "@alice", however the handle was stored."""
        return "@" + handle.strip().lstrip("@")

    def _caller(self, creds: Mapping[str, Any], handle: str) -> Caller:
        return Caller(self._graph, self.version, creds, self._name(handle), self.no_access)
