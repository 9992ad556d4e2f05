"""Connecting an Instagram professional account through Facebook Login.

developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login: the
account is reached through the Facebook Page it is linked to (GET /me/accounts with
instagram_business_account). Permissions (developers.facebook.com/docs/permissions):
instagram_basic and instagram_content_publish to publish, instagram_manage_insights for
engagement, pages_show_list and pages_read_engagement to find the Page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from onthedot.networks import Network
from onthedot.networks.base import Permanent
from onthedot.networks.connect import Connected
from onthedot.networks.meta.login import FacebookLoginConnector

__all__ = ["SCOPES", "InstagramConnector"]

SCOPES: Final = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_insights",
    "pages_show_list",
    "pages_read_engagement",
)


class InstagramConnector(FacebookLoginConnector):
    network = Network.INSTAGRAM
    options: Mapping[str, str] = {
        "username": "the Instagram account to connect, when the Facebook user's Pages link "
        "to more than one",
    }
    scopes = SCOPES
    fields = "id,name,access_token,instagram_business_account{id,username}"
    option = "username"

    def choose(self, pages: list[dict[str, Any]], wanted: str | None) -> Connected:
        linked = [p for p in pages if isinstance(p.get("instagram_business_account"), dict)]
        if not linked:
            raise Permanent(
                "none of the Facebook Pages you manage is linked to an Instagram professional "
                "account; link one in the Instagram app (Settings → Account type and tools), "
                "then connect again"
            )
        wanted = (wanted or "").lstrip("@")
        if wanted:
            linked = [
                p for p in linked if p["instagram_business_account"].get("username") == wanted
            ]
            if not linked:
                raise Permanent(
                    f"@{wanted} is not linked to any Facebook Page you manage; check the "
                    "username, or link the account to a Page and connect again"
                )
        if len(linked) > 1:
            names = ", ".join(
                "@" + str(p["instagram_business_account"].get("username")) for p in linked
            )
            raise Permanent(
                f"your Pages link to several Instagram accounts ({names}); connect again with "
                "the username option set to the one to connect",
                code="choose_account",
            )
        page = linked[0]
        account = page["instagram_business_account"]
        return Connected(
            handle=f"@{account.get('username')}",
            credentials={
                "access_token": page["access_token"],
                "ig_user_id": str(account["id"]),
                "page_id": str(page["id"]),
            },
            account_id=str(account["id"]),
            display_name=str(page.get("name") or "") or None,
        )
