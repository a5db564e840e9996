"""Customer features: hand-computed answers on a three-customer company, plus a generated sample
checked against a plain pandas reference."""

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from custseg.sample.generator import EXCHANGE_RATES, SampleSpec, generate_sample
from custseg.segment import _arrays, _idcode, _kernels, features
from custseg.segment.features import category_shares, channel_slug, customer_table
from support.tools import rfm_features

OBS = dt.date(2025, 4, 1)
# Windows at OBS: last 90 days from 2025-01-01, the 90 before from 2024-10-03; 30 days from
# 2025-03-02; 365 days from 2024-04-01.


def _dates(values):
    return pd.to_datetime(pd.Series(values)).astype("datetime64[s]")


def orders_frame(rows):
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "status", "revenue", "category"])
    return frame.assign(
        order_id=[f"O{i}" for i in range(len(frame))],
        customer_id=frame["customer_id"].astype("str"),
        order_date=_dates(frame["order_date"]),
        status=frame["status"].astype("str"),
        category=frame["category"].astype("str"),
    )


ORDERS = orders_frame([
    # A: four purchases on three days, one return, one refund, one cancellation, future orders
    ("A", "2024-10-01", "completed", 100.0, "Books"),  # 182 days before OBS: outside both windows
    ("A", "2024-12-01", "completed", 200.0, "Toys"),  # previous 90 days
    ("A", "2025-02-01", "completed", 50.0, "Books"),  # last 90 days
    ("A", "2025-02-01", "completed", 30.0, "Books"),  # same day: a second purchase, not a new gap
    ("A", "2025-03-01", "returned", -30.0, "Toys"),
    ("A", "2025-03-15", "refunded", 0.0, "Books"),
    ("A", "2025-03-20", "cancelled", 0.0, "Toys"),
    ("A", "2025-04-01", "completed", 999.0, "Books"),  # on the observation date: the future
    ("A", "2025-06-01", "completed", 500.0, "Toys"),
    # B: two purchases long ago, no signup date
    ("B", "2024-09-01", "completed", 40.0, "Garden"),
    ("B", "2024-04-01", "completed", 80.0, "Garden"),
    # C: only a cancelled order; not in the customer table
    ("C", "2025-01-10", "cancelled", 0.0, "Toys"),
])

CUSTOMERS = pd.DataFrame({
    "customer_id": pd.array(["A", "B", "D", "E"], dtype="str"),
    "customer_type": pd.array(["B2B", "B2C", "B2C", "B2C"], dtype="str"),
    "signup_date": _dates(["2024-01-15", None, "2025-03-01", "2025-05-01"]),
    "source_row": [2, 3, 4, 5],
})  # D signed up but never bought; E signs up after the observation date

INTERACTIONS = pd.DataFrame({
    "customer_id": pd.array(["A", "A", "A", "A", "A", "B", "B"], dtype="str"),
    "interaction_date": _dates(
        ["2025-03-25", "2025-02-15", "2024-12-15", "2024-03-01", "2025-04-05", "2024-06-01", "2025-03-31"]
    ),
    "channel": pd.array(["Visit", "e-mail", "E-Mail", "call", "visit", "call", None], dtype="str"),
})

FEEDBACK = pd.DataFrame({
    "customer_id": pd.array(["A", "A", "A", "A", "B", "C"], dtype="str"),
    "feedback_date": _dates(["2024-06-01", "2024-11-01", "2025-03-01", "2025-05-01", "2025-01-01", "2025-02-01"]),
    "satisfaction": pd.array([2, 4, 5, 1, None, 3], dtype="Int64"),
    "nps": pd.array([5, None, 9, 0, 7, 6], dtype="Int64"),
})

TABLES = {"orders": ORDERS, "customers": CUSTOMERS, "interactions": INTERACTIONS, "feedback": FEEDBACK}


@pytest.fixture(scope="module")
def table():
    return customer_table(TABLES, OBS).set_index("customer_id")


def test_rows_are_everyone_known_at_the_observation_date(table):
    # C is known from orders only, D never bought; E signs up after OBS and does not exist yet
    assert table.index.tolist() == ["A", "B", "C", "D"]
    assert table.loc["D", "frequency"] == 0 and table.loc["C", "frequency"] == 0
    assert table.loc["A", "customer_type"] == "B2B" and pd.isna(table.loc["C", "customer_type"])
    assert "source_row" not in table


def test_recency_frequency_monetary_net_of_returns(table):
    a, b = table.loc["A"], table.loc["B"]
    assert a["recency_days"] == 59  # 2025-02-01 -> 2025-04-01
    assert a["frequency"] == 4  # completed only: the return, refund and cancellation are no purchases
    assert a["monetary"] == 350.0  # 100 + 200 + 50 + 30 - 30 returned
    assert a["aov"] == 87.5
    assert a["refunded_orders"] == 2 and a["return_rate"] == pytest.approx(2 / 6)
    assert (b["recency_days"], b["frequency"], b["monetary"], b["aov"]) == (212, 2, 120.0, 60.0)
    assert b["refunded_orders"] == 0 and b["return_rate"] == 0.0


