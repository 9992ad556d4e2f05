"""The chart, as a scheduler's operations report draws it: how many of the posts due at T
went out how late, one bar series per contender (log scale: a bucket of 3 shows next to one
of 50,000)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.spike.report import BUCKETS, Result, bucketed


def draw(results: Sequence[Result], path: Path, *, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [label for _, _, label in BUCKETS]
    fig, ax = plt.subplots(figsize=(12, 5.5), dpi=110)
    width = 0.8 / max(1, len(results))
    for i, r in enumerate(results):
        counts = [n for _, n in bucketed(r.counted.lateness)]
        xs = [x + (i - (len(results) - 1) / 2) * width for x in range(len(labels))]
        ax.bar(xs, counts, width=width, label=f"{r.name} (p99 {_p99(r)})")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xlabel("lateness (arrival at the network minus due time)")
    ax.set_ylabel("posts")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncols=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _p99(result: Result) -> str:
    return "-" if result.p99 is None else f"{result.p99:.2f} s"
