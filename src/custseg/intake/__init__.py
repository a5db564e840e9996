"""Intake: raw customer, order, interaction and feedback files in, clean tables and a quarantine out.

The flow inside: :mod:`~custseg.intake.readers` reads any export into text frames (encodings,
delimiters, Excel, Parquet); :mod:`~custseg.intake.parsing` reads numbers and dates as the file
writes them; :mod:`~custseg.intake.validation` checks every row and says why one is refused;
:mod:`~custseg.intake.lineitems` folds invoice lines into orders and :mod:`~custseg.intake.reversals`
matches cancellations to what they undo; :mod:`~custseg.intake.cleaning` runs the whole intake and
writes ``data/interim/``; :mod:`~custseg.intake.quality` measures what came in.
"""

from custseg.intake.cleaning import CleanTables, IntakeError, run_intake, write_intake
from custseg.intake.readers import ReadError

__all__ = ["CleanTables", "IntakeError", "ReadError", "run_intake", "write_intake"]
