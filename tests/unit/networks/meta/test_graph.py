"""The thin Graph client: where the token goes, odd answers, and paging."""

from __future__ import annotations

import httpx
import pytest

from onthedot.clock import FrozenClock
from onthedot.networks.base import Transient
from onthedot.networks.http import HttpClient
from onthedot.networks.meta.graph import Graph
from tests.unit.networks.meta.helpers import T0

pytestmark = pytest.mark.timeout(10)


def graph(handler: httpx.MockTransport) -> Graph:
    return Graph(
        HttpClient(transport=handler),
        "https://graph.example",
        service="Facebook",
        clock=FrozenClock(T0),
    )


async def test_the_token_travels_in_the_header_not_the_url() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "1"})

    body = await graph(httpx.MockTransport(answer)).call(
        "POST", "v23.0/1/feed", token="secret-token", account="@a", doing="x", data={"m": "hi"}
    )
    assert body == {"id": "1"}
    (request,) = seen
    assert request.headers["authorization"] == "Bearer secret-token"
    assert "secret-token" not in str(request.url)


async def test_a_publish_answered_with_html_may_have_gone_out() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, text="<html>oops</html>"))
    with pytest.raises(Transient, match="other than JSON") as caught:
        await graph(transport).call(
            "POST",
            "v23.0/1/feed",
            token="t",
            account="@a",
            doing="publishing the post",
            publishing=True,
        )
    assert caught.value.maybe_sent


async def test_pages_follow_the_after_cursor() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        if after is None:
            return httpx.Response(
                200,
                json={"data": [{"id": "1"}], "paging": {"cursors": {"after": "c1"}, "next": "n"}},
            )
        return httpx.Response(200, json={"data": [{"id": "2"}], "paging": {"cursors": {}}})

    pages = [
        [p["id"] for p in page]
        async for page in graph(httpx.MockTransport(answer)).pages(
            "v23.0/1/published_posts", token="t", account="@a", doing="x", params={"limit": 1}
        )
    ]
    assert pages == [["1"], ["2"]]
