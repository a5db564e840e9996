"""Customer value models: hand-checked summaries, parameter recovery and calibration on data simulated
from known BG/NBD and Gamma-Gamma parameters, the formulas against numerical integration, the
failure paths, and the bundled sample against its ground truth."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy.integrate import quad
from scipy.special import betaln, gammaln
from scipy.stats import beta as beta_dist
from scipy.stats import spearmanr

from custseg import paths, words
from custseg.config import Value
from custseg.segment.clv import (
    SUMMARY_COLUMNS,
    VALUE_COLUMNS,
    ModelSpec,
    ValueModels,
    customer_value,
    fit_error,
    fit_model_specs,
    fit_value_models,
    predicted_revenue,
    rfm_summary,
)

OBS = dt.date(2026, 10, 1)
# CDNOW estimates of Fader, Hardie & Lee (2005): BG/NBD in weeks, Gamma-Gamma in dollars.
TRUE_BG = {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.43}
TRUE_GG = {"p": 6.25, "q": 3.74, "v": 15.44}
N_SIM = 50_000
FUTURE_WEEKS = 52.0
DEFAULTS = Value()


def simulate(n: int, seed: int, bg: dict = TRUE_BG, gg: dict = TRUE_GG, model: str = "bgnbd") -> pd.DataFrame:
    """Customers drawn from BG/NBD (or MBG/NBD) and Gamma-Gamma, observed for 39-78 weeks after
    their first purchase, with what they truly do next (alive, purchases in the next 52 weeks,
    wait to the next purchase) and their true mean order value."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(bg["r"], 1 / bg["alpha"], n)
    drop = rng.beta(bg["a"], bg["b"], n)
    T = rng.uniform(39, 78, n)
    # Repeat purchases until the one after which they drop out: BG/NBD checks after each repeat
    # purchase (1, 2, ...), MBG/NBD after the first purchase too (0, 1, ...).
    lifetime = rng.geometric(drop) - (model == "mbgnbd")
    possible = rng.poisson(rate * T)  # purchases in (0, T] had they never dropped out
    x = np.minimum(lifetime, possible)
    # Given n Poisson arrivals in (0, T], the x-th is T times the x-th of n sorted uniforms.
    recency = np.where(x > 0, T * rng.beta(np.maximum(x, 1), possible - x + 1), 0.0)
    nu = rng.gamma(gg["q"], 1 / gg["v"], n)
    # The mean of x Gamma(p, nu) order values is Gamma(p x, nu x).
    mean_value = np.where(x > 0, rng.gamma(gg["p"] * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1))), 0.0)
    alive = lifetime > possible
    future = np.where(alive, np.minimum(lifetime - possible, rng.poisson(rate * FUTURE_WEEKS)), 0)
    wait = np.where(alive, rng.exponential(1 / np.maximum(rate, 1e-300)), np.inf)
    # Drawn last, so the draws above are those of the simulations the other tests were tuned on.
    first = rng.gamma(gg["p"], 1 / nu)  # the first purchase, from the same distribution
    return pd.DataFrame({
        "customer_id": [f"S{i:06d}" for i in range(n)],
        "frequency": x.astype(np.int64), "recency": recency, "T": T,
        "monetary_value": mean_value, "mean_purchase_value": (first + x * mean_value) / (x + 1),
        "alive": alive, "future": future, "wait": wait, "true_order_value": gg["p"] / nu,
    })


def models_with(**params) -> ValueModels:
    base = dict(**TRUE_BG, **TRUE_GG, log_likelihood=0.0, gg_log_likelihood=0.0, n_customers=0,
                n_repeat_buyers=0, frequency_value_corr=0.0, time_unit_days=7, penalizer=0.0, seconds=0.0)
    return ValueModels(**{**base, **params})


def history(rows: list[tuple[int, float, float]], monetary: float = 50.0) -> pd.DataFrame:
    """A summary from (frequency, recency, T) rows."""
    x, t_x, T = (np.array(col, dtype=float) for col in zip(*rows))
    return pd.DataFrame({
        "customer_id": [f"H{i}" for i in range(len(rows))], "frequency": x.astype(np.int64),
        "recency": t_x, "T": T, "monetary_value": np.where(x > 0, monetary, 0.0),
        "mean_purchase_value": monetary,
    })


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    return simulate(N_SIM, seed=20261001)


