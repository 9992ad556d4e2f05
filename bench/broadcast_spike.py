"""The broadcast spike: N posts due in the same second, published by real broadcaster processes
to the sandbox network, on SQLite with one broadcaster and on PostgreSQL with one and two.

    .venv/bin/python bench/broadcast_spike.py --posts 10000 --channels 1000 [--save]

For each configuration it makes a fresh, migrated database, starts a sandbox server
(lognormal latency, median 150 ms and p99 1 s, unless told otherwise) and the broadcasters,
seeds one workspace with the channels and the posts (all pinned at one instant T, a few
seconds ahead), waits until every post reached an outcome, and counts what the sandbox
received. Nothing is killed: this measures how fast and how evenly a spike drains.

Columns: early = posts created before T; duplicated = posts created more than once; lost =
posts never created; lateness = first arrival of each post minus T (p50/p99/max); drain = the
last post request's arrival minus T; by broadcaster = posts each one sent.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from onthedot.sandbox.spike import (
    Report,
    SandboxOptions,
    Spike,
    postgres_database,
    sqlite_database,
)

CONFIGS = {
    "sqlite-1": ("SQLite", 1),
    "postgres-1": ("PostgreSQL", 1),
    "postgres-2": ("PostgreSQL", 2),
}
RESULTS = Path(__file__).parent / "results"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_settings(values: Sequence[str]) -> dict[str, str]:
    out = {}
    for value in values:
        name, eq, setting = value.partition("=")
        if not eq or not name:
            raise SystemExit(f"--setting {value!r}: write it as name=value, e.g. poll_s=0.5")
        out[name.strip()] = setting.strip()
    return out


async def run_one(name: str, args: argparse.Namespace, options: SandboxOptions) -> Report:
    database, count = CONFIGS[name]
    label = f"{database}, {count} broadcaster{'s' if count > 1 else ''}"
    settings = parse_settings(args.setting)
    with tempfile.TemporaryDirectory(prefix=f"spike-{name}-") as tmp:
        workdir = Path(tmp)
        if database == "SQLite":
            db = sqlite_database(workdir)
        else:
            db = postgres_database(args.postgres_url, prefix="onthedot_bench")
        async with db as url, Spike(url, workdir / "run", options, settings=settings) as spike:
            await spike.start_sandbox()
            await spike.start_broadcasters(count)
            seeded = await spike.seed(
                posts=args.posts, channels=args.channels, due_in_s=args.due_in
            )
            log(
                f"{label}: {args.posts:,} posts seeded in {seeded.seconds:.2f} s, due at "
                f"{seeded.due_at:%H:%M:%S} UTC"
            )
            await spike.wait_until_final(timeout_s=args.timeout)
            report = await spike.report(label)
            if args.keep_logs:
                for proc in spike.broadcasters:
                    target = args.keep_logs / f"{name}-{proc.name}.log"
                    target.write_text(proc.log())
            log(report.format())
            return report


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def table(reports: Sequence[Report]) -> str:
    header = (
        "| configuration | posts | sent | early | duplicated | lost | lateness p50 s "
        "| p99 s | max s | drain s | by broadcaster |"
    )
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in reports:
        split = " / ".join(f"{n:,}" for _, n in sorted(r.sent_by.items()))
        lines.append(
            f"| {r.label} | {r.posts:,} | {r.statuses.get('sent', 0):,} | {r.early} "
            f"| {r.duplicates} | {r.lost} | {seconds(r.lateness['p50'])} "
            f"| {seconds(r.lateness['p99'])} | {seconds(r.lateness['max'])} "
            f"| {seconds(r.drain_s)} | {split} |"
        )
    return "\n".join(lines)


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()} "
        f"{platform.machine()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; load average {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f}"
    )


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=1_000)
    parser.add_argument(
        "--configs",
        default=",".join(CONFIGS),
        help=f"comma-separated, from {', '.join(CONFIGS)}",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "ONTHEDOT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a server where the user may create databases",
    )
    parser.add_argument("--latency-median-ms", type=float, default=150.0)
    parser.add_argument("--latency-p99-ms", type=float, default=1000.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--ghost-rate", type=float, default=0.0)
    parser.add_argument("--throttle-rate", type=float, default=0.0)
    parser.add_argument("--idempotency", choices=("key", "none", "blind"), default="key")
    parser.add_argument("--seed", type=int, default=1, help="the sandbox's random seed")
    parser.add_argument(
        "--due-in", type=float, default=8.0, help="T is this many seconds after seeding"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="per configuration")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a broadcaster setting, e.g. poll_s=0.5 (ONTHEDOT_POLL_S); repeatable",
    )
    parser.add_argument("--keep-logs", type=Path, help="copy the broadcasters' logs here")
    parser.add_argument(
        "--save", action="store_true", help="also write bench/results/broadcast-spike-<date>.txt"
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration(s) {unknown}; choose from {', '.join(CONFIGS)}")
    if args.keep_logs:
        args.keep_logs.mkdir(parents=True, exist_ok=True)
    options = SandboxOptions(
        latency_median_ms=args.latency_median_ms,
        latency_p99_ms=args.latency_p99_ms,
        error_rate=args.error_rate,
        ghost_rate=args.ghost_rate,
        throttle_rate=args.throttle_rate,
        idempotency=args.idempotency,
        seed=args.seed,
    )
    started = time.monotonic()
    before = machine()
    reports = [await run_one(name, args, options) for name in names]
    settings = parse_settings(args.setting)
    out = [
        f"broadcast spike, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC: {args.posts:,} posts "
        f"over {args.channels:,} channels, all due at one instant {args.due_in:g} s after "
        "seeding",
        f"sandbox: {options.describe()}, seed {args.seed}",
        "broadcaster settings: "
        + (", ".join(f"{k}={v}" for k, v in settings.items()) or "defaults"),
        f"machine: {before}",
        "",
        table(reports),
        "",
        *(r.format() for r in reports),
        "",
        f"total {time.monotonic() - started:.0f} s; load average after: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg()),
    ]
    text = "\n".join(out)
    print(text)
    if args.save:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"broadcast-spike-{dt.datetime.now(dt.UTC):%Y-%m-%d}.txt"
        path.write_text(text + "\n")
        log(f"saved to {path}")
    bad = [r for r in reports if r.problems()]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
