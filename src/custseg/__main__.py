"""`python -m custseg`: the same command as `custseg`."""

import sys

from custseg.cli import main

sys.exit(main())