def test_first_last_order_and_tenure_with_signup(table):
    assert table.loc["A", "first_order"] == pd.Timestamp("2024-10-01")
    assert table.loc["A", "last_order"] == pd.Timestamp("2025-02-01")
    assert table.loc["A", "tenure_days"] == 442  # from the signup 2024-01-15, before the first order
    assert table.loc["B", "tenure_days"] == 365  # no signup date: from the first order 2024-04-01
    assert table.loc["D", "tenure_days"] == 31  # signup 2025-03-01, never bought
    assert pd.isna(table.loc["C", "tenure_days"])  # neither a signup nor a purchase


def test_cadence_is_median_gap_between_purchase_days(table):
    # A bought on 2024-10-01, 2024-12-01 and twice on 2025-02-01: gaps 61 and 62 days
    assert table.loc["A", "cadence_days"] == 61.5
    assert table.loc["A", "last_gap_days"] == 62
    assert table.loc["B", "cadence_days"] == 153.0 and table.loc["B", "last_gap_days"] == 153


def test_ninety_day_windows_and_trend(table):
    a = table.loc["A"]
    assert (a["orders_90d"], a["orders_prev_90d"]) == (2, 1)  # 2024-10-01 is 182 days back: in neither
    assert (a["revenue_90d"], a["revenue_prev_90d"]) == (50.0, 200.0)  # 50 + 30 - 30 returned; 200
    assert a["trend_90d"] == pytest.approx((50 - 200) / (50 + 200))
    b = table.loc["B"]
    assert (b["orders_90d"], b["revenue_90d"], b["revenue_prev_90d"]) == (0, 0.0, 0.0)
    assert pd.isna(b["trend_90d"])  # nothing in either window


def test_interactions_in_total_and_per_channel(table):
    a, b, c = table.loc["A"], table.loc["B"], table.loc["C"]
    assert (a["interactions_30d"], a["interactions_90d"], a["interactions_365d"]) == (1, 2, 3)
    assert (a["interactions_visit_30d"], a["interactions_visit_90d"], a["interactions_visit_365d"]) == (1, 1, 1)
    # "e-mail" and "E-Mail" are one channel; the 2024-03-01 call is more than 365 days back
    assert (a["interactions_e_mail_30d"], a["interactions_e_mail_90d"], a["interactions_e_mail_365d"]) == (0, 1, 2)
    assert a["interactions_call_365d"] == 0 and a["last_interaction_days"] == 7
    assert (b["interactions_30d"], b["interactions_365d"], b["interactions_call_365d"]) == (1, 2, 1)
    assert b["interactions_unspecified_30d"] == 1  # a contact without a channel
    assert b["last_interaction_days"] == 1
    assert c["interactions_365d"] == 0 and pd.isna(c["last_interaction_days"])
    assert table["interactions_30d"].dtype == "int64" and table["last_interaction_days"].dtype == "Int64"


def test_satisfaction_trend_and_nps_class(table):
    a, b, c, d = (table.loc[k] for k in "ABCD")
    assert a["feedback_count"] == 3  # the 2025-05-01 answer is the future
    assert a["satisfaction_mean"] == pytest.approx(11 / 3)
    assert a["satisfaction_latest"] == 5.0
    assert a["satisfaction_trend"] == 2.0  # 5 minus the mean of 2 and 4
    assert a["nps_latest"] == 9 and a["nps_class"] == "promoter"
    assert b["feedback_count"] == 1 and pd.isna(b["satisfaction_mean"]) and pd.isna(b["satisfaction_trend"])
    assert b["nps_latest"] == 7 and b["nps_class"] == "passive"
    assert c["satisfaction_latest"] == 3.0 and pd.isna(c["satisfaction_trend"])  # one score: no trend
    assert c["nps_class"] == "detractor"
    assert d["feedback_count"] == 0 and pd.isna(d["nps_latest"]) and pd.isna(d["nps_class"])


def test_top_category_and_shares(table):
    # A: Books 100 + 50 + 30 = 180, Toys 200 - 30 = 170 -> Books, 180 of 350 positive revenue
    assert table.loc["A", "top_category"] == "Books"
    assert table.loc["A", "top_category_share"] == pytest.approx(180 / 350)
    assert table.loc["B", "top_category"] == "Garden" and table.loc["B", "top_category_share"] == 1.0
    assert pd.isna(table.loc["C", "top_category"]) and pd.isna(table.loc["C", "top_category_share"])
    shares = category_shares(ORDERS, OBS)
    assert shares.columns.tolist() == ["customer_id", "category", "revenue", "share"]
    assert shares[["customer_id", "category"]].values.tolist() == [["A", "Books"], ["A", "Toys"], ["B", "Garden"]]
    assert shares["revenue"].tolist() == [180.0, 170.0, 120.0]
    assert shares["share"].tolist() == pytest.approx([180 / 350, 170 / 350, 1.0])


def test_dtypes_follow_the_contract(table):
    expected = {
        "recency_days": "Int64", "frequency": "int64", "monetary": "float64", "aov": "float64",
        "first_order": "datetime64[s]", "last_order": "datetime64[s]", "tenure_days": "Int64",
        "cadence_days": "float64", "last_gap_days": "Int64", "orders_90d": "int64", "orders_prev_90d": "int64",
        "revenue_90d": "float64", "revenue_prev_90d": "float64", "trend_90d": "float64",
        "refunded_orders": "int64", "return_rate": "float64", "feedback_count": "int64",
        "satisfaction_mean": "float64", "satisfaction_latest": "float64", "satisfaction_trend": "float64",
        "nps_latest": "Int64", "nps_class": "str", "top_category": "str", "top_category_share": "float64",
    }
    assert {col: str(table[col].dtype) for col in expected} == expected
    assert str(table.reset_index()["customer_id"].dtype) == "str"


