"""Exceptions raised by the package: one base class, narrow subclasses.

Every exception carries a message meant for the user: what is wrong and what to
do about it. The command line prints it as one line and exits with
``exit_code`` (1: the data has problems; 2: the command could not run).
"""

from __future__ import annotations

__all__ = [
    "BigCatsError",
    "CRSError",
    "DataError",
    "LayerNotFoundError",
    "ReadError",
    "UsageError",
    "WriteError",
]


class BigCatsError(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code = 2


class UsageError(BigCatsError):
    """A command or function was called with arguments that cannot work."""

    exit_code = 2


class ReadError(BigCatsError):
    """A file or folder could not be read (missing, unreadable, corrupt)."""

    exit_code = 2


class LayerNotFoundError(ReadError):
    """A layer the command needs is not in the layer store."""


class CRSError(BigCatsError):
    """A CRS is missing, wrong for the operation, or would be guessed."""

    exit_code = 2


class DataError(BigCatsError):
    """The input was read but has problems; ``problems`` lists all of them."""

    exit_code = 1

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class WriteError(BigCatsError):
    """An output could not be written (a full disk, a file size limit, a folder that refuses it)."""

    exit_code = 2
