"""The data-quality report: its pure functions on hand-made frames, its loader on a tiny pipeline run."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from custseg import geo, i18n, words
from custseg.config import load_config
from custseg.intake import cleaning as intake
from custseg.intake import quality
from custseg.intake.cleaning import REASONS
from custseg.pipeline import run
from custseg.processed import ProcessedData, StudyMeta
from custseg.report.manifest import job_fingerprint
from custseg.studies.plan import plan_studies
from custseg.studies.quality import QualityStudy


def _quarantine(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["table", "file", "row", "reason", "column", "value", "detail"])


# -- column profile ---------------------------------------------------------------------------


def test_column_profile_counts_empty_and_blank_cells_and_skips_source_row():
    raw = pd.DataFrame({
        "order_id": ["O1", "O2", "O3", "O4"],
        "amount": ["5", "", "  ", "\u3000"],  # empty, spaces, an ideographic (full-width) space
        "category": ["Tea", None, "Tea", "x"],
        "source_row": [2, 3, 4, 5],
    })
    profile = quality.column_profile(raw, "orders", {"amount": "Betrag", "status": "Zustand"})
    assert list(profile.columns) == quality.PROFILE_COLUMNS
    assert profile["column"].tolist() == ["order_id", "amount", "category"]
    assert profile["source_header"].tolist() == ["order_id", "Betrag", "category"]
    assert profile["table"].eq("orders").all() and profile["rows"].eq(4).all()
    assert profile["empty"].tolist() == [0, 3, 1]
    assert profile["empty_share"].tolist() == [0.0, 0.75, 0.25]
    assert raw.columns.tolist() == ["order_id", "amount", "category", "source_row"]  # input untouched


def test_column_profile_of_an_empty_file_has_zero_shares():
    raw = pd.DataFrame({"customer_id": pd.Series([], dtype=str), "source_row": pd.Series([], dtype="int64")})
    profile = quality.column_profile(raw, "customers")
    assert profile[["rows", "empty", "empty_share"]].iloc[0].tolist() == [0, 0, 0.0]


def test_column_profile_refuses_parsed_columns():
    raw = pd.DataFrame({"order_date": pd.to_datetime(["2025-01-01"]), "source_row": [2]})
    with pytest.raises(ValueError, match="'order_date' is datetime64.*not text"):
        quality.column_profile(raw, "orders")
    with pytest.raises(TypeError):
        quality.column_profile("orders.csv", "orders")


# -- quarantine -------------------------------------------------------------------------------


def test_personal_values_are_masked_and_other_values_shown():
    customers, orders = "/home/ana/exports/customers.csv", "/home/ana/exports/orders.csv"
    quarantine = _quarantine([
        ("customers", customers, 2, "bad_email", "email", "ana@example.com", "not an address"),
        ("customers", customers, 3, "bad_name", "customer_name", "李超", "too long"),
        ("customers", customers, 4, "bad_phone", "phone", "+86 555 0000001", "no digits"),
        ("customers", customers, 5, "conflicting_duplicate", "customer_id", "bo@example.com", "id used"),
        ("orders", orders, 6, "bad_date", "order_date", "2025-13-01", "not a date"),
        ("orders", orders, 7, "missing_id", "customer_id", "", "empty"),
        ("orders", orders, 8, "bad_number", "amount", "<b>" + "9" * 80, "not a number"),
    ])
    examples = quality.reason_examples(quarantine).set_index("row")
    assert examples.loc[[2, 3, 4], "value"].eq(quality.MASK).all()
    assert examples.loc[5, "value"] == quality.MASK  # an e-mail address used as an id is still one
    assert examples.loc[6, "value"] == "2025-13-01"
    assert examples.loc[7, "value"] == "(empty)"
    assert examples.loc[8, "value"].startswith("<b>999") and len(examples.loc[8, "value"]) == 60
    assert set(examples["file"]) == {"customers.csv", "orders.csv"}  # no folder of the user's machine
    html = QualityStudy(_data(quarantine=quarantine)).quarantine()._repr_html_()
    assert "@example.com" not in html and "李超" not in html and "555" not in html
    assert "&lt;b&gt;999" in html and "<b>999" not in html


def test_examples_are_capped_per_reason_in_order_of_frequency():
    rows = [("orders", "o.csv", n, "bad_date", "order_date", f"d{n}", "not a date") for n in range(2, 7)]
    rows += [("orders", "o.csv", 9, "missing_id", "order_id", "", "empty")]
    rows += [("feedback", "f.csv", n, "out_of_range", "nps", "11", "0-10") for n in (3, 4)]
    examples = quality.reason_examples(_quarantine(rows))
    assert examples["reason"].tolist() == ["bad_date"] * 3 + ["out_of_range"] * 2 + ["missing_id"]
    assert examples["row"].tolist() == [2, 3, 4, 3, 4, 9]  # the first rows found, in file order
    assert quality.reason_examples(_quarantine(rows), per_reason=1)["row"].tolist() == [2, 3, 9]
    with pytest.raises(ValueError, match="per_reason"):
        quality.reason_examples(_quarantine(rows), per_reason=-1)


def test_reason_counts_explain_known_codes_and_fall_back_to_unknown_ones():
    rows = [("orders", "o.csv", 2, "bad_date", "order_date", "x", "")] * 2
    rows += [("feedback", "f.csv", 3, "bad_date", "feedback_date", "y", ""),
             ("orders", "o.csv", 4, "brand_new_code", "sku", "z", "")]
    counts = quality.reason_counts(_quarantine(rows)).set_index("reason")
    assert counts.loc["bad_date", "meaning"] == REASONS["bad_date"]
    assert counts.loc["brand_new_code", "meaning"] == "brand_new_code"
    assert counts["rows"].tolist() == [3, 1] and counts.loc["bad_date", "tables"] == "orders, feedback"


def test_empty_quarantine_says_so():
    empty = _quarantine([])
    assert quality.reason_counts(empty).empty and quality.reason_examples(empty).empty
    assert "No row was quarantined" in QualityStudy(_data(quarantine=empty)).quarantine()._repr_html_()


# -- quarantine details: facts in, words out --------------------------------------------------


def _detail_before_the_facts(table: str, column: str, reason: str, currency: str | None, also: list) -> str:
    """How intake wrote a quarantine detail before it kept facts (issue 15), typed out again."""
    meaning = REASONS[reason].replace("inputs.<table>", f"inputs.{table}")
    if reason == "currency_mismatch" and currency is not None:
        meaning += f"; the row's currency is {currency}"
    problems = "; ".join(f"{code} in {where}" for code, where in also)
    return f"{column}: {meaning}" + (f" (also {problems})" if also else "")


@pytest.mark.parametrize("reason", list(REASONS))
@pytest.mark.parametrize("table", ["orders", "line_items", "feedback"])
def test_the_english_detail_of_every_reason_is_the_text_of_before(reason, table):
    also_cases = [[], [("bad_date", "order_date")], [("bad_date", "order_date"), ("bad_number", "amount")]]
    for currency in (None, "USD"):
        for also in also_cases:
            figures = words.quarantine_figures(
                currency=currency if reason == "currency_mismatch" else None, also=also
            )
            with i18n.language("en"):
                made = words.quarantine_detail(reason, "amount", table, figures)
            assert made == _detail_before_the_facts(table, "amount", reason, currency, also)
    assert "inputs.<table>" not in made


def test_quarantine_csv_is_english_whatever_the_language_and_keeps_its_columns():
    facts = pd.DataFrame({
        "table": ["orders", "orders"], "file": ["o.csv", "o.csv"], "row": [2, 3],
        "reason": ["currency_mismatch", "ambiguous_number"], "column": ["amount", "amount"], "value": ["$5", "1,234"],
        "figures": [words.quarantine_figures(currency="CNY", also=[("bad_date", "order_date")]), "{}"],
    })
    with i18n.language("zh"):
        sheet = intake.quarantine_sheet(facts)
    assert list(sheet.columns) == ["table", "file", "row", "reason", "column", "value", "detail"]
    assert sheet["detail"].tolist() == [
        "amount: an amount whose currency sign contradicts the row's currency ($100 in a CNY row); the row's "
        "currency is CNY (also bad_date in order_date)",
        "amount: a number whose decimal separator cannot be told (1,234 is 1234 with a decimal point, 1.234 with a "
        "decimal comma): set inputs.orders.decimal",
    ]


def test_the_quality_page_words_the_details_in_its_own_language():
    facts = pd.DataFrame({
        "table": ["orders"], "file": ["o.csv"], "row": [7], "reason": ["missing_id"], "column": ["customer_id"],
        "value": [""], "figures": [words.quarantine_figures(also=[("bad_date", "order_date")])],
    })
    details = {}
    for language in ("en", "zh"):
        with i18n.language(language):
            examples = quality.reason_examples(facts)
            details[language] = examples["detail"].iat[0]
            page = QualityStudy(_data(quarantine=facts)).quarantine()._repr_html_()
        assert details[language] in page
    assert details["en"] == "customer_id: a required id is empty (also bad_date in order_date)"
    with i18n.language("zh"):
        meaning = i18n._("a required id is empty")
    assert meaning != "a required id is empty" and meaning in details["zh"]
    assert "also" not in details["zh"] and "order_date" in details["zh"]  # column names stay as they are


def test_the_loader_reads_the_facts_intake_wrote(tmp_path, write_config, write_csv):
    text = "order_id,customer_id,order_date,amount\nO1,,2025-01-05,12\nO2,C2,2025-01-06,20\n"
    config = load_config(write_config({"orders": str(write_csv("orders.csv", text))}, cleaning={"stop_on": []}))
    result = intake.run_intake(config)
    config.output.interim.mkdir(parents=True)
    intake.write_intake(result, config.output.interim)
    facts = pd.read_parquet(config.output.interim / "quarantine.parquet")
    sheet = pd.read_csv(config.output.interim / "quarantine.csv", encoding="utf-8-sig", keep_default_na=False)
    assert facts["reason"].tolist() == sheet["reason"].tolist() == ["missing_id"]
    with i18n.language("en"):
        made = quality.reason_examples(facts)["detail"].tolist()
    assert made == sheet["detail"].tolist() == ["customer_id: a required id is empty"]


# -- accounting -------------------------------------------------------------------------------


def test_accounting_checks_the_sum_and_shows_read_settings_only_when_present():
    accounting = pd.DataFrame({
        "table": ["orders", "customers"], "file": ["o.csv", "c.csv"], "rows_read": [10, 5], "clean": [7, 5],
        "quarantined": [2, 0], "duplicates_removed": [1, 1], "q_bad_date": [2, 0],
    })
    table = quality.accounting_table(accounting)
    assert table["adds_up"].tolist() == [True, False]
    assert not {"q_bad_date", *quality.READ_SETTINGS} & set(table.columns)
    read = quality.accounting_table(accounting.assign(format="csv", encoding="gb18030", delimiter="tab"))
    assert read[["format", "encoding", "delimiter"]].iloc[0].tolist() == ["csv", "gb18030", "tab"]
    html = QualityStudy(_data(accounting=accounting)).accounting()._repr_html_()
    assert "do not add up for c.csv" in html
    with pytest.raises(ValueError, match="duplicates_removed"):
        quality.accounting_table(accounting.drop(columns="duplicates_removed"))


def test_how_each_file_was_read_is_shown_with_the_facts_behind_it():
    accounting = pd.DataFrame({
        "table": ["orders", "customers", "feedback"], "file": ["o.csv", "c.csv", "f.xlsx"], "rows_read": [3, 2, 1],
        "clean": [3, 2, 1], "quarantined": [0, 0, 0], "duplicates_removed": [0, 0, 0],
        "format": ["csv", "csv", "excel"], "encoding": ["cp1252", "utf-8-sig", ""],
        "encoding_source": ["detected", "bom", ""], "encoding_confidence": ["0.97", "", ""],
        "encoding_alternatives": ["cp1250 cp1254", "", ""], "delimiter": [";", ",", ""],
        "decimal": [",", "", "."], "utc_offsets": ["+01:00 +02:00", "", ""], "timezone": ["", "", ""],
    })
    html = QualityStudy(_data(accounting=accounting)).accounting()._repr_html_()
    assert "cp1252 (detected, confidence 97%) · as clean a reading: cp1250, cp1254; if one of them is right, " \
           "set inputs.orders.encoding" in html
    assert "utf-8-sig (byte-order mark)" in html
    assert "comma (1.234,50)" in html and "point (1,234.50)" in html
    assert "+01:00, +02:00, wall clock kept as written (cleaning.timezone is not set)" in html
    converted = accounting.assign(timezone=["Europe/Berlin", "", ""])
    berlin = QualityStudy(_data(accounting=converted)).accounting()._repr_html_()
    assert "+01:00, +02:00, converted to Europe/Berlin" in berlin
    assert ">encoding_source<" not in html and ">timezone<" not in html  # facts folded into the cells


# -- dates ------------------------------------------------------------------------------------


def test_months_without_rows_inside_the_span_are_gaps():
    dates = pd.Series(pd.to_datetime(["2025-01-03", "2025-01-20", "2025-03-01", "2025-06-30", None]), name="order_date")
    monthly = quality.monthly_rows(dates)
    assert monthly.tolist() == [2, 0, 1, 0, 0, 1]
    assert [str(month) for month in quality.gaps(monthly)] == ["2025-02", "2025-04", "2025-05"]
    coverage = quality.date_coverage({"orders": dates}).iloc[0]
    assert (coverage["column"], coverage["rows"], coverage["undated"]) == ("order_date", 5, 1)
    assert (coverage["first"], coverage["last"]) == (pd.Timestamp("2025-01-03"), pd.Timestamp("2025-06-30"))
    assert (coverage["months"], coverage["empty_months"]) == (6, 3)


def test_dates_with_no_gap_and_no_dates_at_all():
    assert quality.gaps(quality.monthly_rows(pd.Series(pd.to_datetime(["2025-01-31", "2025-02-01"])))) == []
    assert quality.monthly_rows(pd.Series(pd.to_datetime([None, None]))).empty
    with pytest.raises(TypeError, match="datetime"):
        quality.monthly_rows(pd.Series(["2025-01-01"]))


# -- regions ----------------------------------------------------------------------------------


def test_region_summary_counts_spellings_places_and_the_unplaced():
    raw = pd.DataFrame({
        "country": ["中国", "China", "CN", "USA", "unknown", "unknown", "", "中国", "Deutschland", "Channel Islands",
                    "Xanadu", "Brazil"],
        "province": ["广东省", "Guangdong", "Atlantis", "CA", "", "", "", "<script>", "Bavaria", "", "", "Sao Paolo"],
    })
    customers = geo.normalize_regions(raw).assign(monetary=[10.0, 20, 30, 40, 5, 6, 7, 80, 90, 25, 3, 100])
    summary = quality.region_summary(customers)
    assert (summary.customers, summary.countries, summary.country_spellings) == (12, 4, 6)
    assert (summary.placed_country, summary.no_country, summary.non_answers) == (7, 3, 2)
    assert (summary.market_only, summary.unrecognised_country, summary.unrecognised_country_spellings) == (1, 1, 1)
    assert (summary.province_spellings, summary.provinces, summary.placed_province) == (4, 3, 4)
    assert summary.unknown_market == 4 and summary.china_province_unknown == 2
    unplaced = quality.unplaced_places(customers)
    assert list(unplaced.columns) == quality.UNPLACED_COLUMNS
    # largest revenue first; "unknown" says no country was given, the empty value is not listed
    assert unplaced[["level", "value", "status", "customers", "revenue"]].values.tolist() == [
        ["province", "Sao Paolo", "unknown", 1, 100.0],
        ["province", "<script>", "unknown", 1, 80.0],
        ["province", "Atlantis", "unknown", 1, 30.0],
        ["country", "Channel Islands", "market", 1, 25.0],
        ["country", "unknown", "not_given", 2, 11.0],
        ["country", "Xanadu", "unknown", 1, 3.0],
    ]
    assert unplaced["alias"].tolist() == [
        'regions.aliases.subdivisions: {"Sao Paolo": BR-SP}',
        'regions.aliases.subdivisions: {"<script>": CN-???}',
        'regions.aliases.subdivisions: {"Atlantis": CN-???}',
        'regions.aliases.countries: {"Channel Islands": ???}',
        "",
        'regions.aliases.countries: {"Xanadu": ???}',
    ]
    assert unplaced["market"].tolist()[3] == "Europe"
    with_blanks = quality.unplaced_places(customers, levels=("country",), blanks=True)
    assert with_blanks["value"].tolist() == ["Channel Islands", "unknown", "", "Xanadu"]
    html = QualityStudy(_data(customers=customers)).region_coverage()._repr_html_()
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "regions.aliases.subdivisions: {&quot;Sao Paolo&quot;: BR-SP}" in html
    assert "close to São Paulo (BR-SP)" in html and "a group of countries: placed in Europe" in html


def test_the_line_an_unplaced_value_shows_places_it(write_config):
    """Pasting the page's line into the config places the value: the loop an analyst goes through."""
    raw = pd.DataFrame({"country": ["Brazil", "Xanadu"], "province": ["Sao Paolo", ""]})
    unplaced = quality.unplaced_places(geo.normalize_regions(raw))
    lines = dict(zip(unplaced["value"], unplaced["alias"]))
    section, mapping = lines["Sao Paolo"].split(": ", 1)
    aliases = {section.split(".")[-1]: yaml.safe_load(mapping)}
    assert aliases == {"subdivisions": {"Sao Paolo": "BR-SP"}}
    assert geo.normalize_regions(raw, aliases=aliases)["province_code"].tolist() == ["BR-SP", pd.NA]
    load_config(write_config({"orders": "o.csv"}, regions={"aliases": aliases}))


