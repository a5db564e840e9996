"""Intake: every row accounted for, each quarantine reason, each failure message, both input shapes."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custseg.config import ConfigError, load_config
from custseg.intake.cleaning import IntakeError, quarantine_sheet, read_table, run_intake, write_intake
from custseg.intake.validation import REASONS

QUARANTINE_ALL = {"cleaning": {"stop_on": []}}

ORDERS = """order_id,customer_id,order_date,amount,currency,status,category
O1,C1,2025-01-05,100.00,CNY,completed,Tea
O2,C1,2025-02-05,10.00,USD,completed,Tea
O2,C1,2025-02-05,10.00,USD,completed,Tea
O3,C2,2025-13-01,50,CNY,completed,Tea
O4,,2025-03-01,50,CNY,completed,Tea
O5,C2,2025-03-01,abc,CNY,completed,Tea
O6,C2,2025-03-01,0,CNY,completed,Tea
O7,C2,2025-03-01,5,XYZ,completed,Tea
O8,C2,2025-03-01,5,CNY,lost in space,Tea
O9,C2,2025-03-02,80,,cancelled,
O10,C3,2025-03-03,30,cny,Refunded,Tea
O1,C9,2025-03-04,30,CNY,completed,Tea
O11,C3,2025-03-05,-12.50,CNY,completed,Tea
"""


def _orders_config(write_csv, write_config, text=ORDERS, **overrides):
    return load_config(write_config({"orders": str(write_csv("orders.csv", text))}, **(QUARANTINE_ALL | overrides)))


def test_every_row_is_accounted_for_with_its_reason_and_row_number(write_csv, write_config):
    config = _orders_config(write_csv, write_config)
    result = run_intake(config)
    acc = result.accounting.iloc[0]
    assert (acc.rows_read, acc.clean, acc.quarantined, acc.duplicates_removed) == (13, 4, 8, 1)
    assert (acc.format, acc.encoding, acc.delimiter) == ("csv", "utf-8", ",")
    q = result.quarantine.set_index("row")
    # file line numbers: header is line 1, so O3 is line 5
    assert q.loc[5, "reason"] == "bad_date" and q.loc[5, "column"] == "order_date" and q.loc[5, "value"] == "2025-13-01"
    assert q.loc[6, "reason"] == "missing_id" and q.loc[6, "column"] == "customer_id"
    assert q.loc[7, "reason"] == "bad_number" and q.loc[7, "value"] == "abc"
    assert q.loc[8, "reason"] == "zero_amount"
    assert q.loc[9, "reason"] == "unknown_currency" and q.loc[9, "value"] == "XYZ"
    assert q.loc[10, "reason"] == "unknown_status" and q.loc[10, "value"] == "lost in space"
    # O1 on rows 2 and 13 with different customers: which is right cannot be told, so neither is kept
    assert q.loc[[2, 13], "reason"].tolist() == ["conflicting_duplicate"] * 2 and q.loc[13, "column"] == "order_id"
    assert (q["file"] == str(config.inputs.orders.path)).all()
    assert acc.q_bad_date == 1 and acc.q_conflicting_duplicate == 2


def test_a_row_with_several_problems_is_quarantined_once_with_all_of_them(write_csv, write_config):
    text = "order_id,customer_id,order_date,amount\nO1,,someday,lots\nO2,C1,2025-01-01,5\n"
    result = run_intake(_orders_config(write_csv, write_config, text))
    assert len(result.quarantine) == 1
    row = result.quarantine.iloc[0]
    assert row["reason"] == "missing_id"  # the first problem in REASONS order
    assert json.loads(row["figures"]) == {"also": [["bad_date", "order_date"], ["bad_number", "amount"]]}
    detail = quarantine_sheet(result.quarantine).iloc[0]["detail"]  # as quarantine.csv shows it
    assert detail == "customer_id: a required id is empty (also bad_date in order_date; bad_number in amount)"


def test_refunds_net_to_zero_and_returns_against_spend(write_csv, write_config):
    orders = run_intake(_orders_config(write_csv, write_config)).tables["orders"].set_index("order_id")
    assert orders.loc["O2", "amount_base"] == pytest.approx(70.0)
    assert orders.loc["O9", "currency"] == "CNY"  # empty currency means the base currency
    assert orders.loc["O9", "revenue"] == 0 and orders.loc["O9", "category"] == "Unspecified"
    assert orders.loc["O10", "status"] == "refunded" and orders.loc["O10", "revenue"] == 0
    assert orders.loc["O11", "status"] == "returned" and orders.loc["O11", "revenue"] == pytest.approx(-12.5)
    assert orders["revenue"].sum() == pytest.approx(70 - 12.5)  # O1 is quarantined: two different rows


def test_statuses_and_numbers_as_exports_write_them(write_csv, write_config):
    text = (
        "order_id,customer_id,order_date,amount,status\n"
        'O1,C1,2025-01-01,"1,234.50",已完成\n'
        "O2,C1,2025-01-02,¥99,已取消\n"
        "O3,C1,2025-01-03,(20.00),PAID\n"
        "O4,C1,2025-01-04,15,\n"
    )
    orders = run_intake(_orders_config(write_csv, write_config, text)).tables["orders"].set_index("order_id")
    assert orders["status"].tolist() == ["completed", "cancelled", "returned", "completed"]
    assert orders["amount"].tolist() == [1234.5, 99.0, -20.0, 15.0]


def test_custom_status_words_come_from_the_config(write_csv, write_config):
    text = "order_id,customer_id,order_date,amount,status\nO1,C1,2025-01-01,5,Fulfilled\nO2,C1,2025-01-02,5,Storniert\n"
    statuses = {"completed": ["fulfilled"], "cancelled": ["storniert"], "refunded": ["erstattet"]}
    config = _orders_config(write_csv, write_config, text, cleaning={"stop_on": [], "statuses": statuses})
    orders = run_intake(config).tables["orders"]
    assert orders["status"].tolist() == ["completed", "cancelled"]


def test_zero_amounts_can_be_kept_by_rule(write_csv, write_config):
    text = "order_id,customer_id,order_date,amount\nO1,C1,2025-01-01,0\n"
    kept = run_intake(_orders_config(write_csv, write_config, text, cleaning={"stop_on": [], "zero_amount": "keep"}))
    assert kept.tables["orders"]["revenue"].tolist() == [0.0] and kept.quarantine.empty


def test_unparseable_date_stops_intake_by_default_naming_file_column_and_rows(write_csv, write_config):
    text = "order_id,customer_id,order_date,amount\nO1,C1,05/01/2025,5\nO2,C1,2025-01-02,5\nO3,C1,13/01/2025,5\n"
    config = load_config(write_config({"orders": str(write_csv("orders.csv", text))}))
    rows = r"row 2: '05/01/2025'; row 4: '13/01/2025'"
    with pytest.raises(IntakeError, match=r"orders\.csv: column 'order_date'.*" + rows + ".*date_format"):
        run_intake(config)
    path = write_csv("orders.csv", text.replace("2025-01-02", "02/01/2025"))
    fixed = load_config(write_config({"orders": {"path": str(path), "date_format": "%d/%m/%Y"}}))
    assert run_intake(fixed).tables["orders"]["order_date"].dt.month.tolist() == [1, 1, 1]


def test_unknown_currency_stops_intake_by_default(write_csv, write_config):
    text = "order_id,customer_id,order_date,amount,currency\nO1,C1,2025-01-01,5,JPY\n"
    config = load_config(write_config({"orders": str(write_csv("orders.csv", text))}))
    with pytest.raises(IntakeError, match=r"orders\.csv: column 'currency'.*row 2: 'JPY'.*currency\.rates"):
        run_intake(config)


def test_unknown_stop_reason_is_a_config_error(write_csv, write_config):
    config = _orders_config(write_csv, write_config, cleaning={"stop_on": ["bad_dates"]})
    with pytest.raises(ConfigError, match=r"cleaning\.stop_on: unknown reason 'bad_dates'"):
        run_intake(config)


def test_text_is_trimmed_and_full_width_normalised(write_csv, write_config):
    text = "customer_id,country,city\n Ｃ１ ,ＵＳＡ ,  Shenzhen\nC2,NA,x\n"
    inputs = {"orders": str(write_csv("o.csv", ORDERS)), "customers": str(write_csv("c.csv", text))}
    config = load_config(write_config(inputs))
    customers = read_table("customers", config.inputs.customers)
    assert customers["customer_id"].tolist() == ["C1", "C2"]
    assert customers["country"].tolist() == ["USA", "NA"]  # Namibia is not a missing value
    assert customers["city"].iloc[0] == "Shenzhen"


def test_missing_required_column_names_file_and_column(write_csv, write_config):
    path = write_csv("orders.csv", "order_id,customer_id,amount\nO1,C1,5\n")
    config = load_config(write_config({"orders": str(path)}))
    with pytest.raises(IntakeError, match=r"orders\.csv: required column 'order_date' is missing"):
        run_intake(config)


def test_the_wrong_file_is_a_clear_error(write_csv, write_config):
    customers = write_csv("customers.csv", "customer_id,country\nC1,CN\n")
    config = load_config(write_config({"orders": str(customers)}))
    with pytest.raises(IntakeError, match=r"customers\.csv: required column 'order_id' is missing"):
        run_intake(config)


def test_mapped_column_absent_from_file_names_both(write_csv, write_config):
    path = write_csv("orders.csv", "Bestellung,Kunde,Datum,Betrag\nO1,C1,2025-01-01,5\n")
    columns = {"order_id": "Bestellung", "customer_id": "Kunde", "order_date": "Datum", "amount": "Summe"}
    config = load_config(write_config({"orders": {"path": str(path), "columns": columns}}))
    with pytest.raises(IntakeError, match=r"column 'Summe' \(mapped to 'amount'"):
        run_intake(config)


def test_mapping_to_an_unknown_canonical_column_is_an_error(write_csv, write_config):
    path = write_csv("orders.csv", "order_id,customer_id,order_date,amount,x\nO1,C1,2025-01-01,5,1\n")
    config = load_config(write_config({"orders": {"path": str(path), "columns": {"ammount": "x"}}}))
    with pytest.raises(IntakeError, match=r"inputs\.orders\.columns maps \['ammount'\]"):
        run_intake(config)


def test_gbk_file_with_chinese_headers_and_values_is_read_without_being_told(write_csv, write_config):
    text = "单号,客户,日期,金额,状态,品类\nO1,C1,2025-01-01,5,已完成,茶叶\nO2,C2,2025-01-02,7,退款,茶具\n"
    path = write_csv("订单.csv", text, encoding="gbk")
    columns = {"order_id": "单号", "customer_id": "客户", "order_date": "日期", "amount": "金额", "status": "状态",
               "category": "品类"}
    result = run_intake(load_config(write_config({"orders": {"path": str(path), "columns": columns}})))
    orders = result.tables["orders"]
    assert orders["category"].tolist() == ["茶叶", "茶具"]
    assert orders["status"].tolist() == ["completed", "refunded"]
    assert result.accounting.loc[0, "encoding"] == "gb18030"


def test_bom_does_not_hide_the_first_column(write_csv, write_config):
    path = write_csv("orders.csv", "order_id,customer_id,order_date,amount\nO1,C1,2025-01-01,5\n", encoding="utf-8-sig")
    result = run_intake(load_config(write_config({"orders": str(path)})))
    assert result.tables["orders"]["order_id"].tolist() == ["O1"]


def test_excel_input(tmp_path, write_config):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "订单"
    sheet.append(["order_id", "customer_id", "order_date", "amount"])
    import datetime as dt

    sheet.append([1001, "C1", dt.datetime(2025, 1, 5), 12.5])
    sheet.append([1002, "C2", dt.datetime(2025, 1, 6), 8])
    book.save(tmp_path / "orders.xlsx")
    result = run_intake(load_config(write_config({"orders": {"path": str(tmp_path / "orders.xlsx"), "sheet": "订单"}})))
    orders = result.tables["orders"]
    assert orders["order_id"].tolist() == ["1001", "1002"]
    assert orders["order_date"].dt.day.tolist() == [5, 6] and orders["amount"].tolist() == [12.5, 8.0]
    assert result.accounting.loc[0, "format"] == "excel"


def test_missing_file_is_a_clear_error(write_config, tmp_path):
    with pytest.raises(IntakeError, match=r"orders: .*missing\.csv"):
        run_intake(load_config(write_config({"orders": str(tmp_path / "missing.csv")})))


def test_feedback_scores_out_of_range_are_quarantined(write_csv, write_config):
    feedback = (
        "customer_id,feedback_date,satisfaction,nps\nC1,2025-01-01,5,10\nC1,2025-01-02,6,3\nC1,2025-01-03,4,11\n"
        "C1,2025-01-04,,7\nC1,2025-01-05,good,7\n"
    )
    inputs = {"orders": str(write_csv("o.csv", ORDERS)), "feedback": str(write_csv("f.csv", feedback))}
    config = load_config(write_config(inputs, **QUARANTINE_ALL))
    result = run_intake(config)
    fb = result.tables["feedback"]
    assert len(fb) == 2 and fb["satisfaction"].isna().sum() == 1
    q = result.quarantine.loc[result.quarantine["table"] == "feedback"].set_index("row")
    assert q.loc[3, "reason"] == "out_of_range" and q.loc[3, "column"] == "satisfaction"
    assert q.loc[4, "reason"] == "out_of_range" and q.loc[4, "column"] == "nps"
    assert q.loc[6, "reason"] == "bad_number"


def test_write_intake_round_trips(write_csv, write_config, tmp_path):
    config = _orders_config(write_csv, write_config)
    written = write_intake(run_intake(config), tmp_path / "interim")
    assert pd.read_parquet(written["orders"])["order_id"].tolist() == ["O2", "O9", "O10", "O11"]
    assert written["quarantine"].read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    accounting = pd.read_csv(written["accounting"], encoding="utf-8-sig")
    assert accounting.loc[0, "rows_read"] == 13
    columns = pd.read_csv(written["columns"], encoding="utf-8-sig")
    assert columns.set_index("column").loc["customer_id", "empty"] == 1


# --------------------------------------------------------------------------- line items

LINES = """InvoiceNo,StockCode,Quantity,UnitPrice,InvoiceDate,CustomerID,Country
536365,P1,6,2.55,2025-12-01 08:26,17850,United Kingdom
536365,P2,6,3.39,2025-12-01 08:26,17850,United Kingdom
536365,POST,1,18.00,2025-12-01 08:26,17850,United Kingdom
536366,P1,2,2.55,2025-12-01 09:00,17850,United Kingdom
C536366,P1,-2,2.55,2025-12-03 10:00,17850,United Kingdom
536367,P3,10,1.00,2025-12-02 11:00,13047,France
C536999,P3,-3,1.00,2025-12-04 12:00,13047,France
536368,P4,1,5.00,2025-12-02 13:00,,United Kingdom
536369,P5,1,-4.00,2025-12-02 14:00,13047,France
536371,P6,1,9.00,2025-12-02 11:00,99999,France
536370,P7,0,3.00,2025-12-02 15:00,13047,France
536365,P1,6,2.55,2025-12-01 08:26,17850,United Kingdom
536371,P8,2,4.00,2025-12-02 11:00,13047,France
"""
LINE_COLUMNS = {"invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
                "invoice_date": "InvoiceDate", "customer_id": "CustomerID", "country": "Country"}


@pytest.fixture
def line_result(write_csv, write_config):
    spec = {"path": str(write_csv("lines.csv", LINES)), "columns": LINE_COLUMNS, "date_format": "%Y-%m-%d %H:%M"}
    return run_intake(load_config(write_config({"line_items": spec}, **QUARANTINE_ALL)))


def test_line_items_become_orders_with_cancellations_netted(line_result):
    orders = line_result.tables["orders"].set_index("order_id")
    # postage is kept as a line but is not product revenue
    assert orders.loc["536365", "amount"] == pytest.approx(6 * 2.55 + 6 * 3.39)
    # C536366 reverses 536366 in full: the order is refunded from the reversal's day, and the
    # reversal nets its revenue to zero from that day
    assert orders.loc["536366", "status"] == "refunded" and orders.loc["536366", "revenue"] == pytest.approx(5.10)
    assert orders.loc["536366", "refunded_on"] == pd.Timestamp("2025-12-03")
    assert orders.loc["C536366", "status"] == "reversal" and orders.loc["C536366", "reverses"] == "536366"
    assert orders.loc["C536366", "revenue"] == pytest.approx(-5.10)
    assert orders.loc["C536366", "order_date"] == pd.Timestamp("2025-12-03")
    # C536999 names no invoice but undoes 3 of the 10 units of the customer's P3 line: a return
    # netted against that order, which stays a purchase
    assert orders.loc["C536999", "status"] == "returned" and orders.loc["C536999", "revenue"] == pytest.approx(-3.0)
    assert orders.loc["C536999", "reverses"] == "536367" and orders.loc["536367", "status"] == "completed"
    assert orders.loc["536367", "order_date"] == pd.Timestamp("2025-12-02")
    summary = line_result.reversals.set_index("outcome")
    assert summary["reversals"].to_dict() == {"matched_in_full": 2, "matched_in_part": 0, "not_matched": 0}
    assert summary.loc["matched_in_full", "value"] == pytest.approx(5.10 + 3.0)


def test_line_items_account_for_every_line(line_result):
    acc = line_result.accounting.iloc[0]
    assert acc.table == "line_items"
    assert (acc.rows_read, acc.clean, acc.quarantined, acc.duplicates_removed) == (13, 7, 5, 1)
    q = line_result.quarantine.set_index("row")
    assert q.loc[9, "reason"] == "missing_id"
    assert q.loc[10, "reason"] == "negative_price"
    # invoice 536371 names customers 99999 and 13047: which is right cannot be told, so neither line is kept
    assert q.loc[[11, 14], "reason"].tolist() == ["conflicting_invoice"] * 2
    assert q.loc[[11, 14], "value"].tolist() == ["99999", "13047"]
    assert q.loc[12, "reason"] == "zero_amount"
    lines = line_result.tables["line_items"]
    assert lines.loc[lines["item"] == "POST", "is_product"].tolist() == [False]


def test_line_items_give_customers_with_their_country(line_result):
    customers = line_result.tables["customers"].set_index("customer_id")
    assert customers.loc["17850", "country"] == "United Kingdom"
    assert sorted(customers.index) == ["13047", "17850"]


# --------------------------------------------------------------------------- the accounting property

_CELLS = {
    "order_id": st.sampled_from(["O1", "O2", "O3", "", " O1 ", "Ｏ２"]),
    "customer_id": st.sampled_from(["C1", "C2", "", "c1"]),
    "order_date": st.sampled_from(["2025-01-01", "2025-02-30", "", "yesterday", "2024-12-31T10:00"]),
    "amount": st.sampled_from(["10", "0", "-5", "abc", "", "1,000.5", "¥7"]),
    "currency": st.sampled_from(["CNY", "USD", "usd", "XYZ", ""]),
    "status": st.sampled_from(["completed", "refunded", "已取消", "weird", ""]),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries(_CELLS), min_size=0, max_size=30))
def test_accounting_holds_for_any_messy_input(write_csv, write_config, rows):
    header = list(_CELLS)
    frame = pd.DataFrame(rows, columns=header)
    text = frame.to_csv(index=False)
    try:
        result = run_intake(_orders_config(write_csv, write_config, text))
    except IntakeError as exc:
        # every row quarantined: a clear error instead of an empty study
        assert "no clean rows: all" in str(exc) and "orders.csv" in str(exc)
        return
    acc = result.accounting.iloc[0]
    assert acc.rows_read == len(rows) == acc.clean + acc.quarantined + acc.duplicates_removed
    clean_rows = set(result.tables["orders"]["source_row"])
    quarantined = list(result.quarantine["row"])
    assert len(quarantined) == len(set(quarantined)), "a row was quarantined twice"
    assert not clean_rows & set(quarantined), "a row is both clean and quarantined"
    duplicates = set(range(2, len(rows) + 2)) - clean_rows - set(quarantined)
    assert len(duplicates) == acc.duplicates_removed
    assert set(result.quarantine["reason"]) <= set(REASONS)
    assert result.tables["orders"]["order_id"].is_unique


# --------------------------------------------------------------------------- plausible dates


def test_implausible_dates_are_quarantined_and_do_not_move_today(write_csv, write_config):
    text = (
        "order_id,customer_id,order_date,amount\n"
        "O1,C1,2025-01-05,100\n"
        "O2,C1,2099-01-05,100\n"  # a typo for 2019 or 2025: after the day the study runs
        "O3,C2,1985-06-30,40\n"  # before 1990
        "O4,C2,2025-03-01,40\n"
    )
    config = _orders_config(write_csv, write_config, text)
    result = run_intake(config)
    q = result.quarantine.set_index("row")
    assert q.loc[3, ["reason", "column", "value"]].tolist() == ["implausible_date", "order_date", "2099-01-05"]
    assert q.loc[4, "reason"] == "implausible_date"
    assert result.accounting.iloc[0].q_implausible_date == 2
    from custseg.segment.features import default_observation_date

    assert default_observation_date(result.tables["orders"]).isoformat() == "2025-03-02"
    # the range is the config's to set
    cleaning = {"stop_on": [], "earliest_date": "1980-01-01", "latest_date": "2100-01-01"}
    wide = run_intake(_orders_config(write_csv, write_config, text, cleaning=cleaning))
    assert wide.quarantine.empty and len(wide.tables["orders"]) == 4


def test_implausible_dates_in_every_dated_table(write_csv, write_config):
    customers = "customer_id,signup_date\nC1,1900-01-01\nC2,\nC3,2024-05-01\n"
    interactions = "customer_id,interaction_date\nC1,2024-01-01\nC1,3024-01-01\n"
    feedback = "customer_id,feedback_date,satisfaction\nC1,2024-01-01,5\nC1,1970-01-01,4\n"
    config = load_config(write_config({
        "orders": str(write_csv("o.csv", "order_id,customer_id,order_date,amount\nO1,C1,2025-01-05,100\n")),
        "customers": str(write_csv("c.csv", customers)),
        "interactions": str(write_csv("i.csv", interactions)),
        "feedback": str(write_csv("f.csv", feedback)),
    }, **QUARANTINE_ALL))
    result = run_intake(config)
    q = result.quarantine
    assert q.groupby("table")["reason"].agg(list).to_dict() == {
        "customers": ["implausible_date"], "feedback": ["implausible_date"], "interactions": ["implausible_date"],
    }
    assert sorted(result.tables["customers"]["customer_id"]) == ["C2", "C3"]  # an empty sign-up date is fine


def test_a_latest_date_before_the_earliest_is_refused(write_csv, write_config):
    with pytest.raises(ConfigError, match="latest_date 1989-12-31 is before cleaning.earliest_date 1990-01-01"):
        _orders_config(write_csv, write_config, cleaning={"latest_date": "1989-12-31"})
