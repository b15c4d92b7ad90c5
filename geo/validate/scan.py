"""The threaded geometry scan: validity, reasons, repairs and silent fixes over arrays (GEOS releases the GIL)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields

import numpy as np
import shapely

from geo.forked import halves_at_once, two_cores
from geo.progress import Progress
from geo.validate.problems import GEOMETRY_TYPES

ROLE_GEOMETRY_TYPES = GEOMETRY_TYPES
_CHUNK = 2_000
_MIN_CHUNK = 128
#: A repair that changes a feature's area by more than this fraction is refused unless accepted.
MAX_REPAIR_AREA_CHANGE = 0.001


def _single_ring_turns(coords: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per geometry: 1 if it is one ring turning counter-clockwise, -1 clockwise, 0 if not known here.

    ``coords`` are the geometries' coordinates end to end and ``counts`` their
    numbers, for valid polygons. A geometry is one ring when its last
    coordinate is its first and the first appears nowhere else but in runs of
    repeats at either end: in a valid polygon the shell closes on its first
    coordinate, so a second ring shows as the first coordinate in the middle,
    or a last coordinate that differs (rings are simple and have an area).
    The turn of one ring is the sign of its shoelace sum, taken about its
    first vertex. A sum within rounding of zero (rings of up to millions of
    vertices), several rings or fewer than 4 coordinates: 0, for GEOS to
    decide (:func:`shapely.orient_polygons`). Reading the winding this way
    took 0.14 s for 100,000 polygons of 75 vertices (best of 5), where
    orienting every geometry and comparing took 0.45-0.54 s.
    """
    turns = np.zeros(len(counts), dtype=np.int8)
    if len(counts) == 0 or counts.min() < 4:  # empty parts or broken rings: GEOS decides for all
        return turns
    starts = np.cumsum(counts) - counts
    dx = coords[:, 0] - np.repeat(coords[starts, 0], counts)
    dy = coords[:, 1] - np.repeat(coords[starts, 1], counts)
    at_first = (dx == 0) & (dy == 0)
    # one ring: the first coordinate, then others, then the first again (runs of repeats allowed), i.e.
    # exactly two changes between "at the first coordinate" and "elsewhere", and the last at the first;
    # the change across two geometries is none when the earlier one ends on its first coordinate
    changes = np.add.reduceat(at_first[1:] != at_first[:-1], starts, dtype=np.int64)
    single = (changes == 2) & at_first[starts + counts - 1]
    # the shoelace about the first vertex; across two geometries the term is 0 (both sit on their first vertex)
    a, b = dx[:-1] * dy[1:], dx[1:] * dy[:-1]
    twice = np.add.reduceat(a - b, starts)
    np.abs(a, out=a)
    np.abs(b, out=b)
    a += b
    scale = np.add.reduceat(a, starts)
    # each difference to the first vertex is rounded once, relatively: the sum is within n * 3u of ``scale``
    sure = single & (np.abs(twice) > 1e-9 * scale)
    turns[sure] = np.where(twice[sure] > 0, 1, -1)
    return turns


