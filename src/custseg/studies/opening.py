"""The first screen of every page after its title: the period its figures cover, its findings in
the page's language (:mod:`custseg.studies.findings` computes them as codes and figures), and a
compact navigation to every study of the build and the glossary.

The table of contents (:func:`custseg.report.html.add_contents`) goes after this block: it ends
with :data:`END`, where the contents are put.
"""

from __future__ import annotations

import html
import posixpath
from collections.abc import Callable, Mapping, Sequence

from babel.dates import format_skeleton

from custseg import i18n, words
from custseg.config import Config
from custseg.i18n import _, ngettext
from custseg.processed import ProcessedData
from custseg.studies import render
from custseg.studies.churn_labels import population_label
from custseg.studies.findings import Finding, Period
from custseg.studies.labels import region_labels, tier_label
from custseg.studies.plan import plan_studies

#: Where the opening block ends: the page's table of contents goes here.
END = "<!--cs-opening-end-->"
#: The anchor of a region's or group's strategy section, and of the churn page's customer value.
STRATEGY, VALUE = "strategy", "value"


def day(value) -> str:
    """A date in the page's language: '1 Oct 2023' / '2023年10月1日'."""
    skeleton = "yMMMd"
    if i18n.current() == "en":
        return f"{value.day} {format_skeleton('MMM', value, locale='en')} {value.year}"
    return format_skeleton(skeleton, value, locale=i18n.babel_locale())


def period_text(span: Period) -> str:
    """'Figures cover 1 Oct 2023 – 30 Sep 2026, observed on 1 Oct 2026.'"""
    if span.first is None:
        return _("No orders before the observation date, {observed}.").format(observed=day(span.observed))
    return _("Figures cover {first} – {last}, observed on {observed}.").format(
        first=day(span.first), last=day(span.last), observed=day(span.observed))


def _times(value: float) -> str:
    # Translators: a multiple, e.g. "2.1x"
    return _("{value:.1f}x").format(value=value)


