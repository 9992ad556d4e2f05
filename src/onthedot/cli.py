"""The `onthedot` command line. Commands parse input, call services, print results; errors
print one line and exit non-zero."""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from onthedot import cli_support
from onthedot.accounts import service as accounts_service
from onthedot.accounts.models import Workspace
from onthedot.bench_cli import bench_app
from onthedot.broadcaster.cli import broadcaster as broadcaster_command
from onthedot.channels import cli as channels_cli
from onthedot.channels import service as channels_service
from onthedot.channels.schedule import Schedule, zone
from onthedot.clock import SystemClock
from onthedot.config import Settings
from onthedot.console import fail, table
from onthedot.crypto import generate_key
from onthedot.db.engine import safe_url
from onthedot.errors import OnTheDotError
from onthedot.networks import Network
from onthedot.observability.doctor import doctor as doctor_command
from onthedot.posts import service as posts_service
from onthedot.posts.models import Post, PostStatus
from onthedot.reports.cli import report_app
from onthedot.revenue.cli import app as revenue_app
from onthedot.sandbox.cli import sandbox_app

T = TypeVar("T")

app = typer.Typer(help="onthedot: social posts that go out on the dot.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces.", no_args_is_help=True)
channel_app = typer.Typer(help="Channels and their posting schedules.", no_args_is_help=True)
post_app = typer.Typer(help="Posts.", no_args_is_help=True)
queue_app = typer.Typer(help="Channel queues.", no_args_is_help=True)
secret_app = typer.Typer(help="The key that encrypts channel credentials.", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (token_app, "token"),
    (workspace_app, "workspace"),
    (channel_app, "channel"),
    (post_app, "post"),
    (queue_app, "queue"),
    (secret_app, "secret"),
    (report_app, "report"),
    (revenue_app, "revenue"),
    (sandbox_app, "sandbox"),
    (bench_app, "bench"),
):
    app.add_typer(sub, name=name)
app.command("broadcaster")(broadcaster_command)
channel_app.command("connect")(channels_cli.connect)
channel_app.command("refresh-credentials")(channels_cli.refresh_credentials)
post_app.command("engagement")(channels_cli.engagement)
app.command("doctor")(doctor_command)

WorkspaceOpt = cli_support.WorkspaceOpt
_run = cli_support.run_unit
_owner_of = cli_support.owner_of


def _now() -> dt.datetime:
    return SystemClock().now()


def _table(headers: list[str], rows: list[list[Any]]) -> None:
    typer.echo(table(headers, rows))


# --- run, db, secret -----------------------------------------------------------------------