def test_absent_tables_give_absent_columns():
    table = customer_table({"orders": ORDERS}, OBS)
    assert table["customer_id"].tolist() == ["A", "B", "C"]
    assert not [c for c in table if c.startswith(("interactions_", "satisfaction", "nps", "feedback"))]
    assert "last_interaction_days" not in table and "customer_type" not in table
    assert table.loc[0, "tenure_days"] == 182  # no customer table: from the first order
    with_feedback = customer_table({"orders": ORDERS, "feedback": FEEDBACK.drop(columns="nps")}, OBS)
    assert with_feedback["nps_latest"].isna().all()  # a missing score column: missing scores
    assert not [c for c in with_feedback if c.startswith("interactions")]


def test_customers_who_never_purchased_keep_a_row():
    orders = orders_frame([("A", "2025-01-01", "refunded", 0.0, "Books")])
    customers = CUSTOMERS.iloc[[2]]  # D
    table = customer_table({"orders": orders, "customers": customers}, OBS).set_index("customer_id")
    assert table.index.tolist() == ["A", "D"]
    assert (table["frequency"] == 0).all() and (table["monetary"] == 0.0).all()
    assert table["recency_days"].isna().all() and table["aov"].isna().all() and table["first_order"].isna().all()
    assert table["top_category"].isna().all() and table["cadence_days"].isna().all()


def test_no_orders_at_all_still_gives_typed_rows():
    table = customer_table({"orders": ORDERS.iloc[0:0], "customers": CUSTOMERS.iloc[[0, 2]]}, OBS)
    assert table["customer_id"].tolist() == ["A", "D"]
    assert table["frequency"].tolist() == [0, 0] and table["monetary"].tolist() == [0.0, 0.0]
    assert table["monetary"].dtype == "float64" and table["top_category"].isna().all()
    future_only = customer_table({"orders": ORDERS.loc[ORDERS["order_date"] >= pd.Timestamp(OBS)]}, OBS)
    assert future_only.empty and "recency_days" in future_only  # A is not a customer yet
    assert category_shares(ORDERS.iloc[0:0], OBS).empty


def test_nothing_on_or_after_the_observation_date_counts():
    def past(frame, column):
        return frame.loc[frame[column] < pd.Timestamp(OBS)]

    trimmed = {
        "orders": past(ORDERS, "order_date"),
        "customers": CUSTOMERS.loc[CUSTOMERS["customer_id"] != "E"],
        "interactions": past(INTERACTIONS, "interaction_date"),
        "feedback": past(FEEDBACK, "feedback_date"),
    }
    # channels are taken from the whole table, so a channel used only later keeps its columns
    pd.testing.assert_frame_equal(customer_table(TABLES, OBS), customer_table(trimmed, OBS))
    pd.testing.assert_frame_equal(category_shares(ORDERS, OBS), category_shares(trimmed["orders"], OBS))


def test_earlier_observation_date_sees_the_customer_as_it_was():
    table = customer_table(TABLES, dt.date(2025, 1, 1)).set_index("customer_id")
    assert table.index.tolist() == ["A", "B"]  # C's first row is 2025-01-10, D signs up in March
    assert table.loc["A", "frequency"] == 2 and table.loc["A", "monetary"] == 300.0
    assert table.loc["A", "recency_days"] == 31 and table.loc["A", "satisfaction_latest"] == 4.0


def test_row_order_does_not_matter():
    shuffled = {name: frame.sample(frac=1, random_state=3) for name, frame in TABLES.items()}
    pd.testing.assert_frame_equal(customer_table(TABLES, OBS), customer_table(shuffled, OBS))
    pd.testing.assert_frame_equal(category_shares(ORDERS, OBS), category_shares(shuffled["orders"], OBS))


def test_inputs_are_not_modified():
    before = {name: frame.copy() for name, frame in TABLES.items()}
    customer_table(TABLES, OBS)
    category_shares(ORDERS, OBS)
    for name, frame in TABLES.items():
        pd.testing.assert_frame_equal(frame, before[name])


def test_ties_go_to_the_first_category_and_the_lowest_same_time_score():
    orders = orders_frame([
        ("A", "2025-03-01", "completed", 60.0, "Toys"),
        ("A", "2025-03-02", "completed", 60.0, "Books"),
        ("A", "2025-03-03", "returned", -10.0, "Garden"),  # only a return: revenue below zero
    ])
    feedback = pd.DataFrame({
        "customer_id": ["A", "A", "A"],
        "feedback_date": _dates(["2025-03-05", "2025-03-05", "2025-01-01"]),
        "satisfaction": pd.array([5, 2, 3], dtype="Int64"),
        "nps": pd.array([10, 3, 8], dtype="Int64"),
    })
    row = customer_table({"orders": orders, "feedback": feedback}, OBS).iloc[0]
    assert row["top_category"] == "Books" and row["top_category_share"] == 0.5
    assert row["nps_latest"] == 3 and row["nps_class"] == "detractor"
    assert row["satisfaction_latest"] == 2.0 and row["satisfaction_trend"] == 2.0 - (5 + 3) / 2
    shares = category_shares(orders, OBS)
    assert shares["category"].tolist() == ["Books", "Toys", "Garden"]
    assert shares["share"].tolist() == [0.5, 0.5, 0.0]  # a negative category has no share


