"""The import: read a source, normalise it (EPSG:4326, canonical attributes), check it, write it to a store."""

from __future__ import annotations

import datetime as _dt
import functools
import operator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as _ProjCRSError

from geo import __version__
from geo.errors import DataError, ReadError, UsageError
from geo.io import read_source
from geo.layers import LAYERS, catalogue
from geo.lonlat import crs_name, require_lonlat
from geo.normalise.attributes import IMPORT_ROLES, _attribute_problems, map_attributes, role_columns
from geo.normalise.crs import _BUNDLED, to_wgs84
from geo.project import country_of_role, project_for
from geo.validate import GeometryScanner, Problem, Report, check_geometries


@dataclass
class ImportResult:
    """What :func:`prepare_layer` or :func:`import_layer` produced."""

    report: Report
    gdf: gpd.GeoDataFrame | None
    provenance: dict
    #: what was written, as the verdict names it (role, version, store); None for a dry run
    written: str | None = None
    #: the normalised layer even when refused (repairs applied), for further checks
    checked: gpd.GeoDataFrame | None = None


def prepare_layer(
    path: str | Path,
    *,
    role: str | None,
    crs: str | None = None,
    layer: str | None = None,
    mapping: dict[str, str] | None = None,
    accept_repairs: bool = False,
    encoding: str | None = None,
    quality: str | None = None,
    layers_dir: str | Path | None = None,
    accept_clip: bool = False,
    limits=None,
    xy: tuple[str, str] | None = None,
    region: tuple[float, float, float, float] | None | str = _BUNDLED,
) -> ImportResult:
    """Read, check and normalise a source file for a role, without writing anything.

    Parameters
    ----------
    path : str or Path
        The source file (any format :func:`geo.io.read_source` reads).
    role : str or None
        One of :data:`IMPORT_ROLES`; None checks the file for the geometry kind it holds.
    crs : str, optional
        The CRS of a file that declares none (``--crs``).
    layer : str, optional
        The layer of a multi-layer file (``--layer``).
    mapping : dict, optional
        Canonical column -> source column (``--map``).
    accept_repairs : bool
        Accept repairs that change a feature's area by more than 0.1 %.
    encoding : str, optional
        Text encoding of a Shapefile without .cpg.
    quality : str, optional
        ``geometry_quality`` of parks that state none (``--quality``); default ``unverified``.
    layers_dir : str or Path, optional
        The layer store whose ``countries`` layer a park layer is measured against: the
        hectares of each park off its own country's land, and across the border.
    accept_clip : bool
        Accept parks with more than 1 % across the border (the build clips it off).
    limits : geo.limits.ReadLimits, optional
        Limits of the read (size, JSON depth, time budget); ``BIGCATS_*`` variables or defaults.
    xy : (str, str), optional
        The x and y columns of a CSV of points (``--x``/``--y``).
    region : (float, float, float, float) or None, optional
        Where the layer is expected (see :func:`to_wgs84`); default the bundled project's region.

    Returns
    -------
    ImportResult
        ``gdf`` is the normalised layer (EPSG:4326, canonical columns) when the
        report has no errors, else None.
    """
    if role is not None:
        role_columns(role)  # an unknown role fails before anything is read
    path = Path(path)
    kind = (LAYERS[role].geometry if role in LAYERS else "polygon") if role is not None else None
    # The geometry scan (validity, reasons, repairs, silent fixes: GEOS, without the GIL) runs on
    # worker threads: for a file read in batches, each batch is queued as soon as it is read, while
    # the reading goes on; otherwise the whole layer once read. The attributes are mapped and
    # checked on this thread meanwhile; check_geometries then uses the scan.
    scanner = GeometryScanner(kind=kind) if kind is not None else None
    try:
        result = _prepare(
            path,
            role=role,
            kind=kind,
            scanner=scanner,
            crs=crs,
            layer=layer,
            mapping=mapping,
            accept_repairs=accept_repairs,
            encoding=encoding,
            quality=quality,
            limits=limits,
            xy=xy,
            region=region,
        )
    finally:
        if scanner is not None:
            scanner.close()
    if role is not None and country_of_role(role) is not None and layers_dir is not None and result.checked is not None:
        result.report.problems += _side_problems(
            result.checked, role=role, layers_dir=layers_dir, accept_clip=accept_clip
        )
        if not result.report.ok:
            result.gdf = None
    return result