@app.command()
def run(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    demo: Annotated[
        bool | None, typer.Option("--demo/--no-demo", help="Create and use the demo workspace.")
    ] = None,
) -> None:
    """Migrate the database and start onthedot: the API, the broadcaster and the sandbox
    network, on one port."""
    import uvicorn

    from onthedot.api import create_app
    from onthedot.db import migrate
    from onthedot.demo import ensure_demo
    from onthedot.observability.logging import configure_logging

    overrides: dict[str, Any] = {}
    if demo is not None:
        overrides["demo"] = demo
    # The address goes into the settings too: the broadcaster reaches the mounted sandbox there.
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = Settings(**overrides)
    host, port = settings.host, settings.port
    configure_logging(settings)
    try:
        migrate.upgrade(settings.database_url)
        application = create_app(
            settings,
            with_broadcaster=settings.broadcaster,
            with_sandbox=settings.sandbox_url is None,
        )
    except OnTheDotError as exc:
        raise fail(exc.detail) from None
    if settings.demo:
        workspace, token, created = _run(lambda s: ensure_demo(s, now=_now()))
        state = "created" if created else "ready"
        typer.echo(f"Demo workspace '{workspace.name}' (id {workspace.id}) {state}.")
        typer.echo(f"API token (shown once; a new one each start): {token}")
    typer.echo(
        f"onthedot is running at http://{host}:{port}  (API docs: http://{host}:{port}/docs)"
    )
    typer.echo(f"Database: {safe_url(settings.database_url)}")
    if settings.demo:
        typer.echo(
            f"Try: curl -H 'Authorization: Bearer {token}' http://{host}:{port}/api/v1/channels"
        )
    # Keep-alive longer than the HTTP client's own pool expiry, so the broadcaster's calls to
    # the mounted sandbox never race the server closing an idle connection.
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level=settings.log_level,
        timeout_keep_alive=75,
        # uvicorn's lines go through onthedot's logging; its access log is replaced by the
        # API's own request lines (with request ids).
        log_config=None,
        access_log=False,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply schema migrations."""
    from onthedot.db import migrate

    settings = Settings()
    try:
        migrate.upgrade(settings.database_url, revision)
    except OnTheDotError as exc:
        raise fail(exc.detail) from None
    typer.echo(f"database at {migrate.head_revision() if revision == 'head' else revision}")


@db_app.command("check")
def db_check() -> None:
    """Fail if the models and the migrations disagree (`alembic check`)."""
    from alembic.util.exc import AutogenerateDiffsDetected

    from onthedot.db import migrate

    try:
        migrate.check(Settings().database_url)
    except AutogenerateDiffsDetected as exc:
        raise fail(f"the models and the migrations differ: {exc}") from None
    typer.echo("no differences between the models and the migrations")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Argument(help="What the migration does.")],
) -> None:
    """Write a new migration from the difference between the models and the database
    (which must be at head)."""
    from alembic import command

    from onthedot.db import migrate

    command.revision(
        migrate.alembic_config(Settings().database_url), message=message, autogenerate=True
    )


@secret_app.command("generate")
def secret_generate() -> None:
    """Print a new key for ONTHEDOT_SECRET_KEY."""
    typer.echo(generate_key())


# --- workspaces and tokens -----------------------------------------------------------------


@workspace_app.command("create")
def workspace_create(
    name: str, owner: Annotated[str, typer.Option("--owner", help="Owner's email.")]
) -> None:
    """Create a workspace and its owner."""

    async def work(session: AsyncSession) -> Workspace:
        workspace, _ = await accounts_service.create_workspace(
            session, name=name, owner_email=owner, now=_now()
        )
        return workspace

    workspace = _run(work)
    typer.echo(f"workspace {workspace.id} '{workspace.name}' created; owner {owner}")


@workspace_app.command("ls")
def workspace_ls() -> None:
    """List workspaces."""

    async def work(session: AsyncSession) -> list[Workspace]:
        return list((await session.scalars(select(Workspace).order_by(Workspace.id))).all())

    _table(
        ["ID", "NAME", "CREATED"], [[w.id, w.name, w.created_at.isoformat()] for w in _run(work)]
    )


@token_app.command("create")
def token_create(
    workspace: WorkspaceOpt = None,
    email: Annotated[
        str | None, typer.Option(help="Member the token acts as (default: the owner).")
    ] = None,
    name: Annotated[str, typer.Option(help="A name to recognise the token by.")] = "cli",
) -> None:
    """Create an API token. It is printed once and stored only as a hash."""

    async def work(session: AsyncSession) -> str:
        owner = await _owner_of(session, workspace)
        user_id = owner.user_id
        if email is not None:
            user = await accounts_service.get_or_create_user(session, email=email, now=_now())
            user_id = user.id
        _, plain = await accounts_service.create_token(
            session, workspace_id=owner.workspace_id, user_id=user_id, name=name, now=_now()
        )
        return plain

    typer.echo(_run(work))


@token_app.command("revoke")
def token_revoke(token_id: int, workspace: WorkspaceOpt = None) -> None:
    """Revoke a token by id."""

    async def work(session: AsyncSession) -> None:
        owner = await _owner_of(session, workspace)
        await accounts_service.revoke_token(session, member=owner, token_id=token_id, now=_now())

    _run(work)
    typer.echo(f"token {token_id} revoked")


@token_app.command("ls")
def token_ls(workspace: WorkspaceOpt = None) -> None:
    """List a workspace's tokens (never the tokens themselves)."""

    async def work(session: AsyncSession) -> list[list[Any]]:
        owner = await _owner_of(session, workspace)
        tokens = await accounts_service.list_tokens(session, member=owner)
        return [
            [t.id, t.name, t.prefix + "…", t.user_id, "revoked" if t.revoked_at else "active"]
            for t in tokens
        ]

    _table(["ID", "NAME", "PREFIX", "USER", "STATE"], _run(work))


