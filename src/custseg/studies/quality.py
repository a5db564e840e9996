"""The data-quality page (reports/quality.html): how the input files were read and cleaned.

Its sections read what intake wrote (the accounting of every row, the quarantine with reasons,
the column profile) through :func:`custseg.intake.quality.load_quality_data`; the computations live in
:mod:`custseg.intake.quality`, this module only lays them out.
"""

from __future__ import annotations

import pandas as pd

from custseg import geo, i18n, processed
from custseg.config import Config
from custseg.i18n import N_, _, ngettext, pgettext
from custseg.intake import quality
from custseg.intake.validation import REASONS
from custseg.processed import StudyMeta, read_meta
from custseg.studies import findings as found
from custseg.studies import opening as first_screen
from custseg.studies import render
from custseg.studies.base import Page, section, start_page
from custseg.studies.unplaced import unplaced_table

#: How a few delimiters are named on the page (intake writes a tab as "tab").
_DELIMITERS = {
    ",": N_("comma (,)"), ";": N_("semicolon (;)"), "|": N_("pipe (|)"), "\t": N_("tab"), "tab": N_("tab"),
    " ": N_("space"),
}

#: How the decimal conventions intake records are named on the page.
_DECIMALS = {".": N_("point (1,234.50)"), ",": N_("comma (1.234,50)"), "mixed": N_("both, by column or value")}

#: How each way of finding a file's encoding is named (custseg.intake.readers.ENCODING_SOURCES).
_ENCODING_SOURCES = {
    "bom": N_("byte-order mark"), "utf-8": N_("valid UTF-8"), "zero_bytes": N_("UTF-16, told by its zero bytes"),
    "config": N_("set in the config"),
}


def _encoding(row: dict) -> str | None:
    """A file's encoding and how it was found: 'cp1252 (detected, confidence 98%)', with the
    encodings the detector could not tell from it."""
    codec = row.get("encoding", "")
    if not codec:
        return None
    source = row.get("encoding_source", "")
    if source == "detected":
        confidence = row.get("encoding_confidence", "")
        how = (
            _("detected, confidence {confidence}").format(confidence=f"{float(confidence):.0%}") if confidence
            else _("detected")
        )
    else:
        how = _(_ENCODING_SOURCES[source]) if source in _ENCODING_SOURCES else ""
    text = f"{codec} ({how})" if how else codec
    alternatives = row.get("encoding_alternatives", "")
    if alternatives:
        text += " · " + _("as clean a reading: {encodings}; if one of them is right, set "
                          "inputs.{table}.encoding").format(
            encodings=i18n.join_list(alternatives.split()), table=row["table"])
    return text


def _offsets(row: dict) -> str | None:
    """The UTC offsets a file's timestamps carried and the clock they were put on."""
    offsets = row.get("utc_offsets", "")
    if not offsets:
        return None
    listed = i18n.join_list(offsets.split())
    if row.get("timezone"):
        return _("{offsets}, converted to {zone}").format(offsets=listed, zone=row["timezone"])
    return _("{offsets}, wall clock kept as written (cleaning.timezone is not set)").format(offsets=listed)


#: The Chinese names of the default markets, for the markets the page names itself.
_MARKET_NAMES_ZH = {market.name: market.name_zh for market in geo.MARKETS}


def _market(name: str) -> str:
    """A default market's name in the report language ("Unknown" / "未知")."""
    return _MARKET_NAMES_ZH.get(name, name) if i18n.current() == "zh" else name


def _month_list(months: tuple, shown: int = 6) -> str:
    """'March 2024, May 2024 and 3 more'; 'none' for no months."""
    if not months:
        return _("none")
    names = i18n.join_list(render.month_year(month) for month in months[:shown])
    more = len(months) - shown
    if more > 0:
        return _("{months} and {count} more").format(months=names, count=more)
    return names


