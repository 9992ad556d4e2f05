"""The command line, run as a real process against a real SQLite file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

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
