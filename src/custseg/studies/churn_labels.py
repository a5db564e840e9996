"""The churn page's words for the model's features, the backtest's candidates and populations and
the warning rules, in the report language.
"""

from __future__ import annotations

from custseg.i18n import N_, _
from custseg.segment import churn

#: Readable names of the churn model's features (custseg.segment.churn.MODEL_FEATURES), for charts.
FEATURE_NAMES: dict[str, str] = {
    "recency_days": N_("Days since last order"),
    "frequency": N_("Orders to date"),
    "monetary": N_("Revenue to date"),
    "aov": N_("Average order value"),
    "tenure_days": N_("Days as a customer"),
    "cadence_days": N_("Usual days between orders"),
    "last_gap_days": N_("Days between the last two orders"),
    "orders_90d": N_("Orders, last 90 days"),
    "orders_prev_90d": N_("Orders, the 90 days before"),
    "revenue_90d": N_("Revenue, last 90 days"),
    "revenue_prev_90d": N_("Revenue, the 90 days before"),
    "trend_90d": N_("Revenue trend, last 90 days against the 90 before"),
    "refunded_orders": N_("Refunded or returned orders"),
    "return_rate": N_("Share of orders refunded or returned"),
    "interactions_30d": N_("Contacts, last 30 days"),
    "interactions_90d": N_("Contacts, last 90 days"),
    "interactions_365d": N_("Contacts, last 365 days"),
    "last_interaction_days": N_("Days since last contact"),
    "feedback_count": N_("Feedback answers"),
    "satisfaction_mean": N_("Mean satisfaction"),
    "satisfaction_latest": N_("Latest satisfaction"),
    "satisfaction_trend": N_("Latest satisfaction against earlier average"),
    "nps_latest": N_("Latest NPS answer"),
    "silence_ratio": N_("Silence against own cadence"),
}

#: Readable names of the backtest candidates (English; translate with ``_()`` where shown).
CANDIDATE_NAMES: dict[str, str] = {
    churn.BASELINE: N_("Recency only (baseline)"),
    "logistic": N_("Logistic regression"),
    "gradient_boosting": N_("Gradient boosting"),
}

#: Short names of the warning rules (custseg.segment.churn.RULES).
RULE_NAMES: dict[str, str] = {
    "warn_silence": N_("Silence"),
    "warn_trend": N_("Falling orders"),
    "warn_satisfaction": N_("Low or falling satisfaction"),
    "warn_interactions": N_("Fewer contacts"),
}


def population_label(population: str) -> str:
    """A backtest population in words, in the report language ("buyers not yet lost"): the words
    of custseg.segment.churn.POPULATIONS, which the tests check these English texts against."""
    words = {"buyers": _("all buyers"), "not_lost": _("buyers not yet lost")}
    return words.get(population) or churn.POPULATIONS.get(population, population)


def candidate_label(candidate: str | None) -> str:
    """A backtest candidate's readable name in the report language; unknown names as they are."""
    return _(CANDIDATE_NAMES[candidate]) if candidate in CANDIDATE_NAMES else str(candidate)


def times(value: object) -> str:
    """A lift as a multiple: '1.96x'."""
    # Translators: a lift (a multiple of the base rate) in a table cell, e.g. "1.96x"
    return _("{lift:.2f}x").format(lift=value)
