"""Contract fakes of the real networks, written from each network's documentation.

Each module is a Starlette app that answers the same paths, payloads, status codes, media
processing states, rate-limit headers and error bodies as the network it stands for, so the
adapters can be tested without reaching it. Every fake is built by a `create_app(...)` taking
the injected clock, and exposes its state (accounts, tokens, posts) for the tests to inspect
and to script: a revoked token, an exhausted rate limit, a rejected text.
"""