def test_only_returns_means_no_share_at_all():
    orders = orders_frame([("A", "2025-03-01", "returned", -10.0, "Toys")])
    shares = category_shares(orders, OBS)
    assert shares["revenue"].tolist() == [-10.0] and shares["share"].isna().all()
    assert pd.isna(customer_table({"orders": orders}, OBS).loc[0, "top_category"])


def test_orders_without_category_are_unspecified():
    orders = ORDERS.drop(columns="category")
    table = customer_table({"orders": orders}, OBS)
    assert table["top_category"].tolist()[:2] == ["Unspecified", "Unspecified"]


def test_categorical_ids_give_the_same_table():
    categorical = {
        name: frame.assign(customer_id=frame["customer_id"].astype(pd.CategoricalDtype([*"ZYXEDCBA"])))
        for name, frame in TABLES.items()
    }  # unused categories (Z, Y, X) must not become customers
    pd.testing.assert_frame_equal(customer_table(TABLES, OBS), customer_table(categorical, OBS))
    mixed = {**TABLES, "orders": categorical["orders"]}  # one categorical table among text ones
    pd.testing.assert_frame_equal(customer_table(TABLES, OBS), customer_table(mixed, OBS))
    numbers = ORDERS.assign(customer_id=ORDERS["customer_id"].map({"A": 10, "B": 9, "C": 11}).astype("category"))
    assert customer_table({"orders": numbers}, OBS)["customer_id"].tolist() == ["10", "11", "9"]  # ids are text


def test_rfm_features_is_a_view_of_the_customer_table():
    rfm = rfm_features(ORDERS, OBS)
    assert rfm.index.tolist() == ["A", "B"]  # C only cancelled: it never ordered
    assert rfm.columns.tolist() == [
        "recency_days", "frequency", "monetary", "aov", "first_order", "last_order", "refunded_orders", "return_rate",
    ]
    assert rfm.loc["A", "monetary"] == 350.0


def test_channel_slugs():
    assert channel_slug("E-Mail ") == "e_mail"
    assert channel_slug("Live chat / WeChat") == "live_chat_wechat"
    assert channel_slug("电话") == "电话"
    assert channel_slug("--") == "unspecified"


@pytest.mark.parametrize(
    ("tables", "date", "message"),
    [
        ({"customers": CUSTOMERS}, OBS, "needs an 'orders' table"),
        ({"orders": ORDERS.drop(columns="revenue")}, OBS, "orders table: column 'revenue' is missing"),
        ({"orders": ORDERS.assign(order_date=ORDERS["order_date"].astype("str"))}, OBS,
         "column 'order_date' must hold datetimes"),
        ({"orders": ORDERS.assign(customer_id=ORDERS["customer_id"].where(ORDERS["customer_id"] != "B"))}, OBS,
         "orders table: 2 rows have no customer_id"),
        ({"orders": ORDERS, "customers": pd.concat([CUSTOMERS, CUSTOMERS.iloc[[0]]])}, OBS,
         "customer_id 'A' appears more than once"),
        ({"orders": ORDERS, "interactions": INTERACTIONS.drop(columns="interaction_date")}, OBS,
         "interactions table: column 'interaction_date' is missing"),
        ({"orders": ORDERS.assign(revenue=np.nan)}, OBS, "'revenue' is missing on completed or returned"),
        ({"orders": ORDERS}, dt.datetime(2025, 4, 1, 12), "observation_date must be a date"),
    ],
)
def test_unusable_input_fails_loudly(tables, date, message):
    with pytest.raises(ValueError, match=message):
        customer_table(tables, date)


def test_dense_and_sparse_category_sums_agree(monkeypatch):
    dense = customer_table(TABLES, OBS), category_shares(ORDERS, OBS)
    monkeypatch.setattr(_kernels, "_DENSE_CELLS", 0)
    sparse = customer_table(TABLES, OBS), category_shares(ORDERS, OBS)
    pd.testing.assert_frame_equal(dense[0], sparse[0])
    pd.testing.assert_frame_equal(dense[1], sparse[1])


def test_packed_sort_and_its_fallback_agree():
    rng = np.random.default_rng(1)
    small = [rng.integers(0, 50, 500), rng.integers(-5, 5, 500), rng.integers(0, 3, 500)]
    wide = [small[0], small[1] * 2**61, small[2]]  # too wide to pack: lexsort
    for columns in (small, wide):
        got = _arrays.sort_rows(*columns)
        order = np.lexsort(columns[::-1])
        for column, sorted_column in zip(columns, got):
            assert (sorted_column == column[order]).all()


