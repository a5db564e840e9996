"""Reports: the plan of pages, their papermill runs and the HTML stakeholders open."""
