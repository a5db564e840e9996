"""Geography: place names in any spelling to ISO countries and provinces or states, and those to markets.

Every layer uses it (the config checks its aliases, intake measures coverage, segmentation places
customers, pages name regions), so it sits at the bottom and imports nothing of custseg but itself.
"""