@pytest.fixture(scope="module")
def fitted(simulated) -> ValueModels:
    return fit_value_models(simulated, DEFAULTS)


# --- rfm_summary --------------------------------------------------------------------------------


def test_rfm_summary_counts_purchase_days_and_ignores_non_purchases():
    orders = pd.DataFrame(
        [
            ("A", "2026-01-01 09:00", "completed", 100.0),
            ("A", "2026-01-01 18:00", "completed", 50.0),  # same day: one purchase worth 150
            ("A", "2026-01-15", "completed", 200.0),
            ("A", "2026-02-12 23:59", "completed", 300.0),
            ("A", "2026-03-01", "cancelled", 0.0),
            ("A", "2026-03-05", "refunded", 0.0),
            ("A", "2026-03-10", "returned", -300.0),
            ("A", "2026-04-01", "completed", 999.0),  # on the observation date: not before it
            ("B", "2026-03-31 23:30", "completed", 80.0),
            ("C", "2026-02-01", "cancelled", 0.0),  # never bought
            ("C", "2026-02-02", "refunded", 0.0),
            ("D", "2026-04-02", "completed", 10.0),  # only after the date
        ],
        columns=["customer_id", "order_date", "status", "revenue"],
    ).assign(order_date=lambda f: pd.to_datetime(f["order_date"], format="ISO8601").astype("datetime64[ms]"))
    before = orders.copy(deep=True)

    days = rfm_summary(orders, dt.date(2026, 4, 1), time_unit_days=1)
    weeks = rfm_summary(orders, dt.date(2026, 4, 1))

    pd.testing.assert_frame_equal(orders, before)
    assert list(days.columns) == list(SUMMARY_COLUMNS)
    assert days["customer_id"].tolist() == ["A", "B"]
    a, b = days.iloc[0], days.iloc[1]
    assert a["frequency"] == 2  # Jan 1, Jan 15, Feb 12
    assert a["recency"] == 42 and a["T"] == 90
    assert a["monetary_value"] == pytest.approx(250.0)  # the repeat purchases 200 and 300
    assert a["mean_purchase_value"] == pytest.approx(650.0 / 3)
    assert a["max_purchase_value"] == pytest.approx(300.0) and b["max_purchase_value"] == pytest.approx(80.0)
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0, 0.0, 1.0, 0.0)
    assert weeks["recency"].iloc[0] == pytest.approx(6.0) and weeks["T"].iloc[0] == pytest.approx(90 / 7)
    assert days["frequency"].dtype == np.int64


def test_rfm_summary_without_purchases_and_with_missing_columns():
    orders = pd.DataFrame({"customer_id": ["A"], "order_date": pd.to_datetime(["2026-01-01"]),
                           "status": ["cancelled"], "revenue": [0.0]})
    empty = rfm_summary(orders, OBS)
    assert empty.empty and list(empty.columns) == list(SUMMARY_COLUMNS)
    with pytest.raises(ValueError, match="revenue"):
        rfm_summary(orders.drop(columns="revenue"), OBS)
    with pytest.raises(ValueError, match="time_unit_days"):
        rfm_summary(orders, OBS, time_unit_days=0)


# --- the fit ------------------------------------------------------------------------------------