def finding_text(finding: Finding, label: str, names: Mapping[str, str], money: Callable[[object], str]) -> str:
    """One finding in a sentence of the page's language.

    `label` is the page's name for its slice (slice findings), `names` region -> its name on the page.
    """
    f = finding.figures
    kind = finding.kind
    if kind == "region_moves":
        lead = _("Revenue of the last 90 days against the 90 before")
        parts = []
        if f["down"]:
            if f["down"] == 1:
                parts.append(_("{region} is down {fall}").format(region=names.get(f["faller"], f["faller"]),
                                                                 fall=render.percent(f["fall"])))
            else:
                parts.append(_("{down} of {regions} regions are down {least} to {most}").format(
                    down=f["down"], regions=f["regions"], least=render.percent(f["down_least"]),
                    most=render.percent(f["down_most"])))
        if f["up"]:
            riser = names.get(f["riser"], f["riser"])
            parts.append(ngettext("{region} is up {rise}", "{up} are up, {region} most, by {rise}", f["up"]).format(
                up=f["up"], region=riser, rise=render.percent(f["rise"])))
        if not parts:
            parts.append(_("all {regions} regions held within 2%").format(regions=f["regions"]))
        return _("{lead}: {moves}.").format(lead=lead, moves=i18n.join_clauses(parts))
    if kind == "risk_concentration":
        name = tier_label(f["name"]) if f["by"] == "tier" else names.get(f["name"], f["name"])
        where = _("tier {tier}").format(tier=name) if f["by"] == "tier" else name
        return _("{share} of the value at risk ({amount}) sits in {where}, which holds {buyers} of the buyers.").format(
            share=render.percent(f["share"]), amount=money(f["value_at_risk"]), where=where,
            buyers=render.percent(f["buyers_share"]))
    if kind == "tier_moves":
        if not f["up"] or not f["down"]:
            up = bool(f["up"])
            text = (_("Since the snapshot of {before}, {count} customers moved to a better tier ({value} of revenue to "
                      "date) and none to a worse one.") if up else
                    _("Since the snapshot of {before}, {count} customers moved to a worse tier ({value} of revenue to "
                      "date) and none to a better one."))
            return text.format(before=f["before"], count=render.integer(f["up"] or f["down"]),
                               value=money(f["up_value"] if up else f["down_value"]))
        return _("Since the snapshot of {before}, {up} customers moved to a better tier ({up_value} of revenue to "
                 "date) and {down} to a worse one ({down_value}).").format(
            before=f["before"], up=render.integer(f["up"]), down=render.integer(f["down"]),
            up_value=money(f["up_value"]), down_value=money(f["down_value"]))
    if kind == "churn_trust":
        facts = {"date": f["date"] or "", "population": population_label(f["population"]), "lift": _times(f["lift"]),
                 "auc": f"{f['auc']:.2f}"}
        if f["baseline_lift"] is None:
            return _("In the last holdout ({date}), ranking {population} by days since their last order found "
                     "{lift} more leavers in its top tenth than chance (ROC AUC {auc}).").format(**facts)
        return _("In the last holdout ({date}), the churn ranking found {lift} more leavers than chance in its top "
                 "tenth of {population}; ranking by days since the last order found {baseline}. ROC AUC {auc} "
                 "against {baseline_auc}.").format(
            **facts, baseline=_times(f["baseline_lift"]), baseline_auc=f"{f['baseline_auc']:.2f}")
    if kind == "value_trust":
        text = _("Tested on the {days} days from {cutoff}, the value model's predicted revenue was {error} against "
                 "the actual for the whole base").format(
            days=f["days"], cutoff=f["cutoff"], error=render.signed_percent(f["error"]))
        if f["worst_tier"] is not None:
            text = _("{text}, {worst} for tier {tier}, the furthest off").format(
                text=text, worst=render.signed_percent(f["worst_error"]), tier=tier_label(f["worst_tier"]))
        return text + _(".")
    if kind == "slice_vs_base":
        who = f.get("value_label", f.get("value", label))
        text = _("{label} holds {buyers} of the buyers and {revenue} of revenue; revenue per buyer index "
                 "{value}").format(label=who, buyers=render.percent(f["buyers_share"]),
                                   revenue=render.percent(f["revenue_share"]),
                                   value=render.index_points(f["value_index"]))
        if f.get("churn_index") is not None:
            text = _("{text}, churn index {churn}").format(text=text, churn=render.index_points(f["churn_index"]))
        return _("{text} (100 = the whole base).").format(text=text)
    if kind == "slice_trend":
        return _("Revenue of the last 90 days against the 90 before: {change} in {label}, {base} for the whole "
                 "base.").format(change=render.signed_percent(f["change"]), label=label,
                                 base=render.signed_percent(f["base"]))
    if kind == "too_little":
        return _("{label} has {buyers} customers with purchases, fewer than the {needed} needed for findings "
                 "(studies.min_customers).").format(label=label, buyers=f["buyers"], needed=f["needed"])
    if kind == "quarantined":
        if not f["quarantined"]:
            return _("Every one of the {read} rows read is in the clean tables or was an exact duplicate.").format(
                read=render.integer(f["read"]))
        text = _("{quarantined} of the {read} rows read ({share}) were set aside in quarantine").format(
            quarantined=render.integer(f["quarantined"]), read=render.integer(f["read"]),
            share=render.percent(f["quarantined"] / f["read"]))
        if f.get("reason"):
            meaning = words.QUARANTINE_REASONS[f["reason"]]  # marked for translation where it is defined
            text = _("{text}; the most common reason, {rows} rows: {meaning}").format(
                text=text, rows=render.integer(f["reason_rows"]), meaning=_(meaning))
        return _("{text}.").format(text=text)
    if kind == "duplicates":
        return _("{removed} rows were exact copies of another row and were counted once ({share} of the rows "
                 "read).").format(removed=render.integer(f["removed"]), share=render.percent(f["removed"] / f["read"]))
    if kind == "unplaced":
        return _("{customers} of {total} customers ({share}) could not be placed in a market: their country "
                 "is missing or not recognised (regions.aliases names it).").format(
            customers=render.integer(f["customers"]), total=render.integer(f["total"]),
            share=render.percent(f["customers"] / f["total"]))
    raise ValueError(f"unknown finding kind {kind!r}")


