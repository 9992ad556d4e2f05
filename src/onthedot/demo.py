"""The demo workspace `make run` creates on first start, so a newcomer has something to see."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onthedot.accounts import service as accounts_service
from onthedot.accounts.models import ApiToken, Membership, Role, Workspace
from onthedot.accounts.service import Member
from onthedot.channels import queries as channels_queries
from onthedot.channels import service as channels_service
from onthedot.networks import Network
from onthedot.posts import queries as post_queries
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
    await _upcoming(
        session,
        Member(user_id=owner.id, workspace_id=workspace.id, role=Role.OWNER),
        now,
        force=created,
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
    new_york = await channels_service.create_channel(
        session,
        member=member,
        network=Network.SANDBOX,
        handle="@demo-ny",
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
            channel_ids=[sandbox.id, new_york.id],
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


UPCOMING = [
    "On the dot: this post was due at {due} UTC.",
    "Each post goes out at its due instant, never before it.",
    "Watch them land, with their lateness, at /sandbox/.",
    "Queued, claimed, prepared, publishing, sent.",
]


async def _upcoming(
    session: AsyncSession, member: Member, now: dt.datetime, *, force: bool = False
) -> None:
    """Posts due over the next few minutes, so a newcomer sees them go out on time.

    Added on every start unless some are still to come within the next ten minutes.
    """
    everything = await session.scalars(
        channels_queries.channels_page(workspace_id=member.workspace_id, after_id=None, limit=50)
    )
    channels = [c for c in everything if c.network == Network.SANDBOX]
    if not channels:
        return
    horizon = now + dt.timedelta(minutes=10)
    soon = None
    for channel in channels:
        upcoming = await session.scalar(
            post_queries.queue_page(channel_id=channel.id, after=(now, 0), limit=1)
        )
        if upcoming is not None and upcoming.due_at is not None and upcoming.due_at <= horizon:
            soon = upcoming
    if soon is not None and not force:
        return
    # From the next half minute at least 20 s away, one every 30 s.
    first = now.replace(microsecond=0) + dt.timedelta(seconds=20)
    first += dt.timedelta(seconds=(30 - first.second % 30) % 30)
    for n in range(8):
        due = first + dt.timedelta(seconds=30 * n)
        text = UPCOMING[n % len(UPCOMING)].format(due=due.strftime("%H:%M:%S"))
        await posts_service.create_posts(
            session,
            member=member,
            channel_ids=[channels[n % len(channels)].id],
            items=[posts_service.ItemInput(text=text)],
            mode=posts_service.Mode.CUSTOM,
            at=due,
            now=now,
        )
