"""Facebook Login, for Facebook Pages and for Instagram professional accounts.

developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow: the user is sent to
the login dialog (www.facebook.com/{version}/dialog/oauth) and comes back with a code, which
GET /{version}/oauth/access_token exchanges for a short-lived user token.
developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived: GET
/oauth/access_token?grant_type=fb_exchange_token turns it into a long-lived user token (about
60 days), and a Page access token read with a long-lived user token (GET /me/accounts) has no
expiry. onthedot keeps that Page token: the channel then needs no refresh at all, only a
reconnection if the user changes their password, leaves the Page or removes the app.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final
from urllib.parse import urlencode

from onthedot.networks.base import Permanent
from onthedot.networks.connect import Authorization, Connected, Connector
from onthedot.networks.meta.graph import GRAPH_VERSION, Graph
from onthedot.networks.meta.oauth import returned_code

__all__ = ["DIALOG_URL", "FacebookLoginConnector", "dialog", "pages_of"]

DIALOG_URL: Final = f"https://www.facebook.com/{GRAPH_VERSION}/dialog/oauth"


def dialog(
    *,
    app_id: str,
    redirect_uri: str,
    state: str,
    scopes: Sequence[str],
    keep: Mapping[str, str] | None = None,
) -> Authorization:
    query = {
        "client_id": app_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": ",".join(scopes),
        "response_type": "code",
    }
    return Authorization(
        url=f"{DIALOG_URL}?{urlencode(query)}", secret={"state": state, **(keep or {})}
    )


async def pages_of(
    graph: Graph,
    *,
    app_id: str,
    app_secret: str,
    redirect_uri: str,
    query: Mapping[str, str],
    secret: Mapping[str, Any],
    fields: str,
) -> list[dict[str, Any]]:
    """The Pages the user manages, each with its never-expiring Page token."""
    code = returned_code(graph.service, query, secret)
    short = await graph.call(
        "GET",
        f"{GRAPH_VERSION}/oauth/access_token",
        token=None,
        account="the account",
        doing="exchanging the authorization code",
        params={
            "client_id": app_id,
            "redirect_uri": redirect_uri,
            "client_secret": app_secret,
            "code": code,
        },
    )
    long = await graph.call(
        "GET",
        f"{GRAPH_VERSION}/oauth/access_token",
        token=None,
        account="the account",
        doing="exchanging the token for a long-lived one",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": app_id,
            "client_secret": app_secret,
            "fb_exchange_token": str(short.get("access_token") or ""),
        },
    )
    user_token = long.get("access_token")
    if not isinstance(user_token, str) or not user_token:
        raise Permanent(f"{graph.service} sent no access token back; connect the channel again")
    pages: list[dict[str, Any]] = []
    async for page in graph.pages(
        f"{GRAPH_VERSION}/me/accounts",
        token=user_token,
        account="the account",
        doing="listing the Pages the account manages",
        params={"fields": fields, "limit": 100},
    ):
        pages.extend(p for p in page if isinstance(p.get("access_token"), str))
    return pages


class FacebookLoginConnector(Connector):
    """A network whose account is reached through a Page the Facebook user manages: the
    dialog, the Pages with their tokens, then `choose` picks the account."""

    flow = "oauth"
    scopes: ClassVar[tuple[str, ...]]
    # The Page fields `choose` reads.
    fields: ClassVar[str]
    # The option that names the account to connect; kept in the secret across the dialog.
    option: ClassVar[str]

    def __init__(self, graph: Graph, *, app_id: str, app_secret: str) -> None:
        self._graph = graph
        self._app_id = app_id
        self._app_secret = app_secret

    async def authorize(
        self, *, redirect_uri: str, state: str, options: Mapping[str, str]
    ) -> Authorization:
        keep = {self.option: options[self.option]} if options.get(self.option) else {}
        return dialog(
            app_id=self._app_id,
            redirect_uri=redirect_uri,
            state=state,
            scopes=self.scopes,
            keep=keep,
        )

    async def finish(
        self, *, redirect_uri: str, query: Mapping[str, str], secret: Mapping[str, Any]
    ) -> Connected:
        pages = await pages_of(
            self._graph,
            app_id=self._app_id,
            app_secret=self._app_secret,
            redirect_uri=redirect_uri,
            query=query,
            secret=secret,
            fields=self.fields,
        )
        wanted = secret.get(self.option)
        return self.choose(pages, str(wanted) if wanted else None)

    @abstractmethod
    def choose(self, pages: list[dict[str, Any]], wanted: str | None) -> Connected:
        """The account to connect among the user's Pages; `wanted` is the option's value."""
