"""The declarative base, with a naming convention so migrations name constraints the same on
SQLite and PostgreSQL, and a UTC datetime type that SQLite cannot silently make naive."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from annotated_types import Ge, Le
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC; returns aware UTC datetimes on every backend.

    Naive datetimes are refused: an instant without a zone is a bug waiting for DST.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is required")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            # Stored naive in UTC so that text comparison orders instants correctly.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# BIGINT on PostgreSQL; on SQLite only an INTEGER PRIMARY KEY is the auto-incrementing rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")

# The largest id a BigId holds. Ids the API accepts (in paths, queries and bodies) are typed
# `Id`, so a number no row can have is refused as invalid input instead of overflowing the
# database driver.
MAX_ID = 2**63 - 1
Id = Annotated[int, Ge(1), Le(MAX_ID)]

# Ids are never reused on SQLite either: a deleted post's id must not come back as a new post
# (API clients, logs and attempt records refer to ids). Every table's __table_args__ ends
# with this.
AUTOINCREMENT = {"sqlite_autoincrement": True}
