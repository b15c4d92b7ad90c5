"""``bigcats simplify``: a polygon coverage file simplified for display, within a per-feature area budget.

The same kernel as the map's display geometry (:func:`geo.render.simplify._display_geometries`):
shared edges stay shared (GEOS's coverage simplification), every feature's geodesic area stays
within ``max_area_error`` of its own, and the result is proved a valid coverage before it is
written. It imports neither geopandas nor GDAL for GeoJSON in lon/lat
(:mod:`geo.io.coverage_json`); any other file is read with GDAL (pyogrio) and taken to WGS84.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from geo.errors import DataError, UsageError
from geo.forked import halves_at_once, two_cores
from geo.io.coverage_json import PolygonLayer, read_polygons, write_polygons
from geo.limits import ReadLimits, check_input, read_limits
from geo.measure import M2_PER_HA
from geo.render.simplify import _display_geometries
from geo.sphere import sphere_area_bound_m2

__all__ = ["SimplifiedFile", "coverage_is_valid", "coverage_problems", "simplify_file"]


def coverage_is_valid(geoms: np.ndarray) -> bool:
    """:func:`shapely.coverage_is_valid`, in two overlapping halves on two threads (GEOS releases the GIL).

    The west half holds the polygons whose boxes start west of the median, the east half
    those whose boxes end east of it. Two polygons whose boxes meet are in one half together
    (both start west; or one starts east, so the other, meeting its box, ends east), so every
    pair the proof compares is compared. Below 2,000 polygons, or on one core, in one piece.
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) < 2000 or not two_cores():
        return bool(shapely.coverage_is_valid(geoms))
    box = shapely.bounds(geoms)
    west_edges = box[:, 0][~np.isnan(box[:, 0])]
    if not len(west_edges):
        return bool(shapely.coverage_is_valid(geoms))
    # the median west edge (np.partition: np.median imports numpy.ma, 8 ms, on first use)
    cut = np.partition(west_edges, len(west_edges) // 2)[len(west_edges) // 2]
    # an empty one (no box) is in neither half
    west, east = halves_at_once(shapely.coverage_is_valid, geoms[box[:, 0] < cut], geoms[box[:, 2] >= cut])
    return bool(west) and bool(east)


def coverage_problems(geoms: np.ndarray, *, limit: int = 20) -> list[str]:
    """Why the polygons are not a valid coverage: the invalid ones, else the pairs that overlap (``limit`` lines).

    Empty when they are one (every polygon valid, :func:`shapely.coverage_is_valid`).
    Missing and empty geometries are left out.
    """
    geoms = np.asarray(geoms, dtype=object)
    present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    bad = present[~shapely.is_valid(geoms[present])]
    problems = [f"feature {i + 1}: {shapely.is_valid_reason(geoms[i])}" for i in bad]
    if not problems and not shapely.coverage_is_valid(geoms[present]):
        a, b = shapely.STRtree(geoms[present]).query(geoms[present], predicate="overlaps")
        pairs = [(present[i] + 1, present[j] + 1) for i, j in zip(a, b, strict=True) if i < j]
        problems = [f"features {i} and {j} overlap" for i, j in pairs]
        if not problems:
            problems = ["edges the polygons share do not match vertex for vertex (see shapely.coverage_invalid_edges)"]
    more = [f"... and {len(problems) - limit} more"] if len(problems) > limit else []
    return problems[:limit] + more


@dataclass(frozen=True)
class SimplifiedFile:
    """What :func:`simplify_file` wrote and what it chose."""

    path: Path
    features: int
    input_vertices: int
    vertices: int
    tolerance_deg: float
    grid_deg: float
    max_area_error: float
    reader: str
    limit: float

    def summary(self) -> str:
        """One line: what was written, how much was kept, the largest area error against its limit."""
        share = self.vertices / self.input_vertices if self.input_vertices else 1.0
        grid = f"grid {self.grid_deg:g} deg" if self.grid_deg else "coordinates as they were (no grid kept it valid)"
        how = (f"tolerance {self.tolerance_deg:g} deg and finer, {grid}" if self.tolerance_deg
               else "left unsimplified (a feature missed its budget even so)")
        return (f"wrote {self.path}: {self.features:,} features, {self.vertices:,} of {self.input_vertices:,} vertices "
                f"({share:.0%}), largest geodesic area error at most {100 * self.max_area_error:.2f} % "
                f"(limit {100 * self.limit:g} %), a valid coverage; {how}; read with {self.reader}")


def _read_with_gdal(src: Path, layer: str | None, limits: ReadLimits | None) -> PolygonLayer:
    """Any file GDAL reads, as lon/lat polygons (geopandas and pyogrio are imported only here).

    Read as every command reads a source (:func:`geo.io.read_source`): a local file only, within
    the read's size and time budgets, ``layer`` naming one of several.
    """
    from geo.io import _json_value, read_source

    gdf = read_source(src, layer=layer, limits=limits).gdf
    if gdf.crs is None:
        raise DataError(f"{src} has no CRS, so it cannot be measured; set the CRS it was made in "
                        "(for example with 'bigcats import --crs') and try again.")
    gdf = gdf.to_crs("EPSG:4326")
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    props: list[dict | None] = [{c: _json_value(v) for c, v in zip(columns, row, strict=True)}
                                for row in gdf[columns].itertuples(index=False, name=None)]
    return PolygonLayer(np.asarray(gdf.geometry.array, dtype=object), props, None, None)


def _read(
    src: Path, dst: Path, max_area_error: float, limits: ReadLimits | None, layer: str | None
) -> tuple[PolygonLayer, str, np.ndarray]:
    """The arguments checked and the layer read: ``(layer, reader, indices of the features with a polygon)``."""
    if not 0 < max_area_error < 1:
        raise UsageError(f"--max-area-error must be between 0 and 1 (a share: 0.005 is 0.5 %), not {max_area_error}.")
    if dst.suffix.lower() not in (".geojson", ".json"):
        raise UsageError(f"{dst}: the output is GeoJSON; name it .geojson (or .json).")
    if dst.exists() and src.exists() and dst.resolve() == src.resolve():
        raise UsageError(f"{dst} is the input file; write the result elsewhere (the source is never modified).")
    lean = layer is None and src.suffix.lower() in (".geojson", ".json")
    if lean:  # (read_source checks the input itself)
        check_input(src, [src], src.suffix.lower().lstrip("."), limits or read_limits())
    found = read_polygons(src.read_bytes()) if lean else None
    reader = "numpy"
    if found is None:
        found, reader = _read_with_gdal(src, layer, limits), "GDAL"
    geoms = found.geometries
    present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    kinds = shapely.get_type_id(geoms[present])
    if not len(present):
        raise DataError(f"{src} holds no polygons to simplify.")
    if not np.isin(kinds, (3, 6)).all():
        wrong = present[~np.isin(kinds, (3, 6))]
        raise DataError(f"{src} holds geometries other than polygons; a coverage is polygons only.",
                        [f"feature {i + 1}: {geoms[i].geom_type}" for i in wrong[:20]])
    return found, reader, present


def simplify_file(
    src: str | Path, dst: str | Path, *, max_area_error: float = 0.005, limits: ReadLimits | None = None,
    layer: str | None = None,
) -> SimplifiedFile:
    """Simplify the polygon coverage in ``src`` for display and write it to ``dst`` (RFC 7946 GeoJSON).

    Every feature's geodesic area stays within ``max_area_error`` (0.005 = 0.5 %) of its
    own; features keep their properties and order; a feature with no geometry stays without.
    ``dst`` is written atomically, only once the result is proved a valid coverage; ``src``
    is never modified. ``limits`` bound the input's size and the time GDAL may take to read it
    (:func:`geo.limits.read_limits`); ``layer`` names the layer of a file holding several.

    Raises
    ------
    UsageError
        ``dst`` is ``src``, is not ``.geojson``/``.json``, the budget is out of range, or ``src``
        holds several layers and ``layer`` is not one of them.
    ReadError
        ``src`` cannot be read (or its read took longer than the budget).
    DataError
        ``src`` holds no polygons, other geometry types, or is not a valid polygon coverage
        (the problems are listed).
    """
    src, dst = Path(src), Path(dst)
    layer_read, reader, present = _read(src, dst, max_area_error, limits, layer)
    geoms = layer_read.geometries
    originals = geoms[present]  # the polygons, an object array
    layer_of = np.zeros(len(originals), dtype=int)
    with ThreadPoolExecutor(1) as pool:
        # measured without densifying (nor pyproj), and how far that may be from the geodesic
        # areas: the check counts it against the budget. On a thread of its own while the
        # coverage is cut into arcs (both mostly in NumPy and GEOS, without the GIL): 0.06-0.12 s
        # of a 1.8 s run at 10,000 parks
        measuring = pool.submit(sphere_area_bound_m2, originals)

        def measured() -> tuple[np.ndarray, np.ndarray]:
            true_m2, true_bound_m2 = measuring.result()
            return true_m2 / M2_PER_HA, true_bound_m2 / M2_PER_HA

        try:
            tolerance, grid, shown, error = _display_geometries(
                originals, measured, layer_of, max_area_error, assume_coverage=True, prove_coverage=False,
            )
        except shapely.errors.GEOSException:
            shown = None
        true_ha, true_bound = measured()
    out = geoms.copy()

    def write(shown: list, grid: float, proved: bool) -> Path | None:
        """Write ``shown`` (atomically) once it is proved a valid coverage; None (nothing written) if it is not."""
        out[present] = shown
        decimals = int(round(-np.log10(grid))) if grid else 10  # the grid's coordinates, exactly
        written = PolygonLayer(out, layer_read.properties, layer_read.ids, layer_read.name)
        if proved:
            return write_polygons(written, dst, decimals=decimals)
        geoms = np.asarray(shown, dtype=object)

        def proof() -> bool:
            # simplified, each feature was proved valid (fit_arcs); whether they are a coverage is left
            return coverage_is_valid(geoms) and bool(tolerance or grid or shapely.is_valid(geoms).all())

        with ThreadPoolExecutor(1) as pool:  # the proof runs (GEOS, without the GIL) while the text is written
            proving = pool.submit(proof)
            return write_polygons(written, dst, decimals=decimals, check=proving.result)

    # proved while it is written: a simplified arc may have crossed into another feature
    path = write(shown, grid, False) if shown is not None else None
    if path is None:
        # the input is not a valid coverage (say why), or the grid or the simplification made it
        # none: the careful way, each step proved (the features along an arc that crossed into
        # another keep it finer)
        found = coverage_problems(originals)
        if found:
            raise DataError(
                f"{src} is not a valid polygon coverage, so its shared edges cannot be simplified together; "
                "nothing was written. Fix these (in QGIS: Check Validity, Fix Geometries, remove the overlaps) "
                "and try again:", found)
        tolerance, grid, shown, error = _display_geometries(
            originals, true_ha, layer_of, max_area_error, true_bound_ha=true_bound
        )
        path = write(shown, grid, True)
        if path is None:  # written unchecked, it is always written
            raise RuntimeError(f"{dst} was not written")
    return SimplifiedFile(
        path, len(present), int(shapely.get_num_coordinates(originals).sum()),
        int(shapely.get_num_coordinates(np.asarray(shown, dtype=object)).sum()), tolerance, grid, error, reader,
        max_area_error,
    )
