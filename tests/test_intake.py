import pandas as pd
import pytest

from custseg.config import load_config
from custseg.intake import IntakeError, read_table, run_intake, write_intake

ORDERS = """order_id,customer_id,order_date,amount,currency,status,category
O1,C1,2025-01-05,100.00,CNY,completed,Tea
O2,C1,2025-02-05,10.00,USD,completed,Tea
O2,C1,2025-02-05,10.00,USD,completed,Tea
O3,C2,2025-13-01,50,CNY,completed,Tea
O4,,2025-03-01,50,CNY,completed,Tea
O5,C2,2025-03-01,abc,CNY,completed,Tea
O6,C2,2025-03-01,-5,CNY,completed,Tea
O7,C2,2025-03-01,5,XYZ,completed,Tea
O8,C2,2025-03-01,5,CNY,shipped,Tea
O9,C2,2025-03-02,80,,cancelled,
O10,C3,2025-03-03,30,cny,Refunded,Tea
O1,C9,2025-03-04,30,CNY,completed,Tea
"""


def test_every_row_is_accounted_for_with_its_reason_and_row_number(write_csv, write_config):
    config = load_config(write_config({"orders": str(write_csv("orders.csv", ORDERS))}))
    result = run_intake(config)
    acc = result.accounting.iloc[0]
    assert (acc.rows_read, acc.clean, acc.quarantined, acc.duplicates_removed) == (12, 4, 7, 1)
    q = result.quarantine.set_index("row")
    # file line numbers: header is line 1, so O3 is line 5
    assert q.loc[5, "reason"] == "bad_date" and q.loc[5, "column"] == "order_date" and q.loc[5, "value"] == "2025-13-01"
    assert q.loc[6, "reason"] == "missing_id" and q.loc[6, "column"] == "customer_id"
    assert q.loc[7, "reason"] == "bad_number"
    assert q.loc[8, "reason"] == "non_positive_amount"
    assert q.loc[9, "reason"] == "unknown_currency" and q.loc[9, "value"] == "XYZ"
    assert q.loc[10, "reason"] == "unknown_status"
    assert q.loc[13, "reason"] == "conflicting_duplicate"
    assert (q["file"] == str(config.inputs.orders.path)).all()


def test_amounts_convert_and_only_completed_orders_earn_revenue(write_csv, write_config):
    config = load_config(write_config({"orders": str(write_csv("orders.csv", ORDERS))}))
    orders = run_intake(config).tables["orders"].set_index("order_id")
    assert orders.loc["O2", "amount_base"] == pytest.approx(70.0)
    assert orders.loc["O9", "currency"] == "CNY"  # empty currency means the base currency
    assert orders.loc["O9", "revenue"] == 0 and orders.loc["O9", "category"] == "Unspecified"
    assert orders.loc["O10", "status"] == "refunded" and orders.loc["O10", "revenue"] == 0
    assert orders["revenue"].sum() == pytest.approx(170.0)


def test_text_is_trimmed_and_full_width_normalised(write_csv, write_config):
    text = "customer_id,country,city\n Ｃ１ ,ＵＳＡ ,  Shenzhen\nC2,NA,x\n"
    config = load_config(write_config({"orders": str(write_csv("o.csv", ORDERS)), "customers": str(write_csv("c.csv", text))}))
    customers = read_table("customers", config.inputs.customers)
    assert customers["customer_id"].tolist() == ["C1", "C2"]
    assert customers["country"].tolist() == ["USA", "NA"]  # Namibia is not a missing value
    assert customers["city"].iloc[0] == "Shenzhen"


def test_missing_required_column_names_file_and_column(write_csv, write_config):
    path = write_csv("orders.csv", "order_id,customer_id,amount\nO1,C1,5\n")
    config = load_config(write_config({"orders": str(path)}))
    with pytest.raises(IntakeError, match=r"orders\.csv: required column 'order_date' is missing"):
        run_intake(config)


def test_mapped_column_absent_from_file_names_both(write_csv, write_config):
    path = write_csv("orders.csv", "Bestellung,Kunde,Datum,Betrag\nO1,C1,2025-01-01,5\n")
    config = load_config(write_config({"orders": {"path": str(path), "columns": {"order_id": "Bestellung", "customer_id": "Kunde", "order_date": "Datum", "amount": "Summe"}}}))
    with pytest.raises(IntakeError, match=r"column 'Summe' \(mapped to 'amount'"):
        run_intake(config)


def test_column_mapping_renames_to_canonical_names(write_csv, write_config):
    path = write_csv("orders.csv", "单号,客户,日期,金额\nO1,C1,2025-01-01,5\n", encoding="gb18030")
    inputs = {"orders": {"path": str(path), "encoding": "gb18030", "columns": {"order_id": "单号", "customer_id": "客户", "order_date": "日期", "amount": "金额"}}}
    orders = run_intake(load_config(write_config(inputs))).tables["orders"]
    assert orders[["order_id", "customer_id", "amount"]].iloc[0].tolist() == ["O1", "C1", 5.0]


def test_wrong_encoding_is_a_clear_error(write_csv, write_config):
    path = write_csv("orders.csv", "order_id,customer_id,order_date,amount,category\nO1,C1,2025-01-01,5,茶叶\n", encoding="gb18030")
    with pytest.raises(IntakeError, match=r"orders\.csv: cannot be read as 'utf-8'"):
        run_intake(load_config(write_config({"orders": str(path)})))


def test_missing_file_is_a_clear_error(write_config, tmp_path):
    with pytest.raises(IntakeError, match=r"orders: input file .*missing\.csv does not exist"):
        run_intake(load_config(write_config({"orders": str(tmp_path / "missing.csv")})))


def test_feedback_scores_out_of_range_are_quarantined(write_csv, write_config):
    feedback = "customer_id,feedback_date,satisfaction,nps\nC1,2025-01-01,5,10\nC1,2025-01-02,6,3\nC1,2025-01-03,4,11\nC1,2025-01-04,,7\n"
    config = load_config(write_config({"orders": str(write_csv("o.csv", ORDERS)), "feedback": str(write_csv("f.csv", feedback))}))
    result = run_intake(config)
    fb = result.tables["feedback"]
    assert len(fb) == 2 and fb["satisfaction"].isna().sum() == 1
    q = result.quarantine.loc[result.quarantine["table"] == "feedback"]
    assert sorted(q["column"]) == ["nps", "satisfaction"] and set(q["reason"]) == {"out_of_range"}


def test_write_intake_round_trips(write_csv, write_config, tmp_path):
    config = load_config(write_config({"orders": str(write_csv("orders.csv", ORDERS))}))
    written = write_intake(run_intake(config), tmp_path / "interim")
    assert pd.read_parquet(written["orders"])["order_id"].tolist() == ["O1", "O2", "O9", "O10"]
    assert written["quarantine"].read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    accounting = pd.read_csv(written["accounting"], encoding="utf-8-sig")
    assert accounting.loc[0, "rows_read"] == 12
