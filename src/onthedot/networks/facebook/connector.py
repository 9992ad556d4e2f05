"""Connecting a Facebook Page through Facebook Login.

Permissions (developers.facebook.com/docs/pages-api/overview and .../permissions):
pages_show_list to list the user's Pages, pages_manage_posts to publish, and
pages_read_engagement to read the posts back (reconciliation, engagement). The channel keeps
the Page's own token, read with a long-lived user token so that it does not expire.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from onthedot.networks import Network
from onthedot.networks.base import Permanent
from onthedot.networks.connect import Connected
from onthedot.networks.meta.login import FacebookLoginConnector

__all__ = ["SCOPES", "FacebookConnector"]

SCOPES: Final = ("pages_show_list", "pages_manage_posts", "pages_read_engagement")


class FacebookConnector(FacebookLoginConnector):
    network = Network.FACEBOOK
    options: Mapping[str, str] = {
        "page_id": "the id of the Page to connect, when the user manages more than one",
    }
    scopes = SCOPES
    fields = "id,name,access_token"
    option = "page_id"

    def choose(self, pages: list[dict[str, Any]], wanted: str | None) -> Connected:
        if not pages:
            raise Permanent(
                "the Facebook account manages no Page onthedot was given access to; create a "
                "Page or choose it on Facebook's consent screen, then connect again"
            )
        if wanted:
            pages = [p for p in pages if str(p.get("id")) == wanted]
            if not pages:
                raise Permanent(
                    f"the Facebook account does not manage the Page {wanted} (or did not grant "
                    "onthedot access to it); check the id and connect again"
                )
        if len(pages) > 1:
            names = ", ".join(f"{p.get('name')} ({p.get('id')})" for p in pages)
            raise Permanent(
                f"the Facebook account manages several Pages: {names}; connect again with the "
                "page_id option set to the one to connect",
                code="choose_page",
            )
        page = pages[0]
        name = str(page.get("name") or page["id"])
        return Connected(
            handle=name,
            credentials={"access_token": page["access_token"], "page_id": str(page["id"])},
            account_id=str(page["id"]),
            display_name=name,
        )
