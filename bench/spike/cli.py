"""`onthedot bench spike`: N posts due at one instant, published by each contender in turn.

    onthedot bench spike --posts 2000
    onthedot bench spike --posts 50000 --channels 5000 --png spike.png --save
    onthedot bench spike --contenders onthedot-sqlite --posts 300 --format json
    onthedot bench spike --contenders onthedot-sqlite,onthedot-postgres-1 \\
        --background 10000,100000,1000000

Progress goes to stderr; the table (or the JSON document) to stdout. The exit status is 1
when an onthedot configuration posted early, twice or lost a post.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.spike import report
from bench.spike.contenders import ROOT, Options, log, run

from onthedot.sandbox.spike import SandboxOptions

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
PEERS_NEED = {
    "celery": ("celery", "gevent", "redis"),
    "apscheduler": ("apscheduler",),
    "procrastinate": ("procrastinate",),
}


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores (shared by the sandbox, the databases and the contender), "
        f"{platform.system()} {platform.release()} {platform.machine()}, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}; load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="onthedot bench spike", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--channels", type=int, default=5_000)
    parser.add_argument(
        "--contenders",
        default=",".join(report.NAMES),
        help=f"comma-separated, from {', '.join(report.NAMES)}",
    )
    parser.add_argument("--in-flight", type=int, default=1000, help="calls open at once")
    parser.add_argument("--latency-median-ms", type=float, default=150.0)
    parser.add_argument("--latency-p99-ms", type=float, default=1000.0)
    parser.add_argument(
        "--idempotency",
        choices=("key", "none", "blind"),
        default="none",
        help="the sandbox's mode; 'none' (default) makes every execution a post, so a "
        "second one counts as a duplicate",
    )
    parser.add_argument("--seed", type=int, default=1, help="the sandbox's random seed")
    parser.add_argument(
        "--due-in",
        type=float,
        default=None,
        help="seconds from seeding to T (default: 8 + posts/2500)",
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="per contender, after T")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("ONTHEDOT_BENCH_POSTGRES_URL", PG_DEFAULT),
        help="a server where the user may create databases",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("ONTHEDOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a broadcaster setting for the onthedot contenders, e.g. poll_s=0.5",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--png", type=Path, help="write the lateness chart here")
    parser.add_argument(
        "--background",
        default="",
        help="instead of the spike: claim time per batch with these many other posts "
        "stored, e.g. 10000,100000,1000000 (databases of the chosen onthedot contenders)",
    )
    parser.add_argument("--repeat", type=int, default=20, help="claims timed per size")
    parser.add_argument(
        "--save",
        action="store_true",
        help="also write bench/results/spike-<date>.{txt,json} (and .png)",
    )
    args = parser.parse_args(argv)
    args.names = [n.strip() for n in args.contenders.split(",") if n.strip()]
    unknown = [n for n in args.names if n not in report.NAMES]
    if unknown:
        parser.error(f"unknown contender(s) {unknown}; choose from {', '.join(report.NAMES)}")
    if args.posts < 1 or args.channels < 1 or args.in_flight < 1:
        parser.error("--posts, --channels and --in-flight must be positive")
    args.channels = min(args.channels, args.posts)  # a channel without posts adds nothing
    for name in args.names:
        for module in PEERS_NEED.get(name, ()):
            try:
                __import__(module)
            except ImportError:
                parser.error(
                    f"{name} needs the bench extras ({module} is missing): "
                    ".venv/bin/pip install -e '.[bench]'"
                )
    return args


def settings(values: Sequence[str]) -> dict[str, str]:
    out = {}
    for value in values:
        name, eq, setting = value.partition("=")
        if not eq or not name:
            raise SystemExit(f"--setting {value!r}: write it as name=value, e.g. poll_s=0.5")
        out[name.strip()] = setting.strip()
    return out


async def background(args: argparse.Namespace) -> int:
    from bench.spike import background as bg

    sizes = [int(s.replace("_", "")) for s in args.background.split(",") if s.strip()]
    databases = sorted(
        {"sqlite" if n == "onthedot-sqlite" else "postgres" for n in args.names if "onthedot" in n}
    ) or ["sqlite", "postgres"]
    timings = await bg.measure(
        databases, sizes, postgres_url=args.postgres_url, batch=1000, repeat=args.repeat
    )
    if args.format == "json":
        print(json.dumps({"claim_batch": 1000, "background": bg.rows(timings)}, indent=2))
    else:
        print("claim time per batch of 1,000 due posts, with other posts stored\n")
        print(bg.table(timings))
        flat = all(
            t.median_ms <= 2 * min(u.median_ms for u in timings if u.database == t.database)
            for t in timings
        )
        print(f"\nflat (each median within 2x of the smallest size's): {'yes' if flat else 'NO'}")
    return 0


async def main_async(args: argparse.Namespace) -> int:
    if args.background:
        return await background(args)
    opts = Options(
        posts=args.posts,
        channels=args.channels,
        in_flight=args.in_flight,
        sandbox=SandboxOptions(
            latency_median_ms=args.latency_median_ms,
            latency_p99_ms=args.latency_p99_ms,
            idempotency=args.idempotency,
            seed=args.seed,
        ),
        due_in_s=args.due_in if args.due_in is not None else 8 + args.posts / 2500,
        postgres_url=args.postgres_url,
        redis_url=args.redis_url,
        timeout_s=args.timeout,
        settings=settings(args.setting),
    )
    before = machine()
    started = time.monotonic()
    results = []
    for name in args.names:
        log(f"--- {name}")
        results.append(await run(name, opts))
        r = results[-1]
        log(
            f"{name}: early {r.counted.early}, duplicated {r.counted.duplicated}, lost "
            f"{r.counted.lost}, p99 {r.p99}, drain {r.counted.drain_s}"
        )
    found = report.targets(results, args.posts)
    when = dt.datetime.now(dt.UTC)
    header = [
        f"onthedot bench spike, {when:%Y-%m-%d %H:%M} UTC: {args.posts:,} posts over "
        f"{args.channels:,} channels (three kinds of sandbox account, k1/k2/k3, on one "
        "sandbox process), all due at one instant T",
        f"sandbox: {opts.sandbox.describe()}, seed {args.seed}; a fresh sandbox process per "
        "contender",
        f"every contender: at most {args.in_flight:,} calls in flight, the same two cores",
        f"machine: {before}",
    ]
    configs = [f"- {r.name}: {r.config}" + "".join(f"; {n}" for n in r.notes) for r in results]
    text = "\n".join(
        [
            *header,
            "",
            report.table(results),
            "",
            "targets:",
            report.targets_text(found),
            "",
            "how each contender ran:",
            *configs,
            "",
            f"total {time.monotonic() - started:.0f} s; load average after: "
            + " ".join(f"{x:.2f}" for x in os.getloadavg()),
        ]
    )
    document = report.document(
        args.posts,
        results,
        channels=args.channels,
        in_flight=args.in_flight,
        sandbox=opts.sandbox.describe(),
        machine=before,
        targets=[{"text": t.text, "met": t.met, "detail": t.detail} for t in found],
    )
    print(json.dumps(document, indent=2) if args.format == "json" else text)
    title = (
        f"{args.posts:,} posts due at T: how late each went out "
        f"({when:%Y-%m-%d}, {os.cpu_count()} cores)"
    )
    if args.png:
        from bench.spike.chart import draw

        draw(results, args.png, title=title)
        log(f"chart written to {args.png}")
    if args.save:
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        stem = out / f"spike-{args.posts}-{when:%Y-%m-%d}"
        stem.with_suffix(".txt").write_text(text + "\n")
        stem.with_suffix(".json").write_text(json.dumps(document, indent=2) + "\n")
        from bench.spike.chart import draw

        draw(results, stem.with_suffix(".png"), title=title)
        log(f"saved {stem}.txt, .json and .png")
    ours = [r for r in results if r.name in report.ONTHEDOT]
    return 1 if any(not r.correct for r in ours) else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    try:
        return asyncio.run(main_async(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
