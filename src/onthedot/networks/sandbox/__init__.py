"""The adapter for onthedot's built-in sandbox network."""

from __future__ import annotations

from onthedot.networks.sandbox.adapter import SandboxAdapter

__all__ = ["SandboxAdapter"]
