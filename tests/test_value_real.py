"""Customer value on real data, checked out of time.

CDNOW (Fader, Hardie & Lee 2005): the published BG/NBD and Gamma-Gamma estimates reproduced within
1% under the paper's settings, the paper's holdout comparison (fit on weeks 1-39, predict weeks
40-78) per number of calibration repeat purchases, and the model the backtest inside weeks 1-39
chooses, checked on weeks 40-78.

Online Retail II, as issue 13 measured it: observation date 2010-06-01 (half a year of history),
value over the rest of the data (192 days, undiscounted), compared per tier with what the
customers then spent. The figures reached are asserted, and that the churn page says plainly why
they cannot be vouched for. The data sets live in ``shared/data`` (see ``tests/conftest.py``).
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from custseg.config import Value, load_config
from custseg.pipeline import run
from custseg.segment import clv, value_backtest
from custseg.segment.clv import ModelSpec
from custseg.studies.churn import ChurnStudy

# Fader, Hardie & Lee (2005) on the CDNOW 1/10th sample, calibration weeks 1-39 (1997-01-01 to
# 1997-09-30), time unit one week; Gamma-Gamma on the 946 repeat buyers' mean repeat-purchase value.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "v": 15.44}
CALIBRATION_END = dt.date(1997, 10, 1)  # the first day after the calibration period
HOLDOUT_END = dt.date(1998, 7, 1)  # the first day after week 78
PAPER = Value(model="bgnbd", penalizer=0.0, order_value_purchases="repeat",
              backtest_days=(HOLDOUT_END - CALIBRATION_END).days)


@pytest.fixture(scope="module")
def cdnow(real_data) -> pd.DataFrame:
    sample = pd.read_csv(real_data / "cdnow/CDNOW_sample.txt", sep=r"\s+", header=None,
                         names=["master_id", "customer_id", "date", "cds", "dollars"])
    return pd.DataFrame({
        "order_id": np.arange(len(sample)).astype(str),
        "customer_id": sample["customer_id"].astype(str),
        "order_date": pd.to_datetime(sample["date"].astype(str), format="%Y%m%d").astype("datetime64[s]"),
        "status": "completed",
        "revenue": sample["dollars"].astype(float),
    })


def test_cdnow_reproduces_the_published_estimates_within_one_percent(cdnow):
    """Settings: calibration weeks 1-39, several purchases on one day one purchase, time unit a
    week, T measured to 1997-09-30 inclusive (the paper's; custseg's observation date is the day
    after, hence T - 1/7), BG/NBD by plain maximum likelihood, Gamma-Gamma on repeat purchases."""
    summary = clv.rfm_summary(cdnow, CALIBRATION_END)
    assert len(summary) == 2357 and int((summary["frequency"] > 0).sum()) == 946
    models = clv.fit_value_models(summary.assign(T=summary["T"] - 1 / 7), Value(), ModelSpec("bgnbd", 0.0, "repeat"))
    print("\nCDNOW     ours   published")
    for name, published in PUBLISHED.items():
        print(f"{name:>7} {getattr(models, name):7.4f} {published:7.3f}  {getattr(models, name) / published - 1:+.2%}")
        assert getattr(models, name) == pytest.approx(published, rel=0.01), name
    assert models.n_repeat_buyers == 946 and models.note == ()


def _holdout_purchases(orders: pd.DataFrame, start: dt.date, end: dt.date) -> pd.Series:
    """Purchase days per customer from start to end, counted here with plain pandas."""
    later = orders.loc[(orders["order_date"] >= pd.Timestamp(start)) & (orders["order_date"] < pd.Timestamp(end))]
    return later.assign(day=later["order_date"].dt.floor("D")).drop_duplicates(["customer_id", "day"]).groupby(
        "customer_id").size()


def test_cdnow_holdout_weeks_40_to_78_per_calibration_frequency(cdnow):
    """The paper's conditional-expectation comparison: fitted on weeks 1-39, the mean predicted
    repeat purchases in weeks 40-78 of the customers with 0, 1, ..., 7+ repeat purchases in weeks
    1-39, against what they did."""
    check = value_backtest.backtest(cdnow, HOLDOUT_END, PAPER)
    assert check.cutoff == CALIBRATION_END and check.days == 273 and check.chosen_by == "config"
    groups = check.groups.set_index(["kind", "group"])
    summary = clv.rfm_summary(cdnow, CALIBRATION_END)
    actual = _holdout_purchases(cdnow, CALIBRATION_END, HOLDOUT_END).reindex(summary["customer_id"]).fillna(0)
    x = summary["frequency"].clip(upper=7).to_numpy()
    print("\nCDNOW weeks 40-78   x  customers  predicted  actual (mean repeat purchases)")
    for k in range(8):
        label = "7+" if k == 7 else str(k)
        row = groups.loc[("frequency", label)]
        mine = x == k
        assert row["customers"] == mine.sum()
        assert row["actual_purchases"] == actual.to_numpy()[mine].sum()
        print(f"{label:>24} {int(row['customers']):10,} {row['predicted_purchases'] / row['customers']:10.2f} "
              f"{row['actual_purchases'] / row['customers']:7.2f}")
    whole = groups.loc[("all", "all")]
    ratio = whole["predicted_purchases"] / whole["actual_purchases"]
    print(
        f"total: predicted {whole['predicted_purchases']:,.0f}, actual {whole['actual_purchases']:,.0f} ({ratio:.3f}); "
        f"revenue {whole['predicted_revenue'] / whole['actual_revenue']:.3f} of actual"
    )
    assert whole["actual_purchases"] == 1882 and whole["predicted_purchases"] == pytest.approx(1630.5, abs=1)
    # customers who bought more often in weeks 1-39 buy more in weeks 40-78, in the model and in fact
    frequency = check.groups.loc[check.groups["kind"].eq("frequency")]
    for column in ("predicted_purchases", "actual_purchases"):
        assert (frequency[column] / frequency["customers"]).is_monotonic_increasing, column


def test_cdnow_the_backtest_inside_weeks_1_to_39_chooses_what_holds_in_weeks_40_to_78(cdnow):
    inside = value_backtest.backtest(cdnow, CALIBRATION_END, Value(horizon_days=273))
    # half the 273 days of history are held back: fit on weeks 1-20, compare weeks 20-39
    assert inside.cutoff == dt.date(1997, 5, 18) and inside.days == 136 and len(inside.candidates) == 8
    assert inside.chosen == ModelSpec("bgnbd", 0.001, "repeat")
    out_of_time = value_backtest.backtest(cdnow, HOLDOUT_END, Value(backtest_days=273))
    errors = out_of_time.candidates.set_index(["model", "penalizer", "order_value_purchases"])["error"]
    chosen = errors.loc[(inside.chosen.model, inside.chosen.penalizer, inside.chosen.order_value_purchases)]
    paper = errors.loc[("bgnbd", 0.0, "repeat")]
    print(
        f"\nCDNOW weeks 40-78 revenue error: chosen inside weeks 1-39 {chosen:.3f}, the paper's settings {paper:.3f}, "
        f"best of eight {errors.min():.3f}"
    )
    assert chosen == errors.min() and chosen < paper
    assert chosen == pytest.approx(0.156, abs=0.002)  # predicted 0.84 of weeks 40-78 revenue


# --------------------------------------------------------------------------- Online Retail II

OBSERVATION = dt.date(2010, 6, 1)
DATA_END = dt.date(2010, 12, 10)  # the day after the last invoice


@pytest.fixture(scope="module")
def ori_value(online_retail_config, tmp_path_factory):
    """Online Retail II with the observation date at 2010-06-01 and the value over the rest of the
    data, undiscounted, as issue 13 measured it."""
    root = tmp_path_factory.mktemp("ori_value")
    config = load_config(online_retail_config(
        root, observation_date=OBSERVATION.isoformat(),
        value={"horizon_days": (DATA_END - OBSERVATION).days, "annual_discount_rate": 0.0},
    ))
    run(config, echo=lambda *_: None)
    return {
        "config": config,
        "orders": pd.read_parquet(config.output.interim / "orders.parquet"),
        "customers": pd.read_parquet(config.output.processed / "customers.parquet"),
        "meta": json.loads((config.output.processed / "study.json").read_text(encoding="utf-8")),
        "groups": pd.read_parquet(config.output.processed / "value_backtest.parquet"),
    }


def test_ori_backtest_counts_what_customers_bought_after_the_cut_off(ori_value):
    """The backtest's actual purchases and revenue, recounted with plain pandas from the clean
    orders: purchases dated in the span that stand at the observation date (completed, or
    refunded only on or after it), per customer and day, at their revenue less the reversals
    matched to them before the observation date, for the customers with a purchase before the
    cut-off."""
    backtest = ori_value["meta"]["value"]["backtest"]
    assert (backtest["cutoff"], backtest["days"], backtest["history_days"]) == ("2010-03-02", 91, 182)
    orders = ori_value["orders"]
    cut, obs = pd.Timestamp(backtest["cutoff"]), pd.Timestamp(OBSERVATION)

    def standing(at: pd.Timestamp) -> pd.Series:
        return orders["status"].eq("completed") | (orders["status"].eq("refunded") & (orders["refunded_on"] >= at))

    known = set(orders.loc[standing(cut) & (orders["order_date"] < cut), "customer_id"])
    span = orders.loc[standing(obs) & (orders["order_date"] >= cut) & (orders["order_date"] < obs)
                      & orders["customer_id"].isin(known)]
    undoing = orders.loc[orders["reverses"].notna() & (orders["order_date"] < obs)]
    taken = undoing.groupby(["customer_id", "reverses"])["revenue"].sum()
    keys = pd.MultiIndex.from_arrays([span["customer_id"], span["order_id"]])
    net = np.maximum(span["revenue"].to_numpy() + taken.reindex(keys).fillna(0.0).to_numpy(), 0.0)
    days = span.assign(net=net, day=span["order_date"].dt.floor("D")).groupby(["customer_id", "day"])["net"].sum()
    whole = ori_value["groups"].set_index(["kind", "group"]).loc[("all", "all")]
    assert whole["customers"] == len(known)
    assert whole["actual_purchases"] == len(days)
    assert whole["actual_revenue"] == pytest.approx(days.sum(), rel=1e-9)


def test_ori_value_over_the_rest_of_the_year_and_what_the_page_says(ori_value):
    """Issue 13's yardstick: CLV over 2010-06-01 .. 2010-12-09 summed per tier (the tier at the
    observation date) against the customers' net revenue dated then. Half a year of history, no
    autumn in it: the whole base and the mid tier come within 20%, the high and low tiers do not,
    and the page says why (the horizon is longer than half the history, six of its months were
    never seen, the fit is degenerate) with the backtest figure beside each tier."""
    customers, orders, meta = ori_value["customers"], ori_value["orders"], ori_value["meta"]
    value = meta["value"]
    assert value["model"] == {"model": "bgnbd", "penalizer": 0.0, "order_value_purchases": "repeat"}
    dates = orders["order_date"]
    later = orders.loc[(dates >= pd.Timestamp(OBSERVATION)) & (dates < pd.Timestamp(DATA_END))]
    spent = later.groupby("customer_id")["revenue"].sum()
    buyers = customers.loc[customers["frequency"].gt(0)].assign(
        actual=lambda frame: frame["customer_id"].map(spent).fillna(0.0))
    totals = buyers.groupby("tier", observed=True)[["clv", "actual"]].sum()
    totals.loc["all"] = buyers[["clv", "actual"]].sum()
    ratio = (totals["clv"] / totals["actual"]).round(2)
    backtest = value["backtest"]
    print(f"\nOnline Retail II at 2010-06-01, value over 192 days / actual: {ratio.to_dict()}")
    print(
        f"backtest {backtest['cutoff']} +{backtest['days']} days: whole base {backtest['error']:+.3f}, tiers "
        f"{ {tier: round(error, 3) for tier, error in backtest['tier_errors'].items()} }; "
        f"parameters {value['parameters']}"
    )
    assert ratio.to_dict() == pytest.approx({"high": 0.73, "mid": 0.98, "low": 1.31, "all": 0.84}, abs=0.011)
    # within 20% over the 91 days the data could check; the page says the 192 days cannot be
    assert abs(backtest["error"]) < 0.2 and all(abs(e) < 0.2 for e in backtest["tier_errors"].values())
    reasons = {w["reason"]: w for w in value["warnings"]}
    assert set(reasons) == {"degenerate_fit", "p_alive_near_one", "short_history", "unseen_months"}
    assert reasons["degenerate_fit"]["parameters"]["a"] < 1e-5 and reasons["p_alive_near_one"]["share"] == 1.0
    assert reasons["short_history"]["history_days"] == 182
    assert reasons["unseen_months"]["months"] == [6, 7, 8, 9, 10, 11]
    study = ChurnStudy.from_config(ori_value["config"], "en")
    texts = [item.text for item in study.customer_value().items if hasattr(item, "text")]
    assert any(text.startswith("The history behind the customer value is 182 days") and "neither the total nor any tier"
               in text for text in texts)
    assert any(text.startswith("6 of the 7 calendar months of the value horizon") for text in texts)
    # the page names each parameter out of range with its fitted value: on a likelihood this flat the
    # optimizer stops at a point that moves with the machine's arithmetic (a = 1.7e-06 alone on one
    # CPU; a = 2.5e-06 and b = 43,904 on another), a below 1e-5 on each
    shown = [f"{name} = {value:,.0f}" if abs(value) >= 1000 else f"{name} = {value:.2g}"
             for name, value in reasons["degenerate_fit"]["parameters"].items()]
    degenerate = [text for text in texts if text.startswith("The BG/NBD fit is degenerate: a = ")]
    assert len(degenerate) == 1 and "outside 0.0001 to 10,000" in degenerate[0]
    assert all(each in degenerate[0] for each in shown)
