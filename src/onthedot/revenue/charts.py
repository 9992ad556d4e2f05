"""Charts as PNG bytes: monthly movements stacked by kind, and the forecast fan with the target.

Uses matplotlib's object API with the Agg canvas directly (no pyplot), so nothing global is
touched and it is safe in a server."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from onthedot.revenue.forecast import Forecast
from onthedot.revenue.fx import exponent
from onthedot.revenue.movements import KINDS, Movements

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure(width: float, height: float) -> Figure:
    # matplotlib is imported on first use: it is slow to import, and every `onthedot`
    # command would otherwise pay for it.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


COLOURS = {
    "new": "#2e7d32",
    "expansion": "#66bb6a",
    "reactivation": "#26a69a",
    "contraction": "#ffa726",
    "churn": "#e53935",
    "fx": "#9e9e9e",
}


def _png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def movements_png(mov: Movements) -> bytes:
    scale = 10 ** exponent(mov.currency)
    labels = [m.month for m in mov.months]
    fig = _figure(max(6.0, 0.45 * len(labels) + 2), 4.5)
    ax = fig.add_subplot()
    x = list(range(len(labels)))
    up = [0.0] * len(labels)
    down = [0.0] * len(labels)
    for kind in KINDS:
        values = [getattr(m.total, kind) / scale for m in mov.months]
        pos = [max(v, 0.0) for v in values]
        neg = [min(v, 0.0) for v in values]
        if any(pos):
            ax.bar(x, pos, bottom=up, color=COLOURS[kind], label=kind)
            up = [a + b for a, b in zip(up, pos, strict=True)]
        if any(neg):
            ax.bar(x, neg, bottom=down, color=COLOURS[kind], label=None if any(pos) else kind)
            down = [a + b for a, b in zip(down, neg, strict=True)]
    net = [(m.total.mrr_end - m.total.mrr_start) / scale for m in mov.months]
    ax.plot(x, net, color="black", marker="o", linewidth=1, label="net change")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xticks(x, labels, rotation=60, fontsize=8)
    ax.set_ylabel(f"MRR movement ({mov.currency.upper()})")
    ax.set_title("Monthly MRR movements")
    ax.legend(fontsize=8, ncols=4)
    return _png(fig)


def forecast_png(f: Forecast) -> bytes:
    scale = 10 ** exponent(f.currency)
    hist_labels = [m for m, _ in f.history]
    labels = hist_labels + [p.month for p in f.points]
    n = len(hist_labels)
    fig = _figure(max(6.0, 0.35 * len(labels) + 2), 4.5)
    ax = fig.add_subplot()
    ax.plot(range(n), [v / scale for _, v in f.history], color="black", label="MRR")
    xs = list(range(n - 1, len(labels)))
    last = f.history[-1][1] / scale

    def band(lo: list[float], hi: list[float], alpha: float, label: str) -> None:
        ax.fill_between(xs, [last, *lo], [last, *hi], color="#1e88e5", alpha=alpha, label=label)

    band([p.p2_5 / scale for p in f.points], [p.p97_5 / scale for p in f.points], 0.2, "95%")
    band([p.p10 / scale for p in f.points], [p.p90 / scale for p in f.points], 0.35, "80%")
    ax.plot(xs, [last] + [p.p50 / scale for p in f.points], color="#1e88e5", label="median")
    if f.target is not None:
        ax.axhline(f.target / scale, color="#e53935", linestyle="--", label="target")
    step = max(1, len(labels) // 18)
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=60, fontsize=8)
    ax.set_ylabel(f"MRR ({f.currency.upper()})")
    ax.set_title(f"MRR forecast ({f.method})")
    ax.legend(fontsize=8)
    return _png(fig)
