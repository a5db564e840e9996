"""Study pages: what stakeholders read, one class per page, built from the processed data.

Every page is built the same way, from the config, the report language and its slice::

    Overview.from_config(config, language)
    RegionStudy.from_config(config, language, region)
    TierStudy.from_config(config, language, tier)
    GroupStudy.from_config(config, language, group)  # or (config, language, "", attribute, value)
    AttributeStudy.from_config(config, language, attribute)  # a studies.by attribute's values side by side
    ChurnStudy.from_config(config, language)
    QualityStudy.from_config(config, language)

One module per page (:mod:`~custseg.studies.overview`, :mod:`~custseg.studies.region`,
:mod:`~custseg.studies.tier`, :mod:`~custseg.studies.group`, :mod:`~custseg.studies.attribute`,
:mod:`~custseg.studies.churn`,
:mod:`~custseg.studies.quality`),
with the sections region and tier pages share in :mod:`~custseg.studies.slice`;
:mod:`~custseg.studies.base` holds the section decorator and the page base,
:mod:`~custseg.studies.labels` the data's labels in the report language,
:mod:`~custseg.studies.plan` the plan of pages, :mod:`~custseg.studies.render` the tables and
charts, :mod:`~custseg.studies.strategy` each slice's actions.
"""

from custseg.studies.attribute import AttributeStudy
from custseg.studies.churn import ChurnStudy
from custseg.studies.group import GroupStudy
from custseg.studies.overview import Overview
from custseg.studies.quality import QualityStudy
from custseg.studies.region import RegionStudy
from custseg.studies.tier import TierStudy

__all__ = ["AttributeStudy", "ChurnStudy", "GroupStudy", "Overview", "QualityStudy", "RegionStudy", "TierStudy"]
