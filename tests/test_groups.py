"""Named customer groups: the filter language (parsed, never run), the masks, membership, the
config checks and the CRM tags."""

import numpy as np
import pandas as pd
import pytest

from custseg import exports
from custseg.config import ConfigError, load_config
from custseg.config.filters import BoolOp, Compare, FilterError, Member, Not, filter_columns, parse_filter
from custseg.segment import groups


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["C1", "C2", "C3", "C4", "C5"],
        "customer_type": pd.Categorical(["B2B", "B2C", "B2B", None, "B2B"]),
        "tier": ["high", "high", "low", "high", "mid"],
        "market": ["East China", "East China", "East China", "North China", None],
        "monetary": [1200.0, 80.0, np.nan, 500.0, 300.0],
        "frequency": pd.array([5, 1, 0, 3, 2], dtype="Int64"),
        "warn_silence": [True, False, False, True, False],
        "signup_date": pd.to_datetime(["2024-01-05", "2025-03-01", None, "2025-06-30", "2023-12-31"]),
    })


def test_parse_the_language():
    assert parse_filter("tier == 'high'") == Compare("tier", "==", "high")
    assert parse_filter("'high' == tier") == Compare("tier", "==", "high")
    assert parse_filter("100 < monetary") == Compare("monetary", ">", 100)
    assert parse_filter("monetary >= -1.5") == Compare("monetary", ">=", -1.5)
    assert parse_filter("tier in ['high', 'mid']") == Member("tier", ("high", "mid"))
    assert parse_filter("tier not in ('low',)") == Member("tier", ("low",), negated=True)
    tree = parse_filter("not (a == 1 or b != 'x') and c < 3")
    assert tree == BoolOp("and", (Not(BoolOp("or", (Compare("a", "==", 1), Compare("b", "!=", "x")))),
                                  Compare("c", "<", 3)))
    assert parse_filter("1 < a < 3") == BoolOp("and", (Compare("a", ">", 1), Compare("a", "<", 3)))
    assert filter_columns(tree) == {"a", "b", "c"}


@pytest.mark.parametrize(("text", "words"), [
    ("__import__('os')", "function call"),
    ("__import__('os').system('rm -rf /') == 0", "not allowed"),
    ("tier.__class__ == 'x'", "attribute access"),
    ("open('/etc/passwd') == 'x'", "function call"),
    ("(lambda: 1) == 1", "lambda"),
    ("tier[0] == 'h'", "subscript"),
    ("tier == tier", "must be a quoted text"),
    ("tier == 'a' + 'b'", "arithmetic"),
    ("tier in customer_type", "needs a list"),
    ("tier in [x for x in 'ab']", "needs a list"),
    ("tier in [open('x')]", "function call"),
    ("tier is None", "'Is' is not allowed"),
    ("tier == None", "not allowed where a text or number"),
    ("tier == True", "not allowed where a text or number"),
    ("__class__ == 'x'", "not a column name"),
    ("tier", "not a bare column"),
    ("'high'", "not a bare value"),
    ("tier == 'high' ;", "not a valid filter"),
    ("tier == 'high'\nimport os", "not a valid filter"),
    ("(x := 1) == 1", "assignment"),
    ("", "non-empty"),
    ("tier == f'{tier}'", "f-string"),
])
def test_hostile_and_bad_filters_are_refused(text, words):
    with pytest.raises(FilterError, match=words.replace("(", r"\(")):
        parse_filter(text)


def test_masks(customers):
    def kept(text):
        return customers["customer_id"][groups.mask(parse_filter(text), customers)].tolist()

    assert kept("customer_type == 'B2B' and tier == 'high' and market == 'East China'") == ["C1"]
    assert kept("customer_type != 'B2B'") == ["C2", "C4"]  # a missing type is "not B2B"
    assert kept("customer_type in ['B2C']") == ["C2"]
    assert kept("market not in ['East China']") == ["C4", "C5"]
    assert kept("monetary > 400") == ["C1", "C4"]  # a missing amount matches no order
    assert kept("frequency >= 2 and not tier == 'mid'") == ["C1", "C4"]
    assert kept("tier == 'high' or monetary <= 300") == ["C1", "C2", "C4", "C5"]
    assert kept("monetary == 'x'") == [] and len(kept("monetary != 'x'")) == 5  # text against numbers
    assert kept("warn_silence == 1") == ["C1", "C4"] and kept("not warn_silence == 1") == ["C2", "C3", "C5"]
    assert kept("signup_date >= '2025-01-01'") == ["C2", "C4"]
    with pytest.raises(FilterError, match="holds dates"):
        kept("signup_date > 3")


def test_membership_and_columns(customers):
    named = {"b2b_vip_east": "customer_type == 'B2B' and tier == 'high' and market == 'East China'",
             "high": "tier == 'high'"}
    assert groups.membership(customers, named).tolist() == ["b2b_vip_east;high", "high", "", "high", ""]
    table = groups.assign_groups(customers, named, by=["customer_type"])
    assert table["groups"].tolist()[0] == "b2b_vip_east;high"
    assert "groups" not in groups.assign_groups(customers, {})
    with pytest.raises(FilterError, match=r"groups\.x reads the column 'industry'"):
        groups.membership(customers, {"x": "industry == 'Retail'"})
    with pytest.raises(FilterError, match=r"studies\.by names 'industry'"):
        groups.assign_groups(customers, {}, by=["industry"])


def test_tags_carry_groups(customers):
    table = groups.assign_groups(customers, {"vip": "tier == 'high'", "east": "market == 'East China'"})
    tags = exports.crm_tags(table)
    assert tags[0] == "tier:high;market:East China;group:vip;group:east"
    assert tags[2] == "tier:low;market:East China;group:east"
    assert tags[4] == "tier:mid"


def test_config_checks_groups_and_by(write_config):
    config = load_config(write_config({"orders": "o.csv"}, groups={"vip": "tier == 'high'"},
                                      studies={"by": ["customer_type", "industry"]}))
    assert config.groups["vip"].filter == "tier == 'high'" and config.studies.by == ["customer_type", "industry"]
    with pytest.raises(ConfigError, match=r"groups\.bad\.filter: .*function call is not allowed"):
        load_config(write_config({"orders": "o.csv"}, groups={"bad": "__import__('os') == 1"}))
    with pytest.raises(ConfigError, match="must be lower-case"):
        load_config(write_config({"orders": "o.csv"}, groups={"Bad Name": "tier == 'high'"}))
    with pytest.raises(ConfigError, match="not a column name"):
        load_config(write_config({"orders": "o.csv"}, studies={"by": ["tier; drop"]}))
    with pytest.raises(ConfigError, match="twice"):
        load_config(write_config({"orders": "o.csv"}, studies={"by": ["industry", "industry"]}))