def _silent_fixes(geoms: np.ndarray) -> np.ndarray:
    """Right-hand winding and no repeated vertices, for valid geometries of one kind (vectorised).

    Only the geometries that change are rebuilt; the others are returned as the
    same objects (no copy). Gives what ``remove_repeated_points(orient_polygons(g),
    tolerance=0)`` gives for every ``g``.
    """
    out = geoms.copy()  # the array of references, not the geometries
    if len(geoms) == 0:
        return out
    coords = shapely.get_coordinates(geoms)
    counts = shapely.get_num_coordinates(geoms)
    # the winding: a polygon of one ring is read from its coordinates; GEOS orients the others and any
    # ring whose turn is too close to call, and only the geometries that change are kept
    turns = _single_ring_turns(coords, counts) if np.isin(shapely.get_type_id(geoms), (3, 6)).all() else None
    turned = np.flatnonzero(turns < 0) if turns is not None else np.array([], dtype=np.intp)
    ask = np.flatnonzero(turns == 0) if turns is not None else np.arange(len(geoms))
    if len(ask):
        oriented = shapely.orient_polygons(geoms[ask])
        changed = ~shapely.equals_identical(oriented, geoms[ask])
        out[ask[changed]] = oriented[changed]
    if len(turned):
        out[turned] = shapely.orient_polygons(geoms[turned])
    # a repeated vertex is a coordinate equal to the one before it in the same geometry (turning a ring
    # does not change which vertices repeat)
    ends = np.cumsum(counts)
    same = np.flatnonzero((coords[1:, 0] == coords[:-1, 0]) & (coords[1:, 1] == coords[:-1, 1]))
    owner = np.searchsorted(ends, same, side="right")  # the geometry holding coordinate `same`
    within = same + 1 < ends[owner]
    repeated = np.unique(owner[within])  # may include a ring starting where the last one ended: harmless
    if len(repeated):
        out[repeated] = shapely.remove_repeated_points(out[repeated], tolerance=0.0)
    return out


def _repair(geoms: np.ndarray, *, kind: str) -> np.ndarray:
    """``make_valid`` (structure method) of invalid geometries; polygon roles keep the polygonal parts.

    The structure method gives a valid polygonal result (or an empty one) for
    polygonal input, which is kept as it is; only a result of another type (a
    collection) is cut down to its polygonal parts, unioned.
    """
    fixed = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    if kind != "polygon" or len(fixed) == 0:
        return fixed
    other = np.flatnonzero(~np.isin(shapely.get_type_id(fixed), (3, 6)) & ~shapely.is_empty(fixed))
    if len(other) == 0:
        return fixed
    parts, owner = shapely.get_parts(fixed[other], return_index=True)
    keep = np.isin(shapely.get_type_id(parts), (3, 6))
    parts, owner = parts[keep], owner[keep]
    # one row per such geometry, its polygonal parts side by side (None pads); unioned row by row
    rank = np.arange(len(owner)) - np.searchsorted(owner, owner)
    table = np.full((len(other), int(rank.max()) + 1 if len(rank) else 1), None, dtype=object)
    table[owner, rank] = parts
    unioned = shapely.union_all(table, axis=1)
    fixed[other] = np.where(np.bincount(owner, minlength=len(other)) > 0, unioned, shapely.Polygon())
    return fixed


@dataclass
class GeometryScan:
    """What :func:`scan_geometries` found, per geometry.

    ``fixed`` holds the silently fixed form of the valid geometries of the
    role's kind and the ``make_valid`` repair of the invalid ones (before its
    winding and vertices are fixed); ``reasons`` shapely's reason for the invalid ones.
    """

    missing: np.ndarray
    type_names: np.ndarray
    fits: np.ndarray
    valid: np.ndarray
    fixed: np.ndarray
    reasons: np.ndarray


@dataclass
class _Checked:
    """The first step of a chunk's scan: what each geometry is, and whether it is valid."""

    missing: np.ndarray
    type_names: np.ndarray
    fits: np.ndarray
    valid: np.ndarray


def _check_chunk(geoms: np.ndarray, *, kind: str) -> _Checked:
    """Types and validity of a chunk (nearly all of it GEOS's ``is_valid``, which runs without the GIL)."""
    n = len(geoms)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = np.asarray(shapely.get_type_id(geoms))
    type_names = np.where(types >= 0, _TYPE_NAMES[np.clip(types + 1, 0, 8)], "None")
    fits = ~missing & np.isin(type_names, list(GEOMETRY_TYPES[kind]))
    valid = np.ones(n, dtype=bool)
    here = np.flatnonzero(~missing)
    valid[here] = shapely.is_valid(geoms[here])
    return _Checked(missing, type_names, fits, valid)


