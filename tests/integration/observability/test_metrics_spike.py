"""A spike through the real broadcaster and the sandbox over HTTP, then a scrape of /metrics:
the lateness histogram counts exactly the posts sent, per network, and the other figures
agree with the database."""

from __future__ import annotations

import datetime as dt

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from onthedot.channels.models import Channel
from onthedot.posts.models import Post, PostStatus
from tests.integration.observability.conftest import Stack

CHANNELS = 30
PER_CHANNEL = 10


Key = tuple[str, tuple[tuple[str, str], ...]]


def samples(text: str) -> dict[Key, float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def key(name: str, **labels: str) -> Key:
    return (name, tuple(sorted(labels.items())))


async def test_a_spike_is_counted_post_for_post(stack: Stack) -> None:
    channel_ids = await stack.channels(CHANNELS, credentials={"token": "spike-token"})
    due = stack.clock.now() + dt.timedelta(seconds=30)
    made = await stack.posts(channel_ids, due, PER_CHANNEL)
    assert made == CHANNELS * PER_CHANNEL

    b = stack.broadcaster()
    await b.start()
    try:
        await b.pump()
        await b.settle()
        stack.clock.set(due + dt.timedelta(milliseconds=20))
        await b.settle()
    finally:
        await b.shutdown()
        for adapter in set(b.adapters.values()):
            await adapter.aclose()

    async with stack.engine.connect() as conn:
        by_status = dict(
            (await conn.execute(select(Post.status, func.count()).group_by(Post.status))).all()
        )
        sent_by_network = dict(
            (
                await conn.execute(
                    select(Channel.network, func.count())
                    .join(Post, Post.channel_id == Channel.id)
                    .where(Post.status == PostStatus.SENT)
                    .group_by(Channel.network)
                )
            ).all()
        )
    assert by_status == {PostStatus.SENT: made}

    async with httpx.AsyncClient(base_url=stack.url) as http:
        scraped = await http.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    got = samples(scraped.text)
    lateness = "onthedot_publish_lateness_seconds"
    counted = {
        dict(labels)["network"]: v
        for (name, labels), v in got.items()
        if name == f"{lateness}_count"
    }
    assert counted == {str(network): float(n) for network, n in sent_by_network.items()}
    assert counted == {"sandbox": made}
    # Every post went out 20 ms after its due time on the frozen clock: all in one bucket.
    assert got[key(f"{lateness}_bucket", network="sandbox", le="0.01")] == 0
    assert got[key(f"{lateness}_bucket", network="sandbox", le="0.025")] == made
    assert got[key("onthedot_publish_outcomes_total", network="sandbox", result="sent")] == made
    assert got[key("onthedot_publish_attempts_total", network="sandbox")] == made
    assert got[key("onthedot_posts_claimed_total", kind="due")] == made
    assert got[key("onthedot_claim_batch_size_sum", kind="due")] == made
    assert got[key("onthedot_posts_claimed_overdue_total")] == 0
    assert got[key("onthedot_publish_in_flight")] == 0
    assert got[key("onthedot_posts_held")] == 0
    # The database figures, read on the scrape: everything went out, nothing overdue.
    assert got[key("onthedot_queue_posts", state="scheduled")] == 0
    assert got[key("onthedot_overdue_posts")] == 0
    assert got[key("onthedot_broadcasters", state="alive")] == 0  # it stopped
    # The broadcaster's statements are timed under the query guard's names.
    queries = {
        dict(labels)["query"]
        for (name, labels) in got
        if name == "onthedot_db_query_duration_seconds_count"
    }
    assert {
        "broadcaster.due_channels",
        "broadcaster.lock_channels",
        "broadcaster.claim_due",
        "broadcaster.to_publishing",
        "broadcaster.finish",
        "broadcaster.items_of",
        "metrics.posts_in_state",
    } <= queries
    # The broadcaster's calls to the mounted sandbox, by route template: no ids as labels.
    routes = {
        dict(labels)["route"]
        for (name, labels) in got
        if name == "onthedot_http_request_duration_seconds_count"
    }
    assert "/sandbox/api/v1/accounts/{account}/posts" in routes, routes
    assert not any(ch.isdigit() for r in routes for ch in r.replace("/v1/", ""))
