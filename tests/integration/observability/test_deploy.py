"""deploy/: the alert rules pass promtool's check and their unit tests, and every metric the
rules and the dashboard name is one the app exports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from onthedot.api import create_app
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
RULE_TESTS = DEPLOY / "prometheus" / "alerts_test.yml"
DASHBOARD = DEPLOY / "grafana" / "onthedot.json"
METRIC = re.compile(r"\bonthedot_[a-z0-9_]+\b")
# Series that come from Prometheus itself, not from onthedot.
BUILT_IN = {"up"}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("ONTHEDOT_REQUIRE_PROMTOOL"):
            pytest.fail("promtool is not installed but ONTHEDOT_REQUIRE_PROMTOOL is set")
        pytest.skip(
            "promtool is not installed (Debian: apt-get install prometheus); "
            "set ONTHEDOT_REQUIRE_PROMTOOL=1 to make this a failure"
        )
    return found


@pytest.mark.parametrize(
    "args", [["check", "rules", str(RULES)], ["test", "rules", str(RULE_TESTS)]]
)
def test_promtool(args: list[str]) -> None:
    done = subprocess.run(
        [promtool(), *args], capture_output=True, text=True, timeout=60, cwd=RULES.parent
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def exported_names(exposition: str) -> set[str]:
    names: set[str] = set()
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "gauge": ("",),
    }
    for family in text_string_to_metric_families(exposition):
        names.update(family.name + s for s in suffixes.get(family.type, ("",)))
    return names


@pytest.fixture
async def exported(
    settings: Settings, engine: AsyncEngine, clock: FrozenClock, box: CredentialBox
) -> set[str]:
    """The names in a scrape of a fresh app: every family shows, even without samples."""
    app = create_app(settings, clock=clock, engine=engine, box=box)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        scraped = await http.get("/metrics")
    assert scraped.status_code == 200
    return exported_names(scraped.text)


def rule_exprs() -> dict[str, str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def dashboard_exprs() -> dict[str, str]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    exprs = {
        f"{panel['title']} / {target['refId']}": target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    }
    for variable in dashboard["templating"]["list"]:
        if isinstance(variable.get("query"), dict):
            exprs[f"${variable['name']}"] = variable["query"]["query"]
    return exprs


def test_the_rules_cover_what_the_issue_asks() -> None:
    assert set(rule_exprs()) >= {
        "OnthedotPublishLatenessHigh",
        "OnthedotPostsOverdue",
        "OnthedotUnknownOutcome",
        "OnthedotPublishErrorRatioHigh",
        "OnthedotBroadcasterHeartbeatStale",
        "OnthedotSlowDatabaseQuery",
    }


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_every_metric_named_is_exported(exported: set[str], source: str) -> None:
    exprs = rule_exprs() if source == "alerts" else dashboard_exprs()
    assert exprs
    missing = sorted(
        (where, name)
        for where, expr in exprs.items()
        for name in METRIC.findall(expr)
        if name not in exported
    )
    assert not missing, f"named in {source} but not exported: {sorted(missing)}"


def test_the_dashboard_reads_prometheus_through_its_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert {p["type"] for p in panels} >= {"heatmap", "timeseries", "stat"}
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        for target in panel["targets"]:
            names = set(METRIC.findall(target["expr"])) | (
                set(re.findall(r"\b[a-z_]+\b", target["expr"])) & BUILT_IN
            )
            assert names, f"{panel['title']}: no metric in {target['expr']}"