class QualityStudy(Page):
    """How the input was read and cleaned; rendered as reports/quality.html.

    Parameters
    ----------
    data
        What :func:`custseg.intake.quality.load_quality_data` reads (intake's accounting,
        quarantine, column profile, clean tables and the placed regions).
    meta
        The processed data's study.json; None: read from ``data.meta``.
    """

    def __init__(self, data: quality.QualityData, meta: StudyMeta | None = None) -> None:
        self.data = data
        self.meta = meta if meta is not None else StudyMeta.from_dict(data.meta)

    @classmethod
    def from_config(cls, config: Config, language: str = "") -> QualityStudy:
        """The data-quality page in `language` ("": the config's ``study.language``)."""
        start_page(config, language)
        study = cls(quality.load_quality_data(config), read_meta(config))
        study.config = config
        return study

    def opening(self) -> first_screen.Opening:
        """The period the clean orders cover, what intake set aside, and the navigation."""
        data = processed.load(self.config, tables=())
        findings = found.quality_findings(self.data.accounting, quality.reason_counts(self.data.quarantine, {}),
                                          self.data.customers)
        return first_screen.opening(data, self.config, found.period(data), findings, "quality.html")

    def heading(self) -> render.Heading:
        """Title of the page."""
        meta = self.meta
        return render.Heading(
            _("{title}: data quality").format(title=meta.title),
            _("How the input files were read and cleaned · observation date {date}").format(date=meta.observation_date),
        )

    def introduction(self) -> render.Notice:
        """What the page shows and why to read it, under the heading."""
        return render.Notice(
            _(
                "This page shows how the input files were read and cleaned before any study used them: where every "
                "row went, why some rows were set aside, how complete each column is, which months the data covers, "
                "and how the countries and provinces typed in the files were matched to regions. Read it before "
                "trusting a figure in the other studies."
            ),
            kind="info",
        )

    @section(
        N_("Rows read and where they went"),
        N_(
            "Every row of every input file ends in exactly one place: the clean tables the studies use, "
            "the quarantine (rows that could not be used, kept with the reason) or the exact duplicates removed."
        ),
    )
    def accounting(self) -> render.Section:
        """Rows read, clean, quarantined and removed as duplicates per file, and whether they add up."""
        table = quality.accounting_table(self.data.accounting)
        counts = ["rows_read", "clean", "quarantined", "duplicates_removed"]
        totals = table[counts].sum()
        if table["adds_up"].all():
            check = render.Notice(_(
                "✓ The numbers add up: in every file, rows read = clean + quarantined + duplicates removed. "
                "In all, {read:,} rows were read: {clean:,} clean, {quarantined:,} quarantined and {duplicates:,} "
                "exact duplicates removed."
            ).format(
                read=totals["rows_read"], clean=totals["clean"], quarantined=totals["quarantined"],
                duplicates=totals["duplicates_removed"],
            ))
        else:
            files = i18n.join_list(table.loc[~table["adds_up"], "file"])
            check = render.Notice(
                _(
                    "✗ The numbers do not add up for {files}: rows read differ from clean + quarantined + duplicates "
                    "removed. This is a fault in custseg, not in the data; please report it with the accounting.csv of "
                    "this run."
                ).format(files=files),
                kind="warning",
            )
        delimiters = {code: _(name) for code, name in _DELIMITERS.items()}
        decimals = {code: _(name) for code, name in _DECIMALS.items()}
        shown = table.assign(
            adds_up=table["adds_up"].map({True: _("✓ yes"), False: _("✗ no")}),
            **{column: table[column].replace("", None) for column in quality.READ_SETTINGS if column in table},
        )
        if "delimiter" in shown:
            shown = shown.assign(delimiter=shown["delimiter"].map(lambda d: delimiters.get(d, d), na_action="ignore"))
        if "decimal" in shown:
            shown = shown.assign(decimal=shown["decimal"].map(lambda d: decimals.get(d, d), na_action="ignore"))
        if "encoding_source" in table:
            shown = shown.assign(encoding=[_encoding(row) for row in table.fillna("").to_dict("records")])
        if "utc_offsets" in table:
            shown = shown.assign(utc_offsets=[_offsets(row) for row in table.fillna("").to_dict("records")])
        notes = [check, *self._moved_aside(table), *self._catalog_tables(table)]
        shown = shown.drop(columns=[column for column in quality.READ_DETAILS if column in shown])
        names = {
            "table": _("Table"), "file": _("File"), "rows_read": _("Rows read"), "clean": _("Clean"),
            "quarantined": _("Quarantined"), "duplicates_removed": _("Duplicates removed"), "adds_up": _("Adds up"),
            "format": _("Format"), "encoding": _("Encoding"), "delimiter": _("Delimiter"),
            "decimal": _("Decimal separator"), "utc_offsets": _("UTC offsets"),
        }
        shown = shown.rename(columns=names)
        return (
            render.Table(shown, _("Rows per input file"), {names[c]: render.integer for c in counts}),
            *notes,
        )

    @staticmethod
    def _moved_aside(table: pd.DataFrame) -> list[render.Notice]:
        """A note per file whose own column was renamed out of the way of a column mapping."""
        if "moved_aside" not in table:
            return []
        notes = []
        for file, moved in zip(table["file"], table["moved_aside"].fillna("")):
            for column in str(moved).split():
                notes.append(render.Notice(_(
                    "{file} has a column {column} of its own, and the config maps another column of the file to "
                    "{column}: the mapped one is used, and the file's own was renamed to \"{column} (file)\"."
                ).format(file=file, column=column)))
        return notes

    @staticmethod
    def _catalog_tables(table: pd.DataFrame) -> list[render.Notice]:
        """A note per table of Spark's catalog read: what its rows' line numbers mean."""
        if "format" not in table:
            return []
        return [render.Notice(_(
            "{file} is a table of Spark's catalog, which has no lines: a row's line is the one it would have in "
            "a CSV export of the table with its rows sorted by every column's text, column by column (line 1 is "
            "the header). The quarantine names its rows by that line."
        ).format(file=file)) for file in table.loc[table["format"].eq("table"), "file"]]

    @section(
        N_("Quarantined rows"),
        N_(
            "Rows that could not be used are set aside in quarantine.csv (in the interim data folder) with the reason, "
            "the file, the line in the file (line 1 is the header) and the column at fault. Below: how many rows per "
            "reason, then up to three examples of each. Names, e-mail addresses and phone numbers are masked (•••)."
        ),
    )
    def quarantine(self) -> render.Section:
        """Quarantined rows per reason with what it means, and a few examples of each."""
        counts = quality.reason_counts(self.data.quarantine, {code: _(meaning) for code, meaning in REASONS.items()})
        if counts.empty:
            return render.Notice(_("No row was quarantined: every row read is in the clean tables or was an exact "
                                   "duplicate."))
        reason, table, rows, line = _("Reason"), _("Table"), _("Rows"), _("Line")
        reasons = counts.rename(
            columns={"reason": reason, "meaning": _("What it means"), "rows": rows, "tables": _("Tables")}
        )
        examples = quality.reason_examples(self.data.quarantine)
        if self.meta.mask_ids:
            ids = examples["column"].eq("customer_id")
            examples.loc[ids, "value"] = examples.loc[ids, "value"].map(render.mask_id)
        examples = examples.rename(columns={
            "reason": reason, "table": table, "file": _("File"), "row": line, "column": _("Column"),
            "value": pgettext("a cell as read", "Value"), "detail": _("Detail"),
        })
        return (
            render.Table(reasons, _("Quarantined rows per reason"), {rows: render.integer}),
            render.Table(
                examples, _("Examples: up to {count} rows per reason").format(count=quality.EXAMPLES_PER_REASON),
                {line: render.integer},
            ),
        )

    @section(
        N_("Cancellations and returns matched to purchases"),
        N_(
            "A cancellation or return undoes the purchase it reverses: in a line-item export the lines of the same "
            "customer and item (the invoice it names first, then whole lines of the same quantity, then unit by "
            "unit, the earliest purchase first); in an orders table the order of the same customer, currency and "
            "amount. A purchase undone in full stops counting as a purchase from the day it was undone; one undone "
            "in part is worth what the customer kept; what matches nothing is netted against the customer's spend. "
            "Every matched pair is listed in reversal_matches.csv in the interim data folder."
        ),
    )
    def reversals(self) -> render.Section:
        """Reversals matched in full, in part and not at all with their value; orders undone."""
        reversals, undone = self.data.reversals, self.data.undone
        money = render.money(self.meta.base_currency)
        by_status = None
        if undone is not None:
            status = undone.set_index("undone")["orders"]
            if status.get("refunded_by_status", 0) or status.get("cancelled_by_status", 0):
                by_status = render.Notice(_(
                    "The export itself marks orders as refunded ({refunded:,}) or cancelled ({cancelled:,}) by their "
                    "status, with no reversal row: neither counts as a purchase at any date, as the export does not "
                    "say when they were undone."
                ).format(refunded=int(status.get("refunded_by_status", 0)),
                         cancelled=int(status.get("cancelled_by_status", 0))))
        if reversals is None or int(reversals["reversals"].sum()) == 0:
            nothing = render.Notice(_(
                "The data holds no cancellation or return line and no order with a negative amount: there was "
                "nothing to match."
            ))
            return (nothing, by_status) if by_status else nothing
        outcomes = {
            "matched_in_full": _("matched in full"), "matched_in_part": _("matched in part"),
            "not_matched": _("not matched: netted against the customer's spend"),
        }
        count, value, matched = _("Cancellations and returns"), _("Value"), _("Value matched")
        by_outcome = reversals.groupby("outcome", sort=False)[["reversals", "value", "matched_value"]].sum()
        by_outcome = by_outcome.reindex(list(outcomes), fill_value=0)
        shown = pd.DataFrame({
            _("Outcome"): [outcomes[o] for o in by_outcome.index],
            count: by_outcome["reversals"].to_numpy(),
            _("Share"): by_outcome["reversals"].to_numpy() / max(int(by_outcome["reversals"].sum()), 1),
            value: by_outcome["value"].to_numpy(),
            matched: by_outcome["matched_value"].to_numpy(),
        })
        items: list[object] = [render.Table(
            shown, _("Cancellation and return lines by how they matched"),
            {count: render.integer, _("Share"): render.percent, value: money, matched: money},
        )]
        if undone is not None:
            labels = {
                "refunded": _("undone in full: no longer a purchase"),
                "in_part": _("undone in part: worth what was kept"),
            }
            undone = undone.loc[undone["undone"].isin(list(labels))]
            orders_name, taken = _("Purchases"), _("Value taken back")
            items.append(render.Table(
                pd.DataFrame({
                    _("Purchases undone"): [labels[u] for u in undone["undone"]],
                    orders_name: undone["orders"].to_numpy(),
                    taken: undone["value"].to_numpy(),
                }),
                _("Purchases undone by the matched cancellations and returns"),
                {orders_name: render.integer, taken: money},
            ))
        if by_status:
            items.append(by_status)
        return tuple(items)

    @section(
        N_("Empty cells per column"),
        N_(
            "How many cells of each column were empty (or held only spaces) in the files as read, before any "
            "cleaning. An empty optional column is no error; an empty id or date sends its row to quarantine."
        ),
    )
    def missing_values(self) -> render.Section:
        """Empty cells per column per table, from intake's column profile."""
        columns = self.data.columns
        if columns is None:
            return render.Notice(_(
                "This intake run did not record empty cells per column (there is no columns.csv in the interim "
                "data folder). Run `custseg process --force` with a custseg version that writes it to see this table."
            ))
        names = {
            "table": _("Table"), "source_header": _("Column in the file"), "column": _("custseg column"),
            "rows": _("Rows"), "empty": _("Empty"), "empty_share": _("Empty share"),
        }
        shown = columns[quality.PROFILE_COLUMNS].rename(columns=names)[
            [names[c] for c in ("table", "source_header", "column", "rows", "empty", "empty_share")]
        ]
        return render.Table(
            shown, _("Empty cells per column, as read"),
            {names["rows"]: render.integer, names["empty"]: render.integer, names["empty_share"]: render.percent},
        )

    @section(
        N_("Dates covered"),
        N_(
            "The first and last date of each table, and the calendar months in between that have no rows at all "
            "(a gap often means an export that missed a month)."
        ),
    )
    def date_coverage(self) -> render.Section:
        """First and last date, months spanned and empty months per table, and rows per month."""
        dates = self.data.dates
        coverage = quality.date_coverage(dates)
        day = lambda value: f"{value:%Y-%m-%d}"  # noqa: E731
        names = {
            "table": _("Table"), "column": _("Date column"), "rows": _("Rows"), "undated": _("Rows without a date"),
            "first": _("First date"), "last": _("Last date"), "months": _("Months spanned"),
            "empty_months": _("Months with no rows"), "gaps": _("Which months"),
        }
        shown = coverage.assign(gaps=coverage["gaps"].map(_month_list)).rename(columns=names)
        table = render.Table(
            shown, _("Dates per table"),
            {names["rows"]: render.integer, names["undated"]: render.integer, names["first"]: day, names["last"]: day,
             names["months"]: render.integer, names["empty_months"]: render.integer},
        )
        monthly = {name: quality.monthly_rows(column) for name, column in dates.items()}
        monthly = {name: rows for name, rows in monthly.items() if len(rows)}
        if not monthly:
            return table, render.Notice(_("No table has a dated row, so there is no chart of rows per month."))
        return table, _monthly_chart(monthly)

    @section(
        N_("Regions before and after normalisation"),
        N_(
            "Countries and provinces are typed in many ways (\"中国\", \"China\", \"CN\", \"PRC\", \"Éire\", "
            "\"EIRE\"); custseg maps each spelling to one country and one province or state of it. A group of "
            "countries (\"Channel Islands\") gives a market but no country; a value such as \"Unspecified\" counts as "
            "not given. Customers it cannot place land in \"Unknown\" (no country) or \"China (province unknown)\". "
            "Every value it could not place is listed with the line of the study config (regions.aliases) that places "
            "it."
        ),
    )
    def region_coverage(self) -> render.Section:
        """Raw spellings against canonical countries and provinces, customers per market, unplaced values."""
        customers = self.data.customers
        if customers is None:
            return render.Notice(_(
                "There is no customer table (orders only), so customers have no country or province and every "
                "customer is in the \"Unknown\" region. Add a customers file with country and province columns "
                "to place them."
            ))
        s = quality.region_summary(customers)
        share = lambda part: render.percent(part / s.customers) if s.customers else "–"  # noqa: E731
        rows = [
            (_("Customers"), render.integer(s.customers)),
            (_("Country spellings recognised"), render.integer(s.country_spellings)),
            (_("… matched to countries"), render.integer(s.countries)),
            (_("Customers placed in a country"), f"{render.integer(s.placed_country)} ({share(s.placed_country)})"),
            (_("Customers placed in a market only (a group of countries such as \"Channel Islands\")"),
             render.integer(s.market_only)),
            (_("Customers with no country given"), render.integer(s.no_country)),
            (_("… of them with a value that says so (\"Unspecified\", \"N/A\")"), render.integer(s.non_answers)),
            (_("Country spellings not recognised"), render.integer(s.unrecognised_country_spellings)),
            (_("Customers with a country not recognised"), render.integer(s.unrecognised_country)),
            (_("Province or state spellings recognised"), render.integer(s.province_spellings)),
            (_("… matched to provinces or states"), render.integer(s.provinces)),
            (_("Customers placed in a province or state"),
             f"{render.integer(s.placed_province)} ({share(s.placed_province)})"),
            (_("Customers in \"{market}\"").format(market=_market(geo.UNKNOWN)), render.integer(s.unknown_market)),
            (_("Customers in \"{market}\"").format(market=_market(quality.CHINA_PROVINCE_UNKNOWN)),
             render.integer(s.china_province_unknown)),
        ]
        value = pgettext("measure and its value", "Value")
        summary = render.Table(
            pd.DataFrame(rows, columns=[_("Measure"), value]), _("Raw spellings and where they went"), numeric=[value],
        )
        markets = geo.region_coverage(customers)
        if i18n.current() == "zh":
            named = markets["market_zh"].notna() & markets["market_zh"].astype("string").str.strip().ne("")
            markets = markets.assign(market=markets["market_zh"].where(named, markets["market"]))
        customers_name, share_name, spellings = _("Customers"), _("Share"), _("Country spellings")
        markets = markets[["market", "customers", "share", "country_spellings"]].rename(columns={
            "market": _("Market"), "customers": customers_name, "share": share_name, "country_spellings": spellings,
        })
        market_table = render.Table(
            markets, _("Customers per market and how many country spellings fed it"),
            {customers_name: render.integer, share_name: render.percent, spellings: render.integer},
        )
        unplaced = unplaced_table(quality.unplaced_places(customers), self.meta.base_currency)
        if unplaced is None:
            return summary, market_table, render.Notice(_("Every country and province given was recognised."))
        return summary, market_table, unplaced


