"""What the broadcaster tells the outside world: metrics, and one log line per state change.

The broadcaster calls an `Observer` at each point where a post changes state; it is passed
in (a fresh registry by default), so tests read their own counters and nothing is global.
Every line carries post_id, channel_id, attempt and network, and lateness where it is known.
What happens to every post (claimed, prepared, publishing, sent) is logged at DEBUG; what
needs a look (retries, rate limits, hand-backs at INFO; failed and unknown at WARNING) is
logged at INFO and above.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from onthedot.observability.metrics import Metrics

__all__ = ["Observer", "PostRef"]

log = logging.getLogger("onthedot.posts")

# No network is known for a post whose channel could not be read.
NO_NETWORK = "none"
# How loud each result is. A sent post is DEBUG, like claims and preparations: a line costs
# tens of microseconds of the broadcaster's CPU, and at 08:00 there are ten thousand of them.
_LEVELS: dict[str | None, int] = {
    "sent": logging.DEBUG,
    None: logging.INFO,  # back to wait without a try (a rate limit's reset)
    "retry": logging.INFO,
    "rate_limited": logging.INFO,
}


class PostRef(Protocol):
    """What the observer reads of a held post."""

    @property
    def post_id(self) -> int: ...
    @property
    def channel_id(self) -> int: ...
    @property
    def attempt(self) -> int: ...
    @property
    def network(self) -> str: ...


def _fields(post: PostRef, **more: Any) -> dict[str, Any]:
    return {
        "post_id": post.post_id,
        "channel_id": post.channel_id,
        "attempt": post.attempt,
        "network": post.network or NO_NETWORK,
        **{k: v for k, v in more.items() if v is not None},
    }


class Observer:
    def __init__(self, metrics: Metrics | None = None) -> None:
        self.metrics = metrics if metrics is not None else Metrics()
        # Labelled children by metric and label values: `labels()` takes a lock and builds
        # a key each time, which at 08:00 is paid tens of thousands of times.
        self._children: dict[tuple[object, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def watch_held(self, count: Callable[[], int]) -> None:
        self.metrics.held.set_function(count)

    def claimed(self, kind: str, posts: Sequence[PostRef], *, seconds: float, overdue: int) -> None:
        m = self.metrics
        self._child(m.claim_batch, kind).observe(len(posts))
        self._child(m.claim_duration, kind).observe(seconds)
        self._child(m.claimed, kind).inc(len(posts))
        if overdue:
            m.claimed_overdue.inc(overdue)
        if log.isEnabledFor(logging.DEBUG):
            for post in posts:
                log.debug("post claimed", extra=_fields(post, state="claimed", kind=kind))

    def prepared(self, post: PostRef) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("post prepared", extra=_fields(post, state="prepared"))

    def publishing(self, post: PostRef, *, lateness_s: float) -> None:
        self._child(self.metrics.attempts, post.network or NO_NETWORK).inc()
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "post publishing",
                extra=_fields(post, state="publishing", lateness_s=round(lateness_s, 6)),
            )

    def outcome(
        self,
        post: PostRef,
        *,
        state: str,
        result: str | None,
        lateness_s: float | None = None,
        error: str | None = None,
        retry_at: str | None = None,
    ) -> None:
        """A try ended (`result`: sent, retry, rate_limited, failed, unknown) or the post
        was put back to wait without a try (`result` None)."""
        network = post.network or NO_NETWORK
        m = self.metrics
        if result is not None:
            self._child(m.outcomes, network, result).inc()
        if result == "retry":
            self._child(m.retries, network).inc()
        if lateness_s is not None:
            self._child(m.lateness, network).observe(lateness_s)
        level = _LEVELS.get(result, logging.WARNING)
        if log.isEnabledFor(level):
            log.log(
                level,
                f"post {state}",
                extra=_fields(
                    post,
                    state=state,
                    result=result,
                    lateness_s=None if lateness_s is None else round(lateness_s, 6),
                    error=error,
                    retry_at=retry_at,
                ),
            )

    def rate_limit_wait(self, post: PostRef) -> None:
        """Counted here; its state change is logged by `outcome` like any other."""
        self._child(self.metrics.rate_limit_waits, post.network or NO_NETWORK).inc()

    def reconciled(self, post: PostRef, *, result: str) -> None:
        self._child(self.metrics.reconciliations, post.network or NO_NETWORK, result).inc()
        log.info("post looked for", extra=_fields(post, state="reconciled", result=result))

    def released(self, post: PostRef) -> None:
        self.metrics.released.inc()
        log.info("post released", extra=_fields(post, state="released"))

    def fenced(self, post: PostRef) -> None:
        self.metrics.fenced.inc()
        log.info("post no longer ours", extra=_fields(post, state="fenced"))

    def heartbeat(self, broadcaster_id: str, at: float) -> None:
        self.metrics.heartbeat.labels(broadcaster_id).set(at)

    def loop_error(self, loop: str) -> None:
        self.metrics.loop_errors.labels(loop).inc()

    def in_flight(self) -> Any:
        """A context manager around one publish call."""
        return self.metrics.in_flight.track_inprogress()
