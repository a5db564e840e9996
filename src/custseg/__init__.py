"""custseg: customer classification and tiering studies as reproducible HTML reports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("custseg")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
