"""Reports: the papermill runs of the planned pages (:mod:`~custseg.report.build`, with a kernel
per worker in :mod:`~custseg.report.kernels`), the HTML stakeholders open
(:mod:`~custseg.report.html`) and what makes a page up to date (:mod:`~custseg.report.manifest`).
The plan of pages itself is :mod:`custseg.studies.plan`, which the pages read too."""
