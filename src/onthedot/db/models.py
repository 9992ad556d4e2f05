"""Imports every model so `Base.metadata` knows all tables (Alembic and tests use this)."""

from __future__ import annotations

from onthedot.accounts import models as accounts_models
from onthedot.channels import models as channels_models
from onthedot.db.base import Base
from onthedot.media import models as media_models
from onthedot.posts import models as posts_models
from onthedot.revenue import models as revenue_models

__all__ = [
    "Base",
    "accounts_models",
    "channels_models",
    "media_models",
    "posts_models",
    "revenue_models",
]
