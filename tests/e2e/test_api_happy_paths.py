"""The main ways through the API, end to end, with a frozen clock.

The clock stands at Thu 2026-11-26 06:00 UTC, 07:00 in Berlin; the Berlin channels post at
SCHEDULE, so their free slots are Thu 08:00, 12:30 and 17:00 Berlin time (07:00, 11:30 and
16:00 UTC), then Friday's.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from onthedot.config import Settings
from tests.conftest import Team
from tests.e2e.helpers import (
    PNG,
    DbState,
    call,
    new_channel,
    new_post,
    new_posts,
    ok,
    problem,
    upload,
)

THU_0800 = "2026-11-26T07:00:00Z"
THU_1230 = "2026-11-26T11:30:00Z"
THU_1700 = "2026-11-26T16:00:00Z"
FRI_0800 = "2026-11-27T07:00:00Z"
NOW = "2026-11-26T06:00:00Z"


async def _queue(client: httpx.AsyncClient, team: Team, channel_id: int) -> dict[str, Any]:
    queue: dict[str, Any] = ok(
        await call(client, team.viewer, "GET", f"/channels/{channel_id}/queue")
    )
    return queue


def _texts(posts: list[dict[str, Any]]) -> list[str]:
    return [p["items"][0]["text"] for p in posts]


async def test_a_channel_with_a_schedule_as_people_write_it(
    client: httpx.AsyncClient, team: Team
) -> None:
    body = {
        "network": "mastodon",
        "handle": "@acme@example.social",
        "timezone": "Europe/Berlin",
        "schedule": "Mon-Fri 8:00, 12:30, 17:00; Sat 10:00",
        "max_chars": 1000,
        "credentials": {"access_token": "secret-token"},
    }
    created = ok(await call(client, team.editor, "POST", "/channels", json=body), 201)
    assert created["schedule_text"] == "Mon–Fri 08:00, 12:30, 17:00; Sat 10:00"
    assert created["schedule"] == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "times": ["08:00", "12:30", "17:00"]},
        {"days": ["sat"], "times": ["10:00"]},
    ]
    assert created["has_credentials"] is True
    assert created["paused"] is False
    assert created["max_chars"] == 1000
    assert "secret-token" not in str(created)

    read = ok(await call(client, team.viewer, "GET", f"/channels/{created['id']}"))
    assert read == created
    listed = ok(await call(client, team.viewer, "GET", "/channels"))
    assert [c["id"] for c in listed["items"]] == [created["id"]]

    # The JSON form is the same schedule; PATCH changes only what it names.
    patch = {"schedule": created["schedule"], "timezone": "America/New_York"}
    patched = ok(await call(client, team.editor, "PATCH", f"/channels/{created['id']}", json=patch))
    assert patched["schedule_text"] == created["schedule_text"]
    assert patched["timezone"] == "America/New_York"
    assert patched["handle"] == created["handle"]
    cleared = ok(
        await call(
            client, team.editor, "PATCH", f"/channels/{created['id']}", json={"max_chars": None}
        )
    )
    assert cleared["max_chars"] is None


async def test_posts_in_each_mode(client: httpx.AsyncClient, team: Team) -> None:
    channel = (await new_channel(client, team.owner))["id"]
    a = await new_post(client, team.editor, channel, text="a")  # mode defaults to queue
    b = await new_post(client, team.editor, channel, text="b", mode="queue")
    assert (a["status"], a["pinned"], a["due_at"]) == ("scheduled", False, THU_0800)
    assert b["due_at"] == THU_1230

    # Share next: the head of the queue; the others move down one slot.
    c = await new_post(client, team.editor, channel, text="c", mode="next")
    assert c["due_at"] == THU_0800
    # Share now: pinned at this very instant.
    d = await new_post(client, team.editor, channel, text="d", mode="now")
    assert (d["pinned"], d["due_at"], d["queue_position"]) == (True, NOW, None)
    # A custom time: without an offset it is a wall time in the channel's zone.
    e = await new_post(client, team.editor, channel, text="e", mode="custom", at="2026-12-01T09:00")
    assert (e["pinned"], e["due_at"]) == (True, "2026-12-01T08:00:00Z")
    f = await new_post(
        client, team.editor, channel, text="f", mode="custom", at="2026-12-01T09:00:00-05:00"
    )
    assert f["due_at"] == "2026-12-01T14:00:00Z"
    g = await new_post(client, team.editor, channel, text="g", mode="draft")
    assert (g["status"], g["due_at"], g["queue_position"]) == ("draft", None, None)

    queue = await _queue(client, team, channel)
    assert _texts(queue["items"]) == ["d", "c", "a", "b", "e", "f"]
    assert [p["due_at"] for p in queue["items"][1:4]] == [THU_0800, THU_1230, THU_1700]
    drafts = ok(await call(client, team.viewer, "GET", "/posts", params={"status": "draft"}))
    assert [p["id"] for p in drafts["items"]] == [g["id"]]


async def test_threads_and_posts_for_several_channels(
    client: httpx.AsyncClient, team: Team
) -> None:
    berlin = (await new_channel(client, team.owner))["id"]
    tokyo = (await new_channel(client, team.owner, timezone="Asia/Tokyo", schedule="daily 09:00"))[
        "id"
    ]
    items = [{"text": "1/3 a thread"}, {"text": "2/3 goes on"}, {"text": "3/3 and ends"}]
    created = await new_posts(client, team.editor, [tokyo, berlin], items=items)

    assert sorted(p["channel_id"] for p in created) == sorted([berlin, tokyo])
    assert len({p["group_id"] for p in created}) == 1
    for post in created:
        assert [i["text"] for i in post["items"]] == [i["text"] for i in items]
    due = {p["channel_id"]: p["due_at"] for p in created}
    # Each in its own queue and zone: 09:00 in Tokyo is midnight UTC.
    assert due == {berlin: THU_0800, tokyo: "2026-11-27T00:00:00Z"}
    read = ok(await call(client, team.viewer, "GET", f"/posts/{created[0]['id']}"))
    assert read == created[0]


async def test_queue_and_post_lists_page_with_cursors(
    client: httpx.AsyncClient, team: Team
) -> None:
    channel = (await new_channel(client, team.owner))["id"]
    for n in range(5):
        await new_post(client, team.editor, channel, text=f"post {n}")
    whole = await _queue(client, team, channel)
    assert _texts(whole["items"]) == [f"post {n}" for n in range(5)]
    assert whole["next_cursor"] is None

    for path, key in ((f"/channels/{channel}/queue", "queue"), ("/posts", "posts")):
        pages: list[list[str]] = []
        params: dict[str, str | int] = {"limit": 2}
        while True:
            page = ok(await call(client, team.viewer, "GET", path, params=params))
            pages.append(_texts(page["items"]))
            if page["next_cursor"] is None:
                break
            params = {"limit": 2, "cursor": page["next_cursor"]}
        texts = [f"post {n}" for n in range(5)]
        expected = texts if key == "queue" else texts[::-1]  # posts: newest first
        assert pages == [expected[0:2], expected[2:4], expected[4:]], key


async def test_reorder_with_the_queue_version(
    client: httpx.AsyncClient, team: Team, state: DbState
) -> None:
    channel = (await new_channel(client, team.owner))["id"]
    ids = [(await new_post(client, team.editor, channel, text=t))["id"] for t in "abc"]
    seen = await _queue(client, team, channel)

    order = {"post_ids": ids[::-1], "queue_version": seen["queue_version"]}
    path = f"/channels/{channel}/queue/order"
    reordered = ok(await call(client, team.editor, "PUT", path, json=order))
    assert [p["id"] for p in reordered] == ids[::-1]
    assert [p["due_at"] for p in reordered] == [THU_0800, THU_1230, THU_1700]
    now_seen = await _queue(client, team, channel)
    assert _texts(now_seen["items"]) == ["c", "b", "a"]
    assert now_seen["queue_version"] > seen["queue_version"]

    # Someone who read the queue before that change is told to reload it.
    async with state.unchanged():
        stale = await call(client, team.owner, "PUT", path, json=order | {"post_ids": ids})
    problem(stale, 409, "conflict")

    # Move, move to the top, shuffle: the queue keeps its slots, only the order changes.
    moved = ok(
        await call(client, team.editor, "POST", f"/posts/{ids[2]}/move", json={"position": 3})
    )
    assert moved["due_at"] == THU_1700
    top = ok(await call(client, team.editor, "POST", f"/posts/{ids[0]}/move-to-top"))
    assert top["due_at"] == THU_0800
    assert _texts((await _queue(client, team, channel))["items"]) == ["a", "b", "c"]
    shuffled = ok(await call(client, team.editor, "POST", f"/channels/{channel}/queue/shuffle"))
    assert sorted(p["id"] for p in shuffled) == sorted(ids)
    assert sorted(p["due_at"] for p in shuffled) == [THU_0800, THU_1230, THU_1700]


async def test_upload_media_and_attach_it(
    client: httpx.AsyncClient, team: Team, settings: Settings
) -> None:
    media = await upload(client, team.editor, filename="../../logo.png")
    digest = hashlib.sha256(PNG).hexdigest()
    assert media["filename"] == "logo.png"
    assert (media["size"], media["sha256"], media["content_type"]) == (
        len(PNG),
        digest,
        "image/png",
    )
    stored = settings.media_dir / digest[:2] / digest
    assert stored.read_bytes() == PNG
    assert ok(await call(client, team.viewer, "GET", f"/media/{media['id']}")) == media
    listed = ok(await call(client, team.viewer, "GET", "/media"))
    assert [m["id"] for m in listed["items"]] == [media["id"]]
    # The same bytes again: a second record, one file.
    again = await upload(client, team.editor, filename="copy.png")
    assert again["id"] != media["id"]
    assert [p.name for p in settings.media_dir.rglob("*") if p.is_file()] == [digest]

    channel = (await new_channel(client, team.owner))["id"]
    items = [{"text": "look", "media_ids": [media["id"]]}, {"media_ids": [again["id"]]}]
    post = await new_post(client, team.editor, channel, items=items)
    assert [i["media_ids"] for i in post["items"]] == [[media["id"]], [again["id"]]]

    problem(await call(client, team.editor, "DELETE", f"/media/{media['id']}"), 409, "conflict")
    ok(await call(client, team.editor, "DELETE", f"/posts/{post['id']}"), 204)
    ok(await call(client, team.editor, "DELETE", f"/media/{media['id']}"), 204)
    problem(await call(client, team.viewer, "GET", f"/media/{media['id']}"), 404, "not_found")


async def test_edit_and_place_a_post(client: httpx.AsyncClient, team: Team) -> None:
    channel = (await new_channel(client, team.owner))["id"]
    post = await new_post(client, team.editor, channel, text="draft", mode="draft")
    path = f"/posts/{post['id']}"

    edited = ok(await call(client, team.editor, "PATCH", path, json={"text": "final words"}))
    assert edited["items"] == [
        {
            "text": "final words",
            "media_ids": [],
            "network_id": None,
            "network_url": None,
            "published_at": None,
        }
    ]
    thread = {"items": [{"text": "one"}, {"text": "two"}]}
    edited = ok(await call(client, team.editor, "PATCH", path, json=thread))
    assert [i["text"] for i in edited["items"]] == ["one", "two"]
    assert ok(await call(client, team.editor, "PATCH", path, json={})) == edited

    queued = ok(await call(client, team.editor, "POST", f"{path}/place", json={"mode": "queue"}))
    assert (queued["status"], queued["due_at"]) == ("scheduled", THU_0800)
    custom = {"mode": "custom", "at": "2026-11-28T10:15"}
    pinned = ok(await call(client, team.editor, "POST", f"{path}/place", json=custom))
    assert (pinned["pinned"], pinned["due_at"]) == (True, "2026-11-28T09:15:00Z")
    back = ok(await call(client, team.editor, "POST", f"{path}/place", json={"mode": "draft"}))
    assert (back["status"], back["due_at"]) == ("draft", None)
    now = ok(await call(client, team.editor, "POST", f"{path}/share-now"))
    assert (now["status"], now["pinned"], now["due_at"]) == ("scheduled", True, NOW)
    ok(await call(client, team.editor, "DELETE", path), 204)
    problem(await call(client, team.viewer, "GET", path), 404, "not_found")


async def test_pause_and_resume(client: httpx.AsyncClient, team: Team) -> None:
    channel = (await new_channel(client, team.owner))["id"]
    first = await new_post(client, team.editor, channel, text="first")

    paused = ok(await call(client, team.editor, "POST", f"/channels/{channel}/pause"))
    assert paused["paused"] is True
    queue = await _queue(client, team, channel)
    assert queue["paused"] is True
    assert [p["status"] for p in queue["items"]] == ["held"]
    # New posts wait in the queue; sharing now waits for the channel.
    second = await new_post(client, team.editor, channel, text="second")
    assert second["status"] == "held"
    problem(
        await call(client, team.editor, "POST", f"/posts/{first['id']}/share-now"),
        409,
        "channel_paused",
    )
    # Pausing twice is harmless.
    ok(await call(client, team.editor, "POST", f"/channels/{channel}/pause"))

    resumed = ok(await call(client, team.editor, "POST", f"/channels/{channel}/resume"))
    assert resumed["paused"] is False
    queue = await _queue(client, team, channel)
    assert [(p["status"], p["due_at"]) for p in queue["items"]] == [
        ("scheduled", THU_0800),
        ("scheduled", THU_1230),
    ]
    ok(await call(client, team.editor, "POST", f"/posts/{first['id']}/share-now"))


async def test_a_new_schedule_reflows_the_queue_and_deleting_a_channel_takes_its_posts(
    client: httpx.AsyncClient, team: Team
) -> None:
    channel = (await new_channel(client, team.owner))["id"]
    media = await upload(client, team.editor)
    items = [{"text": "a", "media_ids": [media["id"]]}]
    first = await new_post(client, team.editor, channel, items=items)
    second = await new_post(client, team.editor, channel, text="b")
    pinned = await new_post(
        client, team.editor, channel, text="c", mode="custom", at="2026-12-24T18:00"
    )

    body = {"schedule": "Sat, Sun 09:30"}
    changed = ok(await call(client, team.editor, "PUT", f"/channels/{channel}/schedule", json=body))
    assert changed["schedule_text"] == "Sat, Sun 09:30"
    queue = await _queue(client, team, channel)
    assert [(p["id"], p["due_at"]) for p in queue["items"]] == [
        (first["id"], "2026-11-28T08:30:00Z"),
        (second["id"], "2026-11-29T08:30:00Z"),
        (pinned["id"], "2026-12-24T17:00:00Z"),  # a custom time stays where it is
    ]

    ok(await call(client, team.editor, "DELETE", f"/channels/{channel}"), 204)
    problem(await call(client, team.viewer, "GET", f"/channels/{channel}"), 404, "not_found")
    for post in (first, second, pinned):
        problem(await call(client, team.viewer, "GET", f"/posts/{post['id']}"), 404, "not_found")
    assert ok(await call(client, team.viewer, "GET", "/posts"))["items"] == []
    # Its media is free again.
    ok(await call(client, team.editor, "DELETE", f"/media/{media['id']}"), 204)


async def test_tokens_are_shown_once_and_can_be_revoked(
    client: httpx.AsyncClient, team: Team
) -> None:
    created = ok(await call(client, team.viewer, "POST", "/tokens", json={"name": "  cron  "}), 201)
    token = created["token"]
    assert token.startswith("odt_")
    assert created["prefix"] == token[:12]
    assert created["name"] == "cron"
    assert created["user_id"] == team.viewer.member.user_id
    listed = ok(await call(client, team.viewer, "GET", "/tokens"))
    mine = [t for t in listed if t["id"] == created["id"]]
    assert mine == [{k: v for k, v in created.items() if k != "token"}]
    assert all("token" not in t for t in listed)
    assert token not in str(listed)

    bearer = {"Authorization": f"Bearer {token}"}
    assert ok(await call(client, bearer, "GET", "/workspace"))["name"] == "Acme"
    revoked = ok(await call(client, team.viewer, "DELETE", f"/tokens/{created['id']}"))
    assert revoked["revoked_at"] == NOW
    # Revoking again changes nothing; the token stays listed, as revoked.
    assert ok(await call(client, team.viewer, "DELETE", f"/tokens/{created['id']}")) == revoked
    listed = ok(await call(client, team.viewer, "GET", "/tokens"))
    assert [t["revoked_at"] for t in listed if t["id"] == created["id"]] == [NOW]
    problem(await call(client, bearer, "GET", "/workspace"), 401, "unauthenticated")


async def test_members_and_workspaces(client: httpx.AsyncClient, team: Team) -> None:
    # An address with a long local part (users.name holds only 200 characters).
    long_email = "a" * 250 + "@Example.test"
    body = {"email": long_email, "role": "editor"}
    added = ok(await call(client, team.owner, "POST", "/workspace/members", json=body), 201)
    assert (added["email"], added["role"]) == (long_email.lower(), "editor")
    user = added["user_id"]
    changed = ok(
        await call(
            client, team.owner, "PATCH", f"/workspace/members/{user}", json={"role": "viewer"}
        )
    )
    assert changed["role"] == "viewer"
    members = ok(await call(client, team.viewer, "GET", "/workspace/members"))
    assert [m["role"] for m in members] == ["owner", "editor", "viewer", "viewer"]
    ok(await call(client, team.owner, "DELETE", f"/workspace/members/{user}"), 204)
    assert len(ok(await call(client, team.owner, "GET", "/workspace/members"))) == 3

    renamed = ok(await call(client, team.owner, "PATCH", "/workspace", json={"name": " Acme Inc "}))
    assert renamed["name"] == "Acme Inc"

    # A new workspace comes with a token for it, owned by the caller.
    made = ok(await call(client, team.editor, "POST", "/workspaces", json={"name": "Side"}), 201)
    bearer = {"Authorization": f"Bearer {made['token']['token']}"}
    assert ok(await call(client, bearer, "GET", "/workspace")) == made["workspace"]
    own = ok(await call(client, bearer, "GET", "/workspace/members"))
    assert [(m["email"], m["role"]) for m in own] == [(team.editor.email, "owner")]
    # The editor's old token still acts in Acme, as an editor.
    assert ok(await call(client, team.editor, "GET", "/workspace"))["name"] == "Acme Inc"


async def test_the_snapshot_sees_every_write(
    client: httpx.AsyncClient, team: Team, state: DbState
) -> None:
    """The "nothing written" checks of the other suites are only as good as this."""
    ok(await call(client, team.editor, "GET", "/media"))  # records the token's first use
    before = await state.take()
    await upload(client, team.editor)
    after = await state.take()
    try:
        before.assert_same_as(after)
    except AssertionError as exc:
        assert "table media changed" in str(exc)
    else:
        raise AssertionError("an upload went unnoticed")
