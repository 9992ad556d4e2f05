"""The lateness report's edges: the API's scoping and bad input, and the command line's
registration, exit codes and messages."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from onthedot.cli import app as cli_app
from onthedot.posts.models import Post, PostItem, PostStatus
from tests.conftest import Team

UTC = dt.UTC
DUE = dt.datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
QUERY = {"due": "2026-11-26T08:00"}


async def _post(
    engine: AsyncEngine,
    team: Team,
    *,
    status: PostStatus,
    late_s: float | None,
    texts: int = 1,
    stranger: bool = False,
) -> None:
    """A post due at DUE on a new sandbox channel, published `late_s` after it."""
    from onthedot.channels.models import Channel

    owner = team.stranger if stranger else team.owner
    async with engine.begin() as conn:
        channel_id = (
            await conn.execute(
                Channel.__table__.insert()
                .values(
                    workspace_id=owner.member.workspace_id,
                    network="sandbox",
                    handle="@x",
                    timezone="UTC",
                    schedule=[],
                    paused=False,
                    queue_version=0,
                    created_at=DUE,
                    updated_at=DUE,
                )
                .returning(Channel.id)
            )
        ).scalar_one()
        post_id = (
            await conn.execute(
                Post.__table__.insert()
                .values(
                    workspace_id=owner.member.workspace_id,
                    channel_id=channel_id,
                    group_id="g",
                    status=status,
                    pinned=True,
                    due_at=DUE,
                    attempt=1,
                    tries=0,
                    needs_check=False,
                    created_at=DUE,
                    updated_at=DUE,
                )
                .returning(Post.id)
            )
        ).scalar_one()
        for position in range(texts):
            published = None
            if late_s is not None:
                # A thread's later items go out later; only the first one counts.
                published = DUE + dt.timedelta(seconds=late_s + 100 * position)
            await conn.execute(
                PostItem.__table__.insert().values(
                    post_id=post_id, position=position, text="t", published_at=published
                )
            )


async def test_members_see_their_own_workspace(
    client: httpx.AsyncClient, team: Team, engine: AsyncEngine
) -> None:
    await _post(engine, team, status=PostStatus.SENT, late_s=0.25)
    await _post(engine, team, status=PostStatus.SENT, late_s=2.0, texts=3)
    await _post(engine, team, status=PostStatus.UNKNOWN, late_s=None)
    await _post(engine, team, status=PostStatus.SENT, late_s=None)  # resolved by a person
    await _post(engine, team, status=PostStatus.SENT, late_s=500.0, stranger=True)
    for actor in (team.owner, team.editor, team.viewer):
        answer = await client.get("/api/v1/reports/lateness", params=QUERY, headers=actor.headers)
        assert answer.status_code == 200, answer.text
        total = answer.json()["total"]
        assert total["posts"] == 4
        assert total["buckets"]["0-1s"] == 1 and total["buckets"]["1-5s"] == 1
        assert total["unknown"] == 1 and total["sent_untimed"] == 1
        assert total["lateness_s"]["max"] == 2.0
    theirs = await client.get(
        "/api/v1/reports/lateness", params=QUERY, headers=team.stranger.headers
    )
    assert theirs.json()["total"]["buckets"]["5-15min"] == 1
    assert theirs.json()["total"]["posts"] == 1


async def test_the_api_needs_a_token(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/reports/lateness", "/api/v1/reports/lateness.png"):
        answer = await client.get(path, params=QUERY)
        assert answer.status_code == 401
        assert answer.json()["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("params", "code", "detail"),
    [
        ({"due": "08:00"}, "invalid_request", "due: '08:00' is not a minute"),
        ({"due": "2026-11-26T08:00:30"}, "invalid_request", "is not the start of a minute"),
        ({"due": "2026-13-01T08:00"}, "invalid_request", "is not a date and time"),
        ({"due": "2026-11-26T08:00", "tz": "Mars/Base"}, "unknown_timezone", "tz: unknown"),
        ({}, "invalid_request", "due: Field required"),
    ],
)
async def test_bad_input_is_a_problem_that_says_what_to_fix(
    client: httpx.AsyncClient, team: Team, params: dict[str, str], code: str, detail: str
) -> None:
    for path in ("/api/v1/reports/lateness", "/api/v1/reports/lateness.png"):
        answer = await client.get(path, params=params, headers=team.owner.headers)
        assert answer.status_code == 422
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == code
        assert detail in answer.json()["detail"]


def _cli(*args: str, db_url: str) -> Any:
    return CliRunner().invoke(
        cli_app, list(args), env={"ONTHEDOT_DATABASE_URL": db_url, "COLUMNS": "200"}
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--due", "26.11.2026 08:00"], "is not a minute; write it as YYYY-MM-DDTHH:MM"),
        (["--due", "2026-11-26T08:00:59"], "is not the start of a minute"),
        (["--due", "2026-11-26T08:00", "--tz", "Europe/Berln"], "did you mean 'Europe/Berlin'"),
        (["--due", "2026-11-26T08:00", "--format", "xml"], "'xml' is not one of"),
        ([], "Missing option '--due'"),
    ],
)
def test_bad_input_on_the_command_line_exits_2(args: list[str], message: str, db_url: str) -> None:
    done = _cli("report", "lateness", *args, db_url=db_url)
    assert done.exit_code == 2
    assert message in " ".join(done.output.replace("│", " ").split())


async def test_the_command_line_report_of_a_workspace(
    team: Team, engine: AsyncEngine, db_url: str
) -> None:
    await _post(engine, team, status=PostStatus.SENT, late_s=0.5)
    await _post(engine, team, status=PostStatus.FAILED, late_s=None, stranger=True)
    done = await asyncio.to_thread(
        _cli,
        "report",
        "lateness",
        "--due",
        "2026-11-26T08:00",
        "-w",
        "Acme",
        "-f",
        "json",
        db_url=db_url,
    )
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert body["workspace_id"] == team.owner.member.workspace_id
    assert body["total"]["posts"] == 1 and body["total"]["buckets"]["0-1s"] == 1
    done = await asyncio.to_thread(
        _cli, "report", "lateness", "--due", "2026-11-26T08:00", "-w", "Nobody", db_url=db_url
    )
    assert done.exit_code == 1
    assert "error: no workspace 'Nobody'" in done.output
