"""Churn early warning: readable rules, a backtested churn model and a watch list by value at risk.

Three parts, each usable alone, each in its own module:

* :func:`warnings` (``_rules``) flags customers by four rules a person can check by hand, and
  records why as facts: a reason code and the customer's own figures per rule that fired
  (``{"reason": "silence", "days": 140, "cadence": 50}``; words are made where they are shown,
  by :mod:`custseg.words`).
* :func:`backtest` (``_backtest``) trains a churn model on the customer table as it was at past
  dates, checks it out of time on the next window, compares it with the recency-only baseline,
  and scores every buyer at the observation date with the model that won. When the history is
  too short it says so (as facts) and scores nobody; the rules still run.
* :func:`watch_list` (``_watch``) ranks the customers worth a retention effort by value at risk
  (expected value x churn probability), with the reasons and the tier's recommended action.

Every number comes from the ``churn`` settings. The public names are importable from here.
"""

from __future__ import annotations

from custseg.segment.churn._backtest import (
    BASELINE,
    MODEL_FEATURES,
    POPULATIONS,
    RECALIBRATED,
    SEASON_FEATURES,
    Backtest,
    backtest,
    labelled_features,
)
from custseg.segment.churn._rules import REASON_TYPE, RULES, rule_table, warnings
from custseg.segment.churn._watch import watch_list

__all__ = [
    "BASELINE", "MODEL_FEATURES", "POPULATIONS", "RECALIBRATED", "REASON_TYPE", "RULES", "SEASON_FEATURES",
    "Backtest", "backtest", "labelled_features", "rule_table", "warnings", "watch_list",
]