def _fix_chunk(geoms: np.ndarray, checked: _Checked, *, kind: str) -> GeometryScan:
    """The second step: the silent fixes of the valid geometries, the reasons and repairs of the invalid ones."""
    out = geoms.copy()  # references; a geometry is replaced only when it changes
    reasons = np.full(len(geoms), None, dtype=object)
    ok = ~checked.missing & checked.fits
    fine = np.flatnonzero(ok & checked.valid)
    out[fine] = _silent_fixes(geoms[fine])
    bad = np.flatnonzero(ok & ~checked.valid)
    if len(bad):
        reasons[bad] = shapely.is_valid_reason(geoms[bad])
        out[bad] = _repair(geoms[bad], kind=kind)
    return GeometryScan(checked.missing, checked.type_names, checked.fits, checked.valid, out, reasons)


def _scan_chunk(geoms: np.ndarray, *, kind: str) -> GeometryScan:
    """:class:`GeometryScan` of one chunk of geometries, both steps at once."""
    return _fix_chunk(geoms, _check_chunk(geoms, kind=kind), kind=kind)


class _Chunk:
    """A chunk of geometries in a :class:`GeometryScanner`: its check, then its fix, each a future."""

    def __init__(self, geoms: np.ndarray) -> None:
        self.geoms = geoms
        self.check: Future | None = None
        self.fix: Future | None = None  # queued by the worker that finished the check
        self.scan: GeometryScan | None = None  # when the calling thread did the work itself


