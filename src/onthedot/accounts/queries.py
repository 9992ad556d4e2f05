"""Named queries on accounts (checked by the query-plan guard)."""

from __future__ import annotations

from sqlalchemy import Select, select

from onthedot.accounts.models import ApiToken, Membership, Role


def token_by_hash(*, token_hash: str) -> Select[ApiToken, Role]:
    """Every API request runs this: the token and its holder's role."""
    return (
        select(ApiToken, Membership.role)
        .join(
            Membership,
            (Membership.workspace_id == ApiToken.workspace_id)
            & (Membership.user_id == ApiToken.user_id),
        )
        .where(ApiToken.token_hash == token_hash)
    )
