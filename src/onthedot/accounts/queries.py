"""Named queries on accounts (checked by the query-plan guard)."""

from __future__ import annotations

from sqlalchemy import Select, select

from onthedot.accounts.models import ApiToken, Membership, Role, User


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


def membership_of(*, workspace_id: int, user_id: int) -> Select[Membership]:
    return select(Membership).where(
        Membership.workspace_id == workspace_id, Membership.user_id == user_id
    )


def members_of(*, workspace_id: int) -> Select[Membership, User]:
    return (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(Membership.id)
    )


def tokens_of(*, workspace_id: int, user_id: int | None) -> Select[ApiToken]:
    """A workspace's tokens, or one member's tokens in it."""
    query = select(ApiToken).where(ApiToken.workspace_id == workspace_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return query.order_by(ApiToken.id)


def first_owner(*, workspace_id: int) -> Select[Membership]:
    """The workspace's first owner: whom the command line acts as."""
    return (
        select(Membership)
        .where(Membership.workspace_id == workspace_id, Membership.role == Role.OWNER)
        .order_by(Membership.id)
        .limit(1)
    )
