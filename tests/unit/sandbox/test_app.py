"""The sandbox network over ASGI: posts, idempotency modes, failures, rate limits, records,
stats, config, the timeline, and the `onthedot sandbox` options."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import typer
from starlette.applications import Starlette
from starlette.routing import Mount
from typer.testing import CliRunner

from onthedot.clock import FrozenClock
from onthedot.sandbox import Sandbox, SandboxConfig, create_sandbox_app
from onthedot.sandbox.cli import config_from_options, parse_rate_limit, sandbox_app
from onthedot.sandbox.config import Latency, sample_latency_s

T0 = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
AUTH = {"Authorization": "Bearer secret-token"}

Make = Callable[..., Awaitable[tuple[Sandbox, httpx.AsyncClient]]]


@pytest.fixture
async def make(clock: FrozenClock) -> AsyncIterator[Make]:
    """A sandbox with the given config (seeded), and a client over ASGI."""
    clients: list[httpx.AsyncClient] = []

    async def build(**config: Any) -> tuple[Sandbox, httpx.AsyncClient]:
        app = create_sandbox_app(SandboxConfig(seed=7, **config), clock=clock)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")
        clients.append(http)
        return app.state.sandbox, http

    yield build
    for http in clients:
        await http.aclose()


async def post(
    http: httpx.AsyncClient,
    text: str = "hello",
    *,
    account: str = "alice",
    key: str | None = None,
    ref: str | None = None,
    due_at: dt.datetime | None = None,
    reply_to: str | None = None,
    media_ids: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = dict(AUTH if headers is None else headers)
    if key is not None:
        sent["Idempotency-Key"] = key
    if ref is not None:
        sent["X-Onthedot-Ref"] = ref
    body = {
        "text": text,
        "reply_to": reply_to,
        "media_ids": media_ids or [],
        "due_at": due_at.isoformat() if due_at is not None else None,
    }
    return await http.post(f"/api/v1/accounts/{account}/posts", json=body, headers=sent)


async def stats(http: httpx.AsyncClient) -> dict[str, Any]:
    answer = await http.get("/api/v1/stats")
    assert answer.status_code == 200
    result: dict[str, Any] = answer.json()
    return result


# --- posts and records ---------------------------------------------------------------------


async def test_a_post_is_created_and_recorded_with_its_arrival_time(
    make: Make, clock: FrozenClock
) -> None:
    _, http = await make()
    clock.advance(0.25)
    answer = await post(http, "hi there", key="k1", ref="12/0", due_at=T0)

    assert answer.status_code == 201
    created = answer.json()
    assert set(created) == {"id", "url", "created_at", "account"}
    assert created["url"] == f"sandbox://alice/{created['id']}"
    assert created["account"] == "alice"
    assert dt.datetime.fromisoformat(created["created_at"]) == T0 + dt.timedelta(seconds=0.25)

    shown = (await http.get(f"/api/v1/posts/{created['id']}")).json()
    assert shown["text"] == "hi there"
    assert shown["reply_to"] is None

    records = (await http.get("/api/v1/requests")).json()
    assert records["next"] == 1
    [record] = records["requests"]
    assert record == {
        "seq": 1,
        "arrived_at": (T0 + dt.timedelta(seconds=0.25)).isoformat(),
        "account": "alice",
        "status": 201,
        "idempotency_key": "k1",
        "ref": "12/0",
        "due_at": T0.isoformat(),
        "post_id": created["id"],
        "created": True,
    }
    assert (await http.get("/api/v1/requests?after=1")).json() == {"requests": [], "next": 1}
    assert (await http.get("/api/v1/posts/nope")).status_code == 404


async def test_a_repeated_idempotency_key_returns_the_first_post_and_creates_nothing(
    make: Make,
) -> None:
    _, http = await make()
    first = await post(http, key="same", ref="1/0")
    again = await post(http, "a different text", key="same", ref="1/0")
    other_account = await post(http, account="bob", key="same", ref="2/0")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert other_account.status_code == 201  # keys are per account
    assert other_account.json()["id"] != first.json()["id"]
    numbers = await stats(http)
    assert (numbers["requests"], numbers["created"], numbers["duplicates"]) == (3, 2, 0)
    records = (await http.get("/api/v1/requests")).json()["requests"]
    assert [(r["status"], r["created"]) for r in records] == [
        (201, True),
        (200, False),
        (201, True),
    ]
    assert records[1]["post_id"] == first.json()["id"]


async def test_lookup_by_key_and_paging_newest_first(make: Make) -> None:
    _, http = await make()
    ids = [(await post(http, f"post {i}", key=f"k{i}")).json()["id"] for i in range(5)]
    await post(http, "someone else's", account="bob")

    found = (await http.get("/api/v1/accounts/alice/posts?idempotency_key=k3")).json()
    assert [p["id"] for p in found["posts"]] == [ids[3]]
    missing = (await http.get("/api/v1/accounts/alice/posts?idempotency_key=zz")).json()
    assert missing == {"posts": []}

    page = (await http.get("/api/v1/accounts/alice/posts?limit=2")).json()["posts"]
    assert [p["id"] for p in page] == [ids[4], ids[3]]
    page = (await http.get(f"/api/v1/accounts/alice/posts?limit=2&before={ids[3]}")).json()
    assert [p["id"] for p in page["posts"]] == [ids[2], ids[1]]
    page = (await http.get(f"/api/v1/accounts/alice/posts?limit=2&before={ids[1]}")).json()
    assert [p["id"] for p in page["posts"]] == [ids[0]]

    assert (await http.get("/api/v1/accounts/alice/posts?limit=0")).status_code == 422
    assert (await http.get("/api/v1/accounts/alice/posts?before=nope")).status_code == 422


async def test_without_idempotency_a_repeat_creates_again_and_keys_cannot_be_looked_up(
    make: Make,
) -> None:
    _, http = await make(idempotency="none")
    first = await post(http, key="same", ref="7/0")
    again = await post(http, key="same", ref="7/0")

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] != again.json()["id"]
    by_key = await http.get("/api/v1/accounts/alice/posts?idempotency_key=same")
    assert by_key.status_code == 501
    assert "page through" in by_key.json()["message"]
    recent = (await http.get("/api/v1/accounts/alice/posts")).json()["posts"]
    assert [p["id"] for p in recent] == [again.json()["id"], first.json()["id"]]


async def test_a_blind_network_answers_501_to_every_lookup(make: Make) -> None:
    _, http = await make(idempotency="blind")
    created = await post(http, key="k")
    assert created.status_code == 201
    for query in ("idempotency_key=k", "limit=10"):
        answer = await http.get(f"/api/v1/accounts/alice/posts?{query}")
        assert answer.status_code == 501
        assert answer.json()["error"] == "lookup_unsupported"
    # The post itself is still there, by its id.
    assert (await http.get(f"/api/v1/posts/{created.json()['id']}")).status_code == 200


# --- failures ------------------------------------------------------------------------------


async def test_a_ghost_creates_the_post_but_answers_502(make: Make) -> None:
    _, http = await make(ghost_rate=1.0)
    answer = await post(http, "lost answer", key="g", ref="3/0")

    assert answer.status_code == 502
    found = (await http.get("/api/v1/accounts/alice/posts?idempotency_key=g")).json()["posts"]
    assert [p["text"] for p in found] == ["lost answer"]
    [record] = (await http.get("/api/v1/requests")).json()["requests"]
    assert (record["status"], record["created"], record["post_id"]) == (502, True, found[0]["id"])
    retry = await post(http, "lost answer", key="g", ref="3/0")
    assert (retry.status_code, retry.json()["id"]) == (200, found[0]["id"])
    assert (await stats(http))["created"] == 1


async def test_an_error_answers_503_and_creates_nothing(make: Make) -> None:
    _, http = await make(error_rate=1.0)
    answer = await post(http, key="e")
    assert answer.status_code == 503
    assert answer.json()["error"] == "unavailable"
    assert (await http.get("/api/v1/accounts/alice/posts")).json() == {"posts": []}
    numbers = await stats(http)
    assert (numbers["requests"], numbers["created"]) == (1, 0)


async def test_throttling_answers_429_with_retry_after_one_second(make: Make) -> None:
    _, http = await make(throttle_rate=1.0)
    answer = await post(http)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1"
    assert (await stats(http))["created"] == 0


async def test_rates_share_one_draw_so_a_seed_repeats_the_same_outcomes(make: Make) -> None:
    outcomes = []
    for _ in range(2):
        _, http = await make(error_rate=0.3, ghost_rate=0.3, throttle_rate=0.3)
        outcomes.append([(await post(http, f"p{i}")).status_code for i in range(40)])
    assert outcomes[0] == outcomes[1]
    assert {201, 429, 502, 503} <= set(outcomes[0])


async def test_the_rate_limit_counts_fixed_windows_per_account(
    make: Make, clock: FrozenClock
) -> None:
    _, http = await make(rate_limit={"requests": 2, "window_s": 60})
    clock.advance(15)  # T0 starts a window; it resets 45 s from now

    first, second, over = [await post(http, f"p{i}") for i in range(3)]
    assert first.status_code == second.status_code == 201
    assert first.headers["RateLimit-Limit"] == "2"
    assert first.headers["RateLimit-Remaining"] == "1"
    assert first.headers["RateLimit-Reset"] == "45"
    assert second.headers["RateLimit-Remaining"] == "0"
    assert over.status_code == 429
    assert over.headers["Retry-After"] == "45"
    assert over.headers["RateLimit-Remaining"] == "0"
    assert (await post(http, account="bob")).status_code == 201  # bob has his own window

    clock.advance(45)
    fresh = await post(http, "next window")
    assert fresh.status_code == 201
    assert fresh.headers["RateLimit-Remaining"] == "1"
    assert fresh.headers["RateLimit-Reset"] == "60"


async def test_a_missing_or_revoked_token_is_refused(make: Make) -> None:
    _, http = await make(revoked_tokens=["secret-token"])
    missing = await post(http, headers={})
    revoked = await post(http)
    other = await post(http, headers={"Authorization": "Bearer another"})

    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthorized"
    assert revoked.status_code == 401
    assert revoked.json()["error"] == "token_revoked"
    assert other.status_code == 201


async def test_text_too_long_is_refused_with_a_message(make: Make) -> None:
    _, http = await make(max_chars=10)
    assert (await post(http, "x" * 10)).status_code == 201
    answer = await post(http, "x" * 11)
    assert answer.status_code == 422
    assert answer.json() == {
        "error": "text_too_long",
        "message": "the text is 11 characters long; the sandbox takes at most 10",
    }


async def test_bad_post_bodies_are_refused(make: Make) -> None:
    _, http = await make()
    url = "/api/v1/accounts/alice/posts"
    not_json = await http.post(url, content=b"{", headers=AUTH)
    assert (not_json.status_code, not_json.json()["error"]) == (422, "invalid_json")
    naive = await http.post(url, json={"text": "x", "due_at": "2026-11-26T06:00:00"}, headers=AUTH)
    assert naive.status_code == 422
    assert "UTC offset" in naive.json()["message"]
    empty = await http.post(url, json={"text": ""}, headers=AUTH)
    assert empty.json()["error"] == "empty_post"
    assert (await stats(http))["created"] == 0


# --- media and threads ---------------------------------------------------------------------


async def test_media_is_uploaded_then_referenced_by_a_post(make: Make) -> None:
    sandbox, http = await make(max_media_bytes=8)
    url = "/api/v1/accounts/alice/media"
    uploaded = await http.post(
        url, content=b"\x89PNG", headers={**AUTH, "Content-Type": "image/png"}
    )
    assert uploaded.status_code == 201
    media = uploaded.json()
    assert (media["size"], media["content_type"]) == (4, "image/png")
    assert sandbox.media[media["id"]].content_type == "image/png"

    assert (await http.post(url, content=b"x", headers={})).status_code == 401
    too_big = await http.post(url, content=b"123456789", headers=AUTH)
    assert (too_big.status_code, too_big.json()["error"]) == (413, "media_too_large")

    created = await post(http, "with a picture", media_ids=[media["id"]])
    assert created.status_code == 201
    shown = (await http.get(f"/api/v1/posts/{created.json()['id']}")).json()
    assert shown["media_ids"] == [media["id"]]

    unknown = await post(http, media_ids=["nope"])
    assert (unknown.status_code, unknown.json()["error"]) == (422, "unknown_media")
    not_bobs = await post(http, account="bob", media_ids=[media["id"]])
    assert not_bobs.status_code == 422


async def test_a_thread_replies_to_earlier_posts(make: Make) -> None:
    _, http = await make()
    head = (await post(http, "1/2")).json()["id"]
    reply = await post(http, "2/2", reply_to=head)
    assert reply.status_code == 201
    shown = (await http.get(f"/api/v1/posts/{reply.json()['id']}")).json()
    assert shown["reply_to"] == head
    unknown = await post(http, "2/2", reply_to="nope")
    assert (unknown.status_code, unknown.json()["error"]) == (422, "unknown_reply_to")


# --- stats, reset, records file ------------------------------------------------------------


async def test_stats_count_duplicates_early_posts_and_lateness(
    make: Make, clock: FrozenClock
) -> None:
    _, http = await make(idempotency="none")
    clock.advance(2)  # now T0 + 2 s
    await post(http, "a", ref="1/0", due_at=T0)  # 2 s late
    await post(http, "a", ref="1/0", due_at=T0)  # a duplicate: counted, not in lateness
    await post(http, "b", ref="2/0", due_at=T0 + dt.timedelta(seconds=1))  # 1 s late
    await post(http, "c", ref="3/0", due_at=T0 + dt.timedelta(seconds=5))  # 3 s early
    await post(http, "d", ref="4/0")  # no due time
    await post(http, "x" * 600, ref="5/0", due_at=T0)  # refused: not created

    numbers = await stats(http)
    assert numbers["requests"] == 6
    assert numbers["created"] == 5
    assert numbers["distinct_refs"] == 4
    assert numbers["duplicates"] == 1
    assert numbers["early"] == 1
    lateness = numbers["lateness_s"]
    assert lateness["max"] == 2.0
    assert lateness["p50"] == 1.0
    assert lateness["p95"] == pytest.approx(1.9)


async def test_stats_are_empty_before_any_post(make: Make) -> None:
    _, http = await make()
    numbers = await stats(http)
    assert numbers["lateness_s"] == {"p50": None, "p95": None, "p99": None, "max": None}
    assert numbers["requests"] == numbers["created"] == numbers["duplicates"] == 0


async def test_reset_forgets_everything_but_keeps_counting(make: Make) -> None:
    _, http = await make()
    old = (await post(http, key="k")).json()["id"]
    assert (await http.post("/api/v1/reset")).json() == {"reset": True, "epoch": 1}

    assert (await http.get(f"/api/v1/posts/{old}")).status_code == 404
    assert (await http.get("/api/v1/requests")).json() == {"requests": [], "next": 0}
    assert (await stats(http))["created"] == 0
    again = await post(http, key="k")
    assert again.status_code == 201
    assert again.json()["id"] != old
    [record] = (await http.get("/api/v1/requests?after=1")).json()["requests"]
    assert record["seq"] == 2


async def test_requests_are_appended_to_the_record_file(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "requests.jsonl"
    app = create_sandbox_app(SandboxConfig(seed=1), clock=clock, record_path=path)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://s"
    ) as http:
        await post(http, "one", ref="1/0")
        await post(http, "two", ref="2/0", headers={})
    await app.state.sandbox.aclose()

    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [(r["seq"], r["ref"], r["status"], r["created"]) for r in lines] == [
        (1, "1/0", 201, True),
        (2, "2/0", 401, False),
    ]
    assert lines[0]["arrived_at"] == T0.isoformat()


# --- config --------------------------------------------------------------------------------


async def test_config_can_be_read_and_partly_replaced(make: Make) -> None:
    _, http = await make()
    config = (await http.get("/api/v1/config")).json()
    assert config["idempotency"] == "key"
    assert config["latency"] == {"kind": "none", "median_ms": 0.0, "p99_ms": 0.0}

    changed = await http.put("/api/v1/config", json={"error_rate": 1.0, "max_chars": 20})
    assert changed.status_code == 200
    assert (changed.json()["error_rate"], changed.json()["max_chars"]) == (1.0, 20)
    assert changed.json()["idempotency"] == "key"  # untouched fields stay
    assert (await post(http)).status_code == 503

    await http.put("/api/v1/config", json={"error_rate": 0})
    assert (await post(http)).status_code == 201


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"error_rate": 1.5}, "error_rate: Input should be less than or equal to 1"),
        ({"error_rate": 0.6, "ghost_rate": 0.6}, "may not exceed 1"),
        ({"idempotency": "maybe"}, "idempotency: Input should be 'key', 'none' or 'blind'"),
        (
            {"latency": {"kind": "lognormal", "median_ms": 200, "p99_ms": 100}},
            "latency: p99_ms (100) must be at least median_ms (200)",
        ),
        ({"rate_limit": {"requests": 0, "window_s": 60}}, "rate_limit.requests"),
        ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
    ],
)
async def test_bad_config_is_refused_with_a_clear_message(
    make: Make, change: dict[str, Any], says: str
) -> None:
    _, http = await make()
    answer = await http.put("/api/v1/config", json=change)
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_config"
    assert says in answer.json()["message"]
    assert (await http.get("/api/v1/config")).json()["error_rate"] == 0.0  # nothing changed


async def test_a_config_body_that_is_not_an_object_is_refused(make: Make) -> None:
    _, http = await make()
    assert (await http.put("/api/v1/config", content=b"[1]")).status_code == 422
    assert (await http.put("/api/v1/config", content=b"nope")).status_code == 422


def test_the_lognormal_sampler_has_the_configured_median_and_p99() -> None:
    latency = Latency(kind="lognormal", median_ms=150, p99_ms=1000)
    rng = random.Random(42)
    samples = sorted(sample_latency_s(latency, rng) for _ in range(40_000))
    assert statistics.median(samples) == pytest.approx(0.150, rel=0.03)
    assert samples[int(len(samples) * 0.99)] == pytest.approx(1.0, rel=0.06)
    assert sample_latency_s(Latency(kind="fixed", median_ms=80), rng) == 0.08
    assert sample_latency_s(Latency(), rng) == 0.0


# --- the timeline --------------------------------------------------------------------------


async def test_the_timeline_page_is_self_contained_html(make: Make) -> None:
    _, http = await make()
    page = await http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "onthedot" in page.text
    assert 'const BASE = "";' in page.text
    assert "api/v1/timeline" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no external assets


async def test_the_timeline_lists_new_posts_with_their_lateness(
    make: Make, clock: FrozenClock
) -> None:
    _, http = await make()
    clock.advance(1.5)
    await post(http, "late", due_at=T0)
    await post(http, "undated")
    await post(http, "refused", headers={})

    timeline = (await http.get("/api/v1/timeline?after=0")).json()
    assert [p["text"] for p in timeline["posts"]] == ["late", "undated"]
    assert [p["lateness_ms"] for p in timeline["posts"]] == [1500.0, None]
    assert timeline["posts"][0]["account"] == "alice"
    assert timeline["next"] == timeline["posts"][-1]["seq"]
    assert timeline["counts"] == {
        "requests": 3,
        "created": 2,
        "errors": 1,
        "duplicates": 0,
        "early": 0,
    }
    later = (await http.get(f"/api/v1/timeline?after={timeline['next']}")).json()
    assert later["posts"] == []
    assert later["next"] == timeline["next"]


async def test_mounted_under_a_path_the_page_polls_under_that_path(clock: FrozenClock) -> None:
    sandbox = create_sandbox_app(SandboxConfig(), clock=clock)
    outer = Starlette(routes=[Mount("/sandbox", app=sandbox)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=outer), base_url="http://o"
    ) as http:
        page = await http.get("/sandbox/")
        assert 'const BASE = "/sandbox";' in page.text
        created = await post(http, "mounted", account="alice")
        assert created.status_code == 404  # the API lives under the mount too
        sent = await http.post(
            "/sandbox/api/v1/accounts/alice/posts", json={"text": "mounted"}, headers=AUTH
        )
        assert sent.status_code == 201
        timeline = (await http.get("/sandbox/api/v1/timeline")).json()
        assert [p["text"] for p in timeline["posts"]] == ["mounted"]


# --- onthedot sandbox ----------------------------------------------------------------------


def test_options_become_a_config() -> None:
    config = config_from_options(
        latency_median_ms=150,
        latency_p99_ms=1000,
        rate_limit="100/60",
        idempotency="none",
        seed=3,
    )
    assert config.latency == Latency(kind="lognormal", median_ms=150, p99_ms=1000)
    assert config.rate_limit is not None
    assert (config.rate_limit.requests, config.rate_limit.window_s) == (100, 60.0)
    assert (config.idempotency, config.seed) == ("none", 3)
    assert config_from_options(latency_median_ms=80).latency.kind == "fixed"
    assert parse_rate_limit("5/0.5") == {"requests": 5, "window_s": 0.5}


@pytest.mark.parametrize("value", ["100", "0/60", "100/0", "a/b", "100/-1"])
def test_a_bad_rate_limit_is_a_bad_parameter(value: str) -> None:
    with pytest.raises(typer.BadParameter, match="requests/seconds"):
        parse_rate_limit(value)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--rate-limit", "100"], "write it as requests/seconds"),
        (["--latency-p99-ms", "100"], "needs a median too"),
        (["--latency-median-ms", "200", "--latency-p99-ms", "100"], "at least the median"),
        (["--error-rate", "0.7", "--ghost-rate", "0.7"], "may not exceed 1"),
        (["--error-rate", "2"], "--error-rate"),
        (["--idempotency", "maybe"], "--idempotency"),
    ],
)
def test_the_command_refuses_bad_options_with_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, args: list[str], says: str
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("must not serve"))
    result = CliRunner().invoke(sandbox_app, args)
    assert result.exit_code == 2
    assert says in " ".join(result.output.replace("│", " ").split())  # unwrap the error box


def test_the_command_serves_the_configured_sandbox(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import uvicorn

    served: dict[str, Any] = {}

    def fake_run(app: Starlette, **options: Any) -> None:
        served.update(options, app=app)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    record = tmp_path / "requests.jsonl"
    result = CliRunner().invoke(
        sandbox_app,
        [
            *("--port", "9100", "--latency-median-ms", "150", "--latency-p99-ms", "1000"),
            *("--ghost-rate", "0.1", "--idempotency", "blind", "--record", str(record)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:9100" in result.output
    assert (served["host"], served["port"]) == ("127.0.0.1", 9100)
    config: SandboxConfig = served["app"].state.sandbox.config
    assert (config.latency.kind, config.ghost_rate, config.idempotency) == (
        "lognormal",
        0.1,
        "blind",
    )
    assert record.exists()
