"""custseg on a real export: Online Retail II through the whole pipeline, checked against figures
computed independently here (CDNOW's published value-model estimates: tests/test_value_real.py).

The data sets live in ``shared/data`` next to the checkout (see ``tests/conftest.py``,
``real_data``); they are read in place. Online Retail II is a real shop's invoice lines with what
real exports hold: cancellations under new numbers, guests, duplicates, adjustments, postage.
The independent figures below come from the raw file with plain pandas and a loop that applies
the documented matching rule line by line (docs/config.md, Reversals); custseg computes them
with vectorised code. They must agree.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from custseg.config import Churn, load_config
from custseg.pipeline import run
from custseg.segment import churn

ORI = "online_retail_ii/online_retail_ii_2009_2010.csv.gz"
# The config's defaults that the independent computation repeats.
NON_PRODUCTS = {"POST", "DOT", "M", "BANK CHARGES", "AMAZONFEE", "CRUK", "D", "S", "PADS", "B", "C2", "ADJUST"}
WINDOW_SECONDS = 90 * 86_400


# --------------------------------------------------------------------------- Online Retail II


@pytest.fixture(scope="module")
def ori_run(online_retail_config, tmp_path_factory):
    """Online Retail II through intake, segmentation and retention, configured as a new user would."""
    root = tmp_path_factory.mktemp("ori")
    config = load_config(online_retail_config(root))
    run(config, echo=lambda *_: None)
    interim, processed = config.output.interim, config.output.processed
    return {
        "config": config,
        "customers": pd.read_parquet(processed / "customers.parquet").set_index("customer_id"),
        "orders": pd.read_parquet(interim / "orders.parquet"),
        "reversals": pd.read_csv(interim / "reversals.csv", encoding="utf-8-sig").set_index("outcome"),
        "matches": pd.read_csv(
            interim / "reversal_matches.csv", encoding="utf-8-sig", dtype={"reversal": str, "purchase": str}
        ),
        "accounting": pd.read_csv(interim / "accounting.csv", encoding="utf-8-sig"),
        "meta": json.loads((processed / "study.json").read_text(encoding="utf-8")),
    }


@pytest.fixture(scope="module")
def ori_lines(real_data) -> pd.DataFrame:
    """The raw lines cleaned by the documented rules, with plain pandas: counted product lines."""
    raw = pd.read_csv(real_data / ORI, dtype=str, keep_default_na=False)
    raw = raw.apply(lambda column: column.str.strip()).assign(row=np.arange(len(raw)) + 2)  # line 1: header
    raw = raw.loc[~raw.drop(columns="row").duplicated()]
    quantity = pd.to_numeric(raw["Quantity"])
    price = pd.to_numeric(raw["Price"])
    keep = raw["Customer ID"].ne("") & quantity.ne(0) & price.gt(0)
    lines = raw.loc[keep].assign(quantity=quantity[keep], price=price[keep])
    # one invoice, one customer (else intake quarantines the stray lines): this file has none
    assert lines.groupby("Invoice")["Customer ID"].nunique().max() == 1
    lines = lines.loc[~lines["StockCode"].str.upper().isin(NON_PRODUCTS)]
    return lines.assign(
        item=lines["StockCode"].str.upper(),
        time=pd.to_datetime(lines["InvoiceDate"], format="%Y-%m-%d %H:%M:%S").astype("datetime64[s]").astype("int64"),
        value=(lines["quantity"] * lines["price"]).round(2),
        reversal=lines["Invoice"].str.startswith("C") | lines["quantity"].lt(0),
    ).reset_index(drop=True)


def _reference_matching(lines: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The documented rule, one reversal line at a time: units undone per line, and per reversal
    line the latest time of what it undid (unused) -- returns (undone, matched, last_reversal)."""
    n = len(lines)
    left = lines["quantity"].abs().to_numpy(dtype=float).copy()  # units not yet matched, both sides
    need = left.copy()
    last = np.full(n, np.iinfo(np.int64).min)
    customer, item = lines["Customer ID"].to_numpy(), lines["item"].to_numpy()
    invoice, time = lines["Invoice"].to_numpy(), lines["time"].to_numpy()
    reversal = lines["reversal"].to_numpy()
    by_group: dict[tuple, list[int]] = defaultdict(list)
    for i in np.flatnonzero(~reversal & (lines["quantity"].to_numpy() > 0)):
        by_group[(customer[i], item[i])].append(int(i))
    for group in by_group.values():
        group.sort(key=lambda i: (time[i], i))
    reversals = sorted(np.flatnonzero(reversal), key=lambda i: (time[i], i))

    def take(r: int, p: int, units: float) -> None:
        left[r] -= units
        left[p] -= units
        last[p] = max(last[p], time[r])

    for r in reversals:  # 1. the invoice it names
        if invoice[r].startswith("C"):
            for p in by_group.get((customer[r], item[r]), []):
                if invoice[p] == invoice[r][1:] and left[p] > 0 and left[r] > 0:
                    take(r, p, min(left[r], left[p]))
    for r in reversals:  # 2. a whole untouched line of the same quantity, earliest first
        if left[r] == need[r]:
            for p in by_group.get((customer[r], item[r]), []):
                if left[p] == need[p] == need[r] and abs(time[p] - time[r]) <= WINDOW_SECONDS:
                    take(r, p, need[r])
                    break
    for r in reversals:  # 3. what is left, unit by unit, earliest purchase first
        for p in by_group.get((customer[r], item[r]), []):
            if left[r] <= 0:
                break
            if left[p] > 0 and abs(time[p] - time[r]) <= WINDOW_SECONDS:
                take(r, p, min(left[r], left[p]))
    done = need - left
    return done, last


