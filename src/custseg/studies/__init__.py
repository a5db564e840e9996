"""Study pages: what stakeholders read, one class per page, built from the processed data.

Each page module holds one page (:mod:`~custseg.studies.base` the region, tier and overview pages,
:mod:`~custseg.studies.churn`, :mod:`~custseg.studies.quality`); :mod:`~custseg.studies.render`
formats tables and charts; :mod:`~custseg.studies.strategy` picks each slice's actions.
"""
