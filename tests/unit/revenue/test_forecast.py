"""The forecast: sensible intervals, crossing probabilities, and a backtest whose intervals hold
about as often as they say."""

from __future__ import annotations

import numpy as np
import pytest

from onthedot.errors import InvalidInput
from onthedot.revenue.forecast import backtest, forecast, simulate_paths, to_json
from onthedot.revenue.movements import Month, Movements, Row


def synthetic(n: int = 30, seed: int = 0) -> Movements:
    """A business that adds ~1000 of new MRR a month and loses ~3% of its book."""
    rng = np.random.default_rng(seed)
    months, mrr = [], 0
    for i in range(n):
        y, m = divmod(i, 12)
        new = int(rng.normal(100_000, 20_000))
        churn = -int(mrr * rng.uniform(0.01, 0.05))
        exp = int(mrr * rng.uniform(0.0, 0.02))
        end = mrr + new + churn + exp
        row = Row(mrr_start=mrr, new=new, churn=churn, expansion=exp, mrr_end=end)
        start = 1704067200 + i * 2_629_746  # only the labels and completeness matter here
        months.append(Month(f"{2024 + y}-{m + 1:02d}", start, start, row))
        mrr = end
    for a, b in zip(months, [*months[1:], None], strict=True):
        a.end = b.start if b else a.start + 31 * 86400
    return Movements("usd", months)


def test_forecast_shape_and_ordering() -> None:
    mov = synthetic()
    # The synthetic months are not calendar months, so bypass the completeness filter.
    sims = simulate_paths(mov.months, 12, "components", 2000, 1)
    assert sims.shape == (12, 2000)
    q = np.percentile(sims, [2.5, 10, 50, 90, 97.5], axis=1)
    assert (np.diff(q, axis=0) >= 0).all()
    assert (q[4] - q[0] > 0).all()
    assert np.median(sims[-1]) > mov.months[-1].total.mrr_end  # still growing


def test_crossing_probabilities_rise_and_dates_are_ordered(monkeypatch: pytest.MonkeyPatch) -> None:
    from onthedot.revenue import forecast as fmod

    mov = synthetic()
    monkeypatch.setattr(fmod, "complete_months", lambda m: m.months)
    now = mov.months[-1].total.mrr_end
    f = forecast(mov, 12, target=int(now * 1.15), paths=2000)
    probs = [p.p_cross for p in f.points]
    assert all(p is not None for p in probs)
    assert probs == sorted(probs)  # type: ignore[type-var]
    assert f.crossing["p10"] is not None
    order = [f.crossing[k] or "9999" for k in ("p10", "p50", "p90")]
    assert order == sorted(order)
    js = to_json(f)
    assert js["forecast"][0]["interval95"][0] <= js["forecast"][0]["p50"]
    unreachable = forecast(mov, 12, target=now * 100, paths=500)
    assert unreachable.crossing == {"p10": None, "p50": None, "p90": None}


@pytest.mark.parametrize("method", ["components", "ets"])
def test_backtest_coverage_is_near_nominal(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from onthedot.revenue import forecast as fmod

    monkeypatch.setattr(fmod, "complete_months", lambda m: m.months)
    b = backtest(synthetic(36, 3), horizon=6, method=method, paths=400)  # type: ignore[arg-type]
    assert b.origins == 30
    assert 0.6 <= b.coverage80 <= 1.0
    assert 0.8 <= b.coverage95 <= 1.0
    assert b.mape < 15


def test_too_little_history_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="at least 3"):
        forecast(synthetic(2))
