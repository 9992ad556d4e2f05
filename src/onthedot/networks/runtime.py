"""The networks of one process: each adapter and connector built once, on one HTTP client.

The API, the broadcaster and the CLI each hold one `Networks`. Tests hand it adapters or
connectors of their own (over the contract fakes) in place of the ones built from settings.
"""

from __future__ import annotations

from collections.abc import Mapping

from onthedot.clock import Clock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox
from onthedot.networks import Network
from onthedot.networks.base import Adapter
from onthedot.networks.connect import Connector
from onthedot.networks.credentials import CredentialStore, MemoryCredentialStore
from onthedot.networks.http import AddressPolicy, HttpClient
from onthedot.networks.registry import (
    REAL_NETWORKS,
    NetworkContext,
    create_adapter,
    create_connector,
)

__all__ = ["Networks", "sandbox_url"]


def sandbox_url(settings: Settings) -> str:
    """Where the sandbox network answers: its own server, or /sandbox of `onthedot run`."""
    if settings.sandbox_url:
        return settings.sandbox_url.rstrip("/")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104
    return f"http://{host}:{settings.port}/sandbox"


class Networks:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock,
        store: CredentialStore | None = None,
        box: CredentialBox | None = None,
        http: HttpClient | None = None,
        adapters: Mapping[Network, Adapter] | None = None,
        connectors: Mapping[Network, Connector] | None = None,
    ) -> None:
        self._owns_http = http is None
        http = http or HttpClient(
            policy=AddressPolicy(allow_private=settings.allow_private_addresses),
            timeout_s=settings.publish_timeout_s,
            max_connections=settings.max_in_flight,
        )
        self.context = NetworkContext(
            settings=settings,
            clock=clock,
            store=store or MemoryCredentialStore(),
            http=http,
            box=box,
        )
        self._adapters: dict[Network, Adapter] = dict(adapters or {})
        self._connectors: dict[Network, Connector] = dict(connectors or {})

    def adapter(self, network: Network) -> Adapter:
        if network not in self._adapters:
            if network is Network.SANDBOX:
                from onthedot.networks.sandbox import SandboxAdapter

                settings = self.context.settings
                self._adapters[network] = SandboxAdapter(
                    sandbox_url(settings),
                    clock=self.context.clock,
                    timeout_s=settings.publish_timeout_s,
                )
            else:
                self._adapters[network] = create_adapter(network, self.context)
        return self._adapters[network]

    def adapters(self) -> dict[Network, Adapter]:
        """Every network's adapter, for a broadcaster that publishes to any of them."""
        return {network: self.adapter(network) for network in (Network.SANDBOX, *REAL_NETWORKS)}

    def connector(self, network: Network) -> Connector:
        if network not in self._connectors:
            self._connectors[network] = create_connector(network, self.context)
        return self._connectors[network]

    async def aclose(self) -> None:
        for adapter in set(self._adapters.values()):
            await adapter.aclose()
        if self._owns_http:
            await self.context.http.aclose()
