"""Study configuration: one YAML file, validated into typed objects when it is loaded.

Relative paths in a config file are resolved against the folder that holds the config file, so a
config can sit next to the exports it describes. Unknown keys are errors, not silently ignored:
a typo such as ``obervation_date`` would otherwise quietly fall back to a default.

This front names what the rest of custseg uses; the settings live in
:mod:`custseg.config.sections` (inputs, cleaning, regions, tiers, segments, churn, value, ...),
:mod:`custseg.config.advice` (the tiers' playbook and the strategy rules) and
:mod:`custseg.config.loading` (the whole :class:`Config` and :func:`load_config`).
"""

from __future__ import annotations

from custseg.config.advice import PlaybookAction, Strategy, StrategyMeasure, StrategyRule
from custseg.config.engines import Engine
from custseg.config.loading import Config, ConfigError, load_config
from custseg.config.queries import DatabaseInput, QueryInput, QuerySource, TableInput
from custseg.config.sections import (
    CANONICAL_ATTRIBUTES,
    DEFAULT_TIER_KEYS,
    Churn,
    Cleaning,
    Clusters,
    Currency,
    CustomMarket,
    Demographics,
    Group,
    InputFile,
    Inputs,
    Lifecycle,
    Output,
    Preferences,
    RegionAliases,
    RegionLevel,
    Regions,
    SegmentRule,
    Segments,
    Snapshots,
    Studies,
    StudyInfo,
    TierRule,
    Tiers,
    Value,
    ValueClass,
    by_position,
)

__all__ = [
    "CANONICAL_ATTRIBUTES",
    "DEFAULT_TIER_KEYS",
    "Churn",
    "Cleaning",
    "Clusters",
    "Config",
    "ConfigError",
    "Currency",
    "Engine",
    "CustomMarket",
    "DatabaseInput",
    "Demographics",
    "Group",
    "InputFile",
    "Inputs",
    "Lifecycle",
    "Output",
    "QueryInput",
    "QuerySource",
    "PlaybookAction",
    "Preferences",
    "RegionAliases",
    "RegionLevel",
    "Regions",
    "SegmentRule",
    "Segments",
    "Snapshots",
    "Strategy",
    "StrategyMeasure",
    "StrategyRule",
    "Studies",
    "StudyInfo",
    "TableInput",
    "TierRule",
    "Tiers",
    "Value",
    "ValueClass",
    "by_position",
    "load_config",
]
