"""Storage of Stripe events received by the webhook: the raw record revenue analytics rebuild from.

Events are kept whole (the payload as received) so that any later change to the analysis can be
replayed over the full history; the Stripe event id is the primary key, which makes storing a
redelivered event idempotent.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onthedot.db.base import Base, UTCDateTime


class StripeEvent(Base):
    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(255))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    api_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    livemode: Mapped[bool] = mapped_column(Boolean, default=False)
    # The event exactly as Stripe sent it (JSON text), not re-serialised, so nothing is lost.
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_stripe_events_created", "created"),)