def _side_problems(gdf: gpd.GeoDataFrame, *, role: str, layers_dir, accept_clip: bool) -> list[Problem]:
    """The hectares of each park off its own country's land and across the border (see overlay.land.wrong_side)."""
    from geo.errors import BigCatsError
    from geo.overlay.land import CLIP_NOISE_HA, WRONG_SIDE_FRACTION, wrong_side
    from geo.store import open_store

    try:
        countries = open_store(layers_dir).read_layer("countries")
    except BigCatsError as exc:
        return [
            Problem(
                role,
                "*",
                f"not measured against the border: {exc}",
                "pass --layers with a layer store holding the countries layer",
                "warning",
            )
        ]
    keep = np.asarray(shapely.is_valid(np.asarray(gdf.geometry.array, dtype=object)), dtype=bool)  # refused ones aside
    table = wrong_side(gdf[keep], countries)
    problems = []
    for r in table.itertuples():
        share = r.other_side_ha / r.area_ha if r.area_ha > 0 else 0.0
        if r.other_side_ha >= CLIP_NOISE_HA:
            problem = (
                f"{r.other_side_ha:,.2f} ha ({100 * share:.2f} % of the park) lie across the border on "
                f"{r.other_iso3} land; the build clips them off"
            )
            if share > WRONG_SIDE_FRACTION and not accept_clip:
                problems.append(
                    Problem(
                        role,
                        str(r.id),
                        problem,
                        "correct the boundary or its country, or pass --accept-clip to import it clipped "
                        f"(more than {100 * WRONG_SIDE_FRACTION:g} % of the park)",
                    )
                )
            else:
                problems.append(Problem(role, str(r.id), problem, "none needed if the border is right", "warning"))
        off = r.outside_ha - r.other_side_ha
        if off >= CLIP_NOISE_HA:
            whole = " (all of it: nothing would be left)" if r.outside_ha >= r.area_ha * (1 - 1e-9) else ""
            problems.append(
                Problem(
                    role,
                    str(r.id),
                    f"{off:,.2f} ha ({100 * off / r.area_ha:.2f} % of the park) lie off {r.country_iso3} land in the "
                    f"countries layer (water, or beyond the layer){whole}; the build clips them off",
                    "none needed for a lake or the sea; else check the boundary",
                    "warning",
                )
            )
    return problems


def _early_scan(scanner: GeometryScanner):
    """``on_geometries`` for :func:`geo.io.read_source`: queue batches already in EPSG:4326 for scanning."""

    def on_geometries(geoms, crs) -> None:
        if _is_wgs84(crs):  # the layer is checked as read; other CRSs are transformed first, then scanned
            scanner.add(geoms)

    return on_geometries


@functools.lru_cache(maxsize=64)
def _is_wgs84(crs: str | None) -> bool:
    """Whether a layer's declared CRS is EPSG:4326 (kept: two PROJ objects took 0.5 ms before the scan could start)."""
    try:
        return crs is not None and CRS.from_user_input(crs).equals(CRS("EPSG:4326"))
    except _ProjCRSError:
        return False


