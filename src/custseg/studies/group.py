"""The group page: the customers of one named group (a filter in the config's ``groups``) or of one
value of an attribute in ``studies.by`` (``customer_type: B2B``), against the whole base.

A group has the sections of a region study that do not depend on geography (key figures,
revenue, categories, segments, lifecycle, clusters, satisfaction, prices, seasons, churn risk,
who they are, the value tiers and the strategy rules), plus what defines it and where its
customers are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from custseg import i18n
from custseg.config import Config, Group, Strategy, StrategyRule
from custseg.i18n import N_, _
from custseg.processed import ProcessedData
from custseg.segment.groups import MISSING, members, value_mask
from custseg.studies import render
from custseg.studies.base import open_study, section
from custseg.studies.demographics import attribute_name, level_name
from custseg.studies.region import RegionStudy
from custseg.studies.slice import SliceStudy


def attribute_mask(customers: pd.DataFrame, attribute: str, value: str,
                   bands: Mapping[str, Sequence[float]] | None = None) -> pd.Series:
    """The customers whose `attribute` reads `value` (compared as text; for an attribute banded
    by `bands`, ``demographics.bands``, the band's label, or ``""`` for no number)."""
    if attribute not in customers:
        raise ValueError(f"the customer table has no column {attribute!r} (studies.by)")
    return value_mask(customers, attribute, value, bands or {})


class GroupStudy(SliceStudy):
    """A named group or an attribute value compared with the whole base.

    Build it with :meth:`from_config`; ``definition`` is a named group (its filter and titles),
    or None for an attribute value (whose label says it all); ``banded`` says the attribute's
    values are bands of numbers.
    """

    kind = "group"
    title = N_("Group study: {label}")
    ad_hoc = False  # a filter given to the page (an analyst's subset), not a group of the config

    def __init__(
        self, data: ProcessedData, mask: pd.Series, name: str, *, attribute: str = "",
        definition: Group | str | None = None, min_customers: int = 30, rules: Sequence[StrategyRule] | None = None,
        banded: bool = False,
    ) -> None:
        ids = data.customers.loc[mask, "customer_id"]
        super().__init__(data, mask, data.orders["customer_id"].isin(ids), min_customers)
        self.name, self.attribute, self.banded = name, attribute, banded
        self.group = Group(filter=definition) if isinstance(definition, str) else definition
        self.filter_text = self.group.filter if self.group is not None else None
        self.rules = list(rules) if rules is not None else Strategy().rules

    @classmethod
    def from_config(cls, config: Config, language: str = "", group: str = "", attribute: str = "",
                    value: str = "", filter: str = "", title: str = "") -> GroupStudy:
        """The page of the named `group` (a key of ``groups``), of `attribute` = `value` (an
        attribute of ``studies.by``), or of any `filter` over the customer table with its `title`
        (what :meth:`custseg.explore.Study.subset` builds), in `language` ("": the config's).

        Raises
        ------
        FilterError
            When `filter` does not parse or reads a column the customer table does not have.
        """
        data = open_study(config, language)
        common = {"min_customers": config.studies.min_customers, "rules": config.strategy.rules}
        if filter:
            spec = Group(filter=filter, title=title or None)
            name = title or "subset"
            study = cls(data, members(data.customers, name, spec), name, definition=spec, **common)
            study.ad_hoc = True
        elif group:
            if group not in config.groups:
                raise ValueError(f"group {group!r} is not in the config's groups {sorted(config.groups)}")
            spec = config.groups[group]
            study = cls(data, members(data.customers, group, spec), group, definition=spec, **common)
        else:
            bands = config.demographics.bands
            study = cls(data, attribute_mask(data.customers, attribute, value, bands), value, attribute=attribute,
                        banded=attribute in bands, **common)
        study.demographics, study.config = config.demographics, config
        study.page_key = group if group and not filter else f"{attribute}={value}"
        return study

    @property
    def label(self) -> str:
        """The group's title in the report language (its name when it has none), or "Customer
        type: B2B"."""
        if self.attribute:
            return _("{attribute}: {value}").format(attribute=attribute_name(self.attribute),
                                                    value=level_name(self.name))
        return self.group.display(self.name, i18n.current()) if self.group is not None else self.name

    def definition(self) -> render.Section | None:
        """Who belongs to the group (shown however few they are)."""
        attribute = attribute_name(self.attribute).lower()
        if self.attribute and self.banded and self.name == MISSING:
            text = _("The customers the customer table gives no number for their {attribute} "
                     "(studies.by, banded by demographics.bands).").format(attribute=attribute)
        elif self.attribute and self.banded:
            text = _("The customers whose {attribute} falls in the band {value} (studies.by, banded by "
                     "demographics.bands).").format(attribute=attribute, value=self.name)
        elif self.attribute:
            text = _("The customers whose {attribute} is {value} in the customer table (studies.by).").format(
                attribute=attribute, value=level_name(self.name))
        elif self.ad_hoc:
            text = _("The customers this filter over the customer table keeps: {filter}").format(
                filter=self.filter_text)
        else:
            text = _("The customers the filter of groups.{name} in the study config keeps: {filter}").format(
                name=self.name, filter=self.filter_text)
        return render.Section(
            _("Who belongs to this group"),
            _("{customers} customers, {share} of the base.").format(
                customers=render.integer(len(self.customers)),
                share=render.percent(len(self.customers) / len(self.base) if len(self.base) else 0)),
            render.Notice(text, kind="info"),
        )

    # the region study's tier mix and strategy read only the slice and the base: the same
    # methods, the tier mix under a lead that speaks of the group
    tier_mix = section(
        N_("Value tiers"),
        N_("How the buying customers of {label} spread over the value tiers, against the whole base."),
    )(RegionStudy.tier_mix.__wrapped__)
    strategy = RegionStudy.strategy

    @section(
        N_("Where the group's customers are"),
        N_("Customers of {label} by region, and what share of each region's buying customers they are."),
    )
    def regional_spread(self) -> render.Section | None:
        """Customers of the group by region, and how much of each region they are."""
        return self.region_spread_table(
            _("Share of group"), _("Group share in region"),
            _("Where the customers of {label} are").format(label=self.label),
        )
