"""The command line, run as a real process against a real SQLite file."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import orm, update

from onthedot.channels.models import Channel
from onthedot.posts.models import AttemptOutcome, Post, PostStatus, PublishAttempt

ONTHEDOT = [sys.executable, "-m", "onthedot"]


Run = Callable[..., subprocess.CompletedProcess[str]]


def _runner(db: Path) -> Run:
    env = {
        **os.environ,
        "ONTHEDOT_DATABASE_URL": f"sqlite:///{db}",
        "ONTHEDOT_SECRET_KEY": "",
        "ONTHEDOT_DEMO": "false",
        "COLUMNS": "200",
    }

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*ONTHEDOT, *args], env=env, cwd=db.parent, capture_output=True, text=True, timeout=60
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    return run


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli") / "migrated.db"
    _runner(db)("db", "upgrade")
    return db


@pytest.fixture(scope="module")
def with_channel(tmp_path_factory: pytest.TempPathFactory, migrated: Path) -> Path:
    """A workspace with one X channel posting daily at 09:00 UTC."""
    db = tmp_path_factory.mktemp("cli") / "channel.db"
    shutil.copy(migrated, db)
    run = _runner(db)
    run("workspace", "create", "Acme", "--owner", "me@acme.test")
    run(
        "channel",
        "add",
        "--network",
        "x",
        "--handle",
        "@me",
        "--tz",
        "UTC",
        "--schedule",
        "daily 09:00",
    )
    return db


def _copy(template: Path, tmp_path: Path) -> Run:
    db = tmp_path / "cli.db"
    shutil.copy(template, db)
    return _runner(db)


@pytest.fixture
def cli(tmp_path: Path, migrated: Path) -> Run:
    return _copy(migrated, tmp_path)


def test_a_whole_session_from_the_terminal(cli: Run) -> None:
    assert "no differences" in cli("db", "check").stdout
    assert "created" in cli("workspace", "create", "Acme", "--owner", "me@acme.test").stdout
    token = cli("token", "create", "--name", "laptop").stdout.strip()
    assert token.startswith("odt_") and len(token) > 40
    assert "laptop" in cli("token", "ls").stdout and token not in cli("token", "ls").stdout

    out = cli(
        "channel",
        "add",
        "--network",
        "bluesky",
        "--handle",
        "me.bsky.social",
        "--tz",
        "Europe/Berlin",
        "--schedule",
        "Mon-Fri 08:00, 12:30; Sat 10:00",
    ).stdout
    assert out.strip() == "channel 1 added"
    listing = cli("channel", "ls").stdout
    assert "Europe/Berlin" in listing and "Mon–Fri 08:00, 12:30; Sat 10:00" in listing

    for text in ("first", "second", "third"):
        assert "scheduled" in cli("post", "add", text, "--channel", "1").stdout
    cli("post", "add", "urgent", "--channel", "1", "--next")
    cli("post", "add", "part one", "part two", "--channel", "1", "--at", "2099-01-05T09:00")
    cli("post", "add", "an idea", "--channel", "1", "--draft")

    queue = cli("queue", "show", "1").stdout.splitlines()
    assert "Europe/Berlin" in queue[0]
    body = [line for line in queue[2:]]
    texts = [line.split()[-1] for line in body if "pinned" not in line]
    assert texts == ["urgent", "first", "second", "third"]
    assert any("pinned" in line and "(+1)" in line and "CET" in line for line in body)

    cli("post", "move", "2", "--top")  # "second"
    texts = [
        line.split()[-1]
        for line in cli("queue", "show", "1").stdout.splitlines()[2:]
        if "pinned" not in line
    ]
    assert texts == ["second", "urgent", "first", "third"]

    cli("post", "rm", "4")  # "urgent"
    assert "draft" in cli("post", "ls", "--status", "draft").stdout
    assert "paused" in cli("channel", "pause", "1").stdout
    assert "PAUSED" in cli("queue", "show", "1").stdout
    assert "resumed" in cli("channel", "pause", "1", "--resume").stdout
    assert "Sat 10:00" not in cli("channel", "schedule", "1", "daily 09:00").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["channel", "add", "--network", "x", "--handle", "@a", "--tz", "Mars/Olympus"],
            "time zone",
        ),
        (
            [
                "channel",
                "add",
                "--network",
                "x",
                "--handle",
                "@a",
                "--tz",
                "UTC",
                "--schedule",
                "Funday 8:00",
            ],
            "Funday",
        ),
        (["post", "add", "hi", "--channel", "99"], "channel 99 not found"),
        (["post", "add", "hi", "--channel", "1", "--at", "2001-01-01T09:00"], "in the past"),
        (["post", "add", "hi", "--channel", "1", "--at", "soon"], "ISO 8601"),
        (["post", "add", "x" * 281, "--channel", "1"], "shorten it by 1"),
        (["post", "move", "1"], "--top or --position"),
        (["queue", "show", "42"], "not found"),
    ],
)
def test_errors_print_one_line_and_exit_non_zero(
    tmp_path: Path, with_channel: Path, args: list[str], message: str
) -> None:
    done = _copy(with_channel, tmp_path)(*args, ok=False)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_no_workspace_yet_says_what_to_do(cli: Run) -> None:
    done = cli("token", "create", ok=False)
    assert done.returncode == 1
    assert "onthedot workspace create" in done.stderr


def _write(db: Path, *statements: Any) -> None:
    """Put rows where only the broadcaster puts them (the CLI runs on the real clock)."""
    engine = sqlalchemy.create_engine(f"sqlite:///{db}")
    try:
        with orm.Session(engine) as session, session.begin():
            for statement in statements:
                if isinstance(statement, PublishAttempt):
                    session.add(statement)
                else:
                    session.execute(statement)
    finally:
        engine.dispose()


def test_outcomes_from_the_terminal(tmp_path: Path, with_channel: Path) -> None:
    cli = _copy(with_channel, tmp_path)
    db = tmp_path / "cli.db"
    for text in ("lost", "refused", "queued"):
        cli("post", "add", text, "--channel", "1")
    cli("post", "add", "pinned", "--channel", "1", "--at", "2099-01-05T09:00")
    long_error = "the network timed out and could not say whether the post exists; " * 3
    started = dt.datetime(2026, 1, 2, 9, 0, tzinfo=dt.UTC)
    _write(
        db,
        update(Post).where(Post.id == 1).values(status=PostStatus.UNKNOWN, last_error=long_error),
        update(Post)
        .where(Post.id == 2)
        .values(status=PostStatus.FAILED, last_error="media type not supported"),
        PublishAttempt(
            post_id=1,
            attempt=1,
            broadcaster="b-1",
            kind="publish",
            started_at=started,
            ended_at=started + dt.timedelta(seconds=30),
            outcome=AttemptOutcome.UNKNOWN,
            network_status=504,
            error_code="timeout",
            error="no answer in 30 s",
        ),
    )

    listing = cli("post", "ls").stdout
    assert "LAST ERROR" in listing
    (lost,) = [line for line in listing.splitlines() if line.startswith("1 ")]
    assert "the network timed out" in lost and lost.endswith("…")
    assert len(lost) < len(long_error)
    assert "media type not supported" in listing

    attempts = cli("post", "attempts", "1").stdout.splitlines()
    assert attempts[0].split()[:5] == ["ID", "ATTEMPT", "KIND", "STARTED", "(UTC)"]
    assert attempts[1].split() == [
        "1",
        "1",
        "publish",
        "2026-01-02T09:00:00+00:00",
        "unknown",
        "504",
        "-",
        "timeout",
        "no",
        "answer",
        "in",
        "30",
        "s",
    ]
    assert "no publish attempts" in cli("post", "attempts", "3").stdout

    assert cli("post", "resolve", "1", "--sent").stdout.strip() == "post 1 marked sent"
    assert "scheduled again" in cli("post", "resolve", "2", "--retry").stdout
    refused = cli("post", "resolve", "3", "--retry", ok=False)
    assert refused.returncode == 1 and "post 3 is scheduled" in refused.stderr
    both = cli("post", "resolve", "3", "--sent", "--retry", ok=False)
    assert "either --sent" in both.stderr

    # Paused by onthedot, with a pinned post whose time passed meanwhile.
    cli("channel", "pause", "1")
    _write(
        db,
        update(Channel).where(Channel.id == 1).values(paused_reason="X revoked access: reconnect"),
        update(Post).where(Post.id == 4).values(due_at=started),
    )
    assert "X revoked access: reconnect" in cli("channel", "ls").stdout
    misuse = cli("channel", "pause", "1", "--past-pinned", "missed", ok=False)
    assert "--past-pinned is for --resume" in misuse.stderr
    bad = cli("channel", "pause", "1", "--resume", "--past-pinned", "later", ok=False)
    assert bad.returncode != 0 and "later" in bad.stderr
    cli("channel", "pause", "1", "--resume", "--past-pinned", "missed")
    assert "reconnect" not in cli("channel", "ls").stdout
    missed = cli("post", "ls", "--status", "missed").stdout.splitlines()
    (pinned,) = [line for line in missed if line.startswith("4 ")]
    assert "not published: it was due at 2026-01-02 09:00 UTC while" in pinned
    # The retried post was due at once, and no broadcaster ran before the pause: missed too.
    assert any(line.startswith("2 ") for line in missed)