def _monthly_chart(monthly: dict[str, pd.Series]) -> render.Chart:
    """Rows per month, one small panel per table, months with no rows marked."""
    fig = render.new_figure(7.0, 0.6 + 1.3 * len(monthly))
    axes = fig.subplots(len(monthly), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (name, rows) in zip(axes, monthly.items()):
        months = rows.index.to_timestamp()
        ax.plot(months, rows.to_numpy(), marker="o", markersize=2, linewidth=1)
        for number, month in enumerate(rows.index[rows.eq(0)]):
            # shade the whole month, so a one-month gap is visible at any width
            ax.axvspan(month.start_time, (month + 1).start_time, color="#b7791f", alpha=0.3, linewidth=0,
                       label=_("month with no rows") if number == 0 else None)
        if rows.eq(0).any():
            ax.legend(loc="upper left", frameon=False, fontsize=8)
        ax.set_title(name, loc="left", fontsize=10)
        ax.set(ylabel=_("Rows"))
        ax.set_ylim(bottom=0)  # counts from zero, so a dip is not drawn as a collapse
        render.thousands_axis(ax.yaxis)
    axes[-1].set(xlabel=_("Month"))
    render.date_axis(axes[-1])
    title = _("Rows per month, by table")
    fig.suptitle(title)
    described = []
    for name, rows in monthly.items():
        first, last = render.month_year(rows.index[0]), render.month_year(rows.index[-1])
        empty = int(rows.eq(0).sum())
        if empty:
            described.append(ngettext(
                "{table} from {first} to {last}, {count} month with no rows",
                "{table} from {first} to {last}, {count} months with no rows", empty,
            ).format(table=name, first=first, last=last, count=empty))
        else:
            described.append(
                _("{table} from {first} to {last}, no month without rows").format(table=name, first=first, last=last)
            )
    return render.Chart(
        fig, title,
        _("Line charts of rows per calendar month: {tables}.").format(tables=i18n.join_clauses(described)),
    )
