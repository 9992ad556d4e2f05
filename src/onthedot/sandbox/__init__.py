"""The sandbox: onthedot's own fake social network, for the demo, tests and benchmarks.

It publishes nowhere. It answers like a network does (slowly, with errors, with rate limits,
with or without idempotency keys, as configured) and records every post request, so anyone can
see whether onthedot published each post once and on time. See docs/sandbox.md.
"""

from __future__ import annotations

from onthedot.sandbox.app import Sandbox, create_sandbox_app
from onthedot.sandbox.config import Latency, RateLimit, SandboxConfig

__all__ = ["Latency", "RateLimit", "Sandbox", "SandboxConfig", "create_sandbox_app"]
