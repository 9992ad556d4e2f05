"""A spike harness: thousands of posts due at one instant, real broadcaster processes, and the
sandbox network counting what arrives.

It runs onthedot the way an installation does: a sandbox server process
(`python -m onthedot sandbox`), K broadcaster processes (`python -m onthedot broadcaster`),
and a database seeded with one workspace, M sandbox channels (`@acct0`, `@acct1`, …) and N
pinned posts all due at one instant T. It can SIGKILL or SIGTERM a broadcaster, restart a
private PostgreSQL cluster, wait until every post reached an outcome, and then read the
sandbox's records to say what happened: posts created, duplicates, lost posts, early ones,
and how late they landed.

The pieces are usable on their own (the spike tests and `bench/broadcast_spike.py` combine
them differently):

- `SandboxServer`: start, wait until it answers, read its records and stats, stop.
- `seed`: bulk Core inserts, shaped exactly like posts made by `posts.service.create_posts`
  with `Mode.CUSTOM` (status scheduled, pinned, no queue position, one group id per call of
  up to 50 channels, one item each).
- `BroadcasterProcess`: one process, its own log file; `kill()` is SIGKILL, `terminate()`
  SIGTERM.
- `postgres_database` / `sqlite_database`: a migrated throwaway database.
- `PostgresCluster`: a private PostgreSQL cluster (`initdb`, `pg_ctl`), for restarting the
  database without disturbing anyone else's.
- `Spike`: all of the above for one run, and its `Report`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
import orjson
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from onthedot.accounts import service as accounts_service
from onthedot.accounts.models import Role
from onthedot.accounts.service import Member
from onthedot.channels import service as channels_service
from onthedot.clock import SystemClock
from onthedot.crypto import generate_key
from onthedot.db import migrate
from onthedot.db.engine import create_engine, create_sessionmaker
from onthedot.networks import Network
from onthedot.observability.lateness import summary
from onthedot.posts.models import Broadcaster as BroadcasterRow
from onthedot.posts.models import Post, PostItem, PostStatus, PublishAttempt

__all__ = [
    "CLOCK",
    "FINAL",
    "BroadcasterProcess",
    "PostgresCluster",
    "Report",
    "SandboxOptions",
    "SandboxServer",
    "Seeded",
    "Spike",
    "free_port",
    "postgres_database",
    "seed",
    "sqlite_database",
]

# Outcomes a post does not leave on its own.
FINAL: Final = frozenset(
    {PostStatus.SENT, PostStatus.FAILED, PostStatus.UNKNOWN, PostStatus.MISSED}
)
# As many channels as one `create_posts` call may target: posts made together share a group.
GROUP_CHANNELS: Final = 50
INSERT_CHUNK: Final = 2000
PG_BIN: Final = Path("/usr/lib/postgresql/15/bin")
_DB_ERRORS: Final = (OperationalError, DBAPIError, OSError)


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ONTHEDOT_ setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONTHEDOT_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def _utc(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    parsed = dt.datetime.fromisoformat(value)
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


# The harness's clock: real time, and `CLOCK.sleep_until` never returns early.
CLOCK = SystemClock()


# --- the sandbox ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SandboxOptions:
    """The options of `onthedot sandbox` this run uses (see `onthedot sandbox --help`)."""

    latency_median_ms: float | None = None
    latency_p99_ms: float | None = None
    error_rate: float = 0.0
    ghost_rate: float = 0.0
    throttle_rate: float = 0.0
    idempotency: str = "key"
    seed: int | None = None

    def args(self) -> list[str]:
        out = [
            "--error-rate",
            f"{self.error_rate:g}",
            "--ghost-rate",
            f"{self.ghost_rate:g}",
            "--throttle-rate",
            f"{self.throttle_rate:g}",
            "--idempotency",
            self.idempotency,
        ]
        if self.latency_median_ms is not None:
            out += ["--latency-median-ms", f"{self.latency_median_ms:g}"]
        if self.latency_p99_ms is not None:
            out += ["--latency-p99-ms", f"{self.latency_p99_ms:g}"]
        if self.seed is not None:
            out += ["--seed", str(self.seed)]
        return out

    def describe(self) -> str:
        parts = []
        if self.latency_median_ms is None:
            parts.append("no latency")
        elif self.latency_p99_ms is None:
            parts.append(f"latency {self.latency_median_ms:g} ms")
        else:
            parts.append(
                f"lognormal latency (median {self.latency_median_ms:g} ms, "
                f"p99 {self.latency_p99_ms:g} ms)"
            )
        for name, rate in (
            ("429", self.throttle_rate),
            ("503", self.error_rate),
            ("ghost 502", self.ghost_rate),
        ):
            if rate:
                parts.append(f"{rate:.0%} {name}")
        parts.append(f"idempotency {self.idempotency}")
        return ", ".join(parts)


class SandboxServer:
    """`python -m onthedot sandbox` on a free port, logging to `<workdir>/sandbox.log`."""

    def __init__(self, workdir: Path, options: SandboxOptions, *, port: int | None = None) -> None:
        self.workdir = workdir
        self.options = options
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "sandbox.log"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, timeout_s: float = 60.0) -> None:
        command = [sys.executable, "-m", "onthedot", "sandbox", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603, ASYNC220 - our own command
                [*command, *self.options.args()],
                cwd=self.workdir,
                env=_clean_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=2.0) as http:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"the sandbox exited with {self.process.returncode}:\n{self.log()}"
                    )
                try:
                    if (await http.get(f"{self.url}/api/v1/stats")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the sandbox did not answer in {timeout_s:g} s")
                await asyncio.sleep(0.05)  # waiting for another process to bind its port

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def stop(self) -> None:
        await _end(self.process, grace_s=10.0)

    async def stats(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=30.0) as http:
            response = await http.get(f"{self.url}/api/v1/stats")
            response.raise_for_status()
            data: dict[str, Any] = orjson.loads(response.content)
            return data

    async def records(self) -> list[dict[str, Any]]:
        """Every post request the sandbox received, in arrival order."""
        out: list[dict[str, Any]] = []
        after = 0
        async with httpx.AsyncClient(timeout=60.0) as http:
            while True:
                response = await http.get(
                    f"{self.url}/api/v1/requests", params={"after": after, "limit": 10_000}
                )
                response.raise_for_status()
                page = orjson.loads(response.content)
                chunk = page["requests"]
                if not chunk:
                    return out
                out.extend(chunk)
                after = int(page["next"])


async def _end(process: subprocess.Popen[bytes] | None, *, grace_s: float) -> int | None:
    """SIGTERM, then SIGKILL after `grace_s`; reaps the process either way."""
    if process is None:
        return None
    if process.poll() is None:
        process.terminate()
        deadline = time.monotonic() + grace_s
        while process.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if process.poll() is None:
            process.kill()
    while process.poll() is None:  # noqa: ASYNC110 - polling another process
        await asyncio.sleep(0.02)
    return process.returncode


# --- databases -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def sqlite_database(directory: Path) -> AsyncIterator[str]:
    """A migrated SQLite file in `directory`; its URL."""
    url = f"sqlite+aiosqlite:///{directory / 'spike.db'}"
    await migrate.aupgrade(url)
    yield url


@contextlib.asynccontextmanager
async def postgres_database(
    admin_url: str, *, prefix: str = "onthedot_spike"
) -> AsyncIterator[str]:
    """A migrated throwaway database on the server of `admin_url`, dropped at the end (also
    when the run fails). The user of `admin_url` must be able to create databases."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=name)
        rendered = url.render_as_string(hide_password=False)
        try:
            await migrate.aupgrade(rendered)
            yield rendered
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


