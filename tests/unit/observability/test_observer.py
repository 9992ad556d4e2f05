"""The observer: what each state change counts, and how loudly it is logged."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from onthedot.observability.metrics import Metrics
from onthedot.observability.observer import Observer


@dataclass
class Post:
    post_id: int = 7
    channel_id: int = 3
    attempt: int = 2
    network: str = "sandbox"


def test_a_sent_post_is_counted_and_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    observer = Observer(metrics)
    with caplog.at_level(logging.INFO, logger="onthedot.posts"):
        observer.publishing(Post(), lateness_s=0.004)
        observer.outcome(Post(), state="sent", result="sent", lateness_s=0.004)
    assert caplog.records == []  # every post at 08:00: too many for INFO
    sample = metrics.registry.get_sample_value
    labels = {"network": "sandbox"}
    assert sample("onthedot_publish_attempts_total", labels) == 1
    assert sample("onthedot_publish_outcomes_total", {**labels, "result": "sent"}) == 1
    assert sample("onthedot_publish_lateness_seconds_bucket", {**labels, "le": "0.01"}) == 1


@pytest.mark.parametrize(
    ("result", "level"),
    [("retry", logging.INFO), ("failed", logging.WARNING), ("unknown", logging.WARNING)],
)
def test_outcomes_that_need_a_look_are_logged_with_their_post(
    caplog: pytest.LogCaptureFixture, result: str, level: int
) -> None:
    observer = Observer()
    with caplog.at_level(logging.INFO, logger="onthedot.posts"):
        observer.outcome(Post(), state="x", result=result, error="the network said no")
    (record,) = caplog.records
    assert record.levelno == level
    fields = {k: getattr(record, k) for k in ("post_id", "channel_id", "attempt", "network")}
    assert fields == {"post_id": 7, "channel_id": 3, "attempt": 2, "network": "sandbox"}
    assert record.__dict__["result"] == result and record.__dict__["error"]


def test_a_post_without_a_network_is_labelled_none() -> None:
    metrics = Metrics()
    Observer(metrics).outcome(Post(network=""), state="failed", result="failed")
    assert metrics.registry.get_sample_value(
        "onthedot_publish_outcomes_total", {"network": "none", "result": "failed"}
    )
