"""Files: atomic writes, flushing to the disk, SHA-256 checksums and GDAL write failures."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from geo.errors import WriteError
from geo.limits import no_room_reason

__all__ = ["atomic_path", "file_sha256", "fsync_path"]


@contextlib.contextmanager
def atomic_path(path: str | Path, *, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    Readers never see a half-written file: either the old file or the new one.
    On an exception the temporary file is removed and ``path`` is untouched.
    ``durable`` also survives a power cut: the file is flushed to the disk
    (``fsync``) before the rename, and its folder after it.
    """
    path = Path(os.path.abspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # let the writer create it (GDAL refuses to overwrite some formats)
    try:
        yield Path(tmp)
        if durable:
            fsync_path(tmp)
        os.replace(tmp, path)
        if durable:
            fsync_path(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def fsync_path(path: str | Path) -> None:
    """Flush a file or a folder (its entries: renames, new files) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _gdal_write(path: Path, write: Callable[[], None], tmp: Path | None = None) -> None:
    """Run a GDAL write of ``path`` (into ``tmp``).

    A failure (a full disk...) becomes a :class:`WriteError` naming the cause.
    """
    try:
        write()
    except OSError:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError, FeatureError, ... with GDAL's message
        written = [] if tmp is None else [p for p in Path(tmp).parent.iterdir() if p.name.startswith(Path(tmp).name)]
        reason = no_room_reason(path, exc, written=written)
        raise WriteError(
            f"cannot write {path}: {reason or _first_line(exc)}. "
            + (
                "Free space on the disk or write somewhere else (--out); "
                if reason
                else "Check the path and its folder; "
            )
            + "nothing was half-written."
        ) from None


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB blocks."""
    import hashlib  # (3 ms at import: only here)

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].rstrip(".")
