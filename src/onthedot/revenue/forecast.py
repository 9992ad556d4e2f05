"""Where MRR will be: 12 months ahead with 80% and 95% intervals, the chance of crossing a target
by each month, and the 10th/50th/90th percentile crossing dates; plus a rolling-origin backtest
that shows whether the intervals mean what they say.

Two methods, both by simulated paths:

* `components` (default): MRR is driven by its movements, so forecast those. Each simulated month
  draws one past month (of the last `window`) and applies its rates — churn and contraction as a
  share of MRR, expansion as a share of MRR — and its inflow of new and reactivated MRR, so losses
  scale with the book while sign-ups do not. Draws are whole months, keeping the months'
  correlations; intervals come from the spread of the paths. It needs few months, explains itself
  in the same terms as the movements report, and its backtest coverage on simulated businesses is
  close to nominal (see docs/revenue.md).
* `ets`: statsmodels' additive exponential smoothing with a damped trend on month-end MRR,
  with simulated future paths. A good check; it knows nothing of the movements.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from onthedot.errors import InvalidInput
from onthedot.revenue.movements import Month, Movements, major

Method = Literal["components", "ets"]
QUANTILES = (2.5, 10.0, 50.0, 90.0, 97.5)
UTC = dt.UTC


@dataclass(slots=True)
class Point:
    month: str
    mean: float
    p2_5: float
    p10: float
    p50: float
    p90: float
    p97_5: float
    p_cross: float | None  # probability MRR has crossed the target by this month


@dataclass(slots=True)
class Forecast:
    method: Method
    currency: str
    history: list[tuple[str, int]]  # month, month-end MRR (minor units)
    points: list[Point]
    target: int | None = None
    crossing: dict[str, str | None] = field(default_factory=dict)  # p10/p50/p90 → month
    # "rise" when MRR is below the target and crossing means reaching it; "fall" when it is
    # already at or above it, and crossing means dropping below it.
    direction: Literal["rise", "fall"] | None = None


def _next_month(label: str, k: int = 1) -> str:
    y, m = map(int, label.split("-"))
    y, m = divmod(y * 12 + m - 1 + k, 12)
    return f"{y:04d}-{m + 1:02d}"


def complete_months(mov: Movements) -> list[Month]:
    """Months that ran to their end (a report ending mid-month has a partial last month)."""
    out = []
    for m in mov.months:
        d = dt.datetime.fromtimestamp(m.start, UTC)
        nxt = dt.datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=UTC)
        if m.end == int(nxt.timestamp()):
            out.append(m)
    return out


def _paths_components(
    months: list[Month], horizon: int, n: int, rng: np.random.Generator, window: int
) -> npt.NDArray[np.float64]:
    recent = [m for m in months if m.total.mrr_start > 0][-window:]
    if not recent:
        raise InvalidInput("no month with MRR at its start to learn rates from")
    start = np.array([m.total.mrr_start for m in recent], dtype=float)
    keep = np.array(
        [m.total.churn + m.total.contraction + m.total.expansion + m.total.fx for m in recent],
        dtype=float,
    )
    rate = keep / start
    inflow = np.array([m.total.new + m.total.reactivation for m in recent], dtype=float)
    # Sign-ups trend: fit log(inflow) = a + b·t, and draw each path's (a, b) from the fit's
    # uncertainty, so a growing (or slowing) acquisition carries on, with honest doubt.
    t = np.arange(len(inflow), dtype=float)
    logs = np.log(np.maximum(inflow, 1.0))
    if len(inflow) >= 4:
        design = np.column_stack([np.ones_like(t), t - t.mean()])
        coef, *_ = np.linalg.lstsq(design, logs, rcond=None)
        resid = logs - design @ coef
        dof = max(len(inflow) - 2, 1)
        sigma2 = float(resid @ resid) / dof
        cov = sigma2 * np.linalg.inv(design.T @ design)
        params = rng.multivariate_normal(coef, cov, size=n)
    else:
        resid = logs - logs.mean()
        params = np.column_stack([np.full(n, logs.mean()), np.zeros(n)])
    level = np.full(n, float(months[-1].total.mrr_end))
    out = np.empty((horizon, n))
    for h in range(horizon):
        pick = rng.integers(0, len(recent), size=n)
        at = len(inflow) + h - t.mean()
        flow = np.exp(params[:, 0] + params[:, 1] * at + resid[rng.integers(0, len(resid), n)])
        level = np.maximum(level * (1 + rate[pick]) + flow, 0.0)
        out[h] = level
    return out


def _paths_ets(
    series: list[int], horizon: int, n: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    import warnings

    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = np.asarray(series, dtype=float)
    with warnings.catch_warnings():
        # Short, smooth series make the optimiser chatty; its answer is still usable.
        warnings.simplefilter("ignore")
        fit = ETSModel(y, error="add", trend="add", damped_trend=True).fit(disp=False)
        sims = fit.simulate(
            nsimulations=horizon,
            repetitions=n,
            anchor="end",
            rng=rng,
        )
    arr: npt.NDArray[np.float64] = np.asarray(sims, dtype=float).reshape(horizon, n)
    return np.maximum(arr, 0.0)


def simulate_paths(
    months: list[Month],
    horizon: int = 12,
    method: Method = "components",
    paths: int = 4000,
    seed: int = 0,
    window: int = 12,
) -> npt.NDArray[np.float64]:
    """Future month-end MRR, shape (horizon, paths), in minor units."""
    rng = np.random.default_rng(seed)
    if method == "ets":
        if len(months) < 6:
            raise InvalidInput("the ets forecast needs at least 6 complete months of history")
        return _paths_ets([m.total.mrr_end for m in months], horizon, paths, rng)
    if len(months) < 3:
        raise InvalidInput("a forecast needs at least 3 complete months of history")
    return _paths_components(months, horizon, paths, rng, window)


def forecast(
    mov: Movements,
    horizon: int = 12,
    target: int | None = None,
    method: Method = "components",
    paths: int = 4000,
    seed: int = 0,
) -> Forecast:
    months = complete_months(mov)
    sims = simulate_paths(months, horizon, method, paths, seed)
    last = months[-1]
    labels = [_next_month(last.month, k) for k in range(1, horizon + 1)]
    qs = np.percentile(sims, QUANTILES, axis=1)
    crossed_by: npt.NDArray[np.float64] | None = None
    first: npt.NDArray[np.float64] | None = None
    if target is not None:
        now = last.total.mrr_end
        hit = sims >= target if target >= now else sims <= target
        crossed_by = np.logical_or.accumulate(hit, axis=0).mean(axis=1)
        first = np.where(hit.any(axis=0), hit.argmax(axis=0), np.inf)
    points = [
        Point(
            month=labels[h],
            mean=float(sims[h].mean()),
            p2_5=float(qs[0, h]),
            p10=float(qs[1, h]),
            p50=float(qs[2, h]),
            p90=float(qs[3, h]),
            p97_5=float(qs[4, h]),
            p_cross=float(crossed_by[h]) if crossed_by is not None else None,
        )
        for h in range(horizon)
    ]
    result = Forecast(method, mov.currency, [(m.month, m.total.mrr_end) for m in months], points)
    if target is not None and first is not None:
        result.target = target
        result.direction = "rise" if target >= last.total.mrr_end else "fall"
        for name, q in (("p10", 10), ("p50", 50), ("p90", 90)):
            v = np.percentile(first, q, method="inverted_cdf")
            result.crossing[name] = labels[int(v)] if np.isfinite(v) else None
    return result


@dataclass(slots=True)
class Backtest:
    method: Method
    origins: int
    coverage80: float
    coverage95: float
    mape: float  # of the median, in %
    by_horizon: list[dict[str, float]]


def backtest(
    mov: Movements,
    horizon: int = 12,
    method: Method = "components",
    min_train: int = 6,
    paths: int = 1000,
    seed: int = 0,
) -> Backtest:
    """Rolling origin: forecast from each month on, compare with what happened."""
    months = complete_months(mov)
    if len(months) < min_train + 1:
        raise InvalidInput(f"a backtest needs at least {min_train + 1} complete months of history")
    hits80: list[list[bool]] = [[] for _ in range(horizon)]
    hits95: list[list[bool]] = [[] for _ in range(horizon)]
    errs: list[list[float]] = [[] for _ in range(horizon)]
    origins = 0
    for o in range(min_train, len(months)):
        h = min(horizon, len(months) - o)
        sims = simulate_paths(months[:o], h, method, paths, seed + o)
        qs = np.percentile(sims, QUANTILES, axis=1)
        origins += 1
        for k in range(h):
            actual = months[o + k].total.mrr_end
            hits95[k].append(bool(qs[0, k] <= actual <= qs[4, k]))
            hits80[k].append(bool(qs[1, k] <= actual <= qs[3, k]))
            if actual:
                errs[k].append(abs(qs[2, k] - actual) / actual * 100)
    flat80 = [x for xs in hits80 for x in xs]
    flat95 = [x for xs in hits95 for x in xs]
    flat_err = [x for xs in errs for x in xs]
    return Backtest(
        method=method,
        origins=origins,
        coverage80=float(np.mean(flat80)),
        coverage95=float(np.mean(flat95)),
        mape=float(np.mean(flat_err)) if flat_err else 0.0,
        by_horizon=[
            {
                "horizon": k + 1,
                "n": len(hits80[k]),
                "coverage80": float(np.mean(hits80[k])),
                "coverage95": float(np.mean(hits95[k])),
                "mape": float(np.mean(errs[k])) if errs[k] else 0.0,
            }
            for k in range(horizon)
            if hits80[k]
        ],
    )


def to_json(f: Forecast) -> dict[str, Any]:
    def money(x: float) -> float:
        return major(round(x), f.currency)

    return {
        "currency": f.currency.upper(),
        "method": f.method,
        "history": [{"month": m, "mrr": major(v, f.currency)} for m, v in f.history],
        "forecast": [
            {
                "month": p.month,
                "mean": money(p.mean),
                "p50": money(p.p50),
                "interval80": [money(p.p10), money(p.p90)],
                "interval95": [money(p.p2_5), money(p.p97_5)],
                **({"p_cross": round(p.p_cross, 4)} if p.p_cross is not None else {}),
            }
            for p in f.points
        ],
        **(
            {
                "target": major(f.target, f.currency),
                "direction": f.direction,
                "crossing": f.crossing,
            }
            if f.target is not None
            else {}
        ),
    }


def backtest_json(b: Backtest) -> dict[str, Any]:
    return {
        "method": b.method,
        "origins": b.origins,
        "coverage80": round(b.coverage80, 4),
        "coverage95": round(b.coverage95, 4),
        "mape": round(b.mape, 2),
        "by_horizon": [{k: round(v, 4) for k, v in row.items()} for row in b.by_horizon],
    }