def test_tables_processed_before_match_columns_are_read_as_before():
    customers = geo.normalize_regions(pd.DataFrame({"country": ["CN", "Narnia", ""], "province": ["Atlantis", "", ""]}))
    old = customers.drop(columns=["country_match", "province_match"])
    expected = [["country", "unknown"], ["unknown", "not_given"], ["not_given", "not_given"]]
    assert quality.matches(old).values.tolist() == expected
    assert quality.unplaced_places(old)["value"].tolist() == ["Narnia", "Atlantis"]
    assert quality.unplaced_places(old)["revenue"].isna().all()


# -- loading and planning ---------------------------------------------------------------------

def test_orders_only_run_loads_and_says_there_is_no_customer_table(messy_orders, write_config):
    config = load_config(write_config({"orders": str(messy_orders)}))
    run(config, echo=lambda *_: None)
    data = quality.load_quality_data(config)
    assert data.customers is None and list(data.dates) == ["orders"]
    assert data.accounting[["rows_read", "clean", "quarantined", "duplicates_removed"]].iloc[0].tolist() == [5, 2, 2, 1]
    study = QualityStudy(data)
    html = "".join(section._repr_html_() for section in (
        study.heading(), study.accounting(), study.quarantine(), study.missing_values(), study.date_coverage(),
        study.region_coverage(),
    ))
    assert "✓ The numbers add up" in html and "orders only" in html
    assert "February 2025" in html  # the gap between January and March
    assert "&lt;i&gt;x&lt;/i&gt;" in html


