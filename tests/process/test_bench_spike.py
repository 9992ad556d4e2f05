"""CI smoke of `onthedot bench spike`: 300 posts, onthedot on SQLite only, through the command
line as a person runs it. Needs no `bench` extras (the peers are imported only when chosen)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.mark.timeout(120)
def test_bench_spike_onthedot_sqlite_smoke() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONTHEDOT_")}
    done = subprocess.run(
        [
            sys.executable,
            *[
                "-m",
                "onthedot",
                "bench",
                "spike",
                "--contenders",
                "onthedot-sqlite",
                "--posts",
                "300",
            ],
            *[
                "--channels",
                "100",
                "--latency-median-ms",
                "20",
                "--latency-p99-ms",
                "100",
                "--due-in",
                "4",
            ],
            *["--timeout", "60", "--format", "json"],
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    document = json.loads(done.stdout)
    assert document["posts"] == 300
    [ours] = document["contenders"]
    assert ours["name"] == "onthedot-sqlite"
    assert (ours["early"], ours["duplicated"], ours["lost"]) == (0, 0, 0), done.stderr[-4000:]
    assert ours["lateness_s"]["p99"] is not None
    assert ours["cpu_s"] is not None and ours["peak_rss_mb"] > 0
