"""Limits on reading untrusted files, and the local-path discipline: small checks, clear messages.

A file handed to ``bigcats validate`` or ``import`` may be hostile or broken: a FIFO or a
link to ``/dev/zero`` that never ends, a sparse file of gigabytes, JSON nested a hundred
thousand levels deep, a GeoPackage view that recurses for ever, more data than memory,
or a local name that GDAL would take for a remote or virtual path (``s3:x.geojson``,
``http:x.geojson``, ``zip:x.geojson``, ``a!b.geojson``). Each check here refuses such a
file before (or, for the time budget, while) it is read, with a message naming the limit
and how to raise it. Every limit has a default, an environment variable and a command
line option (the option wins):

========================  =========================  ====================  ===========
limit                     environment variable       option                default
========================  =========================  ====================  ===========
input size                ``BIGCATS_MAX_INPUT_MB``   ``--max-size MB``     1024 MB
JSON nesting depth        ``BIGCATS_MAX_DEPTH``      ``--max-depth N``     64
time budget of a read     ``BIGCATS_READ_TIMEOUT``   ``--timeout SECONDS`` 600 s
memory check              ``BIGCATS_MEMORY_CHECK``   (``0`` turns it off)  on
========================  =========================  ====================  ===========
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import re
import resource
import stat
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from geo.errors import ReadError, UsageError

__all__ = [
    "ReadLimits",
    "ReadTimeout",
    "check_input",
    "check_local_file",
    "gdal_path",
    "no_room_reason",
    "read_limits",
    "within_time",
]

T = TypeVar("T")

_MB = 1 << 20
DEFAULT_MAX_MB = 1024
DEFAULT_MAX_DEPTH = 64
DEFAULT_TIMEOUT_S = 600.0
#: Memory a read needs, as a multiple of the (uncompressed) input size: parsed JSON is
#: Python objects (about 5-8x its text); binary formats become GEOS geometries plus columns.
_MEMORY_FACTOR = {"GeoJSON": 8.0, "TopoJSON": 8.0, "KML": 3.0, "KMZ": 3.0, "CSV": 4.0}
_DEFAULT_FACTOR = 3.0


class ReadTimeout(ReadError):
    """A read ran past its time budget (the read goes on in a thread the process leaves behind)."""


@dataclass(frozen=True)
class ReadLimits:
    """The limits of one read (see the module docstring for the defaults and overrides)."""

    max_bytes: int = DEFAULT_MAX_MB * _MB
    max_depth: int = DEFAULT_MAX_DEPTH
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_check: bool = True


def _number(name: str, value, kind, option: str):
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise UsageError(f"{option} {value!r} is not a number; give e.g. {option} {kind(10)}.") from None
    if not number > 0:
        raise UsageError(f"{option} must be more than 0, got {value!r}.")
    return number


def read_limits(
    *, max_size_mb: float | None = None, max_depth: int | None = None, timeout_s: float | None = None
) -> ReadLimits:
    """The limits of a read: options first, then ``BIGCATS_*`` environment variables, then defaults."""
    env = os.environ
    size = max_size_mb if max_size_mb is not None else env.get("BIGCATS_MAX_INPUT_MB", DEFAULT_MAX_MB)
    depth = max_depth if max_depth is not None else env.get("BIGCATS_MAX_DEPTH", DEFAULT_MAX_DEPTH)
    budget = timeout_s if timeout_s is not None else env.get("BIGCATS_READ_TIMEOUT", DEFAULT_TIMEOUT_S)
    return ReadLimits(
        max_bytes=int(_number("size", size, float, "--max-size (BIGCATS_MAX_INPUT_MB)") * _MB),
        max_depth=_number("depth", depth, int, "--max-depth (BIGCATS_MAX_DEPTH)"),
        timeout_s=_number("timeout", budget, float, "--timeout (BIGCATS_READ_TIMEOUT)"),
        memory_check=env.get("BIGCATS_MEMORY_CHECK", "1").strip().lower() not in ("0", "off", "no", "false"),
    )


# -- what a path may be -------------------------------------------------------------------------------


def _regular(path: Path) -> os.stat_result:
    """``stat`` of a regular file (links followed); anything else is refused."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ReadError(f"cannot read {path}: {exc.strerror}. Check the path.") from None
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(st.st_mode)
            else "a character device"
            if stat.S_ISCHR(st.st_mode)
            else "a block device"
            if stat.S_ISBLK(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "not a regular file"
        )
        link = f" (a link to {os.path.realpath(path)})" if os.path.islink(path) else ""
        raise ReadError(
            f"cannot read {path}{link}: it is {kind}, not a regular file; bigcats reads only regular "
            "files (a pipe or device may never end). Save the data to a file and pass that."
        )
    return st


