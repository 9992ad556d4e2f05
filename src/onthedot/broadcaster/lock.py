"""On SQLite one broadcaster runs per database file; a second one refuses to start.

SQLite has no `SKIP LOCKED`, so two broadcasters would claim the same posts in turns and
only the fencing token would keep them from publishing twice. Instead the first one holds
an exclusive lock on a file next to the database. The operating system releases it when the
process ends, however it ends, so a broadcaster killed with SIGKILL never blocks the next.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from onthedot.errors import ConfigurationError


class SingleBroadcasterLock:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fd: int | None = None

    @classmethod
    def for_database(cls, database: str | None) -> SingleBroadcasterLock:
        if database in (None, "", ":memory:"):
            return cls(None)
        assert database is not None
        return cls(Path(database).resolve().with_name(Path(database).name + ".broadcaster.lock"))

    def acquire(self) -> None:
        if self.path is None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            database = self.path.name.removesuffix(".broadcaster.lock")
            raise ConfigurationError(
                f"another broadcaster (pid {holder}) is already running against the SQLite "
                f"database {database}; on SQLite only one may run. Stop it first, or move to "
                "PostgreSQL (ONTHEDOT_DATABASE_URL=postgresql://…) to run several"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