@pytest.fixture(scope="module")
def reference(ori_lines):
    """Per purchase invoice: refunded (every line undone) and when; per reversal line: its outcome."""
    lines = ori_lines
    done, last = _reference_matching(lines)
    lines = lines.assign(done=done, last=last)
    purchases = lines.loc[~lines["reversal"]]
    invoices = purchases.groupby("Invoice").agg(
        customer=("Customer ID", "first"), time=("time", "min"), value=("value", "sum"),
        refunded=("done", lambda d: bool((d.to_numpy() >= purchases.loc[d.index, "quantity"].to_numpy()).all())),
        refunded_at=("last", "max"),
    )
    reversals = lines.loc[lines["reversal"]]
    need = reversals["quantity"].abs()
    outcome = np.select([reversals["done"].ge(need), reversals["done"].eq(0)], ["matched_in_full", "not_matched"],
                        "matched_in_part")
    return {"lines": lines, "invoices": invoices, "outcome": pd.Series(outcome, index=reversals.index)}


def test_every_line_of_the_real_export_is_accounted_for(ori_run):
    acc = ori_run["accounting"].iloc[0]
    assert acc.rows_read == 525_461
    assert acc.rows_read == acc.clean + acc.quarantined + acc.duplicates_removed


def test_every_reversal_is_accounted_for_as_the_rule_says(ori_run, reference):
    counts = ori_run["reversals"]["reversals"]
    expected = reference["outcome"].value_counts()
    assert counts.sum() == len(reference["outcome"])  # every product reversal line with a customer
    assert counts.to_dict() == {name: int(expected.get(name, 0)) for name in counts.index}
    # line by line, custseg's matched pairs undo what the rule undoes, within the window unless
    # the reversal names the invoice
    matches = ori_run["matches"]
    lines = reference["lines"].set_index("row")
    per_reversal = matches.groupby("reversal_row")["quantity"].sum()
    reversal_rows = lines.index[lines["reversal"]]
    assert per_reversal.reindex(reversal_rows, fill_value=0.0).to_dict() == lines.loc[reversal_rows, "done"].to_dict()
    per_purchase = matches.groupby("purchase_row")["quantity"].sum()
    assert (per_purchase <= lines.loc[per_purchase.index, "quantity"]).all()
    named = matches["reversal"].str.slice(1) == matches["purchase"]
    assert matches.loc[~named, "days_after_purchase"].abs().le(90).all()
    print(f"\nOnline Retail II reversal lines: {counts.to_dict()}")


def test_fully_reversed_orders_are_refunded_and_not_counted(ori_run, reference):
    orders = ori_run["orders"]
    refunded = set(orders.loc[orders["status"].eq("refunded"), "order_id"])
    invoices = reference["invoices"]
    assert refunded == set(invoices.index[invoices["refunded"]])
    assert len(refunded) > 100  # the real file cancels many whole orders under new numbers
    dated = orders.loc[orders["status"].eq("refunded")].set_index("order_id")["refunded_on"]
    expected = pd.to_datetime(invoices.loc[invoices["refunded"], "refunded_at"], unit="s").dt.floor("D")
    pd.testing.assert_series_equal(dated.sort_index().astype("datetime64[s]"),
                                   expected.sort_index().astype("datetime64[s]"), check_names=False)


