"""The demo workspace `make run` creates on first start, so a newcomer has something to see."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onthedot.accounts import service as accounts_service
from onthedot.accounts.models import ApiToken, Membership, Role, Workspace
from onthedot.accounts.service import Member
from onthedot.channels import service as channels_service
from onthedot.networks import Network
from onthedot.posts import service as posts_service

DEMO_WORKSPACE = "Demo"
DEMO_EMAIL = "demo@onthedot.local"
DEMO_TOKEN_NAME = "make run"  # noqa: S105 - a label, not a secret


async def ensure_demo(session: AsyncSession, *, now: dt.datetime) -> tuple[Workspace, str, bool]:
    """Create the demo workspace if missing; return it, a fresh token, and whether it is new.

    Each start revokes the previous start's token and prints a new one, since tokens are
    stored only as hashes and cannot be shown again.
    """
    owner = await accounts_service.get_or_create_user(session, email=DEMO_EMAIL, now=now)
    workspace = await session.scalar(
        select(Workspace)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Workspace.name == DEMO_WORKSPACE, Membership.user_id == owner.id)
        .order_by(Workspace.id)
        .limit(1)
    )
    created = workspace is None
    if workspace is None:
        workspace, owner = await accounts_service.create_workspace(
            session, name=DEMO_WORKSPACE, owner_email=DEMO_EMAIL, now=now
        )
        await _seed(
            session, Member(user_id=owner.id, workspace_id=workspace.id, role=Role.OWNER), now
        )
    old = await session.scalars(
        select(ApiToken).where(
            ApiToken.workspace_id == workspace.id,
            ApiToken.name == DEMO_TOKEN_NAME,
            ApiToken.revoked_at.is_(None),
        )
    )
    for token in old:
        token.revoked_at = now
    _, plain = await accounts_service.create_token(
        session, workspace_id=workspace.id, user_id=owner.id, name=DEMO_TOKEN_NAME, now=now
    )
    return workspace, plain, created


async def _seed(session: AsyncSession, member: Member, now: dt.datetime) -> None:
    sandbox = await channels_service.create_channel(
        session,
        member=member,
        network=Network.SANDBOX,
        handle="@demo",
        timezone="Europe/Berlin",
        schedule="daily 08:00, 12:30, 17:00",
        now=now,
    )
    mastodon = await channels_service.create_channel(
        session,
        member=member,
        network=Network.MASTODON,
        handle="@demo@mastodon.example",
        timezone="America/New_York",
        schedule="Mon–Fri 09:00, 13:00; Sat 10:00",
        max_chars=500,
        now=now,
    )
    texts = [
        "Good morning! First post from the onthedot demo queue.",
        "Queued posts fill the channel's posting schedule in order.",
        "Move me to the top with `onthedot post move ID --top`.",
    ]
    for text in texts:
        await posts_service.create_posts(
            session,
            member=member,
            channel_ids=[sandbox.id, mastodon.id],
            items=[posts_service.ItemInput(text=text)],
            mode=posts_service.Mode.QUEUE,
            at=None,
            now=now,
        )
    await posts_service.create_posts(
        session,
        member=member,
        channel_ids=[sandbox.id],
        items=[
            posts_service.ItemInput(text="A thread, part 1: pinned to a custom time."),
            posts_service.ItemInput(text="Part 2 replies to part 1."),
        ],
        mode=posts_service.Mode.CUSTOM,
        # On a whole minute, five or six minutes from now.
        at=now.replace(second=0, microsecond=0) + dt.timedelta(minutes=6),
        now=now,
    )