class GeometryScanner:
    """Scan geometries on worker threads as they arrive (GEOS releases the GIL).

    ``add`` queues a batch (split into chunks) and returns at once, so a
    reader can go on reading while earlier batches are checked; ``result``
    gives the :class:`GeometryScan` of every geometry added, in order. Each
    chunk is scanned in two steps: its check (types and GEOS's ``is_valid``,
    which runs without the GIL) and then its fix (the silent fixes and
    repairs: many short NumPy calls, which need it). A worker queues a chunk's
    fix behind the checks already queued, so that while the caller maps the
    attributes (pandas, holding the GIL) the workers run GEOS, and the NumPy
    work waits until the caller joins in: at 1,000 polygons the first chunk's
    fix took 4.5 ms beside the caller's pandas work against 0.9 ms alone.
    The thread that calls ``result`` joins in: it takes the checks and then
    the fixes no worker has started, from the back of the queue while the
    workers go on from the front, so there are as many scanning threads as
    cores and none waits idle. ``scanned`` is the object array of the
    geometries added. Use it as a context manager, or call ``close``, so the
    threads end.

    Parameters
    ----------
    kind : str
        The role's geometry kind (``polygon``, ``line`` or ``point``).
    total : int, optional
        Geometries expected, for the progress bar (a terminal only).
    """

    def __init__(self, *, kind: str, total: int | None = None) -> None:
        self.kind = kind
        # one core is left to the thread that reads the file and maps the attributes meanwhile
        self._workers = max(1, min(3, (os.cpu_count() or 1) - 1))
        self._pool = ThreadPoolExecutor(max_workers=self._workers)
        self._chunks: list[_Chunk] = []
        self._batches: list[np.ndarray] = []
        self._progress = Progress("checking geometries", total or 1) if total else None
        self._lock = threading.Lock()  # chunks finish on several threads; one bar update at a time

    def add(self, geoms) -> None:
        """Queue a batch of geometries (any array-like of shapely geometries or None)."""
        geoms = np.asarray(geoms, dtype=object)
        self._batches.append(geoms)
        # chunks of at most _CHUNK; a small batch is still split so that every thread has a share
        size = min(_CHUNK, max(_MIN_CHUNK, -(-len(geoms) // (2 * (self._workers + 1)))))
        for start in range(0, len(geoms), size):
            chunk = _Chunk(geoms[start : start + size])
            chunk.check = self._pool.submit(self._check, chunk)
            self._chunks.append(chunk)

    def _check(self, chunk: _Chunk) -> _Checked:
        """A worker's check of a chunk; its fix is queued behind the checks already queued."""
        checked = _check_chunk(chunk.geoms, kind=self.kind)
        try:
            chunk.fix = self._pool.submit(self._fix, chunk, checked)
        except RuntimeError:  # the scanner was closed meanwhile: nobody waits for the result
            pass
        return checked

    def _fix(self, chunk: _Chunk, checked: _Checked) -> GeometryScan:
        scan = _fix_chunk(chunk.geoms, checked, kind=self.kind)
        self._tick(len(chunk.geoms))
        return scan

    def _tick(self, n: int) -> None:
        with self._lock:
            if self._progress is not None:
                self._progress.update(n)

    @property
    def scanned(self) -> np.ndarray:
        """Every geometry added, in order (the same objects)."""
        return np.concatenate(self._batches) if self._batches else np.array([], dtype=object)

    def result(self) -> GeometryScan:
        """Every chunk's scan, joined in the order added; this thread does the steps not yet started."""
        chunks = self._chunks
        for chunk in reversed(chunks):  # checks still queued: both steps here rather than wait for a worker
            if chunk.check is not None and chunk.check.cancel():
                chunk.scan = _scan_chunk(chunk.geoms, kind=self.kind)
                self._tick(len(chunk.geoms))
        for chunk in reversed(chunks):  # fixes still queued: here
            if chunk.scan is None and chunk.check is not None:
                checked = chunk.check.result()  # then its fix was queued
                if chunk.fix is not None and chunk.fix.cancel():
                    chunk.scan = self._fix(chunk, checked)
        scans = [chunk.scan if chunk.scan is not None else chunk.fix.result() for chunk in chunks]  # type: ignore[union-attr]
        if self._progress is not None:
            self._progress.close()
        if not scans:
            empty, flags = np.array([], dtype=object), np.array([], dtype=bool)
            return GeometryScan(flags, empty, flags, flags, empty, empty)
        return GeometryScan(*(np.concatenate([getattr(s, f.name) for s in scans]) for f in fields(GeometryScan)))

    def reset(self, *, total: int | None = None) -> None:
        """Drop every batch added so far (queued chunks are cancelled), to scan others instead."""
        for chunk in self._chunks:
            if chunk.check is not None and not chunk.check.cancel():
                chunk.check.exception()  # wait for the checks already running: then their fixes are queued
        for chunk in self._chunks:
            if chunk.fix is not None and not chunk.fix.cancel():
                chunk.fix.exception()  # and for the fixes already running
        self._chunks, self._batches = [], []
        self._progress = Progress("checking geometries", total or 1) if total else None

    def close(self) -> None:
        """Drop queued chunks and end the worker threads."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> GeometryScanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scan_geometries(geoms, *, kind: str) -> GeometryScan:
    """Validity of every geometry, the silent fixes of the valid ones, the repairs of the invalid ones.

    Runs in threaded chunks (GEOS releases the GIL): a :class:`GeometryScanner`
    given the whole array at once. The first, costly half of
    :func:`check_geometries`.
    """
    geoms = np.asarray(geoms, dtype=object)
    with GeometryScanner(kind=kind, total=len(geoms)) as scanner:
        scanner.add(geoms)
        return scanner.result()


def _valid_in_parallel(geoms: np.ndarray) -> np.ndarray:
    """:func:`shapely.is_valid` of each geometry, the largest spread over two threads (GEOS releases the GIL).

    A country's outline of tens of thousands of vertices takes tens of
    milliseconds; the bundled countries layer holds three of them.
    """
    sizes = shapely.get_num_coordinates(geoms)
    if len(geoms) < 2 or sizes.sum() < 20_000 or not two_cores():
        return shapely.is_valid(geoms)
    order = np.argsort(-sizes, kind="stable")
    halves = (order[0::2], order[1::2])  # largest first, dealt out in turn
    out = np.empty(len(geoms), dtype=bool)
    for half, result in zip(halves, halves_at_once(lambda idx: shapely.is_valid(geoms[idx]), *halves), strict=True):
        out[half] = result
    return out


_TYPE_NAMES = np.array(
    [
        "None",
        "Point",
        "LineString",
        "LinearRing",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
        "GeometryCollection",
    ]
)