def _same_objects(a: np.ndarray, b) -> bool:
    """Whether two arrays hold the very same geometry objects, in order."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


def _prepare(
    path: Path,
    *,
    role,
    kind,
    scanner,
    crs,
    layer,
    mapping,
    accept_repairs,
    encoding,
    quality=None,
    limits=None,
    xy=None,
    region=_BUNDLED,
) -> ImportResult:
    try:
        source = read_source(
            path,
            layer=layer,
            encoding=encoding,
            on_geometries=_early_scan(scanner) if scanner is not None else None,
            limits=limits,
            xy=xy,
        )
    except DataError as exc:  # a GeoJSON that breaks RFC 7946's structure: report every problem
        report = Report(source=path.name, role=role, features=0, problems=list(exc.problems))
        return ImportResult(report, None, {"source_name": path.name})
    name = role or "layer"
    report = Report(source=path.name, role=role, features=len(source.gdf), problems=list(source.problems))
    provenance = {
        "source_name": path.name,
        "sha256": source.sha256,  # of the file given (for a Shapefile folder: of its .shp)
        "format": source.format,
        "layer": source.layer,
        "original_crs": crs_name(source.crs) if source.format != "GeoJSON" else "OGC:CRS84 (GeoJSON)",
        "encoding": source.encoding,
        "tool_version": f"bigcats {__version__}",
        "role": role,
    }
    if len(source.gdf) == 0:
        report.problems.append(
            Problem(name, "*", "the layer has 0 features", "export the layer again with its features")
        )
        return ImportResult(report, None, provenance)
    gdf, problems, original = to_wgs84(source, crs=crs, layer=name, region=region)
    report.problems += problems
    provenance["original_crs"] = original
    provenance["crs_option"] = crs
    if gdf is None:
        return ImportResult(report, None, provenance)
    has_z = bool(gdf.geometry.has_z.any())
    if has_z:
        gdf = gdf.set_geometry(gdf.geometry.force_2d())
        report.problems.append(Problem(name, "*", "Z (height) values dropped: the map is 2D", "none needed", "warning"))
    if role is None:
        kinds = {
            "Polygon": "polygon",
            "MultiPolygon": "polygon",
            "LineString": "line",
            "MultiLineString": "line",
            "Point": "point",
            "MultiPoint": "point",
        }
        found = gdf.geometry.geom_type.dropna().map(kinds).dropna()
        kind = found.mode().iloc[0] if len(found) else "polygon"
        ids = [str(i) for i in range(len(gdf))]
        _, problems, repairs = check_geometries(gdf, ids=ids, kind=kind, layer=name, accept_repairs=accept_repairs)
        report.problems += problems
        report.repairs = repairs
        return ImportResult(report, None, provenance)
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    if not _same_objects(scanner.scanned, geoms):  # not read in batches, transformed, or made 2D
        scanner.reset(total=len(geoms))
        scanner.add(geoms)
    mapped, problems, used, dropped = map_attributes(
        gdf, role=role, mapping=mapping, source_name=path.name, quality=quality
    )
    report.problems += problems
    report.problems += _attribute_problems(gdf, mapped, role=role, used=used)
    scan = scanner.result()
    provenance["columns"] = used
    provenance["dropped_columns"] = dropped
    ids = mapped["id"]
    # as plain lists: iterating the Series itself took 20 ms at 10,000 rows; a missing id (None, or NaN
    # in pandas 3's string dtype) is named by its row
    values, missing = ids.to_numpy(dtype=object).tolist(), ids.isna().to_numpy().tolist()
    idlist = [f"row {i + 1}" if gone else str(v) for i, (v, gone) in enumerate(zip(values, missing, strict=True))]
    checked, problems, repairs = check_geometries(
        mapped,
        ids=idlist,
        kind=kind,
        layer=role,
        accept_repairs=accept_repairs,
        scan=scan,
    )
    report.problems += problems
    report.repairs = repairs
    provenance["repairs"] = repairs
    provenance["features"] = len(checked)
    return ImportResult(report, checked if report.ok else None, provenance, checked=checked)


def import_layer(
    path: str | Path,
    *,
    role: str,
    layers_dir: str | Path,
    crs: str | None = None,
    layer: str | None = None,
    mapping: dict[str, str] | None = None,
    accept_repairs: bool = False,
    encoding: str | None = None,
    dry_run: bool = False,
    add: bool = False,
    quality: str | None = None,
    accept_clip: bool = False,
    limits=None,
    xy: tuple[str, str] | None = None,
) -> ImportResult:
    """Check a source file and, if the report has no errors, add it as a new version of the role's layer.

    ``layers_dir`` is any layer store :func:`geo.store.open_store` opens (a
    folder, a ``.gpkg`` store or a ``postgresql://`` URL). The layer becomes
    the role's current version in one all-or-nothing write, with its
    provenance; earlier versions are kept (``bigcats history``). With ``add``
    its features are added to the current layer instead (ids must stay
    unique). ``dry_run`` writes nothing. Parks are measured against the store's
    countries layer and ``quality`` is their default ``geometry_quality``
    (see :func:`prepare_layer`).
    """
    from geo.store import open_store

    if role is None:
        raise UsageError("import needs --role; use one of " + ", ".join(IMPORT_ROLES) + ".")
    spec = str(layers_dir)
    if "://" not in spec and not spec.lower().endswith(".gpkg") and not Path(spec).is_dir():
        raise ReadError(
            f"layers folder not found: {_masked(spec)}. Pass --layers with an existing layer folder "
            "(the bundled one is 'layers'), a .gpkg store or a postgresql:// URL."
        )
    role_columns(role)
    project = project_for(spec)
    if country_of_role(role) is not None and role not in catalogue(project).park_roles:
        where = project.path or "the bundled project"
        raise UsageError(
            f"--role {role}: {country_of_role(role)} is not a country of the project ({where}: countries "
            f"{', '.join(project.countries)}); use one of {', '.join(project.park_roles)}, or add it to "
            "countries in project.toml."
        )
    result = prepare_layer(
        path,
        role=role,
        crs=crs,
        layer=layer,
        mapping=mapping,
        accept_repairs=accept_repairs,
        encoding=encoding,
        quality=quality,
        layers_dir=spec,
        accept_clip=accept_clip,
        limits=limits,
        xy=xy,
        region=project.region,
    )
    if not result.report.ok or result.gdf is None:  # no layer without errors (ok implies a layer)
        return result
    gdf: gpd.GeoDataFrame = result.gdf
    store = open_store(spec)
    if add and role in store._roles():
        existing = require_lonlat(store.read_layer(role), what=f"the {role} layer of {_masked(spec)}")
        clash = sorted(set(existing["id"].astype(str)) & set(gdf["id"].astype(str)))
        for fid in clash:
            result.report.problems.append(
                Problem(
                    role,
                    fid,
                    f"duplicate id: already in the {role} layer",
                    "drop --add to replace the layer, or give it another id",
                )
            )
        if clash:
            result.gdf = None
            return result
        result.provenance["added_to"] = {"version": store.current_version(role), "features": len(existing)}
        columns = [c for c in gdf.columns if c in existing.columns]
        combined = pd.concat([existing[columns], gdf], ignore_index=True)
        gdf = result.gdf = gpd.GeoDataFrame(combined, geometry=gdf.geometry.name, crs="EPSG:4326")
    if not dry_run:
        result.provenance["imported_at"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        provenance = {
            **result.provenance,
            "source": result.provenance["source_name"],
            "checksum": result.provenance["sha256"],
        }
        version = store.write_layer(role, gdf, provenance=provenance)
        result.written = f"{role} version {version} of {_masked(spec)}"
    return result


def _masked(spec: str) -> str:
    from geo.store import mask_url

    return mask_url(spec)