# --- channels ------------------------------------------------------------------------------


@channel_app.command("add")
def channel_add(
    network: Annotated[Network, typer.Option(help="The network.")],
    handle: Annotated[str, typer.Option(help="Account handle, e.g. @you@example.social.")],
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone, e.g. Europe/Berlin.")],
    schedule: Annotated[
        str, typer.Option(help='Posting times, e.g. "Mon–Fri 08:00, 12:30; Sat 10:00".')
    ] = "",
    max_chars: Annotated[int | None, typer.Option(help="Per-server text limit (Mastodon).")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add a channel."""

    async def work(session: AsyncSession) -> int:
        owner = await _owner_of(session, workspace)
        channel = await channels_service.create_channel(
            session,
            member=owner,
            network=network,
            handle=handle,
            timezone=tz,
            schedule=schedule,
            max_chars=max_chars,
            now=_now(),
        )
        return channel.id

    typer.echo(f"channel {_run(work)} added")


@channel_app.command("ls")
def channel_ls(workspace: WorkspaceOpt = None) -> None:
    """List channels."""

    async def work(session: AsyncSession) -> list[list[Any]]:
        owner = await _owner_of(session, workspace)
        rows: list[list[Any]] = []
        cursor = None
        while True:
            page, cursor = await channels_service.list_channels(
                session, member=owner, cursor=cursor, limit=200
            )
            rows += [
                [
                    c.id,
                    c.network,
                    c.handle,
                    c.timezone,
                    "paused" if c.paused else "active",
                    str(Schedule.from_json(c.schedule)) or "(no times)",
                    c.paused_reason or "",
                ]
                for c in page
            ]
            if cursor is None:
                return rows

    _table(["ID", "NETWORK", "HANDLE", "ZONE", "STATE", "SCHEDULE", "PAUSED BECAUSE"], _run(work))


@channel_app.command("schedule")
def channel_schedule(
    channel_id: int,
    schedule: Annotated[str, typer.Argument(help='e.g. "Mon–Fri 08:00, 12:30, 17:00; Sat 10:00"')],
    workspace: WorkspaceOpt = None,
) -> None:
    """Set a channel's posting schedule; its queue re-flows."""

    async def work(session: AsyncSession) -> str:
        owner = await _owner_of(session, workspace)
        channel = await channels_service.update_channel(
            session, member=owner, channel_id=channel_id, now=_now(), schedule=schedule
        )
        return str(Schedule.from_json(channel.schedule))

    typer.echo(f"channel {channel_id} posts at: {_run(work) or '(no times)'}")


class PastPinned(StrEnum):
    PUBLISH = "publish"
    MISSED = "missed"


@channel_app.command("pause")
def channel_pause(
    channel_id: int,
    resume: Annotated[bool, typer.Option("--resume", help="Resume instead.")] = False,
    past_pinned: Annotated[
        PastPinned | None,
        typer.Option(
            "--past-pinned",
            help=(
                "With --resume: pinned posts whose time passed while paused go out at once "
                "(publish) or are marked missed. Default: ONTHEDOT_RESUME_PAST_PINNED."
            ),
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Pause a channel (its posts wait, claimed ones too), or resume it with --resume."""
    if past_pinned is not None and not resume:
        raise fail("--past-pinned is for --resume: it decides what resuming does")
    settings = Settings()

    async def work(session: AsyncSession) -> None:
        owner = await _owner_of(session, workspace)
        if resume:
            await channels_service.resume(
                session,
                member=owner,
                channel_id=channel_id,
                now=_now(),
                past_pinned=past_pinned.value if past_pinned is not None else None,
                settings=settings,
            )
        else:
            await channels_service.pause(session, member=owner, channel_id=channel_id, now=_now())

    _run(work)
    typer.echo(f"channel {channel_id} {'resumed' if resume else 'paused'}")


# --- posts and queues ----------------------------------------------------------------------


@post_app.command("add")
def post_add(
    text: Annotated[list[str], typer.Argument(help="The text; several make a thread.")],
    channel: Annotated[list[int], typer.Option("--channel", "-c", help="Channel id (repeatable).")],
    now: Annotated[bool, typer.Option("--now", help="Share now.")] = False,
    next_: Annotated[bool, typer.Option("--next", help="Share next (head of the queue).")] = False,
    at: Annotated[
        str | None,
        typer.Option(help="Custom time, ISO 8601; without an offset, in the channel's zone."),
    ] = None,
    draft: Annotated[bool, typer.Option("--draft", help="Save as a draft.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add a post to the queue (default), or share now / next, at a time, or as a draft."""
    chosen = [
        m
        for m, on in (
            (posts_service.Mode.NOW, now),
            (posts_service.Mode.NEXT, next_),
            (posts_service.Mode.CUSTOM, at is not None),
            (posts_service.Mode.DRAFT, draft),
        )
        if on
    ]
    if len(chosen) > 1:
        raise fail("choose one of --now, --next, --at, --draft")
    mode = chosen[0] if chosen else posts_service.Mode.QUEUE
    when = None
    if at is not None:
        try:
            when = dt.datetime.fromisoformat(at)
        except ValueError:
            raise fail(f"--at '{at}' is not an ISO 8601 time such as 2026-12-01T09:00") from None

    async def work(session: AsyncSession) -> list[Post]:
        owner = await _owner_of(session, workspace)
        return await posts_service.create_posts(
            session,
            member=owner,
            channel_ids=channel,
            items=[posts_service.ItemInput(text=t) for t in text],
            mode=mode,
            at=when,
            now=_now(),
        )

    for post in _run(work):
        due = post.due_at.isoformat() if post.due_at else "-"
        typer.echo(f"post {post.id} on channel {post.channel_id}: {post.status.value}, due {due}")


@post_app.command("ls")
def post_ls(
    channel: Annotated[int | None, typer.Option("--channel", "-c")] = None,
    status: Annotated[PostStatus | None, typer.Option()] = None,
    limit: int = 50,
    workspace: WorkspaceOpt = None,
) -> None:
    """List posts, newest first."""

    async def work(session: AsyncSession) -> list[list[Any]]:
        owner = await _owner_of(session, workspace)
        posts, _ = await posts_service.list_posts(
            session, member=owner, channel_id=channel, status=status, cursor=None, limit=limit
        )
        return [
            [
                p.id,
                p.channel_id,
                p.status.value,
                p.due_at.isoformat() if p.due_at else "-",
                _snippet(p),
                _shorten(p.last_error or "", 72) if p.status in _OUTCOME_SHOWN else "",
            ]
            for p in posts
        ]

    _table(["ID", "CHANNEL", "STATUS", "DUE (UTC)", "TEXT", "LAST ERROR"], _run(work))


# Posts whose last error is the news: what went wrong, so the user can act on it.
_OUTCOME_SHOWN = frozenset({PostStatus.FAILED, PostStatus.UNKNOWN, PostStatus.MISSED})


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text[: width - 1] + "…" if len(text) > width else text


def _snippet(post: Post, width: int = 48) -> str:
    text = post.items[0].text.replace("\n", " ") if post.items else ""
    more = f" (+{len(post.items) - 1})" if len(post.items) > 1 else ""
    return (text[: width - 1] + "…" if len(text) > width else text) + more


@post_app.command("attempts")
def post_attempts(post_id: int, limit: int = 50, workspace: WorkspaceOpt = None) -> None:
    """A post's publish attempts, newest first."""

    async def work(session: AsyncSession) -> list[list[Any]]:
        owner = await _owner_of(session, workspace)
        attempts, _ = await posts_service.list_attempts(
            session, member=owner, post_id=post_id, cursor=None, limit=limit
        )
        return [
            [
                a.id,
                a.attempt,
                a.kind,
                a.started_at.isoformat(timespec="seconds"),
                a.outcome.value,
                a.network_status if a.network_status is not None else "-",
                f"{a.lateness_s:.1f}" if a.lateness_s is not None else "-",
                _shorten(" ".join(filter(None, (a.error_code, a.error))), 70) or "-",
            ]
            for a in attempts
        ]

    rows = _run(work)
    if not rows:
        typer.echo(f"post {post_id} has no publish attempts yet")
        return
    _table(["ID", "ATTEMPT", "KIND", "STARTED (UTC)", "OUTCOME", "HTTP", "LATE (S)", "ERROR"], rows)


@post_app.command("resolve")
def post_resolve(
    post_id: int,
    sent: Annotated[
        bool, typer.Option("--sent", help="You found it on the network: mark it sent.")
    ] = False,
    retry: Annotated[
        bool, typer.Option("--retry", help="It is not there: publish it again at once.")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Settle a post in unknown (--sent or --retry) or failed (--retry)."""
    if sent == retry:
        raise fail("give either --sent (it is on the network) or --retry (publish it again)")
    outcome: posts_service.Resolution = "sent" if sent else "retry"

    async def work(session: AsyncSession) -> Post:
        owner = await _owner_of(session, workspace)
        return await posts_service.resolve(
            session, member=owner, post_id=post_id, outcome=outcome, now=_now()
        )

    post = _run(work)
    if outcome == "sent":
        typer.echo(f"post {post.id} marked sent")
    else:
        due = post.due_at.isoformat() if post.due_at else "-"
        typer.echo(f"post {post.id} scheduled again, due {due} (at once)")


@post_app.command("rm")
def post_rm(post_id: int, workspace: WorkspaceOpt = None) -> None:
    """Delete a post; its queue re-flows."""

    async def work(session: AsyncSession) -> None:
        owner = await _owner_of(session, workspace)
        await posts_service.delete_post(session, member=owner, post_id=post_id, now=_now())

    _run(work)
    typer.echo(f"post {post_id} deleted")


@post_app.command("move")
def post_move(
    post_id: int,
    top: Annotated[bool, typer.Option("--top", help="Move to the head of the queue.")] = False,
    position: Annotated[int | None, typer.Option(help="1-based position in the queue.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Move a queued post to the top or to a position."""
    if top == (position is not None):
        raise fail("give either --top or --position N")
    target = 1 if top else position
    assert target is not None

    async def work(session: AsyncSession) -> Post:
        owner = await _owner_of(session, workspace)
        return await posts_service.move(
            session, member=owner, post_id=post_id, position=target, now=_now()
        )

    post = _run(work)
    due = post.due_at.isoformat() if post.due_at else "-"
    typer.echo(f"post {post.id} at position {target}, due {due}")


@queue_app.command("show")
def queue_show(channel_id: int, limit: int = 50, workspace: WorkspaceOpt = None) -> None:
    """A channel's queue, due times in the channel's own zone."""

    async def work(session: AsyncSession) -> tuple[str, bool, list[list[Any]]]:
        owner = await _owner_of(session, workspace)
        channel, posts, _ = await posts_service.queue_page(
            session, member=owner, channel_id=channel_id, cursor=None, limit=limit
        )
        tz = zone(channel.timezone)
        rows = [
            [
                p.id,
                p.due_at.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z") if p.due_at else "-",
                "pinned" if p.pinned else f"#{p.queue_position}",
                p.status.value,
                _snippet(p),
            ]
            for p in posts
        ]
        return channel.timezone, channel.paused, rows

    tz_name, paused, rows = _run(work)
    typer.echo(f"queue of channel {channel_id} ({tz_name}){' — PAUSED' if paused else ''}")
    _table(["POST", "DUE", "PLACE", "STATUS", "TEXT"], rows)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
