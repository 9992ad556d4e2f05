"""The outage lesson: every critical query uses an index, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from onthedot.observability.query_guard import (
    CRITICAL_QUERIES,
    check_all,
    explain,
    postgres_findings,
    sqlite_findings,
)


async def test_every_critical_query_uses_an_index(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        findings = await check_all(conn)
    assert findings == [], "\n\n".join(map(str, findings))


@pytest.mark.parametrize(
    ("index", "query"),
    [
        ("ix_posts_status_due_at_channel_id", "broadcaster.due_channels"),
        ("ix_posts_status_retry_at", "broadcaster.retry_channels"),
        ("ix_channels_workspace_id_id", "channels.page"),
        ("ix_media_workspace_id_id", "media.page"),
    ],
)
async def test_guard_fails_when_an_index_is_dropped(
    engine: AsyncEngine, index: str, query: str
) -> None:
    async with engine.connect() as conn:
        assert await explain(conn, query, CRITICAL_QUERIES[query]()) == []
        await conn.execute(text(f"DROP INDEX {index}"))
        findings = await explain(conn, query, CRITICAL_QUERIES[query]())
        await conn.rollback()
    assert findings, f"dropping {index} should make {query} scan a table"
    assert findings[0].query == query
    assert "scans table" in str(findings[0]) or "sorts every matching row" in str(findings[0])


def test_sqlite_plan_reading() -> None:
    assert sqlite_findings("q", [(2, 0, 0, "SCAN posts")])[0].table == "posts"
    assert sqlite_findings("q", [(2, 0, 0, "SCAN posts USING INDEX ix_a")])
    assert sqlite_findings("q", [(2, 0, 0, "SCAN posts USING COVERING INDEX ix_a")])
    assert sqlite_findings("q", [(2, 0, 0, "SEARCH media USING INTEGER PRIMARY KEY (rowid>?)")])
    assert (
        sqlite_findings("q", [(2, 0, 0, "SEARCH posts USING INTEGER PRIMARY KEY (rowid=?)")]) == []
    )
    assert sqlite_findings("q", [(2, 0, 0, "SEARCH posts USING INDEX ix_a (status=?)")]) == []
    assert sqlite_findings("q", [(2, 0, 0, "SCAN CONSTANT ROW")]) == []
    assert sqlite_findings(
        "q", [(2, 0, 0, "SEARCH posts USING INDEX ix (ANY(channel_id) AND status=?)")]
    )


def test_postgres_plan_reading() -> None:
    plan = [
        {
            "Plan": {
                "Node Type": "Limit",
                "Plans": [
                    {"Node Type": "Index Scan", "Relation Name": "posts"},
                    {"Node Type": "Seq Scan", "Relation Name": "channels"},
                ],
            }
        }
    ]
    findings = postgres_findings("q", plan)
    assert [f.table for f in findings] == ["posts", "channels"]
    plan[0]["Plan"]["Plans"][0]["Index Name"] = "ix_posts_status_due_at"
    plan[0]["Plan"]["Plans"][0]["Index Cond"] = "((status)::text = 'scheduled'::text)"
    leading = {"ix_posts_status_due_at": "status", "ix_posts_channel_id_status": "channel_id"}
    assert [f.table for f in postgres_findings("q", plan, leading)] == ["channels"]
    # Conditions on later columns of an index only: the whole index is walked.
    plan[0]["Plan"]["Plans"][0]["Index Name"] = "ix_posts_channel_id_status"
    assert [f.table for f in postgres_findings("q", plan, leading)] == ["posts", "channels"]
    # A range on the first column that filters the rest away reads to the end of the table.
    del plan[0]["Plan"]["Plans"][1]
    node = plan[0]["Plan"]["Plans"][0]
    node.update(
        {"Index Name": "pk_channels", "Index Cond": "(id > 5)", "Filter": "(workspace_id = 1)"}
    )
    assert postgres_findings("q", plan, {"pk_channels": "id"})
    node.update({"Index Name": "ix_channels_ws", "Index Cond": "((workspace_id = 1) AND (id > 5))"})
    node.pop("Filter")
    assert postgres_findings("q", plan, {"ix_channels_ws": "workspace_id"}) == []
