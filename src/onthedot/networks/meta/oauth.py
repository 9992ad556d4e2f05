"""What every Meta connect flow checks on the way back from the consent screen."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from onthedot.networks.base import Permanent

__all__ = ["returned_code"]


def returned_code(service: str, query: Mapping[str, str], secret: Mapping[str, Any]) -> str:
    """The authorization code in the redirect, once the state matches and consent was given.

    A refusal comes back as `error`, `error_reason` and `error_description`
    (developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow, "Handling
    login dialog response"; Threads answers the same way).
    """
    expected = secret.get("state")
    given = query.get("state", "")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, given):
        raise Permanent(
            f"the answer from {service} does not belong to this connection attempt (its state "
            "does not match); start connecting the channel again",
            code="state_mismatch",
        )
    if query.get("error") or query.get("error_reason"):
        reason = query.get("error_description") or query.get("error_reason") or query["error"]
        raise Permanent(
            f"{service} did not grant onthedot access ({reason.replace('+', ' ')}); connect "
            "the channel again and accept the permissions onthedot asks for",
            code=query.get("error_reason") or query.get("error") or "access_denied",
        )
    code = query.get("code", "")
    # Threads appends "#_" to the code in the redirect it sends (developers.facebook.com/
    # docs/threads/get-started/get-access-tokens-and-permissions).
    code = code.removesuffix("#_")
    if not code:
        raise Permanent(
            f"{service} sent no authorization code back; start connecting the channel again",
            code="no_code",
        )
    return code
