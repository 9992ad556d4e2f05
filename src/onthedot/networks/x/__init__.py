"""X (formerly Twitter): the adapter and the connector, built from onthedot's settings.

Settings: ONTHEDOT_X_CLIENT_ID (required to connect accounts and renew their tokens) and
ONTHEDOT_X_CLIENT_SECRET (set for a confidential client, which authenticates with HTTP Basic;
unset for a public one). `network_urls["x"]` points both the API and the consent page at
another address (the contract fake in `onthedot.sandbox.fakes.x`). See docs/networks/x.md.
"""

from __future__ import annotations

from onthedot.networks import Network
from onthedot.networks.registry import NetworkContext
from onthedot.networks.x.adapter import XAdapter
from onthedot.networks.x.client import API_URL
from onthedot.networks.x.connector import AUTHORIZE_URL, XConnector
from onthedot.networks.x.oauth import OAuthClient

__all__ = ["XAdapter", "XConnector", "create_adapter", "create_connector"]


def _oauth(context: NetworkContext, base_url: str, *, required: bool) -> OAuthClient | None:
    settings = context.settings
    client_id = settings.x_client_id
    if required:
        client_id = context.require(client_id, "x_client_id", Network.X)
    if not client_id:
        return None
    secret = settings.x_client_secret
    return OAuthClient(
        http=context.http,
        base_url=base_url,
        client_id=client_id,
        client_secret=secret.get_secret_value() if secret is not None else None,
    )


def create_adapter(context: NetworkContext) -> XAdapter:
    base_url = context.base_url(Network.X, API_URL)
    return XAdapter(
        http=context.http,
        clock=context.clock,
        store=context.store,
        base_url=base_url,
        # Without a client id posts still go out until the token needs renewing, which then
        # fails saying which setting is missing.
        oauth=_oauth(context, base_url, required=False),
    )


def create_connector(context: NetworkContext) -> XConnector:
    base_url = context.base_url(Network.X, API_URL)
    oauth = _oauth(context, base_url, required=True)
    assert oauth is not None
    overridden = Network.X.value in context.settings.network_urls
    return XConnector(
        http=context.http,
        clock=context.clock,
        oauth=oauth,
        base_url=base_url,
        authorize_url=f"{base_url}/i/oauth2/authorize" if overridden else AUTHORIZE_URL,
    )