def test_fit_recovers_the_simulated_parameters(simulated, fitted):
    # Over 12 simulations of 30,000 customers the relative standard error was 1.5% (r), 2.5%
    # (alpha), 4% (a), 6% (b), 3.5% (p), 1.6% (q) and 4.5% (v); at 50,000 customers these shrink
    # by a factor 0.77, so 10% is at least 3.5 standard errors for r, alpha, q and 15% at least
    # 3 for a, b, p, v.
    tolerance = {"r": 0.10, "alpha": 0.10, "a": 0.15, "b": 0.15, "p": 0.15, "q": 0.10, "v": 0.15}
    for name, truth in {**TRUE_BG, **TRUE_GG}.items():
        estimate = getattr(fitted, name)
        assert abs(estimate / truth - 1) < tolerance[name], (name, estimate, truth)
    assert fitted.n_customers == N_SIM
    assert fitted.n_repeat_buyers == int((simulated["frequency"] > 0).sum())
    assert abs(fitted.frequency_value_corr) < 0.1  # simulated independent, as the model assumes
    assert fitted.note == () and fitted.order_values == "gamma_gamma" and fitted.spend_fitted
    assert fitted.mean_order_value == pytest.approx(fitted.p * fitted.v / (fitted.q - 1))


def test_predictions_are_calibrated_against_the_simulated_future(simulated, fitted):
    horizon = Value(horizon_days=int(FUTURE_WEEKS * 7))
    scored = customer_value(simulated, fitted, horizon, OBS)
    assert list(scored.columns) == list(VALUE_COLUMNS)

    # Expected purchases in the next 52 weeks: the total within 5% of what the customers did.
    assert scored["expected_purchases"].sum() / simulated["future"].sum() == pytest.approx(1.0, abs=0.05)
    # P(alive) is calibrated: within each band, the share truly alive matches the mean P(alive).
    repeat = ~scored["one_time_buyer"]
    bands = pd.cut(scored.loc[repeat, "p_alive"], [0, 0.2, 0.5, 0.8, 1.0])
    calibration = pd.DataFrame({"predicted": scored.loc[repeat, "p_alive"],
                                "alive": simulated.loc[repeat, "alive"]}).groupby(bands, observed=True).mean()
    assert len(calibration) == 4
    assert (calibration["predicted"] - calibration["alive"]).abs().max() < 0.03
    # By the expected next order date a customer has even odds of having ordered again.
    dated = scored["expected_next_order"].notna()
    waited = (scored.loc[dated, "expected_next_order"] - pd.Timestamp(OBS)).dt.days / 7
    ordered = simulated.loc[dated, "wait"] <= waited
    assert dated.sum() > 2000 and ordered.mean() == pytest.approx(0.5, abs=0.03)
    assert scored.loc[dated, "p_alive"].fillna(1.0).min() > 0.5  # NaT when more likely gone than not
    assert (waited <= FUTURE_WEEKS).all()


def test_expected_purchases_match_numerical_integration():
    """E[Y(t)] = P(alive) * E[(1 - ((alpha+T) / (alpha+T+p t))**(r+x)) / p] over p ~ Beta(a, b+x),
    integrated numerically: an independent route to eq. 10, including frequent buyers where the
    textbook form of eq. 10 overflows."""
    models = models_with()
    cases = [(0, 0.0, 40.0), (1, 10.0, 40.0), (5, 30.0, 40.0), (50, 59.0, 60.0), (400, 59.0, 60.0),
             (3000, 149.5, 150.0)]
    scored = customer_value(history(cases), models, Value(horizon_days=364), OBS)
    r, alpha, a, b, t = models.r, models.alpha, models.a, models.b, 52.0
    for (x, t_x, T), p_alive, expected in zip(cases, scored["p_alive"].fillna(1.0), scored["expected_purchases"]):
        def integrand(p, x=x, T=T):
            return (1 - ((alpha + T) / (alpha + T + p * t)) ** (r + x)) / p * beta_dist.pdf(p, a, b + x)
        integral = quad(integrand, 0, 1, limit=500, points=[1e-6, 1e-4, 1e-2])[0]
        assert expected == pytest.approx(p_alive * integral, rel=1e-6), (x, t_x, T)


def test_p_alive_falls_with_silence_and_purchases_rise_with_frequency():
    models = models_with()
    silence = customer_value(history([(3, t_x, 50.0) for t_x in (49.0, 40.0, 25.0, 10.0, 2.0)]), models, DEFAULTS, OBS)
    assert np.all(np.diff(silence["p_alive"]) < 0)
    assert silence["p_alive"].between(0, 1).all()
    busier = customer_value(history([(x, 45.0, 50.0) for x in (1, 2, 4, 8, 16)]), models, DEFAULTS, OBS)
    assert np.all(np.diff(busier["expected_purchases"]) > 0)
    assert np.all(np.diff(busier["clv"]) > 0)