def test_reversals_section_counts_how_cancellations_matched(write_csv, write_config):
    lines = (
        "InvoiceNo,StockCode,Quantity,UnitPrice,InvoiceDate,CustomerID,Country\n"
        "100,P1,10,2.00,2025-02-01 10:00,K1,France\n"
        "200,P2,1,30.00,2025-02-02 10:00,K1,France\n"
        "C9,P1,-4,2.00,2025-02-09 10:00,K1,France\n"     # 4 of 10 units: order 100 undone in part
        "C10,P2,-1,30.00,2025-02-10 10:00,K1,France\n"   # order 200 undone in full
        "C11,P7,-2,5.00,2025-02-10 10:00,K1,France\n"    # nothing to undo
        "300,P1,3,2.00,2025-03-01 10:00,K2,Spain\n"
    )
    columns = {"invoice": "InvoiceNo", "item": "StockCode", "quantity": "Quantity", "unit_price": "UnitPrice",
               "invoice_date": "InvoiceDate", "customer_id": "CustomerID", "country": "Country"}
    spec = {"path": str(write_csv("lines.csv", lines)), "columns": columns, "date_format": "%Y-%m-%d %H:%M"}
    config = load_config(write_config({"line_items": spec}, cleaning={"stop_on": []}))
    run(config, echo=lambda *_: None)
    data = quality.load_quality_data(config)
    assert data.reversals.set_index("outcome")["reversals"].to_dict() == {
        "matched_in_full": 2, "matched_in_part": 0, "not_matched": 1}
    undone = data.undone.set_index("undone")
    assert undone.loc["refunded"].tolist() == [1, 30.0] and undone.loc["in_part"].tolist() == [1, 8.0]
    assert undone.loc["refunded_by_status", "orders"] == 0 and undone.loc["cancelled_by_status", "orders"] == 0
    html = QualityStudy(data).reversals()._repr_html_()
    assert "matched in full" in html and "undone in part" in html and "CN¥38" in html  # 8 + 30 matched


