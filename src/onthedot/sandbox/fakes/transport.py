"""Transports that misbehave on purpose, wrapped around a contract fake."""

from __future__ import annotations

from collections.abc import Callable

import httpx

__all__ = ["LoseAnswers"]


class LoseAnswers(httpx.AsyncBaseTransport):
    """Delivers matching requests, then loses the answer: the network acted, onthedot never
    heard. This is a crash between `publishing` and the answer, seen from the network's side.
    """

    def __init__(
        self, inner: httpx.AsyncBaseTransport, lose: Callable[[httpx.Request], bool]
    ) -> None:
        self._inner = inner
        self._lose = lose
        self.lost: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if self._lose(request):
            await response.aread()
            self.lost.append(request)
            raise httpx.ReadError("the connection closed before the answer", request=request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