def test_one_time_buyers_are_marked_not_called_alive():
    models = models_with()
    scored = customer_value(history([(0, 0.0, 5.0), (0, 0.0, 70.0), (10, 60.0, 70.0)], monetary=40.0),
                            models, DEFAULTS, OBS)
    once = scored["one_time_buyer"]
    assert once.tolist() == [True, True, False]
    # BG/NBD's P(alive) is 1 by definition for them; the table does not present that as a fact.
    assert scored.loc[once, "p_alive"].isna().all() and scored.loc[~once, "p_alive"].notna().all()
    assert scored.loc[once, "expected_order_value"].tolist() == pytest.approx([models.mean_order_value] * 2)
    # The longer ago their one purchase, the less they are expected to buy.
    assert scored["expected_purchases"].iloc[0] > scored["expected_purchases"].iloc[1]


def test_order_values_above_a_customers_history_are_marked_and_capped_on_request():
    models = models_with()  # population mean order value p v / (q - 1) = 35.9
    rows = history([(0, 0.0, 20.0), (0, 0.0, 20.0), (6, 30.0, 40.0)], monetary=12.0).assign(
        max_purchase_value=[10.0, 80.0, 13.0])  # the repeat buyer is expected at 13.6
    free = customer_value(rows, models, DEFAULTS, OBS)
    assert free["order_value_above_history"].tolist() == [True, False, True]
    assert free["expected_order_value"].iloc[0] == pytest.approx(models.mean_order_value)
    capped = customer_value(rows, models, Value(cap_order_value=True), OBS)
    assert capped["expected_order_value"].tolist() == pytest.approx([10.0, models.mean_order_value, 13.0])
    assert capped["order_value_above_history"].tolist() == [True, False, True]
    np.testing.assert_allclose(capped["clv"] / free["clv"],
                               capped["expected_order_value"] / free["expected_order_value"])


def test_clv_is_discounted_month_by_month():
    models = models_with()
    rows = history([(0, 0.0, 20.0), (4, 30.0, 40.0), (20, 52.0, 53.0)], monetary=80.0)
    undiscounted = customer_value(rows, models, Value(annual_discount_rate=0.0), OBS)
    discounted = customer_value(rows, models, Value(annual_discount_rate=0.10), OBS)
    steeper = customer_value(rows, models, Value(annual_discount_rate=0.30), OBS)
    value = undiscounted["expected_order_value"] * undiscounted["expected_purchases"]
    np.testing.assert_allclose(undiscounted["clv"], value, rtol=1e-12)
    # Every month is discounted by between 1/12 and 12/12 of a year.
    assert np.all(discounted["clv"] < value / 1.10 ** (1 / 12))
    assert np.all(discounted["clv"] > value / 1.10)
    assert np.all(steeper["clv"] < discounted["clv"])
    np.testing.assert_allclose(discounted["expected_purchases"], undiscounted["expected_purchases"])


def test_the_time_unit_scales_alpha_and_leaves_predictions_alone(simulated):
    sample = simulated.iloc[:20_000]
    weeks = fit_value_models(sample, DEFAULTS)
    in_days = sample.assign(recency=sample["recency"] * 7, T=sample["T"] * 7)
    days = fit_value_models(in_days, Value(time_unit_days=1))
    for name in ("r", "a", "b", "p", "q", "v"):
        assert getattr(days, name) == pytest.approx(getattr(weeks, name), rel=1e-4)
    assert days.alpha == pytest.approx(7 * weeks.alpha, rel=1e-4)
    by_week = customer_value(sample, weeks, DEFAULTS, OBS)
    by_day = customer_value(in_days, days, Value(time_unit_days=1), OBS)
    np.testing.assert_allclose(by_day["expected_purchases"], by_week["expected_purchases"], rtol=1e-3)
    with pytest.raises(ValueError, match="time units"):
        customer_value(sample, weeks, Value(time_unit_days=1), OBS)


