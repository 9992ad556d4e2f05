"""Post text in LinkedIn's little text format, and media bytes sent only where they belong."""

from __future__ import annotations

import httpx
import pytest

from onthedot.networks.http import HttpClient
from onthedot.networks.linkedin.client import LinkedInApi
from onthedot.networks.linkedin.text import commentary


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("plain words, nothing else.", "plain words, nothing else."),
        ("see (this) [now] {ok} <b> a|b", r"see \(this\) \[now\] \{ok\} \<b\> a\|b"),
        ("mail me @ada_l *now* ~x~ back\\slash", r"mail me \@ada\_l \*now\* \~x\~ back\\slash"),
        ("#launch day", r"{hashtag|\#|launch} day"),
        ("we #ship #fast_now", r"we {hashtag|\#|ship} {hashtag|\#|fast\_now}"),
        ("issue#4 and C# stay text", r"issue\#4 and C\# stay text"),
        ("naïve 日本 #日本語", r"naïve 日本 {hashtag|\#|日本語}"),
    ],
)
def test_commentary(text: str, sent: str) -> None:
    assert commentary(text) == sent


@pytest.mark.parametrize(
    ("url", "gets_token"),
    [
        ("https://api.linkedin.com/mediaUpload/1", True),
        ("https://www.linkedin.com/dms-uploads/1", True),
        ("https://uploads.example.net/part/1", False),
        ("https://evil-linkedin.com/part/1", False),
    ],
)
async def test_the_token_goes_only_to_linkedin(url: str, gets_token: bool) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201)

    http = HttpClient(transport=httpx.MockTransport(handler))
    try:
        api = LinkedInApi(http, "https://api.linkedin.com")
        await api.put_bytes(url, "secret-token", b"bytes")
    finally:
        await http.aclose()
    (request,) = seen
    assert ("authorization" in request.headers) is gets_token
    assert request.content == b"bytes"
