"""What the pages advise: the tiers' playbook and the strategy page's rules, with their defaults.

The default actions and advice are English texts marked for translation: the pages show them in
their own language.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from custseg.config.sections import Strict
from custseg.i18n import N_


class PlaybookAction(Strict):
    """One line of a tier's playbook: what to do, and for which of the tier's customers."""

    topic: str = Field(min_length=1)  # e.g. service, upgrade path, reactivation
    action: str = Field(min_length=1)
    # lifecycle stages the action is for; empty: every customer of the tier
    stages: list[Literal["prospect", "new", "active", "loyal", "at_risk", "churned", "reactivated"]] = Field(
        default_factory=list
    )


def default_playbook_actions() -> dict[str, list[PlaybookAction]]:
    act = PlaybookAction
    return {
        "high": [
            act(topic=N_("service"), action=N_(
                "A named account manager who answers within four working hours, and a quarterly business "
                "review."
            )),
            act(topic=N_("recognition"), action=N_(
                "Early access to new lines and invitations to customer events."
            )),
            act(topic=N_("retention"), action=N_(
                "A personal call from the account manager within a week of the first warning sign."
            ), stages=["at_risk"]),
            act(topic=N_("win-back"), action=N_(
                "A senior manager's visit or call to learn why they stopped, with an offer to match."
            ), stages=["churned"]),
        ],
        "mid": [
            act(topic=N_("upgrade path"), action=N_(
                "Volume and loyalty offers that lift them toward a better tier, naming what the next tier "
                "brings."
            )),
            act(topic=N_("onboarding"), action=N_(
                "A second-purchase offer within 30 days of the first order."
            ), stages=["new"]),
            act(topic=N_("reactivation"), action=N_(
                "A personal e-mail with an offer tailored to their categories within two weeks."
            ), stages=["at_risk", "churned"]),
        ],
        "low": [
            act(topic=N_("service"), action=N_(
                "Self-service and automated campaigns; account managers' time goes to the tiers above."
            )),
            act(topic=N_("upgrade path"), action=N_(
                "Bundles and multi-packs for those who buy often but spend little per order."
            ), stages=["active", "loyal"]),
            act(topic=N_("reactivation"), action=N_(
                "An automated win-back campaign with an entry-price offer."
            ), stages=["at_risk", "churned"]),
        ],
    }


StrategyMeasure = Literal[
    "aov_index", "orders_per_buyer_index", "low_value_order_share_index", "growth_gap", "high_tier_share_index",
    "new_customer_share_index", "churn_risk_index", "satisfaction_gap", "top_category_index", "weakest_category_index",
]


class StrategyRule(Strict):
    """One recommendation: when a region's measure crosses a limit, the advice for one area."""

    measure: StrategyMeasure  # see custseg.studies.strategy for what each measures
    above: float | None = None  # fires when the measure is above this ...
    below: float | None = None  # ... or below this (exactly one of the two)
    area: Literal["product", "pricing", "marketing", "service"]
    advice: str = Field(min_length=1)  # may say {category} for the two category measures

    @model_validator(mode="after")
    def _one_limit(self) -> StrategyRule:
        if (self.above is None) == (self.below is None):
            raise ValueError(f"strategy rule on {self.measure}: give exactly one of 'above' or 'below'")
        return self


def _default_strategy_rules() -> list[StrategyRule]:
    rule = StrategyRule
    return [
        rule(measure="aov_index", below=85, area="pricing", advice=N_(
            "Orders are small next to the base: offer value bundles, multi-packs and volume prices to lift the "
            "basket."
        )),
        rule(measure="aov_index", above=120, area="product", advice=N_(
            "Baskets are larger than in the base: lead with premium lines and upgrades, and protect these "
            "buyers with priority service."
        )),
        rule(measure="low_value_order_share_index", above=125, area="pricing", advice=N_(
            "Many low-value orders point to price-sensitive buyers: use entry-price packs and time-limited "
            "offers rather than across-the-board discounts."
        )),
        rule(measure="growth_gap", below=-10, area="marketing", advice=N_(
            "Revenue grows more slowly than in the base: run a reactivation campaign for lapsed buyers and "
            "check what competitors are doing here."
        )),
        rule(measure="growth_gap", above=10, area="marketing", advice=N_(
            "Revenue grows faster than in the base: add sales capacity and stock where demand is rising."
        )),
        rule(measure="high_tier_share_index", below=80, area="marketing", advice=N_(
            "Few customers reach the best tier: give mid-tier customers upgrade offers and an account manager's "
            "attention."
        )),
        rule(measure="new_customer_share_index", above=130, area="marketing", advice=N_(
            "Many customers are new: an onboarding sequence and a second-purchase offer within 30 days turn "
            "them into regulars."
        )),
        rule(measure="churn_risk_index", above=115, area="service", advice=N_(
            "Churn risk is above the base: work this region's watch list first and review delivery and service "
            "levels."
        )),
        rule(measure="satisfaction_gap", below=-0.3, area="service", advice=N_(
            "Satisfaction is below the base: call recent detractors and fix their most common complaint before "
            "pushing sales."
        )),
        rule(measure="top_category_index", above=130, area="product", advice=N_(
            "{category} sells far better here than in the base: widen its range and feature it in local "
            "campaigns."
        )),
        rule(measure="weakest_category_index", below=60, area="product", advice=N_(
            "{category} is under-represented here: test local demand with targeted offers before cutting the "
            "range."
        )),
    ]


class Strategy(Strict):
    """Rules that turn a region's figures into product, pricing, marketing and service advice."""

    rules: list[StrategyRule] = Field(default_factory=_default_strategy_rules)