def check_local_file(path: Path) -> None:
    """Refuse a path that is not a regular file or a folder (a FIFO, a device, a link to one)."""
    if not os.path.isdir(path):
        _regular(path)


def _shapefile_parts(shp: Path) -> list[Path]:
    """The files of a Shapefile set (same name, any extension) beside ``shp``."""
    stem = shp.stem.lower()
    return sorted(p for p in shp.parent.iterdir() if p.stem.lower() == stem and p.suffix)


def _size_text(n: float) -> str:
    return f"{n / _MB:,.1f} MB" if n < 1024 * _MB else f"{n / (1024 * _MB):,.2f} GB"


def _available_memory() -> tuple[float, str] | None:
    """(bytes still available to this process, what limits it), or None when unknown."""
    found: list[tuple[float, str]] = []
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        with contextlib.suppress(OSError, ValueError):
            size = re.search(r"VmSize:\s+(\d+) kB", Path("/proc/self/status").read_text())
            if size is not None:  # no VmSize line: the limit's room is unknown
                found.append((soft - int(size.group(1)) * 1024, "the address-space limit (ulimit -v)"))
    with contextlib.suppress(OSError, ValueError):
        free = re.search(r"MemAvailable:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        if free is not None:  # an old kernel without MemAvailable: unknown
            found.append((int(free.group(1)) * 1024, "the machine's free memory"))
    with contextlib.suppress(OSError, ValueError):
        top = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if top != "max":
            current = int(Path("/sys/fs/cgroup/memory.current").read_text())
            found.append((int(top) - current, "the container's memory limit"))
    return min(found) if found else None


def check_input(path: Path, files: list[Path], fmt: str, limits: ReadLimits) -> None:
    """Refuse ``files`` (what will be read for ``path``) that are not regular files, too large, or too large for memory.

    A zip (or KMZ) counts by its members' uncompressed sizes. A sparse file (mostly
    holes, e.g. made with ``truncate``) is named as such.
    """
    total = 0
    holes = False
    for f in files:
        st = _regular(f)
        total += st.st_size
        holes |= st.st_size > 1 * _MB and st.st_blocks * 512 < st.st_size // 8
        if f.suffix.lower() in (".zip", ".kmz"):
            import zipfile  # (zipfile, tempfile and shutil are imported where used: 6 ms at start-up)

            with contextlib.suppress(zipfile.BadZipFile, OSError):
                with zipfile.ZipFile(f) as zf:
                    total = total - st.st_size + sum(i.file_size for i in zf.infolist())
    what = " (uncompressed)" if any(f.suffix.lower() in (".zip", ".kmz") for f in files) else ""
    if total > limits.max_bytes:
        sparse = "; the file is sparse (mostly holes, no data written there)" if holes else ""
        raise ReadError(
            f"cannot read {path}: it is {_size_text(total)}{what}, above the input size limit of "
            f"{_size_text(limits.max_bytes)}{sparse}. If the file is right, raise the limit with --max-size MB "
            "(or BIGCATS_MAX_INPUT_MB); for area totals of a very large layer use "
            "'bigcats areas --engine dask --input FILE'."
        )
    if limits.memory_check:
        need = total * _MEMORY_FACTOR.get(fmt, _DEFAULT_FACTOR)
        available = _available_memory()
        if available is not None and need > available[0]:
            raise ReadError(
                f"cannot read {path}: it is {_size_text(total)}{what} and reading it needs about {_size_text(need)} of "
                f"memory, more than the {_size_text(max(available[0], 0))} left under {available[1]}. Free memory, run "
                "on a larger machine or split the file; for area totals use "
                "'bigcats areas --engine dask --input FILE'. "
                "BIGCATS_MEMORY_CHECK=0 skips this estimate (GDAL then aborts the process if memory runs out)."
            )


# -- local paths only ----------------------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z0-9_./+-]+$")


@contextlib.contextmanager
def gdal_path(target: Path) -> Iterator[str]:
    """A path GDAL opens as the local file ``target``, never as a remote or virtual one.

    pyogrio reads ``s3:``, ``http:``, ``zip:`` and ``/vsi...`` prefixes, splits names at
    ``!`` and drops tabs, newlines and leading spaces (URL parsing). A plain absolute
    path is passed as it is; any other name is reached through a link with a plain name
    in a private temporary folder (a Shapefile's side files too), removed afterwards.
    """
    absolute = Path(os.path.abspath(target))
    if _PLAIN.match(str(absolute)) and not str(absolute).startswith("/vsi"):
        yield str(absolute)
        return
    import shutil
    import tempfile

    tmp = tempfile.mkdtemp(prefix="bigcats-read-")
    try:
        parts = _shapefile_parts(absolute) if absolute.suffix.lower() == ".shp" else [absolute]
        for part in parts:
            os.symlink(part, os.path.join(tmp, "source" + re.sub(r"[^A-Za-z0-9.]", "_", part.suffix)))
        yield os.path.join(tmp, "source" + re.sub(r"[^A-Za-z0-9.]", "_", absolute.suffix))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# -- the time budget -----------------------------------------------------------------------------------


#: How long the reader thread waits for another read before it ends (seconds).
_READER_IDLE_S = 1.0
_readers_lock = threading.Lock()
_idle_reader: _Reader | None = None


class _Reader:
    """A daemon thread that runs reads one after another, kept while reads keep coming.

    GDAL and PROJ set up a context of their own in every thread that calls them (PROJ opens
    its database): a new thread per read cost 7-8 ms on top of the 9 ms read of 1,000
    polygons. So one thread serves read after read; it ends after ``_READER_IDLE_S`` without
    one, so that an idle process keeps no thread of ours (:mod:`geo.forked` forks only a
    process running no other thread). A reader is taken by one caller at a time; a read past
    its budget keeps its reader, which ends when the read does.
    """

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.taken = True
        threading.Thread(target=self._serve, name="bigcats-read", daemon=True).start()

    def _serve(self) -> None:
        global _idle_reader
        while True:
            try:
                fn, box, done = self.jobs.get(timeout=_READER_IDLE_S)
            except queue.Empty:
                with _readers_lock:
                    if self.taken:  # taken meanwhile: its read is on its way
                        continue
                    if _idle_reader is self:
                        _idle_reader = None
                    return
            try:
                box["value"] = fn()
            except BaseException as exc:  # handed to the waiting thread
                box["error"] = exc
            finally:
                done.set()
            # the read's result is the caller's: kept here until the next read, it stayed in memory
            # after the caller let it go (a whole layer, for up to _READER_IDLE_S)
            del fn, box, done


def within_time(fn: Callable[[], T], seconds: float, what: str) -> T:
    """Run ``fn`` on the reader thread and wait at most ``seconds``; raise :class:`ReadTimeout` past it.

    GDAL cannot be interrupted, so a read past its budget is left running on its daemon
    thread; the command then exits (a read writes nothing, so nothing is half-written).
    """
    global _idle_reader
    with _readers_lock:
        reader, _idle_reader = (_idle_reader or _Reader()), None
        reader.taken = True
    box: dict = {}
    done = threading.Event()
    reader.jobs.put((fn, box, done))
    try:
        finished = done.wait(seconds)
    finally:  # (an interrupted wait too)
        with _readers_lock:
            reader.taken = False
            if done.is_set() and _idle_reader is None:
                _idle_reader = reader  # kept for the next read
    if not finished:
        raise ReadTimeout(
            f"reading {what} took more than {seconds:g} s, the time budget of a read, and was stopped (a damaged or "
            "hostile file, e.g. a GeoPackage view that never ends, or a very large one). If the file is right, "
            "raise the budget with --timeout SECONDS (or BIGCATS_READ_TIMEOUT)."
        )
    if "error" in box:
        raise box["error"]
    return box["value"]


# -- writing: why there was no room --------------------------------------------------------------------

_NO_ROOM = re.compile(
    r"no space left|disk is full|disk full|database or disk is full|file too large|file is too large", re.I
)
#: Messages that may mean a full disk, among other causes: then the disk and the size limit are looked at.
_MAYBE_NO_ROOM = re.compile(
    r"write error|failed to write|could not write|disk i/o error|failed to commit|"
    r"error writing|cannot write|short write",
    re.I,
)


def no_room_reason(path: str | Path, exc: BaseException | None = None, *, written: Sequence[Path] = ()) -> str | None:
    """Why writing ``path`` failed for want of room, or None when it does not look like that.

    An ``OSError`` says it by its errno (ENOSPC, EDQUOT, EFBIG); GDAL and SQLite only
    by their message, and not always clearly ("disk I/O error", "Failed to commit
    transaction"): then the file system's free space, the file size limit
    (``ulimit -f``) and the size the ``written`` files reached tell.
    """
    code = getattr(exc, "errno", None)
    text = str(exc or "")
    sure = code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or bool(_NO_ROOM.search(text))
    if not sure and not _MAYBE_NO_ROOM.search(text) and not written:
        return None
    folder = Path(os.path.abspath(path)).parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = None
    with contextlib.suppress(OSError):
        vfs = os.statvfs(folder)
        free = vfs.f_bavail * vfs.f_frsize
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    limited = soft != resource.RLIM_INFINITY
    largest = max((f.stat().st_size for f in written if f.exists()), default=0)
    at_limit = limited and largest >= soft - min(soft // 2, 1 * _MB)
    free_text = f" ({_size_text(free)} free)" if free is not None else ""
    if code == errno.EDQUOT:
        return "the disk quota is used up"
    if code == errno.ENOSPC or (code != errno.EFBIG and re.search(r"no space left|disk is full|disk full", text, re.I)):
        return "the disk is full" + free_text
    if limited and (sure or at_limit):
        return f"the file size limit of this process (ulimit -f, {_size_text(soft)}) is reached"
    if free is not None and free < 64 * _MB:
        return "the disk is full" + free_text
    if limited and _MAYBE_NO_ROOM.search(text):
        return f"the file size limit of this process (ulimit -f, {_size_text(soft)}) was probably reached"
    if code == errno.EFBIG:
        return "the file is larger than the file system allows"
    return None


#: glibc's ``mallopt`` parameters (malloc.h): blocks from this size on are mapped afresh (by
#: default 128 kB, moving up to 32 MB), and free memory above this much at the heap's top is
#: handed back to the system.
_M_MMAP_THRESHOLD, _M_TRIM_THRESHOLD = -3, -1


def keep_freed_memory(up_to: int = 512 * 2**20) -> bool:
    """Let this process reuse the memory it frees, up to ``up_to`` bytes at once, instead of handing it back.

    numpy's large temporaries are mapped afresh and returned to the system on every free by
    default, so each new one faults its pages in again: ``bigcats simplify`` of the
    10,000-park coverage took 58,000 page faults and a median 0.22 s of system time (1.18 s in
    all), and with freed memory kept 28,000 and 0.12 s (1.07 s); ten runs each, alternated,
    ``resource.getrusage``. A command line process is short: what it keeps is given back when
    it exits. glibc only (Linux); False where it does not apply.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, up_to)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 2 * up_to))
    except (OSError, AttributeError):  # not glibc
        return False