def test_net_spend_and_purchase_counts_match_an_independent_computation(ori_run, reference):
    customers = ori_run["customers"]
    obs = pd.Timestamp(ori_run["meta"]["observation_date"])
    cutoff = (obs - pd.Timestamp("1970-01-01")).total_seconds()
    lines = reference["lines"]
    spend = lines.loc[lines["time"] < cutoff].assign(
        signed=lambda f: np.where(f["reversal"], -f["value"].abs(), f["value"])
    ).groupby("Customer ID")["signed"].sum()
    invoices = reference["invoices"]
    # a purchase counts unless undone by a reversal known before the observation date
    undone = invoices["refunded"] & (invoices["refunded_at"] // 86_400 < cutoff // 86_400)
    standing = invoices.loc[(invoices["time"] < cutoff) & ~undone & invoices["value"].ne(0)]
    frequency = standing.groupby("customer").size()
    # customers who bought (and may have returned everything, ending at 0) are the reference's
    assert set(customers.index[customers["frequency"].gt(0) | customers["monetary"].ne(0)]) <= set(spend.index)
    monetary = customers["monetary"].loc[spend.index].round(2)
    assert monetary.to_dict() == pytest.approx(spend.round(2).to_dict(), abs=0.005)
    assert customers["frequency"].loc[frequency.index].to_dict() == frequency.to_dict()
    assert customers["frequency"].sum() == len(standing)
    # the default observation date is the day after the last purchase that stands
    assert obs == pd.Timestamp(standing["time"].max(), unit="s").floor("D") + pd.Timedelta(days=1)


def test_a_customer_whose_big_order_was_cancelled_is_no_repeat_buyer(ori_run, reference):
    # customers with one standing purchase and a refunded one: custseg must see one purchase
    invoices = reference["invoices"]
    per_customer = invoices.groupby("customer")["refunded"].agg(["sum", "size"])
    once = per_customer.index[(per_customer["size"] - per_customer["sum"] == 1) & (per_customer["sum"] >= 1)]
    assert len(once) > 10
    customers = ori_run["customers"].loc[once]
    assert customers["frequency"].eq(1).all()
    assert customers["lifecycle"].ne("reactivated").all()


def test_no_one_time_buyer_is_a_champion_loyal_or_top_tier_and_no_cluster_is_tiny(ori_run, reference):
    customers = ori_run["customers"]
    # one-time buyers counted independently: one purchase invoice that stands
    invoices = reference["invoices"]
    once = invoices.loc[~invoices["refunded"]].groupby("customer").size().loc[lambda n: n == 1].index
    assert len(once) > 1000
    one_time = customers.loc[customers.index.intersection(once)]
    assert one_time["f_score"].eq(1).all()
    assert not one_time["segment"].isin(["Champions", "Loyal", "Cannot lose them"]).any()
    assert not one_time["tier"].eq(ori_run["meta"]["tiers"][0]).any()
    clustered = customers["cluster"].dropna()
    shares = clustered.value_counts(normalize=True)
    print(f"\nOnline Retail II clusters: k = {len(shares)}, smallest {shares.min():.1%}")
    assert shares.min() >= ori_run["config"].clusters.min_share


def test_customers_are_placed_in_a_region(ori_run):
    customers = ori_run["customers"]
    placed = customers["market"].ne("Unknown")
    unplaced = customers.loc[~placed, "country_raw"].value_counts()
    print(f"\nOnline Retail II: {placed.mean():.1%} of {len(customers):,} customers placed in a region; "
          f"not placed: {unplaced.to_dict()}")
    # only the export's own non-answer is left: "Unspecified" says no country was given
    assert set(unplaced.index) == {"Unspecified"}
    assert placed.mean() > 0.998


def test_churn_probabilities_out_of_time_say_where_they_cannot_be_trusted(ori_run, reference):
    """Fit at 2010-06-01 with six months behind it; the summer that follows was never observed."""
    cut = dt.date(2010, 6, 1)
    end = cut + dt.timedelta(days=90)
    orders = ori_run["orders"]
    customers = pd.read_parquet(ori_run["config"].output.interim / "customers.parquet")
    result = churn.backtest({"orders": orders, "customers": customers}, cut, Churn())
    # the realised rate, from the independent reference: buyers with a purchase standing at the
    # cut-off, churned when no purchase dated in the window still stood at its end
    invoices = reference["invoices"].assign(
        day=lambda f: pd.to_datetime(f["time"], unit="s").dt.floor("D"),
        undone=lambda f: pd.to_datetime(f["refunded_at"].where(f["refunded"]), unit="s").dt.floor("D"),
    )
    standing = lambda at: invoices["undone"].isna() | (invoices["undone"] >= pd.Timestamp(at))  # noqa: E731
    buyers = set(invoices.loc[(invoices["day"] < pd.Timestamp(cut)) & standing(cut), "customer"])
    came_back = set(invoices.loc[(invoices["day"] >= pd.Timestamp(cut)) & (invoices["day"] < pd.Timestamp(end))
                                 & standing(end), "customer"])
    realised = len(buyers - came_back) / len(buyers)
    predicted = result.churn_probability
    assert set(predicted.index) == buyers
    error = predicted.mean() - realised
    print(f"\nOnline Retail II at {cut}: mean predicted churn {predicted.mean():.3f}, realised {realised:.3f} "
          f"({100 * error:+.1f} points); warnings {[w['reason'] for w in result.warnings]}")
    # measured -8.4 points: the summer is quieter than the spring the model learnt from, and it says so
    assert abs(error) < 0.10
    reasons = {w["reason"]: w for w in result.warnings}
    assert {"no_validation", "season_not_observed"} <= set(reasons)
    season = reasons["season_not_observed"]
    assert season["window_start"] == "2010-06-01" and season["history_start"] == "2009-12-01"
    assert len(result.origins) == 3 and not result.seasonal
