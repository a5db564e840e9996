"""The plan of a study's pages: one overview, the data-quality page, the churn watch, one page per
region and one per tier found in the processed data, one per named group of the config, and for
each ``studies.by`` attribute a page comparing its values side by side and one per value, each
with its title, link and parameters.

Pages read the plan (the overview links every other page from it), and so does the report
builder, which runs it; the region names a page shows in Chinese come from here too.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from custseg import i18n, paths
from custseg.config import Config
from custseg.i18n import _
from custseg.intake import quality
from custseg.processed import ProcessedData
from custseg.segment.groups import MISSING, attribute_levels, attribute_values, members
from custseg.segment.step import REGION_COLUMNS

#: Folder of each kind of study under the reports folder.
FOLDERS = {"region": "regions", "tier": "tiers", "group": "groups", "by": "by"}


def slugify(name: str, *, fallback_prefix: str = "item") -> str:
    """A file-name-safe slug: lower-case ASCII letters, digits and single hyphens.

    Names from the data never become paths unslugged: ``"../x"`` gives ``"x"``, ``"<script>"``
    gives ``"script"``. A name with no ASCII letters or digits at all (``"华东"``) gets a
    stable hash-based slug instead of an empty one.
    """
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if not slug:
        slug = f"{fallback_prefix}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"
    return slug


@dataclass(frozen=True)
class StudyJob:
    """One report to build."""

    kind: str  # overview | quality | churn | glossary | region | tier | group | attribute
    # region or tier name; a group's name, or "attribute=value" for a studies.by page; the
    # attribute for its comparison page; "" for the overview and the data-quality page
    key: str
    title: str
    href: str  # path of the HTML relative to the reports folder
    note: str  # short description for link lists
    parameters: dict = field(default_factory=dict)
    # files read besides the processed tables (present or not): part of the job's fingerprint
    reads: tuple[Path, ...] = ()

    @property
    def template(self) -> Path:
        return paths.TEMPLATES[self.kind]

    @property
    def name(self) -> str:
        """File stem for the executed notebook in the build folder."""
        return Path(self.href).with_suffix("").as_posix().replace("/", "__")


def unique_slugs(names: list[str], prefix: str, reserved: tuple[str, ...] = ()) -> dict[str, str]:
    """Slugs for names, made unique (two names can slug alike: 'A/B' and 'A B'), and apart from
    the `reserved` slugs (another page of the same folder)."""
    seen: dict[str, int] = dict.fromkeys(reserved, 1)
    slugs = {}
    for name in names:
        slug = slugify(name, fallback_prefix=prefix)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        slugs[name] = slug if count == 0 else f"{slug}-{count + 1}"
    return slugs


def plan_studies(data: ProcessedData, config: Config, language: str | None = None) -> list[StudyJob]:
    """Every study of a build: the overview, the data-quality page, the churn watch, one per region
    found, one per tier found.

    Regions are ordered by number of customers (largest first, then by name); tiers in config order.
    Titles and notes are written in `language` (None: the current language, :func:`custseg.i18n.current`),
    and every study gets it as its ``language`` parameter.
    """
    language = language or i18n.current()
    with i18n.language(language):
        return _plan(data, config, language)


def _plan(data: ProcessedData, config: Config, language: str) -> list[StudyJob]:
    customers = data.customers
    common = {"config_path": str(config.source), "language": language}
    title = config.study.title
    jobs = [
        StudyJob(
            "overview", "", _("{title}: customer classification overview").format(title=title), "index.html", "",
            common,
        ),
        StudyJob(
            "quality", "", _("{title}: data quality").format(title=title), "quality.html",
            _("how the input was read and cleaned"), common, reads=tuple(quality.source_files(config)),
        ),
        StudyJob(
            "churn", "", _("{title}: churn watch").format(title=title), "churn.html",
            _("who is slipping away, what they are worth, and how well the warning worked"), common,
        ),
        StudyJob(
            "glossary", "", _("{title}: glossary").format(title=title), "glossary.html",
            _("what the terms on these pages mean, with this study's settings"), common,
        ),
    ]
    sizes = customers.groupby("region").size()
    regions = sorted(sizes.index, key=lambda r: (-sizes[r], r))
    names = region_names(customers, data.meta.region_level) if language == "zh" else {}
    for region, slug in unique_slugs(regions, "region").items():
        jobs.append(StudyJob(
            "region", region, _("Region study: {label}").format(label=names.get(region, region)),
            f"{FOLDERS['region']}/{slug}.html", _("{count:,} customers").format(count=sizes[region]),
            {**common, "region": region},
        ))
    tier_sizes = customers["tier"].value_counts()
    present = [t for t in data.meta.tiers if tier_sizes.get(t, 0) > 0]
    for tier, slug in unique_slugs(present, "tier").items():
        jobs.append(StudyJob(
            "tier", tier, _("Tier study: {label}").format(label=_("Tier {tier}").format(tier=i18n.label("tier", tier))),
            f"{FOLDERS['tier']}/{slug}.html", _("{count:,} customers").format(count=tier_sizes[tier]),
            {**common, "tier": tier},
        ))
    return jobs + _group_jobs(customers, config, common, language)


#: The file of an attribute's comparison page in its folder, beside its values' pages.
COMPARISON_PAGE = "index"


def _file_name(value: str) -> str:
    """What a studies.by value's file is slugged from: the customers without a number are named,
    not slugged from "" (a hash), and a band's or range's sign is spelt out ("<25" and "55+" give
    under-25.html and 55-plus.html, not 25.html and 55.html)."""
    if value == MISSING:
        return "not given"
    return re.sub(r"\+$", " plus", re.sub(r"^<", "under ", value.strip()))


def _group_jobs(customers: pd.DataFrame, config: Config, common: dict, language: str) -> list[StudyJob]:
    """A page per named group (config order, even an empty one: its page says so), titled by its
    title in `language`; then per studies.by attribute its comparison page and a page per value
    (:func:`custseg.segment.groups.attribute_levels`: bands in order, other values largest first;
    a banded attribute's customers without a number have a page, a blank text value none)."""
    # imported here: the demographics sections read the labels, which read this plan
    from custseg.studies.demographics import attribute_name, level_name

    jobs = []
    for group, slug in unique_slugs(list(config.groups), "group").items():
        count = int(members(customers, group, config.groups[group]).sum())
        jobs.append(StudyJob(
            "group", group, _("Group study: {label}").format(label=config.groups[group].display(group, language)),
            f"{FOLDERS['group']}/{slug}.html", _("{count:,} customers").format(count=count),
            {**common, "group": group},
        ))
    bands = config.demographics.bands
    for attribute in config.studies.by:
        if attribute not in customers:  # the segmentation refuses it; an older processed table may lack it
            continue
        folder = f"{FOLDERS['by']}/{slugify(attribute, fallback_prefix='attribute')}"
        levels = attribute_levels(customers, attribute, bands)
        counts = attribute_values(customers, attribute, bands).fillna(MISSING).value_counts()
        jobs.append(StudyJob(
            "attribute", attribute, _("{attribute} side by side").format(attribute=attribute_name(attribute)),
            f"{folder}/{COMPARISON_PAGE}.html", _("every value compared with the whole base"),
            {**common, "attribute": attribute},
        ))
        slugs = unique_slugs([_file_name(v) for v in levels], "value", (COMPARISON_PAGE,))
        for value, slug in zip(levels, slugs.values()):
            count = int(counts[value])
            label = _("{attribute}: {value}").format(attribute=attribute_name(attribute), value=level_name(value))
            jobs.append(StudyJob(
                "group", f"{attribute}={value}", _("Group study: {label}").format(label=label),
                f"{folder}/{slug}.html", _("{count:,} customers").format(count=count),
                {**common, "attribute": attribute, "value": value},
            ))
    return jobs


#: The customer column with the Chinese name of each column that names a place.
ZH_COLUMNS = {"market": "market_zh", "country_en": "country_zh", "province": "province_zh"}


def region_names(customers: pd.DataFrame, level: str) -> dict[str, str]:
    """Region (as named in the ``region`` column) -> its Chinese name, from the customer table's
    ``*_zh`` columns; regions without one (a custom market, an unplaced value) are left out."""
    column = ZH_COLUMNS.get(REGION_COLUMNS.get(level, level))
    if column is None or column not in customers or "region" not in customers:
        return {}
    pairs = customers[["region", column]].dropna().astype("str").drop_duplicates("region")
    return dict(zip(pairs["region"], pairs[column]))


def table_of_jobs(jobs: list[StudyJob]) -> pd.DataFrame:
    """The plan as a table (for `custseg plan`)."""
    return pd.DataFrame([{"kind": j.kind, "key": j.key, "href": j.href, "note": j.note} for j in jobs])