def test_orders_refunded_or_cancelled_by_status_are_said_apart_from_matching(write_csv, write_config):
    text = (
        "order_id,customer_id,order_date,amount,status\n"
        "O1,C1,2025-01-05,100,completed\nO2,C1,2025-02-05,40,refunded\nO3,C2,2025-02-06,25,cancelled\n"
        "O4,C2,2025-03-06,60,completed\n"
    )
    config = load_config(write_config({"orders": str(write_csv("o.csv", text))}))
    run(config, echo=lambda *_: None)
    data = quality.load_quality_data(config)
    undone = data.undone.set_index("undone")
    assert undone.loc["refunded_by_status"].tolist() == [1, 40.0]
    assert undone.loc["cancelled_by_status"].tolist() == [1, 25.0]
    texts = [item.text for item in QualityStudy(data).reversals().items]
    assert texts[0].startswith("The data holds no cancellation or return line")
    assert "marks orders as refunded (1) or cancelled (1)" in texts[1]


def test_loading_before_processing_says_what_to_run(messy_orders, write_config):
    config = load_config(write_config({"orders": str(messy_orders)}))
    with pytest.raises(FileNotFoundError, match=r"accounting\.csv does not exist: run `custseg process"):
        quality.load_quality_data(config)


def test_the_quarantine_intake_writes_has_the_columns_the_report_reads(messy_orders, write_config):
    config = load_config(write_config({"orders": str(messy_orders)}))
    run(config, echo=lambda *_: None)
    written = pd.read_csv(config.output.interim / "quarantine.csv", encoding="utf-8-sig", nrows=0)
    assert list(written.columns) == quality.QUARANTINE_COLUMNS


