"""The social networks onthedot publishes to, by the one name every layer uses for them.

`Network` values are what the database stores, what the API accepts and what adapters are
registered under, so they are lowercase, stable, and never renamed. `sandbox` is onthedot's own
built-in network: it publishes nowhere, which makes it safe for trials and tests.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Network"]


class Network(StrEnum):
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    THREADS = "threads"
    X = "x"
    LINKEDIN = "linkedin"
    FACEBOOK = "facebook"  # Facebook Pages; the Graph API cannot post to personal profiles.
    INSTAGRAM = "instagram"
    SANDBOX = "sandbox"
