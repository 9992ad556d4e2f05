"""`onthedot run` as a newcomer starts it: a real server process with the demo workspace."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from onthedot.sandbox.spike import free_port


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONTHEDOT_")}
    env.update({"ONTHEDOT_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}", **extra})
    return env


def _start(tmp_path: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    log = tmp_path / f"run-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "onthedot", "run", "--demo", "--port", str(port)],
            cwd=tmp_path,
            env=_env(tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    _wait_ready(port, proc)
    match = re.search(r"(odt_[\w-]+)", log.read_text())
    assert match, "no API token was printed:\n" + log.read_text()
    return proc, match.group(1)


def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, "onthedot run exited early"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)  # waiting for another process to bind, not for time to pass


def _stop(proc: subprocess.Popen[bytes], tmp_path: Path) -> None:
    """SIGTERM shuts the server down gracefully (uvicorn then re-raises the signal)."""
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
    logs = "".join(p.read_text() for p in tmp_path.glob("run-*.log"))
    assert "Application shutdown complete" in logs
    assert "Traceback" not in logs


def test_run_serves_the_demo_workspace_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc, token = _start(tmp_path, port)
    try:
        auth = {"Authorization": f"Bearer {token}"}
        base = f"http://127.0.0.1:{port}/api/v1"
        channels = httpx.get(f"{base}/channels", headers=auth).json()["items"]
        assert [c["network"] for c in channels] == ["sandbox", "sandbox"]
        queue = httpx.get(f"{base}/channels/{channels[0]['id']}/queue", headers=auth).json()
        assert len(queue["items"]) >= 3 and all(p["due_at"] for p in queue["items"])
        assert httpx.get(f"http://127.0.0.1:{port}/docs").status_code == 200
        # The built-in broadcaster publishes a post shared now to the built-in sandbox.
        made = httpx.post(
            f"{base}/posts",
            headers=auth,
            json={"channel_ids": [channels[0]["id"]], "text": "right now", "mode": "now"},
        )
        assert made.status_code == 201, made.text
        post_id = made.json()[0]["id"]
        deadline = time.monotonic() + 30
        while True:
            post = httpx.get(f"{base}/posts/{post_id}", headers=auth).json()
            if post["status"] == "sent":
                break
            assert time.monotonic() < deadline, post
            time.sleep(0.1)  # waiting for another process to publish, not for time to pass
        landed = httpx.get(f"http://127.0.0.1:{port}/sandbox/api/v1/requests").json()
        assert [r["ref"] for r in landed["requests"] if r["created"]] == [f"{post_id}/0"]
        assert post["items"][0]["network_url"].startswith("sandbox://demo/")
    finally:
        _stop(proc, tmp_path)

    # A second start keeps the workspace, revokes the old token and prints a new one.
    port = free_port()
    proc, second = _start(tmp_path, port)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        assert second != token
        assert (
            httpx.get(f"{base}/channels", headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        )
        again = httpx.get(f"{base}/channels", headers={"Authorization": f"Bearer {second}"}).json()
        assert len(again["items"]) == 2
    finally:
        _stop(proc, tmp_path)


def test_run_outside_the_demo_needs_a_key(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "onthedot", "run", "--no-demo", "--port", str(free_port())],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "ONTHEDOT_SECRET_KEY is not set" in done.stderr
    assert "onthedot secret generate" in done.stderr
