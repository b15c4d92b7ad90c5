"""Land of Big Cats: maps and areas of the proposed Sino-Russian transboundary park."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bigcats")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
