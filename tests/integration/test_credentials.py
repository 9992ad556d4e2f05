"""Channel credentials are stored encrypted, and the key can be rotated."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from onthedot.channels import service as channels
from onthedot.clock import FrozenClock
from onthedot.config import Settings
from onthedot.crypto import CredentialBox, credential_box, generate_key
from onthedot.errors import ConfigurationError
from onthedot.networks import Network
from tests.conftest import Team

SECRET = "very-secret-access-token"


async def test_credentials_are_encrypted_at_rest(
    sessionmaker: async_sessionmaker[AsyncSession], team: Team, clock: FrozenClock
) -> None:
    key = generate_key()
    box = CredentialBox([key])
    async with sessionmaker() as s, s.begin():
        channel = await channels.create_channel(
            s,
            member=team.owner.member,
            network=Network.MASTODON,
            handle="@a@example.social",
            timezone="UTC",
            schedule="daily 09:00",
            credentials={"access_token": SECRET},
            box=box,
            now=clock.now(),
        )
    async with sessionmaker() as s:
        raw = (await s.execute(text("SELECT credentials FROM channels"))).scalar_one()
    assert SECRET.encode() not in bytes(raw)
    assert box.open(bytes(raw)) == {"access_token": SECRET}

    # Rotation: a new key first, the old one after it; old secrets still open, new ones use
    # the new key.
    rotated = CredentialBox([generate_key(), key])
    assert rotated.open(bytes(raw)) == {"access_token": SECRET}
    with pytest.raises(ConfigurationError, match="Add the old key after the new one"):
        CredentialBox([generate_key()]).open(bytes(raw))
    assert channel.id


def test_a_missing_or_bad_key_is_a_clear_error_outside_the_demo() -> None:
    with pytest.raises(ConfigurationError, match="onthedot secret generate"):
        credential_box(Settings(secret_key=None, demo=False))
    with pytest.raises(ConfigurationError, match="not a valid Fernet key"):
        credential_box(Settings(secret_key="not-a-key", demo=False))
    assert credential_box(Settings(secret_key=f"{generate_key()},{generate_key()}")) is not None
