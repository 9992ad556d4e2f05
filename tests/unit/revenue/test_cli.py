"""`onthedot revenue …` end to end on a simulated export."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from onthedot.revenue.cli import app

runner = CliRunner()


def test_simulate_then_every_report(tmp_path: Path) -> None:
    out = tmp_path / "ev.jsonl"
    r = runner.invoke(app, ["simulate", "--seed", "3", "--months", "14", "--customers", "60",
                            "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    books = json.loads(Path(f"{out}.books.json").read_text())
    rates = str(out) + ".rates.json"
    common = ["--events", str(out), "--rates", rates, "--as-of", "2025-03-01"]

    r = runner.invoke(
        app, ["movements", *common, "--format", "json", "--png", str(tmp_path / "m.png")]
    )
    assert r.exit_code == 0, r.output
    mov = json.loads(r.stdout)
    assert [m["month"] for m in mov["months"]] == [m["month"] for m in books["months"]]
    assert [m["mrr_end"] for m in mov["months"]] == [m["mrr_end"] / 100 for m in books["months"]]
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"

    r = runner.invoke(app, ["mrr", *common])
    assert r.exit_code == 0 and "TOTAL" in r.stdout
    r = runner.invoke(app, ["movements", *common, "--format", "csv"])
    assert r.stdout.splitlines()[0].startswith("month,plan,mrr_start,new")
    snap = str(out) + ".snapshot.json"
    r = runner.invoke(app, ["audit", *common, "--snapshot", snap, "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["mrr_overreported"] == 0
    target = books["months"][-1]["mrr_end"] / 100 * 1.2
    r = runner.invoke(app, ["forecast", *common, "--target", str(target), "--png",
                            str(tmp_path / "f.png")])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "reaching" in r.stdout and "chance by" in r.stdout and (tmp_path / "f.png").exists()
    r = runner.invoke(app, ["backtest", *common, "--horizon", "3"])
    assert r.exit_code == 0 and "origins" in r.stdout


def test_bad_lines_are_reported_and_the_rest_used(tmp_path: Path) -> None:
    out = tmp_path / "ev.jsonl"
    runner.invoke(app, ["simulate", "--months", "3", "--customers", "10", "--out", str(out)])
    lines = out.read_bytes().splitlines(keepends=True)
    lines.insert(5, b"{not json\n")
    out.write_bytes(b"".join(lines) + b'{"id": "evt_cut", "type"')
    r = runner.invoke(app, ["mrr", "--events", str(out), "--rates", f"{out}.rates.json"])
    assert r.exit_code == 0
    assert "line 6: not valid JSON" in r.stderr
    assert f"line {len(lines) + 1}: truncated" in r.stderr


def test_errors_are_one_line_and_exit_non_zero(tmp_path: Path) -> None:
    r = runner.invoke(app, ["mrr", "--events", str(tmp_path / "nope.jsonl")])
    assert r.exit_code == 1 and "no such events file" in r.stderr
    out = tmp_path / "ev.jsonl"
    runner.invoke(app, ["simulate", "--months", "3", "--customers", "30", "--out", str(out)])
    r = runner.invoke(app, ["mrr", "--events", str(out)])  # EUR and GBP without rates
    assert r.exit_code == 1 and "no exchange rate" in r.stderr
    r = runner.invoke(app, ["mrr", "--events", str(out), "--set", "past_due_grace_days=-1"])
    assert r.exit_code == 1 and "invalid policy" in r.stderr
