"""LinkedIn: members' posts through the versioned REST API (see docs/networks/linkedin.md)."""

from __future__ import annotations

from onthedot.networks import Network
from onthedot.networks.linkedin.adapter import LinkedInAdapter
from onthedot.networks.linkedin.client import API_URL, OAUTH_URL, LinkedInApi
from onthedot.networks.linkedin.connect import LinkedInConnector
from onthedot.networks.linkedin.oauth import OAuthClient
from onthedot.networks.registry import NetworkContext

__all__ = ["LinkedInAdapter", "LinkedInConnector", "create_adapter", "create_connector"]


def _clients(context: NetworkContext) -> tuple[LinkedInApi, OAuthClient]:
    api_url = context.base_url(Network.LINKEDIN, API_URL)
    # A contract fake stands for both of LinkedIn's hosts at the one address it is given.
    oauth_url = OAUTH_URL if api_url == API_URL else api_url
    settings = context.settings
    secret = settings.linkedin_client_secret
    oauth = OAuthClient(
        context.http,
        oauth_url,
        clock=context.clock,
        client_id=settings.linkedin_client_id,
        client_secret=secret.get_secret_value() if secret is not None else None,
    )
    return LinkedInApi(context.http, api_url), oauth


def create_adapter(context: NetworkContext) -> LinkedInAdapter:
    api, oauth = _clients(context)
    return LinkedInAdapter(api=api, oauth=oauth, clock=context.clock, store=context.store)


def create_connector(context: NetworkContext) -> LinkedInConnector:
    """Raises ConfigurationError, naming the setting, when no LinkedIn app is configured:
    the API then lists LinkedIn as not ready."""
    settings = context.settings
    context.require(settings.linkedin_client_id, "linkedin_client_id", Network.LINKEDIN)
    secret = settings.linkedin_client_secret
    context.require(
        secret.get_secret_value() if secret is not None else None,
        "linkedin_client_secret",
        Network.LINKEDIN,
    )
    api, oauth = _clients(context)
    return LinkedInConnector(api=api, oauth=oauth)
