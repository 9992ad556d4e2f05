"""CPU seconds and peak resident memory of a contender's processes (and all their children).

psutil when it is installed (the `bench` extras), /proc otherwise (Linux).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

try:
    import psutil
except ImportError:  # pragma: no cover - the CI smoke runs without the bench extras
    psutil = None

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _proc_stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces; the fields after it are space-separated.
    return raw[raw.rindex(")") + 2 :].split()


def _tree(roots: Iterable[int]) -> dict[int, tuple[float, int]]:
    """pid -> (CPU seconds, RSS bytes) for the roots and all their descendants."""
    out: dict[int, tuple[float, int]] = {}
    if psutil is not None:
        for root in roots:
            with contextlib.suppress(psutil.Error):
                top = psutil.Process(root)
                for proc in [top, *top.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        times = proc.cpu_times()
                        out[proc.pid] = (times.user + times.system, proc.memory_info().rss)
        return out
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _proc_stat(int(entry.name))
            if fields is not None:
                stats[int(entry.name)] = fields
                parents[int(entry.name)] = int(fields[1])
    wanted = set(roots)
    grew = True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in wanted} - wanted
        grew = bool(more)
        wanted |= more
    for pid in wanted:
        fields = stats.get(pid)
        if fields is not None:
            # utime, stime are fields 14 and 15 of stat; rss (pages) is 24.
            cpu = (int(fields[11]) + int(fields[12])) / _TICK
            out[pid] = (cpu, int(fields[21]) * _PAGE)
    return out


class Meter:
    """Samples a set of process trees every `every_s` while running; `mark()` sets the CPU
    baseline (the contender is set up: from here on its work counts)."""

    def __init__(self, roots: Iterable[int], every_s: float = 0.25) -> None:
        self.roots = list(roots)
        self.every_s = every_s
        self._cpu: dict[int, float] = {}
        self._baseline: dict[int, float] = {}
        self.peak_rss = 0
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        tree = _tree(self.roots)
        for pid, (cpu, _) in tree.items():
            self._cpu[pid] = max(cpu, self._cpu.get(pid, 0.0))
        self.peak_rss = max(self.peak_rss, sum(rss for _, rss in tree.values()))

    def mark(self) -> None:
        self.sample()
        self._baseline = dict(self._cpu)

    async def _loop(self) -> None:
        while True:
            await asyncio.to_thread(self.sample)
            await asyncio.sleep(self.every_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="meter")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sample()

    @property
    def cpu_s(self) -> float:
        return sum(cpu - self._baseline.get(pid, 0.0) for pid, cpu in self._cpu.items())

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss / 2**20