class PostgresCluster:
    """A private PostgreSQL cluster in a temporary directory, on its own port, trust auth.

    As root, `initdb` and `pg_ctl` run as the `postgres` OS user (`runuser`), in a directory
    that user owns; otherwise as the current user. `destroy()` stops it and removes it all.
    """

    def __init__(self, *, bin_dir: Path = PG_BIN, port: int | None = None) -> None:
        self.bin_dir = bin_dir
        self.port = port or free_port()
        self.root: Path | None = None
        self.running = False

    @staticmethod
    def missing(bin_dir: Path = PG_BIN) -> str | None:
        """Why a private cluster cannot be made here, or None when it can."""
        for name in ("initdb", "pg_ctl"):
            if not (bin_dir / name).exists():
                return f"{bin_dir / name} is not installed (PostgreSQL 15 server binaries)"
        if os.geteuid() == 0 and shutil.which("runuser") is None:
            return "running as root, but runuser is not available to drop to the postgres user"
        if os.geteuid() == 0:
            try:
                import pwd

                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root, but there is no postgres OS user to run the server"
        return None

    @property
    def data(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout_s: float = 120.0) -> str:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(  # noqa: S603 - our own arguments
            command,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            cwd=self.root,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return done.stdout

    def init(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="onthedot-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        assert self.root is not None
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options,
            "-w", "start",
        )  # fmt: skip
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self.running = False

    def log(self) -> str:
        if self.root is None or not (self.root / "server.log").exists():
            return ""
        return (self.root / "server.log").read_text(errors="replace")

    def destroy(self) -> None:
        if self.root is None:
            return
        if self.running:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None


# --- seeding -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seeded:
    workspace_id: int
    channel_ids: tuple[int, ...]
    post_ids: tuple[int, ...]
    due_at: dt.datetime
    seconds: float  # how long the post and item inserts took
    committed_at: dt.datetime


async def seed(
    engine: AsyncEngine,
    *,
    posts: int,
    channels: int,
    due_at: dt.datetime | None = None,
    due_in_s: float = 5.0,
    tag: str | None = None,
    handle: Callable[[int], str] | None = None,
) -> Seeded:
    """One workspace, `channels` sandbox channels and `posts` pinned posts due at one instant,
    spread over the channels in turn (post k on channel k mod M).

    Channels go through `channels.service`; posts and items are bulk Core inserts in one
    transaction, so the broadcasters see them all at once. Each item's text is unique: after
    a crash the sandbox adapter finds a post among the account's recent ones by its text.
    Without `due_at`, T is the next whole second at least `due_in_s` after the channels exist.
    `handle(n)` names channel n's sandbox account (`@acct{n}` by default).
    """
    if posts < 1 or channels < 1:
        raise ValueError("a spike needs at least one post and one channel")
    tag = tag or uuid.uuid4().hex[:6]
    now = CLOCK.now()
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        workspace, owner = await accounts_service.create_workspace(
            session, name=f"spike {tag}", owner_email=f"spike-{tag}@onthedot.test", now=now
        )
        member = Member(owner.id, workspace.id, Role.OWNER)
        channel_ids = []
        for n in range(channels):
            channel = await channels_service.create_channel(
                session,
                member=member,
                network=Network.SANDBOX,
                handle=handle(n) if handle is not None else f"@acct{n}",
                timezone="UTC",
                schedule="daily 08:00",
                now=now,
            )
            channel_ids.append(channel.id)
    if due_at is None:
        due_at = dt.datetime.fromtimestamp(math.ceil(CLOCK.now().timestamp() + due_in_s), dt.UTC)
    started = time.perf_counter()
    now = CLOCK.now()
    per_group = min(GROUP_CHANNELS, channels)
    post_ids: list[int] = []
    group = ""
    async with engine.begin() as conn:
        for start in range(0, posts, INSERT_CHUNK):
            rows = []
            for k in range(start, min(posts, start + INSERT_CHUNK)):
                if k % per_group == 0:
                    group = str(uuid.uuid4())
                rows.append(
                    {
                        "workspace_id": workspace.id,
                        "channel_id": channel_ids[k % channels],
                        "group_id": group,
                        "status": PostStatus.SCHEDULED,
                        "pinned": True,
                        "queue_position": None,
                        "due_at": due_at,
                        "attempt": 0,
                        "tries": 0,
                        "needs_check": False,
                        "created_by": owner.id,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            result = await conn.execute(
                insert(Post).returning(Post.id, sort_by_parameter_order=True), rows
            )
            ids = list(result.scalars().all())
            await conn.execute(
                insert(PostItem),
                [
                    {"post_id": post_id, "position": 0, "text": f"spike {tag} post {k}"}
                    for k, post_id in enumerate(ids, start)
                ],
            )
            post_ids.extend(ids)
    return Seeded(
        workspace_id=workspace.id,
        channel_ids=tuple(channel_ids),
        post_ids=tuple(post_ids),
        due_at=due_at,
        seconds=time.perf_counter() - started,
        committed_at=CLOCK.now(),
    )


# --- broadcasters --------------------------------------------------------------------------


@dataclass(slots=True)
class BroadcasterProcess:
    """One `python -m onthedot broadcaster` process with its own log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    broadcaster_id: str | None = None  # its row in `broadcasters`, once it registered
    ended: str | None = None  # "SIGKILL", "SIGTERM", or None while it runs

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handing back, no last write; its posts are recovered by the others."""
        self.process.send_signal(signal.SIGKILL)
        self.ended = "SIGKILL"

    def terminate(self) -> None:
        """SIGTERM: a graceful stop (finish what is publishing, hand back the rest)."""
        self.process.send_signal(signal.SIGTERM)
        self.ended = "SIGTERM"

    async def wait(self, timeout_s: float = 60.0) -> int:
        deadline = time.monotonic() + timeout_s
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"broadcaster {self.name} (pid {self.pid}) did not exit")
            await asyncio.sleep(0.05)
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def broadcaster_env(
    *, database_url: str, sandbox_url: str, secret_key: str, settings: Mapping[str, object]
) -> dict[str, str]:
    """The environment of a broadcaster process; `settings` are `Settings` fields
    (`lease_s=5` becomes ONTHEDOT_LEASE_S=5)."""
    env = {
        "ONTHEDOT_DATABASE_URL": database_url,
        "ONTHEDOT_SECRET_KEY": secret_key,
        "ONTHEDOT_SANDBOX_URL": sandbox_url,
    }
    env.update({f"ONTHEDOT_{k.upper()}": str(v) for k, v in settings.items()})
    return _clean_env(env)


# --- the report ----------------------------------------------------------------------------


@dataclass(slots=True)
class Report:
    """What one spike did, from the sandbox's records and the database."""

    label: str
    posts: int
    channels: int
    due_at: dt.datetime
    requests: int  # post requests for the seeded posts, whatever their answer
    answers: dict[int, int]  # status code -> requests answered with it
    created: int  # posts the sandbox created for seeded posts (duplicates included)
    distinct: int  # seeded posts created at least once
    duplicates: int  # seeded posts created more than once
    extra: int  # copies beyond the first
    lost: int  # seeded posts never created
    early: int  # posts created before their due time
    lateness: dict[str, float | None]  # p50, p95, p99, max of (first arrival - due), seconds
    drain_s: float | None  # last post request's arrival - T
    statuses: dict[str, int]
    sent_by: dict[str, int]  # broadcaster -> posts it ended as sent (or found)
    attempts: dict[str, int]  # "kind/outcome" -> attempt records
    sandbox_stats: dict[str, Any]
    events: list[str]
    seeded_s: float
    margin_s: float  # how long before T the seeded posts were committed
    final_after_s: float | None  # T -> every post final (None: the deadline passed)
    foreign: int = 0  # requests naming no seeded post

    @property
    def all_sent(self) -> bool:
        return self.statuses.get(PostStatus.SENT.value, 0) == self.posts

    @property
    def exactly_once(self) -> bool:
        return self.duplicates == 0 and self.lost == 0 and self.distinct == self.posts

    def problems(self) -> list[str]:
        """What went wrong, in words; empty when every post went out once, on time, sent."""
        out = []
        if self.early:
            out.append(f"{self.early} created before their due time")
        if self.duplicates:
            out.append(f"{self.duplicates} created more than once ({self.extra} extra copies)")
        if self.lost:
            out.append(f"{self.lost} never created")
        if not self.all_sent:
            others = {s: n for s, n in self.statuses.items() if s != PostStatus.SENT.value}
            out.append(f"not all sent in the database: {others}")
        if self.final_after_s is None:
            out.append("not every post reached an outcome before the deadline")
        return out

    def format(self) -> str:
        def seconds(value: float | None) -> str:
            return "-" if value is None else f"{value:.3f}"

        answers = ", ".join(f"{code}×{n:,}" for code, n in sorted(self.answers.items()))
        late = "  ".join(f"{k} {seconds(v)}" for k, v in self.lateness.items())
        final = (
            f"T+{self.final_after_s:.1f} s"
            if self.final_after_s is not None
            else "NOT REACHED (deadline)"
        )
        lines = [
            f"== {self.label}",
            f"  {self.posts:,} posts over {self.channels:,} channels due at "
            f"{self.due_at:%H:%M:%S.%f} UTC; seeded in {self.seeded_s:.2f} s, committed "
            f"{self.margin_s:.2f} s before T",
            *(f"  event: {e}" for e in self.events),
            f"  sandbox: {self.requests:,} post requests ({answers}); {self.created:,} posts "
            f"created for {self.distinct:,} distinct refs"
            + (f"; {self.foreign} requests for refs not seeded" if self.foreign else ""),
            f"  duplicates {self.duplicates} ({self.extra} extra copies), lost {self.lost}, "
            f"early {self.early}",
            f"  lateness s (first arrival - due): {late}; drain {seconds(self.drain_s)} s",
            f"  database: {dict(sorted(self.statuses.items()))}; every post final at {final}",
            f"  sent by: {dict(sorted(self.sent_by.items()))}",
            f"  attempt records: {dict(sorted(self.attempts.items()))}",
            "  sandbox's own stats: "
            + ", ".join(
                f"{k} {self.sandbox_stats.get(k)}"
                for k in ("requests", "created", "distinct_refs", "duplicates", "early")
            ),
            "  verdict: "
            + ("; ".join(self.problems()) or "OK: every post once, none early, all sent"),
        ]
        return "\n".join(lines)


def analyse(records: Iterable[Mapping[str, Any]], post_ids: Iterable[int]) -> dict[str, Any]:
    """Count the sandbox's records for the seeded posts (item position 0 of each)."""
    seeded = {f"{post_id}/0" for post_id in post_ids}
    answers: Counter[int] = Counter()
    copies: Counter[str] = Counter()
    first: dict[str, float] = {}
    requests = early = foreign = 0
    last: dt.datetime | None = None
    for record in records:
        ref = record.get("ref")
        if ref not in seeded:
            foreign += 1
            continue
        requests += 1
        answers[int(record["status"])] += 1
        arrived = _utc(record["arrived_at"])
        assert arrived is not None
        last = arrived if last is None or arrived > last else last
        if not record.get("created"):
            continue
        copies[ref] += 1
        due = _utc(record.get("due_at"))
        if due is not None:
            if arrived < due:
                early += 1
            if ref not in first:
                first[ref] = (arrived - due).total_seconds()
    lateness = summary(first.values())
    return {
        "requests": requests,
        "answers": dict(answers),
        "created": sum(copies.values()),
        "distinct": len(copies),
        "duplicates": sum(1 for n in copies.values() if n > 1),
        "extra": sum(n - 1 for n in copies.values()),
        "lost": len(seeded - copies.keys()),
        "early": early,
        "lateness": lateness,
        "last": last,
        "foreign": foreign,
    }


# --- one run -------------------------------------------------------------------------------


@dataclass
class Spike:
    """One spike run: a sandbox, a database, K broadcasters, seeded posts, and a report.

    Use as an async context manager: on the way out every process it started is stopped
    (SIGTERM, then SIGKILL) and reaped. The database itself belongs to the caller.
    """

    database_url: str
    workdir: Path
    sandbox_options: SandboxOptions = field(default_factory=SandboxOptions)
    settings: Mapping[str, object] = field(default_factory=dict)
    secret_key: str = field(default_factory=generate_key)
    # How a broadcaster is started; another command runs another build (or a patched one).
    broadcaster_command: Sequence[str] = (sys.executable, "-m", "onthedot", "broadcaster")

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sandbox = SandboxServer(self.workdir, self.sandbox_options)
        self.engine = create_engine(self.database_url)
        self.broadcasters: list[BroadcasterProcess] = []
        self.seeded: Seeded | None = None
        self.events: list[str] = []
        self.final_at: dt.datetime | None = None

    async def __aenter__(self) -> Spike:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for proc in self.broadcasters:
            await _end(proc.process, grace_s=15.0)
        await self.sandbox.stop()
        await self.engine.dispose()

    # --- steps ---

    def note(self, event: str) -> None:
        """Record an event, timed from T when the posts are seeded."""
        if self.seeded is not None:
            offset = (CLOCK.now() - self.seeded.due_at).total_seconds()
            event = f"T{offset:+.2f} s: {event}"
        self.events.append(event)

    async def start_sandbox(self) -> None:
        await self.sandbox.start()

    async def start_broadcasters(self, count: int, timeout_s: float = 60.0) -> None:
        """Start `count` more broadcasters and wait until each registered itself."""
        env = broadcaster_env(
            database_url=self.database_url,
            sandbox_url=self.sandbox.url,
            secret_key=self.secret_key,
            settings=self.settings,
        )
        started = []
        for _ in range(count):
            name = f"b{len(self.broadcasters)}"
            log_path = self.workdir / f"broadcaster-{name}.log"
            with log_path.open("ab") as log:
                process = subprocess.Popen(  # noqa: S603, ASYNC220 - our own command
                    list(self.broadcaster_command),
                    cwd=self.workdir,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            proc = BroadcasterProcess(name, process, log_path)
            self.broadcasters.append(proc)
            started.append(proc)
        deadline = time.monotonic() + timeout_s
        while any(p.broadcaster_id is None for p in started):
            for proc in started:
                if not proc.alive:
                    raise RuntimeError(
                        f"broadcaster {proc.name} exited with {proc.process.returncode}:\n"
                        + proc.log()
                    )
            found = await self._rows(
                select(BroadcasterRow.pid, BroadcasterRow.id).where(
                    BroadcasterRow.pid.in_([p.pid for p in started]),
                    BroadcasterRow.stopped_at.is_(None),
                )
            )
            ids = {int(pid): str(bid) for pid, bid in found}
            for proc in started:
                proc.broadcaster_id = proc.broadcaster_id or ids.get(proc.pid)
            if time.monotonic() > deadline:
                raise TimeoutError("the broadcasters did not register in time")
            await asyncio.sleep(0.1)

    async def seed(
        self,
        *,
        posts: int,
        channels: int,
        due_in_s: float = 5.0,
        handle: Callable[[int], str] | None = None,
    ) -> Seeded:
        self.seeded = await seed(
            self.engine, posts=posts, channels=channels, due_in_s=due_in_s, handle=handle
        )
        return self.seeded

    def broadcaster(self, name: str) -> BroadcasterProcess:
        return next(p for p in self.broadcasters if p.name == name)

    async def kill(self, name: str) -> None:
        """SIGKILL one broadcaster and reap it."""
        proc = self.broadcaster(name)
        proc.kill()
        await proc.wait()
        self.note(f"SIGKILL {name} (pid {proc.pid})")

    async def stop(self, name: str, timeout_s: float = 60.0) -> int:
        """SIGTERM one broadcaster and wait for its graceful stop; its exit code."""
        proc = self.broadcaster(name)
        proc.terminate()
        self.note(f"SIGTERM {name} (pid {proc.pid})")
        code = await proc.wait(timeout_s)
        self.note(f"{name} exited with {code}")
        return code

    # --- what the database says ---

    async def _rows(self, statement: Any) -> list[Any]:
        """Rows of a read, retried while the database is unreachable (it may be restarting)."""
        while True:
            try:
                async with self.engine.begin() as conn:
                    return list((await conn.execute(statement)).all())
            except _DB_ERRORS:
                await asyncio.sleep(0.2)

    def _names(self) -> dict[str, str]:
        return {p.broadcaster_id: p.name for p in self.broadcasters if p.broadcaster_id}

    async def statuses(self) -> dict[str, int]:
        assert self.seeded is not None
        rows = await self._rows(
            select(Post.status, func.count())
            .where(Post.workspace_id == self.seeded.workspace_id)
            .group_by(Post.status)
        )
        return {PostStatus(status).value: int(n) for status, n in rows}

    async def publishing(self) -> dict[str, int]:
        """Posts each broadcaster has moved to `publishing` and not finished: calls it has
        in flight (or is about to make)."""
        assert self.seeded is not None
        rows = await self._rows(
            select(Post.claimed_by, func.count())
            .where(
                Post.workspace_id == self.seeded.workspace_id,
                Post.status == PostStatus.PUBLISHING,
            )
            .group_by(Post.claimed_by)
        )
        names = self._names()
        return {names.get(str(by), str(by)): int(n) for by, n in rows}

    async def wait_until_final(self, timeout_s: float) -> dict[str, int]:
        """Wait until every seeded post is sent, failed, unknown or missed, or the deadline."""
        deadline = time.monotonic() + timeout_s
        while True:
            counts = await self.statuses()
            if all(PostStatus(s) in FINAL for s in counts):
                self.final_at = CLOCK.now()
                return counts
            if time.monotonic() > deadline:
                self.note(f"deadline: posts not final yet {counts}")
                return counts
            await asyncio.sleep(0.25)

    async def report(self, label: str, *, settle_s: float = 1.0) -> Report:
        """Read the sandbox and the database and count. Waits `settle_s` first, so requests
        still travelling reach the sandbox's records."""
        assert self.seeded is not None
        await asyncio.sleep(settle_s)
        seeded = self.seeded
        counted = analyse(await self.sandbox.records(), seeded.post_ids)
        names = self._names()
        attempt_rows = await self._rows(
            select(PublishAttempt.broadcaster, PublishAttempt.kind, PublishAttempt.outcome)
            .join(Post, Post.id == PublishAttempt.post_id)
            .where(Post.workspace_id == seeded.workspace_id)
        )
        attempts: Counter[str] = Counter()
        sent_by: Counter[str] = Counter()
        for by, kind, outcome in attempt_rows:
            attempts[f"{kind}/{outcome.value}"] += 1
            if kind == "publish" and outcome.value == "sent":
                sent_by[names.get(by, by)] += 1
        for proc in self.broadcasters:
            sent_by.setdefault(proc.name, 0)
        last: dt.datetime | None = counted["last"]
        return Report(
            label=label,
            posts=len(seeded.post_ids),
            channels=len(seeded.channel_ids),
            due_at=seeded.due_at,
            requests=counted["requests"],
            answers=counted["answers"],
            created=counted["created"],
            distinct=counted["distinct"],
            duplicates=counted["duplicates"],
            extra=counted["extra"],
            lost=counted["lost"],
            early=counted["early"],
            lateness=counted["lateness"],
            drain_s=None if last is None else (last - seeded.due_at).total_seconds(),
            statuses=await self.statuses(),
            sent_by=dict(sent_by),
            attempts=dict(attempts),
            sandbox_stats=await self.sandbox.stats(),
            events=list(self.events),
            seeded_s=seeded.seconds,
            margin_s=(seeded.due_at - seeded.committed_at).total_seconds(),
            final_after_s=(
                None if self.final_at is None else (self.final_at - seeded.due_at).total_seconds()
            ),
            foreign=counted["foreign"],
        )

    def logs(self, tail: int = 40) -> str:
        """The last lines of every process's log, for a failure message."""
        parts = []
        for name, text_ in [
            ("sandbox", self.sandbox.log()),
            *((p.name, p.log()) for p in self.broadcasters),
        ]:
            lines = text_.splitlines()
            parts.append(f"--- {name} (last {min(tail, len(lines))} of {len(lines)} lines)")
            parts.extend(lines[-tail:])
        return "\n".join(parts)