def test_fit_and_scores_are_deterministic_and_leave_inputs_alone(simulated):
    sample = simulated.iloc[:10_000]
    before = sample.copy(deep=True)
    first, second = fit_value_models(sample, DEFAULTS), fit_value_models(sample, DEFAULTS)
    assert dataclasses.replace(first, seconds=0.0) == dataclasses.replace(second, seconds=0.0)
    pd.testing.assert_frame_equal(customer_value(sample, first, DEFAULTS, OBS),
                                  customer_value(sample, second, DEFAULTS, OBS))
    pd.testing.assert_frame_equal(sample, before)


# --- MBG/NBD and Gamma-Gamma on every purchase ---------------------------------------------------


def test_mbgnbd_recovers_its_parameters_and_predicts_the_simulated_future():
    data = simulate(N_SIM, seed=20261002, model="mbgnbd")
    models = fit_value_models(data, DEFAULTS, ModelSpec(model="mbgnbd"))
    assert models.model == "mbgnbd" and "MBG/NBD" in models.method and models.one_time_alive_defined
    for name, truth in TRUE_BG.items():
        assert abs(getattr(models, name) / truth - 1) < 0.15, (name, getattr(models, name), truth)
    scored = customer_value(data, models, Value(horizon_days=int(FUTURE_WEEKS * 7)), OBS)
    assert scored["expected_purchases"].sum() / data["future"].sum() == pytest.approx(1.0, abs=0.05)
    # one-time buyers can have dropped out: they get a P(alive) of their own, as calibrated as anyone's
    assert scored["p_alive"].notna().all()
    once = scored["one_time_buyer"].to_numpy()
    bands = pd.qcut(scored["p_alive"], 5)
    calibration = pd.DataFrame({"predicted": scored["p_alive"], "alive": data["alive"]}).groupby(
        bands, observed=True).mean()
    assert len(calibration) == 5 and (calibration["predicted"] - calibration["alive"]).abs().max() < 0.03
    assert scored.loc[once, "p_alive"].mean() == pytest.approx(data.loc[once, "alive"].mean(), abs=0.02)
    # BG/NBD on the same customers takes every one-time buyer for alive: it over-predicts them
    # (measured 1.07x against MBG/NBD's 0.99x)
    plain = customer_value(data, fit_value_models(data, DEFAULTS), Value(horizon_days=int(FUTURE_WEEKS * 7)), OBS)
    ratio = scored.loc[once, "expected_purchases"].sum() / data.loc[once, "future"].sum()
    plain_ratio = plain.loc[once, "expected_purchases"].sum() / data.loc[once, "future"].sum()
    assert abs(ratio - 1) < 0.03 and plain_ratio > 1.04


def test_mbgnbd_formulas_match_numerical_integration():
    """MBG/NBD by numerical integration over the drop-out probability p ~ Beta(a, b): the
    likelihood of (x, t_x, T) is G(r+x)/G(r) alpha**r times
    E[(1-p)**(x+1)] (alpha+T)**-(r+x) + E[p (1-p)**x] (alpha+t_x)**-(r+x); P(alive) is the first
    term's share; E[Y(t)] = P(alive) E[(1 - ((alpha+T)/(alpha+T+p t))**(r+x)) / p] over the
    posterior p ~ Beta(a, b+x+1). An independent route to Batislam et al. and Wagner & Hoppe."""
    models = models_with(model="mbgnbd")
    r, alpha, a, b, t = models.r, models.alpha, models.a, models.b, 52.0
    cases = [(0, 0.0, 40.0), (0, 0.0, 3.0), (1, 10.0, 40.0), (5, 30.0, 40.0), (50, 59.0, 60.0), (400, 59.0, 60.0)]
    scored = customer_value(history(cases), models, Value(horizon_days=364), OBS)
    expected, _ = predicted_revenue(history(cases), models, 364)
    np.testing.assert_allclose(expected, scored["expected_purchases"], rtol=1e-12)
    for (x, t_x, T), p_alive, purchases in zip(cases, scored["p_alive"], scored["expected_purchases"]):
        def moment(f):
            return quad(lambda p: f(p) * beta_dist.pdf(p, a, b), 0, 1, limit=500, points=[1e-6, 1e-3])[0]
        # in logs: the powers underflow for frequent buyers
        stay = np.log(moment(lambda p, x=x: (1 - p) ** (x + 1))) - (r + x) * np.log(alpha + T)
        leave = np.log(moment(lambda p, x=x: p * (1 - p) ** x)) - (r + x) * np.log(alpha + t_x)
        assert p_alive == pytest.approx(1 / (1 + np.exp(leave - stay)), rel=1e-6), (x, t_x, T)

        def integrand(p, x=x, T=T):
            return (1 - ((alpha + T) / (alpha + T + p * t)) ** (r + x)) / p * beta_dist.pdf(p, a, b + x + 1)
        integral = quad(integrand, 0, 1, limit=500, points=[1e-6, 1e-4, 1e-2])[0]
        assert purchases == pytest.approx(p_alive * integral, rel=1e-6), (x, t_x, T)


