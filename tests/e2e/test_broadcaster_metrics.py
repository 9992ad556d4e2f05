"""`onthedot broadcaster --metrics-port`: a real process serves /metrics and /healthz, writes
JSON lines on stdout, and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from onthedot.crypto import generate_key
from onthedot.db import migrate
from onthedot.sandbox.spike import free_port


def test_a_broadcaster_process_serves_its_metrics(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    migrate.upgrade(url)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONTHEDOT_")}
    env.update(
        ONTHEDOT_DATABASE_URL=url,
        ONTHEDOT_SECRET_KEY=generate_key(),
        ONTHEDOT_LOG_FORMAT="json",
        ONTHEDOT_SANDBOX_URL=f"http://127.0.0.1:{free_port()}",
        PYTHONUNBUFFERED="1",
    )
    out = tmp_path / "broadcaster.log"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "onthedot", "broadcaster", "--metrics-port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, out.read_text()
            try:
                alive = httpx.get(f"http://127.0.0.1:{port}/healthz")
                scraped = httpx.get(f"http://127.0.0.1:{port}/metrics")
                if "broadcaster.heartbeat" in scraped.text:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, out.read_text()
            time.sleep(0.05)  # waiting for another process to start, not for time to pass
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    assert code == 0, out.read_text()
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(scraped.text)
        for s in family.samples
    }
    (beat,) = [k for k in samples if k[0] == "onthedot_broadcaster_heartbeat_timestamp_seconds"]
    assert abs(samples[beat] - time.time()) < 120
    assert samples[("onthedot_broadcasters", (("state", "alive"),))] == 1
    assert samples[("onthedot_queue_posts", (("state", "publishing"),))] == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]  # JSON, every one
    assert lines, out.read_text()
    events = [line["event"] for line in lines]
    assert any(e.startswith("broadcaster ") and e.endswith(" started") for e in events)
    assert any(e.endswith(" stopped") for e in events)
    assert all({"level", "logger", "timestamp"} <= set(line) for line in lines)