# ---------------------------------------------------------------------------------------------
# A generated company, against a plain pandas reference
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def company():
    """Clean-shaped tables from the sample generator, with some purchases turned into returns."""
    sample = generate_sample(SampleSpec(n_customers=300, seed=5, messy=False))
    raw = sample.orders
    base = (raw["amount"] * raw["currency"].map(EXCHANGE_RATES).astype("float64")).round(2)
    returned = np.random.default_rng(0).random(len(raw)) < 0.03
    status = raw["status"].where(~(returned & raw["status"].eq("completed").to_numpy()), "returned")
    revenue = np.where(status.eq("completed"), base, np.where(status.eq("returned"), -base, 0.0))
    orders = raw.assign(customer_id=raw["customer_id"].astype("str"), status=status.astype("str"),
                        amount_base=base, revenue=revenue)
    tables = {
        "orders": orders,
        "customers": sample.customers,
        "interactions": sample.interactions.assign(customer_id=sample.interactions["customer_id"].astype("str")),
        "feedback": sample.feedback.assign(satisfaction=sample.feedback["satisfaction"].astype("Int64"),
                                           nps=sample.feedback["nps"].astype("Int64")),
    }
    # a date inside the data, so that later rows exist and must be ignored
    return tables, dt.date(2026, 6, 1)


def test_generated_company_matches_a_pandas_reference(company):
    tables, obs = company
    table = customer_table(tables, obs).set_index("customer_id")
    cutoff = pd.Timestamp(obs)
    orders = tables["orders"].loc[tables["orders"]["order_date"] < cutoff]
    bought = orders.loc[orders["status"] == "completed"]
    by = bought.groupby("customer_id")
    frequency = by.size()
    assert (table["frequency"] == frequency.reindex(table.index, fill_value=0)).all()
    net = orders.loc[orders["status"].isin(["completed", "returned"])].groupby("customer_id")["revenue"].sum()
    assert np.allclose(table["monetary"], net.reindex(table.index, fill_value=0.0), atol=0.005)
    recency = (cutoff - by["order_date"].max()).dt.days
    assert (table.loc[recency.index, "recency_days"] == recency).all()

    def gaps(dates):
        return dates.drop_duplicates().sort_values().diff().dt.days.dropna()

    gap = bought.groupby("customer_id")["order_date"].apply(gaps)
    cadence = gap.groupby(level=0).median()
    assert np.allclose(table.loc[cadence.index, "cadence_days"], cadence)
    assert (table.loc[cadence.index, "last_gap_days"] == gap.groupby(level=0).last()).all()
    recent = bought.loc[bought["order_date"] >= cutoff - pd.Timedelta(days=90)].groupby("customer_id").size()
    assert (table["orders_90d"] == recent.reindex(table.index, fill_value=0)).all()

    contacts = tables["interactions"]
    contacts = contacts.loc[contacts["interaction_date"].between(cutoff - pd.Timedelta(days=90), cutoff,
                                                                 inclusive="left")]
    for channel, count in contacts.groupby("channel").size().items():
        per_customer = contacts.loc[contacts["channel"] == channel].groupby("customer_id").size()
        assert table[f"interactions_{channel}_90d"].sum() == count
        assert (table[f"interactions_{channel}_90d"] == per_customer.reindex(table.index, fill_value=0)).all()

    answers = tables["feedback"].loc[tables["feedback"]["feedback_date"] < cutoff]
    mean = answers.groupby("customer_id")["satisfaction"].mean()
    assert np.allclose(table.loc[mean.index, "satisfaction_mean"], mean.astype("float64"))
    assert table["feedback_count"].sum() == len(answers)
    assert table["frequency"].sum() > 1000 and table["satisfaction_trend"].notna().sum() > 20  # data to compare


def test_generated_company_does_not_depend_on_row_order(company):
    tables, obs = company
    shuffled = {name: frame.sample(frac=1, random_state=11) for name, frame in tables.items()}
    pd.testing.assert_frame_equal(customer_table(tables, obs), customer_table(shuffled, obs))
    pd.testing.assert_frame_equal(category_shares(tables["orders"], obs), category_shares(shuffled["orders"], obs))


# ---------------------------------------------------------------------------------------------
# Fast paths against the plain ones
# ---------------------------------------------------------------------------------------------

EDGE_ORDERS = orders_frame([
    ("one", "2025-01-05 00:00", "completed", 10.0, "Books"),  # a single order
    ("tie1", "2025-02-01 00:00", "completed", 20.0, "Books"),  # ties: the same day and value as tie2
    ("tie2", "2025-02-01 00:00", "completed", 20.0, "Books"),
    ("tie2", "2025-02-01 00:00", "completed", 5.0, "Toys"),  # a second purchase on the same day
    ("back", "2025-01-10 00:00", "returned", -15.0, "Toys"),  # only returns: net spend below zero
    ("back", "2025-03-10 00:00", "refunded", 0.0, "Toys"),
    ("refund", "2025-03-01 00:00", "refunded", 0.0, "Books"),  # only a refund
    ("void", "2025-03-02 00:00", "cancelled", 0.0, "Books"),  # only a cancellation: never ordered
    ("later", "2025-05-01 00:00", "completed", 70.0, "Books"),  # only after the date: not yet a customer
    ("even", "2024-12-01 10:00", "completed", 40.0, "Books"),  # buys and returns it all
    ("even", "2024-12-01 18:30", "returned", -40.0, "Books"),
])


def rfm_from_the_customer_table(orders: pd.DataFrame, date: dt.date) -> pd.DataFrame:
    """rfm_features as it was first written: a view of the full customer table."""
    table = customer_table({"orders": orders}, date)
    ordered = table["frequency"].gt(0) | table["refunded_orders"].gt(0)
    return table.loc[ordered].set_index("customer_id")[list(rfm_features(ORDERS, OBS).columns)]


