"""Workspaces, members and API tokens. Services never commit: the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from onthedot.accounts import queries
from onthedot.accounts.models import ApiToken, Membership, Role, User, Workspace
from onthedot.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied

TOKEN_PREFIX = "odt_"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True)
class Member:
    """Who is asking: a user acting in one workspace with one role, through one token."""

    user_id: int
    workspace_id: int
    role: Role
    token_id: int | None = None

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise PermissionDenied(f"this needs the {allowed} role; you are {self.role.value}")

    def require_editor(self) -> None:
        self.require(Role.OWNER, Role.EDITOR)

    def require_owner(self) -> None:
        self.require(Role.OWNER)


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough; no salt or KDF is needed.
    return hashlib.sha256(token.encode()).hexdigest()


def _normalise_email(email: str) -> str:
    email = email.strip().lower()
    if (
        "@" not in email
        or email.startswith("@")
        or email.endswith("@")
        or len(email) > 320
        or "\x00" in email
    ):
        raise InvalidInput(f"{email!r} is not an email address")
    return email


def _check_name(name: str, what: str, *, allow_empty: bool = False) -> str:
    """A name of a workspace or token: trimmed, at most 200 characters, no NUL (which
    PostgreSQL cannot store in text)."""
    name = name.strip()
    if (not name and not allow_empty) or len(name) > 200:
        raise InvalidInput(f"a {what} name must have 1 to 200 characters")
    if "\x00" in name:
        raise InvalidInput(f"a {what} name cannot contain a NUL character (\\x00)")
    return name


async def get_or_create_user(session: AsyncSession, *, email: str, now: dt.datetime) -> User:
    email = _normalise_email(email)
    user = await session.scalar(select(User).where(User.email == email))
    if user is None:
        # users.name holds 200 characters; an address's local part may be longer.
        user = User(email=email, name=email.split("@")[0][:200], created_at=now)
        session.add(user)
        await session.flush()
    return user


async def get_user(session: AsyncSession, *, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


async def create_workspace(
    session: AsyncSession, *, name: str, owner_email: str, now: dt.datetime
) -> tuple[Workspace, User]:
    name = _check_name(name, "workspace")
    owner = await get_or_create_user(session, email=owner_email, now=now)
    workspace = Workspace(name=name, created_at=now)
    session.add(workspace)
    await session.flush()
    session.add(
        Membership(workspace_id=workspace.id, user_id=owner.id, role=Role.OWNER, created_at=now)
    )
    await session.flush()
    return workspace, owner


async def get_workspace(session: AsyncSession, *, workspace_id: int) -> Workspace:
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound(f"workspace {workspace_id} not found")
    return workspace


async def rename_workspace(session: AsyncSession, *, member: Member, name: str) -> Workspace:
    member.require_owner()
    name = _check_name(name, "workspace")
    workspace = await get_workspace(session, workspace_id=member.workspace_id)
    workspace.name = name
    await session.flush()
    return workspace


async def find_workspace(session: AsyncSession, *, ref: str) -> Workspace:
    """A workspace by id or by exact name (for the CLI)."""
    if ref.isdigit():
        found = await session.get(Workspace, int(ref))
    else:
        matches = (await session.scalars(select(Workspace).where(Workspace.name == ref))).all()
        if len(matches) > 1:
            raise Conflict(f"{len(matches)} workspaces are named '{ref}'; give its id instead")
        found = matches[0] if matches else None
    if found is None:
        raise NotFound(f"no workspace '{ref}'")
    return found


async def membership(session: AsyncSession, *, workspace_id: int, user_id: int) -> Membership:
    found = await session.scalar(queries.membership_of(workspace_id=workspace_id, user_id=user_id))
    if found is None:
        raise NotFound(f"user {user_id} is not a member of this workspace")
    return found


async def list_members(session: AsyncSession, *, member: Member) -> list[tuple[Membership, User]]:
    rows = await session.execute(queries.members_of(workspace_id=member.workspace_id))
    return [(m, u) for m, u in rows]


async def add_member(
    session: AsyncSession, *, member: Member, email: str, role: Role, now: dt.datetime
) -> tuple[Membership, User]:
    member.require_owner()
    user = await get_or_create_user(session, email=email, now=now)
    existing = await session.scalar(
        queries.membership_of(workspace_id=member.workspace_id, user_id=user.id)
    )
    if existing is not None:
        raise Conflict(f"{user.email} is already a member (role {existing.role.value})")
    created = Membership(
        workspace_id=member.workspace_id, user_id=user.id, role=role, created_at=now
    )
    session.add(created)
    await session.flush()
    return created, user


async def _owner_count(session: AsyncSession, workspace_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.workspace_id == workspace_id, Membership.role == Role.OWNER)
    )
    return int(count or 0)


async def change_role(
    session: AsyncSession, *, member: Member, user_id: int, role: Role
) -> Membership:
    member.require_owner()
    target = await membership(session, workspace_id=member.workspace_id, user_id=user_id)
    if (
        target.role == Role.OWNER
        and role != Role.OWNER
        and await _owner_count(session, member.workspace_id) <= 1
    ):
        raise Conflict("a workspace needs at least one owner; make someone else owner first")
    target.role = role
    await session.flush()
    return target


async def remove_member(session: AsyncSession, *, member: Member, user_id: int) -> None:
    member.require_owner()
    target = await membership(session, workspace_id=member.workspace_id, user_id=user_id)
    if target.role == Role.OWNER and await _owner_count(session, member.workspace_id) <= 1:
        raise Conflict("a workspace needs at least one owner; make someone else owner first")
    await session.delete(target)
    # Their tokens for this workspace stop working with the membership.
    tokens = await session.scalars(
        select(ApiToken).where(
            ApiToken.workspace_id == member.workspace_id,
            ApiToken.user_id == user_id,
            ApiToken.revoked_at.is_(None),
        )
    )
    for token in tokens:
        await session.delete(token)
    await session.flush()


async def create_token(
    session: AsyncSession, *, workspace_id: int, user_id: int, name: str, now: dt.datetime
) -> tuple[ApiToken, str]:
    """Create a token; the plain token is returned once and never stored."""
    name = _check_name(name, "token", allow_empty=True) or "token"
    await membership(session, workspace_id=workspace_id, user_id=user_id)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        workspace_id=workspace_id,
        user_id=user_id,
        name=name,
        prefix=plain[:12],
        token_hash=hash_token(plain),
        created_at=now,
    )
    session.add(token)
    await session.flush()
    return token, plain


async def list_tokens(session: AsyncSession, *, member: Member) -> list[ApiToken]:
    # Owners see every token of the workspace; others only their own.
    user_id = None if member.role == Role.OWNER else member.user_id
    query = queries.tokens_of(workspace_id=member.workspace_id, user_id=user_id)
    return list((await session.scalars(query)).all())


async def revoke_token(
    session: AsyncSession, *, member: Member, token_id: int, now: dt.datetime
) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    # Another workspace's token, or (for non-owners) a teammate's, does not exist for you.
    visible = token is not None and token.workspace_id == member.workspace_id
    if visible and member.role != Role.OWNER and token is not None:
        visible = token.user_id == member.user_id
    if token is None or not visible:
        raise NotFound(f"token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = now
        await session.flush()
    return token


async def authenticate(session: AsyncSession, *, token: str, now: dt.datetime) -> Member:
    if not token.startswith(TOKEN_PREFIX):
        raise AuthenticationFailed("malformed API token; tokens start with 'odt_'")
    row = await session.execute(queries.token_by_hash(token_hash=hash_token(token)))
    found = row.first()
    if found is None:
        raise AuthenticationFailed("unknown API token; create one with `onthedot token create`")
    api_token, role = found
    if api_token.revoked_at is not None:
        raise AuthenticationFailed("this API token was revoked; create a new one")
    # Record use at most once a minute, so reads do not each become a write.
    if api_token.last_used_at is None or now - api_token.last_used_at > dt.timedelta(minutes=1):
        api_token.last_used_at = now
    return Member(
        user_id=api_token.user_id,
        workspace_id=api_token.workspace_id,
        role=role,
        token_id=api_token.id,
    )
