"""custseg: customer classification and tiering studies as reproducible HTML reports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("custseg")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"


def __getattr__(name: str):
    # custseg.open (custseg.explore.open), imported on first use: `import custseg` stays light
    # for the command line, which only wants the version
    if name == "open":
        from custseg.explore import open

        return open
    raise AttributeError(f"module 'custseg' has no attribute {name!r}")