@pytest.mark.parametrize("orders", [ORDERS, EDGE_ORDERS, pd.concat([ORDERS, EDGE_ORDERS], ignore_index=True)],
                         ids=["three-customers", "edge-cases", "both"])
def test_rfm_features_equal_the_customer_table_view(orders):
    for date in (OBS, dt.date(2025, 2, 1), dt.date(2030, 1, 1)):
        expected = rfm_from_the_customer_table(orders, date)
        pd.testing.assert_frame_equal(rfm_features(orders, date), expected)
        shuffled = orders.sample(frac=1.0, random_state=3)  # row order does not matter
        pd.testing.assert_frame_equal(rfm_features(shuffled, date), expected)
    coded = orders.assign(customer_id=orders["customer_id"].astype("category"))
    pd.testing.assert_frame_equal(rfm_features(coded, OBS), rfm_from_the_customer_table(orders, OBS))


def test_rfm_features_of_no_orders_and_of_the_generated_company(company):
    empty = EDGE_ORDERS.iloc[:0]
    pd.testing.assert_frame_equal(rfm_features(empty, OBS), rfm_from_the_customer_table(empty, OBS))
    assert rfm_features(empty, OBS).empty
    tables, obs = company
    pd.testing.assert_frame_equal(rfm_features(tables["orders"], obs),
                                  rfm_from_the_customer_table(tables["orders"], obs))


@pytest.mark.parametrize("date", [OBS, dt.date(2024, 11, 1), dt.date(2025, 3, 2)])
def test_features_at_computes_the_asked_features_as_the_full_table_does(date):
    history = features.prepare(TABLES)
    full = features.features_at(history, date)
    core = ["recency_days", "frequency", "monetary", "first_order", "last_order", "tenure_days",
            "cadence_days", "last_gap_days"]
    for asked in ([], ["interactions_90d"], ["top_category"], ["nps_class", "trend_90d"], ["orders_90d"]):
        lean = features.features_at(history, date, attributes=False, features=asked)
        shown = [c for c in full.columns if c in ("customer_id", *core) or c in asked]
        assert lean.columns.tolist() == shown
        pd.testing.assert_frame_equal(lean, full[shown])
    # the history serves every date: a caller changing a table must not change the next one
    table = features.features_at(history, date)
    table.loc[0, "customer_type"] = "changed"
    table.loc[0, "customer_id"] = "changed"
    pd.testing.assert_frame_equal(features.features_at(history, date), full)


def test_sort_rows_matches_a_lexsort_on_grouped_and_shuffled_rows():
    rng = np.random.default_rng(4)
    code = np.sort(rng.integers(0, 50, 2000))  # grouped by the first column: the timsort path
    value, other = rng.integers(-5, 5, 2000), rng.integers(0, 3, 2000)  # many ties
    for first in (code, rng.permutation(code)):
        order = np.lexsort((other, value, first))
        for got, expected in zip(_arrays.sort_rows(first, value, other), (first[order], value[order], other[order])):
            np.testing.assert_array_equal(got, expected)
    empty = np.zeros(0, dtype=np.int64)
    assert all(len(part) == 0 for part in _arrays.sort_rows(empty, empty))


def test_ids_are_coded_alike_from_text_and_from_chunked_arrow_text():
    # read from Parquet, a text column comes in many chunks that Arrow encodes with one table
    chunks = pa.chunked_array([["b", "a", None], [], ["c", "a", "b"]], type=pa.large_string())
    codes, uniques = _idcode.encode(pd.Series(pd.arrays.ArrowStringArray(chunks)))
    assert uniques.tolist() == ["b", "a", "c"]  # in order of appearance, missing left out
    assert codes.tolist() == [0, 1, -1, 2, 1, 0]
    plain_codes, plain_uniques = pd.factorize(pd.Series(["b", "a", None, "c", "a", "b"], dtype="str"))
    assert codes.tolist() == plain_codes.tolist() and uniques.tolist() == plain_uniques.tolist()


def test_a_sorted_customer_table_numbers_the_ids_as_the_general_merge_does():
    complete = pd.concat([CUSTOMERS, pd.DataFrame({"customer_id": pd.array(["C"], dtype="str"), "source_row": [6]})])
    in_order = complete.sort_values("customer_id", ignore_index=True)  # names every customer, sorted
    shuffled = complete.iloc[[3, 0, 4, 2, 1]].reset_index(drop=True)
    local = {name: _idcode.encode(frame["customer_id"]) for name, frame in
             (("orders", ORDERS), ("customers", in_order), ("interactions", INTERACTIONS))}
    assert _idcode.numbered_by_customers(local) is not None  # the lookup path is taken
    unsorted = {**local, "customers": _idcode.encode(shuffled["customer_id"])}
    assert _idcode.numbered_by_customers(unsorted) is None  # the general merge is
    expected = customer_table({**TABLES, "customers": shuffled}, OBS)
    pd.testing.assert_frame_equal(customer_table({**TABLES, "customers": in_order}, OBS), expected)
    # an order of a customer the table lacks (C), or a repeated id, goes the general way
    assert _idcode.numbered_by_customers({**local, "customers": _idcode.encode(CUSTOMERS["customer_id"])}) is None
    twice = pd.concat([in_order, in_order.iloc[:1]]).sort_values("customer_id", ignore_index=True)
    with pytest.raises(ValueError, match="customer_id 'A' appears more than once"):
        customer_table({**TABLES, "customers": twice}, OBS)


