"""Segmentation: clean tables in, one row per customer with its classes out.

:mod:`~custseg.segment.features` computes each customer's behaviour at a date (no look-ahead);
:mod:`~custseg.segment.tiers`, :mod:`~custseg.segment.rfm`, :mod:`~custseg.segment.clusters` and
:mod:`~custseg.segment.lifecycle` classify; :mod:`~custseg.segment.snapshots` re-evaluates every
period; :mod:`~custseg.segment.churn`, :mod:`~custseg.segment.clv` and
:mod:`~custseg.segment.value_backtest` predict and check themselves out of time;
:mod:`~custseg.segment.retention` measures whether the tiering worked;
:mod:`~custseg.segment.step` runs them in order.
"""