def test_quality_job_depends_on_the_interim_files(messy_orders, write_config):
    config = load_config(write_config({"orders": str(messy_orders)}))
    data = ProcessedData(
        customers=pd.DataFrame({"customer_id": ["C1"], "region": ["Unknown"], "tier": ["high"]}),
        orders=pd.DataFrame(), meta=StudyMeta(tiers=["high", "low"]),
    )
    job = next(job for job in plan_studies(data, config) if job.kind == "quality")
    assert job.href == "quality.html" and config.output.interim / "quarantine.csv" in job.reads
    before = job_fingerprint(job, "run")
    config.output.interim.mkdir(parents=True)
    header = "table,file,row,reason,column,value,detail\n"
    (config.output.interim / "quarantine.csv").write_text(header, encoding="utf-8")
    after = job_fingerprint(job, "run")
    assert after != before and job_fingerprint(job, "run") == after
    (config.output.interim / "accounting.csv").write_text("table\n", encoding="utf-8")
    assert job_fingerprint(job, "run") != after
    overview = next(job for job in plan_studies(data, config) if job.kind == "overview")
    assert overview.reads == ()


def _data(**parts) -> quality.QualityData:
    """QualityData with harmless defaults for the parts a test does not set."""
    defaults = {
        "accounting": pd.DataFrame({
            "table": ["orders"], "file": ["o.csv"], "rows_read": [1], "clean": [1], "quarantined": [0],
            "duplicates_removed": [0],
        }),
        "quarantine": _quarantine([]),
        "columns": None,
        "dates": {},
        "customers": None,
        "meta": {"title": "T", "observation_date": "2025-12-31"},
    }
    return quality.QualityData(**{**defaults, **parts})


def test_overview_says_which_inputs_were_missing(messy_orders, write_csv, write_config):
    from custseg import processed
    from custseg.studies import Overview

    config = load_config(write_config({"orders": str(messy_orders)}))
    run(config, echo=lambda *_: None)
    notice = Overview(processed.load(config), config).inputs_notice()._repr_html_()
    assert "no customer table (inputs.customers)" in notice and "Unknown" in notice
    assert "no feedback" in notice and "no interactions" in notice
    customers = write_csv("customers.csv", "customer_id,country\nC1,CN\n")
    full = load_config(write_config({"orders": str(messy_orders), "customers": str(customers)}))
    run(full, echo=lambda *_: None)
    notice = Overview(processed.load(full), full).inputs_notice()._repr_html_()
    assert "customer table" not in notice and "no feedback" in notice