def test_a_history_without_purchases_still_gives_the_category_shares():
    history = features.prepare(TABLES)
    lean = history.without_purchases()
    assert history.purchases is not None  # the full history is not changed
    pd.testing.assert_frame_equal(features.category_shares_at(lean, OBS), features.category_shares_at(history, OBS))
    with pytest.raises(ValueError, match="let go"):
        features.features_at(lean, OBS)


@pytest.mark.parametrize("values", [
    [["C01", "C02"], [], ["C01", "C03", "C02"]],  # one width: hashed as fixed-width bytes
    [["C01", "C2"], ["C01"]],  # two widths
    [["C01", None], ["C02"]],  # a missing id
    [["", ""], [""]],  # empty text
    [["客户1", "AB1234"], ["客户1"]],  # one width in bytes (7), not in characters
], ids=["one-width", "two-widths", "missing", "empty", "utf8"])
def test_encoded_ids_match_pandas_factorize(values):
    column = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(values, type=pa.large_string())))
    sliced = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(
        [pa.array(["X00", *chunk], type=pa.large_string()).slice(1) for chunk in values])))  # chunks with offsets
    for text in (column, sliced):
        codes, uniques = _idcode.encode(text)
        plain_codes, plain_uniques = pd.factorize(text)
        assert codes.tolist() == plain_codes.tolist()
        assert uniques.tolist() == plain_uniques.tolist() and uniques.dtype == "str"


def _general_numbering(columns):
    return _idcode.merge_ids({name: _idcode.encode(column) for name, column in columns.items()})


@pytest.mark.parametrize("dense", [True, False], ids=["table", "hashed"])
@pytest.mark.parametrize("alphabet", ["0123456789", "ABCDEFabcdef0123456789-", "中客户é1"],
                         ids=["digits", "mixed", "utf8"])
def test_ids_read_as_numbers_are_numbered_as_the_text_is(alphabet, dense, monkeypatch):
    if not dense:  # every span counts as sparse: the numbers are hashed
        monkeypatch.setattr(_idcode, "_DENSE_ID_NUMBERS", 0)
        monkeypatch.setattr(_idcode, "_DENSE_ID_NUMBERS_PER_ROW", 0)
    rng = np.random.default_rng(len(alphabet))
    for width in (1, 2, 4):  # four CJK characters are 12 bytes, each of a narrow range
        vocabulary = sorted({"".join(rng.choice(list(alphabet), width)) for _ in range(300)})
        vocabulary = [value for value in vocabulary if len(value.encode()) == len(vocabulary[0].encode())]
        orders = rng.choice(vocabulary, 2000)
        chunks = [pa.array(["pad", *part], type=pa.large_string()).slice(1) for part in np.array_split(orders, 3)]
        columns = {
            "orders": pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks))),  # chunks with offsets
            "customers": pd.Series(rng.choice(vocabulary, 40), dtype="str"),
            "feedback": pd.Series(list(rng.choice(vocabulary, 10)), dtype=object),
        }
        _assert_numbered_as_the_text(columns)


def _assert_numbered_as_the_text(columns):
    packed = _idcode.id_bytes(columns)
    assert packed is not None
    ids, codes = _idcode.packed_ids(packed)
    expected_ids, expected_codes = _general_numbering(columns)
    assert ids.dtype == expected_ids.dtype and ids.tolist() == expected_ids.tolist() == sorted(set(ids.tolist()))
    for name in columns:
        assert codes[name].dtype == expected_codes[name].dtype
        np.testing.assert_array_equal(codes[name], expected_codes[name])


@pytest.mark.parametrize("dense", [True, False], ids=["table", "hashed"])
def test_ids_of_varied_widths_are_padded_and_numbered_as_the_text_is(dense, monkeypatch):
    if not dense:
        monkeypatch.setattr(_idcode, "_DENSE_ID_NUMBERS", 0)
        monkeypatch.setattr(_idcode, "_DENSE_ID_NUMBERS_PER_ROW", 0)
    rng = np.random.default_rng(9)
    # prefixes of each other (C1 < C10 < C2), no common width, one id as long as the widest
    vocabulary = ["C1", "C10", "C100", "C2", "C", "D-7", "C9", "10", "9", "C1~",
                  *[f"C{n}" for n in rng.integers(0, 5000, 300)]]
    orders = rng.choice(vocabulary, 3000)
    chunks = [pa.array(["pad", *part], type=pa.large_string()).slice(1) for part in np.array_split(orders, 4)]
    _assert_numbered_as_the_text({
        "orders": pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(chunks))),
        "customers": pd.Series(sorted(set(rng.choice(vocabulary, 50))), dtype="str"),
        "interactions": pd.Series(["C00001"] * 3, dtype="str"),  # a width no other table has
    })