def test_the_likelihoods_and_their_gradients_are_right():
    """The fitted log-likelihood is the numerically integrated one, and the analytic gradient of
    both models' objectives is the finite-difference one."""
    from custseg.segment import _likelihoods

    data = simulate(300, seed=5, model="mbgnbd")
    small = Value(min_repeat_buyers=10)
    for model, shift in (("bgnbd", 0), ("mbgnbd", 1)):
        fitted = fit_value_models(data, small, ModelSpec(model=model))
        r, alpha, a, b = fitted.r, fitted.alpha, fitted.a, fitted.b
        log_beta = betaln(a, b)

        def density(p: float, a: float = a, b: float = b, log_beta: float = log_beta) -> float:
            # the Beta(a, b) density written out: scipy.stats' pdf costs ~50 µs a call, and quad calls it
            # thousands of times (the test took 22 s with it, about 1 s with this)
            return math.exp((a - 1) * math.log(p) + (b - 1) * math.log1p(-p) - log_beta)

        total = 0.0
        for x, t_x, T in data[["frequency", "recency", "T"]].itertuples(index=False):
            stay_power, leave_power = (x + 1, x) if shift else (x, x - 1)
            # the integrands are used at once, in this pass of the loop: binding by default only says so
            stay = quad(lambda p, k=stay_power, f=density: (1 - p) ** k * f(p), 0, 1, limit=200)[0]
            leave = quad(lambda p, k=leave_power, f=density: p * (1 - p) ** k * f(p), 0, 1,
                         limit=200)[0] if (shift or x > 0) else 0.0
            head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
            total += head + np.log(stay * (alpha + T) ** -(r + x) + leave * (alpha + t_x) ** -(r + x))
        assert fitted.log_likelihood == pytest.approx(total, rel=1e-6), model
        x, t_x, T = (data[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T"))
        theta = np.log([0.5, 3.0, 0.7, 2.0])
        value, gradient = _likelihoods.bgnbd_nll(theta, x, t_x, T, 0.01, shift=shift)
        step = 1e-6
        numeric = [(_likelihoods.bgnbd_nll(theta + step * e, x, t_x, T, 0.01, shift=shift)[0]
                    - _likelihoods.bgnbd_nll(theta - step * e, x, t_x, T, 0.01, shift=shift)[0]) / (2 * step)
                   for e in np.eye(4)]
        np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-8)


def test_gamma_gamma_on_every_purchase_reads_a_one_time_buyers_order(simulated):
    models = fit_value_models(simulated, DEFAULTS, ModelSpec(order_value_purchases="all"))
    assert models.order_value_purchases == "all" and models.n_spend_customers == len(simulated)
    for name, truth in TRUE_GG.items():
        assert abs(getattr(models, name) / truth - 1) < 0.15, (name, getattr(models, name), truth)
    scored = customer_value(simulated, models, DEFAULTS, OBS)
    repeat_only = customer_value(simulated, fit_value_models(simulated, DEFAULTS), DEFAULTS, OBS)
    once = scored["one_time_buyer"].to_numpy()
    m = simulated.loc[once, "mean_purchase_value"]
    np.testing.assert_allclose(scored.loc[once, "expected_order_value"],
                               models.p * (models.v + m) / (models.p + models.q - 1))
    # Their one order says something: the repeat-purchase model gives them all the population
    # mean; read with every purchase, their expected values rank their true mean order values.
    truth = simulated.loc[once, "true_order_value"]
    assert repeat_only.loc[once, "expected_order_value"].nunique() == 1
    assert spearmanr(scored.loc[once, "expected_order_value"], truth).statistic > 0.3
    # and are calibrated: in each fifth of predicted values the mean matches the true mean
    fifths = pd.qcut(scored.loc[once, "expected_order_value"], 5)
    by = pd.DataFrame({"predicted": scored.loc[once, "expected_order_value"], "true": truth})
    by = by.groupby(fifths, observed=True).mean()
    assert ((by["predicted"] / by["true"]) - 1).abs().max() < 0.1


def test_several_specs_fit_each_part_once_and_as_alone(simulated):
    sample = simulated.iloc[:15_000]
    specs = [ModelSpec(m, pen, read) for m in ("bgnbd", "mbgnbd") for pen in (0.0, 0.001) for read in ("repeat", "all")]
    together = fit_model_specs(sample, DEFAULTS, specs)
    assert list(together) == specs
    for spec in specs:
        alone = fit_value_models(sample, DEFAULTS, spec)
        assert dataclasses.replace(together[spec], seconds=0.0) == dataclasses.replace(alone, seconds=0.0)
        assert alone.spec == spec


# --- failure paths ------------------------------------------------------------------------------


def test_too_little_data_and_bad_summaries_fail_with_a_reason(simulated):
    few = simulated.iloc[:150]  # about half of them bought more than once
    assert (few["frequency"] > 0).sum() < DEFAULTS.min_repeat_buyers
    with pytest.raises(ValueError, match=r"too little data.*min_repeat_buyers = 100") as raised:
        fit_value_models(few, DEFAULTS)
    facts = fit_error(raised.value)
    assert facts == {"reason": "few_repeat_buyers", "repeat_buyers": int((few["frequency"] > 0).sum()),
                     "customers": 150, "min_repeat_buyers": 100}
    assert words.value_fit_error(facts) == str(raised.value)  # the exception's words, from the facts
    with pytest.raises(ValueError, match="too little data"):
        fit_value_models(simulated.iloc[:0], DEFAULTS)
    broken = simulated.iloc[:1000].copy()
    broken.loc[broken.index[0], "recency"] = broken["T"].iloc[0] + 1
    with pytest.raises(ValueError, match="not a valid purchase history") as raised:
        fit_value_models(broken, DEFAULTS)
    assert words.value_fit_error(fit_error(raised.value)) == str(raised.value)  # a bug's own message, kept
    with pytest.raises(ValueError, match="missing column"):
        fit_value_models(simulated.drop(columns="T"), DEFAULTS)


def test_heavy_tailed_order_values_fall_back_to_own_means_with_a_note():
    heavy = simulate(20_000, seed=7, gg={"p": 6.25, "q": 0.6, "v": 15.44})
    models = fit_value_models(heavy, DEFAULTS)
    assert np.isnan([models.p, models.q, models.v]).all() and not models.spend_fitted
    assert models.order_values == "observed_mean"
    assert [note["reason"] for note in models.note] == ["gg_heavy_tail", "own_means"]
    said = words.value_note(models.note)
    assert said == (
        f"order values not modelled by Gamma-Gamma: q = {models.note[0]['q']:.2f} <= 1, so the model's mean order "
        "value is infinite: mean order values differ too much between customers (heavy tail) for the model; "
        "expected order values are each customer's own mean purchase value instead"
    )
    assert models.r == pytest.approx(TRUE_BG["r"], rel=0.15)  # BG/NBD is unaffected
    scored = customer_value(heavy, models, DEFAULTS, OBS)
    np.testing.assert_array_equal(scored["expected_order_value"], heavy["mean_purchase_value"])
    assert scored["clv"].notna().all()


def test_order_value_growing_with_frequency_is_reported():
    data = simulate(20_000, seed=11)
    data = data.assign(monetary_value=data["monetary_value"] * (1 + data["frequency"]))
    models = fit_value_models(data, DEFAULTS)
    assert models.frequency_value_corr > 0.3
    assert models.spend_fitted and [note["reason"] for note in models.note] == ["correlation"]
    assert words.value_note(models.note) == (
        f"purchase frequency and order value correlate (Pearson r = {models.frequency_value_corr:.2f} over the "
        "repeat buyers); the Gamma-Gamma model assumes they are independent, so expected order values and CLV are "
        "less reliable"
    )


def test_value_settings_are_strict():
    assert (DEFAULTS.horizon_days, DEFAULTS.annual_discount_rate, DEFAULTS.time_unit_days,
            DEFAULTS.min_repeat_buyers, DEFAULTS.penalizer) == (365, 0.10, 7, 100, "auto")
    assert (DEFAULTS.model, DEFAULTS.order_value_purchases, DEFAULTS.backtest_days, DEFAULTS.max_backtest_error) == (
        "auto", "auto", None, 0.2)
    with pytest.raises(ValidationError):
        Value(horizon=365)
    with pytest.raises(ValidationError):
        Value(annual_discount_rate=-0.1)
    with pytest.raises(ValidationError):
        Value(time_unit_days=0)
    with pytest.raises(ValidationError, match="value.penalizer"):
        Value(penalizer=-0.001)
    for bad in ({"penalizer": "some"}, {"model": "pareto"}, {"order_value_purchases": "first"},
                {"backtest_days": 3}, {"max_backtest_error": 0}):
        with pytest.raises(ValidationError):
            Value(**bad)
    # auto leaves the published settings for a single fit; a fixed choice is kept
    assert ModelSpec.from_settings(DEFAULTS) == ModelSpec("bgnbd", 0.0, "repeat")
    assert ModelSpec.from_settings(Value(model="mbgnbd", penalizer=0.01, order_value_purchases="all")) == ModelSpec(
        "mbgnbd", 0.01, "all")


# --- the bundled sample -------------------------------------------------------------------------

SAMPLE_ORDERS = paths.DATA_DIR / "interim" / "sample" / "orders.parquet"
GROUND_TRUTH = paths.SAMPLE_DIR / "ground_truth.csv"


@pytest.mark.skipif(not (SAMPLE_ORDERS.is_file() and GROUND_TRUTH.is_file()),
                    reason="the bundled sample is not built (make process)")
def test_sample_expected_purchases_track_what_customers_did_next():
    settings = Value(horizon_days=180)  # the ground truth's future window
    summary = rfm_summary(pd.read_parquet(SAMPLE_ORDERS), OBS, settings.time_unit_days)
    models = fit_value_models(summary, settings)
    scored = customer_value(summary, models, settings, OBS)
    truth = pd.read_csv(GROUND_TRUTH, dtype={"customer_id": str})
    joined = scored.merge(truth, on="customer_id", validate="one_to_one")
    rho = spearmanr(joined["expected_purchases"], joined["future_orders"]).statistic
    ratio = joined["expected_purchases"].sum() / joined["future_orders"].sum()
    print(f"sample: Spearman {rho:.3f}, predicted / actual purchases {ratio:.2f}, note: {models.note!r}")
    # Measured 0.73. The total is over-predicted (1.8x): the generator plants a wave of customers
    # who stop buying right at the observation date, which no purchase history can show.
    assert rho > 0.5
    repeat = joined.loc[~joined["one_time_buyer"]]
    assert repeat.loc[repeat["churned"], "p_alive"].mean() < repeat.loc[~repeat["churned"], "p_alive"].mean() - 0.2
    assert joined["clv"].notna().all()
