"""Which adapter and which connector serve each network, built from settings.

Each real network's package exposes `create_adapter(context)` and `create_connector(context)`;
they are imported only when asked for, so an installation pays only for what it uses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from onthedot.clock import Clock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from onthedot.errors import ConfigurationError
from onthedot.networks import Network
from onthedot.networks.base import Adapter
from onthedot.networks.connect import Connector
from onthedot.networks.credentials import CredentialStore
from onthedot.networks.http import HttpClient

__all__ = ["REAL_NETWORKS", "NetworkContext", "create_adapter", "create_connector"]

REAL_NETWORKS: tuple[Network, ...] = (
    Network.MASTODON,
    Network.BLUESKY,
    Network.THREADS,
    Network.X,
    Network.LINKEDIN,
    Network.FACEBOOK,
    Network.INSTAGRAM,
)


@dataclass(frozen=True, slots=True)
class NetworkContext:
    """What every adapter and connector is built from."""

    settings: Settings
    clock: Clock
    store: CredentialStore
    http: HttpClient
    # Signs the public addresses of media that a network fetches itself (Threads, Instagram).
    box: CredentialBox | None = None

    def base_url(self, network: Network, default: str) -> str:
        """The network's API address: its real one unless the settings point elsewhere."""
        return self.settings.network_urls.get(network.value, default).rstrip("/")

    def redirect_uri(self, network: Network) -> str:
        base = self.settings.public_url or f"http://{self.settings.host}:{self.settings.port}"
        return f"{base.rstrip('/')}/connect/{network.value}/callback"

    def require(self, value: str | None, setting: str, network: Network) -> str:
        """A setting the network needs (its OAuth client id, say), or a clear error."""
        if not value:
            raise ConfigurationError(
                f"connecting {network.value} accounts needs ONTHEDOT_{setting.upper()}: register "
                f"an app with {network.value} (see docs/networks/{network.value}.md) and set it"
            )
        return value


def _factory(network: Network, name: str) -> Callable[[NetworkContext], object]:
    if network not in REAL_NETWORKS:
        raise ConfigurationError(f"{network.value} has no adapter built from settings")
    module = importlib.import_module(f"onthedot.networks.{network.value}")
    return cast(Callable[[NetworkContext], object], getattr(module, name))


def create_adapter(network: Network, context: NetworkContext) -> Adapter:
    adapter = _factory(network, "create_adapter")(context)
    assert isinstance(adapter, Adapter)
    return adapter


def create_connector(network: Network, context: NetworkContext) -> Connector:
    connector = _factory(network, "create_connector")(context)
    assert isinstance(connector, Connector)
    return connector