@pytest.mark.parametrize("columns", [
    {"orders": pd.Series(["客户1", "C2"], dtype="str")},  # two widths, not ASCII: padding counts characters
    {"orders": pd.Series(["C01", "C\x00"], dtype="str")},  # two widths, one with the padding byte
    {"orders": pd.Series(["C01", None], dtype="str")},  # a missing id
    {"orders": pd.Series(["C01", "C02"], dtype="category")},
    {"orders": pd.Series([1, 2])},  # not text
    {"orders": pd.Series(["\x01" * 10, "\x7f" * 10], dtype="str")},  # 127 ** 10 numbers: more than int64 holds
], ids=["widths-utf8", "widths-nul", "missing", "categorical", "numbers", "too-wide"])
def test_ids_that_cannot_be_read_as_numbers_are_hashed(columns):
    assert _idcode.id_bytes(columns) is None


def test_rfm_features_are_the_same_for_ids_read_as_numbers_and_hashed():
    rng = np.random.default_rng(3)
    n = 5000
    orders = pd.DataFrame({
        "customer_id": pd.Series([f"K{number:06d}" for number in rng.integers(0, 900, n)], dtype="str"),
        "order_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D"),
        "status": rng.choice(["completed", "returned", "cancelled", "refunded"], n),
        "revenue": rng.normal(100, 30, n).round(2),
    })
    packed = rfm_features(orders, OBS)
    # an id of another width that is not ASCII sends them the hashing way; its customer, whose
    # one order is after the date, is dropped from the summary
    mixed = pd.concat([orders, orders.iloc[:1].assign(customer_id="客户", order_date=pd.Timestamp("2030-01-01"))])
    hashed = rfm_features(mixed.reset_index(drop=True), OBS)
    assert _idcode.id_bytes({"orders": mixed["customer_id"]}) is None
    pd.testing.assert_frame_equal(packed, hashed)
    # ids without their zeros (K12) are padded: the same figures for the same customers
    short = orders.assign(customer_id=orders["customer_id"].str.replace(r"^K0+", "K", regex=True))
    assert _idcode.id_bytes({"orders": short["customer_id"]}) is not None
    padded = rfm_features(short, OBS)
    np.testing.assert_array_equal(padded.index.to_numpy(), np.sort(padded.index.to_numpy()))
    zeros_back = pd.Index([f"K{int(text[1:] or 0):06d}" for text in padded.index], dtype="str", name="customer_id")
    pd.testing.assert_frame_equal(padded.set_axis(zeros_back).sort_index(), packed)


def test_orders_dated_by_the_day_are_sorted_by_day_keys_to_the_same_history(company, monkeypatch):
    tables, _ = company
    orders = tables["orders"]
    days = {**tables, "orders": orders.assign(order_date=orders["order_date"].dt.normalize())}
    assert _arrays.whole_days(*_order_seconds_and_days(days["orders"]))
    assert not _arrays.whole_days(*_order_seconds_and_days(days["orders"].assign(
        order_date=days["orders"]["order_date"] + pd.Timedelta(seconds=1))))
    history = features.prepare(days)
    monkeypatch.setattr(_arrays, "whole_days", lambda seconds, day: False)  # the (customer, time) sort
    by_time = features.prepare(days)
    assert history.purchases.seconds is None  # the days in the keys are the times
    everywhere = np.arange(len(by_time.purchases.seconds))
    np.testing.assert_array_equal(history.purchases.times(everywhere), by_time.purchases.seconds)
    for name in ("key", "start", "gap", "gap_key", "gap_start", "median_gap", "median_day"):
        np.testing.assert_array_equal(getattr(history.purchases, name), getattr(by_time.purchases, name), err_msg=name)
    for date in (dt.date(2024, 6, 30), dt.date(2025, 1, 1), OBS):
        pd.testing.assert_frame_equal(features.features_at(history, date), features.features_at(by_time, date))


def _order_seconds_and_days(orders: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    arrays = _arrays.OrderArrays.of(orders, categories=False)
    return arrays.seconds, arrays.day


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns", "D"])
def test_dates_in_any_unit_become_the_seconds_numpy_casts_them_to(unit):
    stamps = np.array(["1969-12-31T23:59:59.999999", "1970-01-01", "2025-03-31T23:59:59.5", "NaT",
                       "1900-06-01T12:00:00.25"], dtype="datetime64[us]").astype(f"datetime64[{unit}]")
    frame = pd.DataFrame({"when": stamps})
    expected = stamps.astype("datetime64[s]").view(np.int64)
    np.testing.assert_array_equal(_arrays.column_seconds(frame, "orders", "when", required=False), expected)
    with pytest.raises(ValueError, match="orders table: column 'when' has 1 missing dates"):
        _arrays.column_seconds(frame, "orders", "when", required=True)


def test_revenue_summed_in_blocks_gives_the_same_table(company, monkeypatch):
    tables, obs = company
    history = features.prepare(tables)
    dates = (obs, dt.date(2025, 6, 1))
    # the full table (90-day windows, top category) and the lean one of past snapshot dates
    expected = [(features.features_at(history, date), features.features_at(history, date, features=[]))
                for date in dates]
    monkeypatch.setattr(_arrays, "_SUM_BLOCK", 500)  # many blocks, the last one short
    assert len(tables["orders"]) > 10 * 500
    for date, (full, lean) in zip(dates, expected):
        pd.testing.assert_frame_equal(features.features_at(history, date), full)
        pd.testing.assert_frame_equal(features.features_at(history, date, features=[]), lean)
