import re
from pathlib import Path

import pytest

from custseg import paths
from custseg.config import ConfigError, load_config


def test_sample_config_loads_with_absolute_paths():
    config = load_config(paths.DEFAULT_CONFIG)
    assert config.study.name == "sample"
    assert config.inputs.orders.path == paths.SAMPLE_DIR / "orders.csv"
    assert config.output.reports == paths.REPORTS_DIR
    assert set(config.inputs.present()) == {"orders", "customers", "interactions", "feedback"}


def test_relative_paths_resolve_against_the_config_folder(write_config, tmp_path):
    output = {key: f"out/{key}" for key in ("interim", "processed", "reports", "build", "exports")}
    config = load_config(write_config({"orders": "exports/orders.csv"}, output=output))
    assert config.inputs.orders.path == tmp_path / "exports" / "orders.csv"
    assert config.output.processed == tmp_path / "out" / "processed"


def test_unknown_key_is_named(write_config):
    path = write_config({"orders": "o.csv"}, obervation_date="2025-01-01")
    with pytest.raises(ConfigError, match=r"obervation_date: unknown key") as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_nested_unknown_key_and_missing_required_key(write_config):
    with pytest.raises(ConfigError, match=r"inputs: .*exactly one of inputs\.orders .* or inputs\.line_items"):
        load_config(write_config({"customers": "c.csv"}))
    with pytest.raises(ConfigError, match=r"exactly one of"):
        load_config(write_config({"orders": "o.csv", "line_items": "l.csv"}))
    with pytest.raises(ConfigError, match=r"inputs\.orders\.path: required key is missing"):
        load_config(write_config({"orders": {"encoding": "gbk"}}))
    with pytest.raises(ConfigError, match=r"tiers\.mehtod: unknown key"):
        load_config(write_config({"orders": "o.csv"}, tiers={"mehtod": "rfm"}))


def test_tier_thresholds_must_match_names(write_config):
    with pytest.raises(ConfigError, match="one threshold per tier"):
        load_config(write_config({"orders": "o.csv"}, tiers={"names": ["a", "b", "c"], "min_scores": [10]}))
    with pytest.raises(ConfigError, match="fall strictly"):
        load_config(write_config({"orders": "o.csv"}, tiers={"names": ["a", "b", "c"], "min_scores": [8, 10]}))


def test_negative_exchange_rate_is_rejected(write_config):
    with pytest.raises(ConfigError, match="positive"):
        load_config(write_config({"orders": "o.csv"}, currency={"base": "CNY", "rates": {"USD": -1}}))


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("study: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_fingerprint_is_stable_and_sensitive(write_config):
    a = load_config(write_config({"orders": "o.csv"}))
    b = load_config(write_config({"orders": "o.csv"}))
    c = load_config(write_config({"orders": "o.csv"}, observation_date="2025-01-01"))
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_config_paths_are_independent_of_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert load_config(Path(paths.DEFAULT_CONFIG)).inputs.orders.path == paths.SAMPLE_DIR / "orders.csv"


def test_custom_markets_in_both_forms_reach_the_region_module(write_config):
    config = load_config(write_config({"orders": "o.csv"}, regions={"custom_markets": {
        "DACH": {"name_zh": "德奥瑞", "countries": ["DEU", "AUT", "CHE"]}, "Nordics": ["SWE", "NOR"],
    }}))
    assert config.regions.market_definitions() == {
        "DACH": {"countries": ["DEU", "AUT", "CHE"], "name_zh": "德奥瑞"}, "Nordics": ["SWE", "NOR"],
    }


def test_tier_defaults_follow_the_tiers_by_position(write_config):
    four = {"names": ["vip", "high", "mid", "low"], "min_scores": [14, 11, 8]}
    config = load_config(write_config({"orders": "o.csv"}, tiers=four))
    default = load_config(write_config({"orders": "o.csv"}))
    # the best tier takes the best tier's default, the worst the worst's, the ones between the middle one
    assert config.churn.silence_days_by_tier == {"vip": 90, "high": 120, "mid": 120, "low": 180}
    assert config.churn.playbook == {
        "vip": default.churn.playbook["high"], "high": default.churn.playbook["mid"],
        "mid": default.churn.playbook["mid"], "low": default.churn.playbook["low"],
    }
    assert config.playbook["vip"] == default.playbook["high"] and config.playbook["high"] == default.playbook["mid"]
    assert list(config.playbook) == four["names"]
    two = load_config(write_config({"orders": "o.csv"}, tiers={"names": ["gold", "basic"], "min_scores": [10]}))
    assert two.churn.silence_days_by_tier == {"gold": 90, "basic": 180}
    # a mapping the user gave is by name, and the others keep their positional defaults
    given = load_config(write_config({"orders": "o.csv"}, tiers=four, churn={"silence_days_by_tier": {"high": 60}}))
    assert given.churn.silence_days_by_tier == {"high": 60}
    assert given.churn.playbook == config.churn.playbook and given.playbook == config.playbook


@pytest.mark.parametrize("overrides", [
    {"playbook": {"hihg": [{"topic": "service", "action": "call"}]}},
    {"churn": {"playbook": {"hihg": "call"}}},
    {"churn": {"silence_days_by_tier": {"hihg": 60}}},
], ids=["playbook", "churn.playbook", "churn.silence_days_by_tier"])
def test_a_tier_mapping_naming_an_unknown_tier_is_an_error(write_config, overrides):
    key = "churn." + next(iter(overrides["churn"])) if "churn" in overrides else "playbook"
    with pytest.raises(ConfigError, match=rf"{re.escape(key)} names tier\(s\) \['hihg'\]"):
        load_config(write_config({"orders": "o.csv"}, **overrides))


def test_region_aliases_load_and_reach_normalize_regions(write_config, tmp_path):
    aliases = {
        "countries": {"Channel Is.": "Europe", "Xanadu": "mng", "Intercompany": None, "Norden": "Nordics"},
        "subdivisions": {"Sao Paolo": "BR-SP"},
    }
    config = load_config(write_config(
        {"orders": "o.csv"}, regions={"custom_markets": {"Nordics": ["NOR", "SWE"]}, "aliases": aliases},
    ))
    assert config.regions.alias_table() == aliases
    # the YAML null of a spelling that names no place survives the round trip
    text = (tmp_path / "study.yaml").read_text(encoding="utf-8")
    assert "Intercompany: null" in text


@pytest.mark.parametrize(
    ("aliases", "message"),
    [
        ({"countries": {"Xanadu": "XAN"}}, r"regions: .*regions\.aliases\.countries\['Xanadu'\]: 'XAN' is neither"),
        ({"countries": {"Xanadu": "Nordics"}}, r"'Nordics' is neither .* nor a market"),
        ({"subdivisions": {"Sao Paolo": "BR-XX"}},
         r"regions\.aliases\.subdivisions\['Sao Paolo'\]: 'BR-XX' is not an ISO 3166-2"),
        ({"provinces": {"x": "BR-SP"}}, r"regions\.aliases\.provinces: unknown key"),
    ],
)
def test_bad_region_aliases_name_the_alias(write_config, aliases, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write_config({"orders": "o.csv"}, regions={"aliases": aliases}))