class Anchor:
    """A place a link can jump to, at the top of a section (the section's heading stays in view)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _repr_html_(self) -> str:
        return f'<span class="cs-anchor" id="{html.escape(self.name)}"></span>'


class Opening:
    """The period, the findings and the navigation, as one block under the page title."""

    def __init__(self, period: str, findings: Sequence[str], nav: Sequence[tuple[str, list[tuple[str, str, bool]]]],
                 jump: tuple[str, str] | None = None) -> None:
        self.period, self.findings, self.nav, self.jump = period, list(findings), list(nav), jump

    def _repr_html_(self) -> str:
        e = html.escape
        parts = [f'<div class="cs-opening"><p class="cs-period">{e(self.period)}</p>']
        if self.findings or self.jump:
            items = "".join(f"<li>{e(text)}</li>" for text in self.findings)
            jump = (f'<p class="cs-jump"><a href="#{e(self.jump[0])}">{e(self.jump[1])} ↓</a></p>'
                    if self.jump else "")
            heading = _("Findings")
            parts.append(f'<div class="cs-findings"><h2>{e(heading)}</h2><ul>{items}</ul>{jump}</div>')
        groups, current = [], ' aria-current="page"'
        for heading, links in self.nav:
            shown = " ".join(f'<a href="{e(href)}"{current if here else ""}>{e(text)}</a>'
                             for href, text, here in links)
            kind = f'<span class="cs-nav-kind">{e(heading)}</span> ' if heading else ""
            groups.append(f"<li>{kind}{shown}</li>")
        name = e(_("All studies"))
        parts.append(f'<nav class="cs-sitenav" aria-label="{name}"><ul>{"".join(groups)}</ul></nav>{END}</div>')
        return "".join(parts)


def navigation(data: ProcessedData, config: Config, here: str) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """Every study of the build as short links relative to the page at `here` (its href under the
    reports folder), grouped by kind: the whole base's pages, regions, tiers, groups, comparisons."""
    from custseg.studies.demographics import attribute_name

    plan = plan_studies(data, config)
    folder = posixpath.dirname(here) or "."

    def link(href: str, text: str) -> tuple[str, str, bool]:
        return posixpath.relpath(href, folder), text, href == here

    names = region_labels(data)
    pages = {job.kind: job.href for job in plan if job.kind in ("overview", "churn", "quality", "glossary")}
    top = [link(pages["overview"], _("Overview"))]
    if "churn" in pages:
        top += [link(pages["churn"], _("Churn watch")),
                (posixpath.relpath(pages["churn"], folder) + f"#{VALUE}", _("Customer value"), False)]
    top += [link(pages[kind], text) for kind, text in (("quality", _("Data quality")), ("glossary", _("Glossary")))
            if kind in pages]
    nav = [("", top)]
    kinds = (("region", _("Regions"), lambda job: names.get(job.key, job.key)),
             ("tier", _("Tiers"), lambda job: tier_label(job.key)))
    for kind, heading, text in kinds:
        links = [link(job.href, text(job)) for job in plan if job.kind == kind]
        if links:
            nav.append((heading, links))
    named = [link(job.href, config.groups[job.key].display(job.key, i18n.current()))
             for job in plan if job.kind == "group" and "group" in job.parameters]
    if named:
        nav.append((_("Groups"), named))
    compared = [link(job.href, attribute_name(job.key)) for job in plan if job.kind == "attribute"]
    if compared:
        nav.append((_("Compared by"), compared))
    return nav


def opening(data: ProcessedData, config: Config, span: Period, findings: Sequence[Finding], here: str, *,
            label: str = "", jump: tuple[str, str] | None = None,
            value_names: Callable[[str], str] | None = None) -> Opening:
    """The opening block of the page at `here`: `span` and `findings` worded in the page's language
    (`label`: the page's name for its slice; `value_names`: an attribute value's name on the page)."""
    names = region_labels(data)
    money = render.money(data.meta.base_currency)
    texts = []
    for finding in findings:
        if "value" in finding.figures and value_names is not None:
            finding = Finding(finding.kind, finding.weight,
                              {**finding.figures, "value_label": value_names(finding.figures["value"])})
        texts.append(finding_text(finding, label, names, money))
    return Opening(period_text(span), texts, navigation(data, config, here), jump)


def page_href(data: ProcessedData, config: Config, kind: str, key: str = "") -> str:
    """The href of a page of the plan (under the reports folder); the overview's when it has none
    (a subset an analyst builds is no page of the plan)."""
    return next((job.href for job in plan_studies(data, config) if job.kind == kind and job.key == key), "index.html")
