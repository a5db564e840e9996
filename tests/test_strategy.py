"""Strategy recommendations: the measures of a region against the base, and the rules that fire."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from custseg import studies
from custseg.config import Strategy, StrategyRule
from custseg.studies import render
from custseg.studies.opening import Anchor
from custseg.studies.strategy import measures, recommend


def _customers(region: str, rows: list[tuple]) -> pd.DataFrame:
    # (customer_id, frequency, monetary, tier, lifecycle, revenue_90d, revenue_prev_90d, churn_probability,
    #  satisfaction)
    frame = pd.DataFrame(rows, columns=["customer_id", "frequency", "monetary", "tier", "lifecycle", "revenue_90d",
                                        "revenue_prev_90d", "churn_probability", "satisfaction_latest"])
    return frame.assign(region=region)


def _orders(region: str, rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "category", "status", "revenue"]).assign(region=region)


@pytest.fixture
def base():
    east = _customers("East", [
        ("E1", 2, 100.0, "high", "new", 50.0, 100.0, 0.2, 4.0),
        ("E2", 2, 100.0, "low", "active", 50.0, 100.0, 0.6, 2.0),
    ])
    west = _customers("West", [
        ("W1", 1, 300.0, "high", "loyal", 300.0, 100.0, 0.1, 5.0),
        ("W2", 1, 300.0, "high", "loyal", 300.0, 100.0, 0.1, 5.0),
    ])
    east_orders = _orders("East", [("E1", "tea", "completed", 40.0), ("E1", "tea", "completed", 60.0),
                                   ("E2", "tea", "completed", 40.0), ("E2", "cups", "completed", 60.0)])
    west_orders = _orders("West", [("W1", "cups", "completed", 300.0), ("W2", "cups", "completed", 300.0),
                                   ("W2", "cups", "cancelled", 0.0)])
    return pd.concat([east, west], ignore_index=True), pd.concat([east_orders, west_orders], ignore_index=True)


def test_measures_compare_the_region_with_the_base(base):
    customers, orders = base
    east = customers["region"].eq("East")
    values, topics = measures(customers[east], orders[orders["region"].eq("East")], customers, orders, "high")
    # base: 800 over 6 orders; East: 200 over 4 orders
    assert values["aov_index"] == pytest.approx(100 * 50 / (800 / 6))
    assert values["orders_per_buyer_index"] == pytest.approx(100 * 2 / 1.5)
    # growth East 100/200 - 1 = -50%, base 700/400 - 1 = +75%: 125 points behind
    assert values["growth_gap"] == pytest.approx(-125)
    assert values["high_tier_share_index"] == pytest.approx(100 * 0.5 / 0.75)
    assert values["new_customer_share_index"] == pytest.approx(100 * 0.5 / 0.25)
    assert values["churn_risk_index"] == pytest.approx(100 * 0.4 / 0.25)
    assert values["satisfaction_gap"] == pytest.approx(3.0 - 4.0)
    # completed base orders 40, 40, 60, 60, 300, 300: lower quartile 45 (interpolated); below it
    # are 2 of East's 4 orders and 2 of the base's 6 (the cancelled order is not a sale)
    assert values["low_value_order_share_index"] == pytest.approx(100 * (2 / 4) / (2 / 6))
    # tea is 100/200 of East's revenue and 140/800 of the base's
    assert topics["top_category_index"] == "tea"
    assert values["top_category_index"] == pytest.approx(100 * (140 / 200) / (140 / 800))
    assert topics["weakest_category_index"] == "cups"
    assert values["weakest_category_index"] == pytest.approx(100 * (60 / 200) / (660 / 800))


def test_a_rule_fires_strictly_past_its_limit_and_shows_the_figure():
    rules = [
        StrategyRule(measure="aov_index", below=85, area="pricing", advice="Bundle."),
        StrategyRule(measure="aov_index", above=120, area="product", advice="Premium."),
        StrategyRule(measure="top_category_index", above=130, area="product", advice="{category} sells: widen it."),
        StrategyRule(measure="satisfaction_gap", below=-0.3, area="service", advice="Call detractors."),
    ]
    at_limit = recommend({"aov_index": 85.0, "top_category_index": 130.0, "satisfaction_gap": np.nan}, {}, rules)
    assert at_limit.empty  # on the limit is not past it; a missing measure never fires
    fired = recommend({"aov_index": 84.96, "top_category_index": 152.0}, {"top_category_index": "tea"}, rules)
    assert fired["area"].tolist() == ["pricing", "product"]
    assert fired["because"].tolist() == [
        "average order value index 85.0, below 85",  # one more decimal where rounding would hide the crossing
        "revenue-share index of tea 152, above 130",
    ]
    assert fired["recommendation"].tolist() == ["Bundle.", "Tea sells: widen it."]


def test_a_rule_needs_exactly_one_limit():
    with pytest.raises(ValidationError, match="exactly one of 'above' or 'below'"):
        StrategyRule(measure="aov_index", area="pricing", advice="x")
    with pytest.raises(ValidationError, match="exactly one"):
        StrategyRule(measure="aov_index", above=1, below=2, area="pricing", advice="x")
    with pytest.raises(ValidationError):
        StrategyRule(measure="no_such_measure", above=1, area="pricing", advice="x")


def shown(section) -> list:
    """A section's visible items: without the anchor the findings box links to."""
    return [item for item in section.items if not isinstance(item, Anchor)]


def test_region_study_strategy_section(processed_sample):
    config, data = processed_sample
    sizes = data.customers.loc[data.customers["frequency"] > 0, "region"].value_counts()
    region = sizes.index[0]
    section = studies.RegionStudy(data, region, 12, config.strategy.rules).strategy()
    table = shown(section)[0]
    if isinstance(table, render.Notice):
        assert "None of the 11 strategy rules fires" in table.text
    else:
        assert list(table.frame.columns) == ["Area", "Recommendation", "Because"] and len(table.frame) >= 1
    # a rule that always fires shows up with its figure; no rules at all says so
    always = [StrategyRule(measure="orders_per_buyer_index", above=-1, area="marketing", advice="Always.")]
    fired = shown(studies.RegionStudy(data, region, 12, always).strategy())[0].frame
    assert fired["Recommendation"].tolist() == ["Always."] and fired["Because"].str.contains("above -1").all()
    none = shown(studies.RegionStudy(data, region, 12, []).strategy())[0]
    assert "None of the 0 strategy rules fires" in none.text
    assert len(Strategy().rules) == 11
