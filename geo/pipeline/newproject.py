"""``bigcats new``: a layer folder for a transboundary project of any countries.

From the pinned OpenStreetMap country-land package (:mod:`geo.construct`, fetched once
and cached) or a local copy: the countries' land clipped to a region around their shared
borders, the borders between each pair, the border stretches, an empty park layer per
country, ``project.toml``, an empty ``facts.csv``, the provenance and the licence.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo import __version__
from geo.border import cut_stretch
from geo.construct import (
    LAND_PACKAGE,
    LICENCE,
    border_line,
    borders_layer,
    countries_layer,
    land_source,
    read_land,
    region_text,
    tripoint,
)
from geo.errors import DataError, UsageError
from geo.facts import COLUMNS as FACT_COLUMNS
from geo.io import write_geojson
from geo.layers import LAYERS, PARK_COLUMNS
from geo.measure import GEOD
from geo.project import (
    PROJECT_FILE,
    Project,
    ProjectError,
    StretchSpec,
    park_role,
    parse_project,
    project_toml,
    read_project,
)

__all__ = ["DEFAULT_MARGIN_KM", "NewProject", "new_project"]

#: Margin (km) of the region kept around the countries' shared borders.
DEFAULT_MARGIN_KM = 100.0


@dataclass(frozen=True)
class NewProject:
    """What :func:`new_project` wrote.

    Attributes
    ----------
    folder : Path
        The new layer folder.
    project : Project
        Its project.
    region : tuple of float
        (lon_min, lat_min, lon_max, lat_max) the land was clipped to.
    borders : dict of str to float
        Geodesic length (km) of each pair's shared border in the region (0 when they share none).
    files : tuple of str
        The files written.
    """

    folder: Path
    project: Project
    region: tuple[float, float, float, float]
    borders: dict[str, float]
    files: tuple[str, ...]


def _shared_extent(a: shapely.Geometry, b: shapely.Geometry) -> tuple[float, float, float, float] | None:
    """The extent of the vertices two countries' land polygons share (their border; None when they share none).

    The package's polygons share their vertices along a border, so the common vertices are found by value
    (fast even for the largest countries, where overlaying the whole polygons is not).
    """
    ax0, ay0, ax1, ay1 = a.bounds
    bx0, by0, bx1, by1 = b.bounds
    rect = (max(ax0, bx0) - 0.01, max(ay0, by0) - 0.01, min(ax1, bx1) + 0.01, min(ay1, by1) + 0.01)
    if rect[0] > rect[2] or rect[1] > rect[3]:
        return None
    ca, cb = (shapely.get_coordinates(shapely.clip_by_rect(g, *rect)) for g in (a, b))
    common = np.intersect1d(ca[:, 0] + 1j * ca[:, 1], cb[:, 0] + 1j * cb[:, 1])
    if len(common) < 2:
        return None
    return (float(common.real.min()), float(common.imag.min()), float(common.real.max()), float(common.imag.max()))


def _region_around(lines: shapely.Geometry, margin_km: float) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = shapely.bounds(lines)
    dlat = margin_km / 111.2
    coslat = max(np.cos(np.radians(min(max(abs(y0), abs(y1)) + dlat, 89.0))), 0.01)
    dlon = margin_km / (111.3 * coslat)
    return (
        round(float(max(-180.0, x0 - dlon)), 2),
        round(float(max(-90.0, y0 - dlat)), 2),
        round(float(min(180.0, x1 + dlon)), 2),
        round(float(min(90.0, y1 + dlat)), 2),
    )


def _stretches_layer(project: Project, borders: gpd.GeoDataFrame, facts: Mapping, source: str) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for spec in project.stretches:
        a, b = spec.countries
        line = border_line(borders, a, b)
        if line.is_empty:
            raise DataError(
                f"the stretch {a}-{b}: {a} and {b} share no border in the region",
                problems=["choose a pair that shares a border, or widen the region (--region)"],
            )
        start = None
        if spec.tripoint:
            start = tripoint(borders, (a, b), spec.tripoint)
        elif spec.point:
            start = spec.point
        names = f"{project.country_name(a)}-{project.country_name(b)}"
        if spec.length_fact:
            fact = facts[spec.length_fact]
            if start is None:  # parse_project refuses a length without a start
                raise DataError(
                    f"the stretch {a}-{b} has a length but no start", problems=["give start in project.toml"]
                )
            cut = cut_stretch(line, start=start, length_m=fact.number * 1000)
            geom, length_km = cut.line, cut.length_m / 1000
            method = (
                f"The OpenStreetMap {names} border walked from {_start_text(spec, start)} and cut at "
                f"{fact.number:g} km measured geodesically on WGS84; {len(cut.gaps)} water gaps "
                f"({cut.gap_length_m / 1000:.2f} km) bridged by straight segments and counted in the length."
            )
            reported, reported_source = fact.number, fact.citation
        else:
            geom, length_km = line, GEOD.geometry_length(line) / 1000
            method = (
                f"The whole OpenStreetMap {names} border in the region (no published length given: add a "
                f"row to facts.csv and length_fact to project.toml to cut it)"
                + (f"; it is to start at {_start_text(spec, start)}." if start else ".")
            )
            reported, reported_source = None, None
        rows.append(
            {
                "id": spec.pair_id if spec.length_fact is None else f"{spec.pair_id}-{spec.length_fact}",
                "name_en": f"{names} border stretch",
                "length_km": round(length_km, 3),
                "reported_length_km": reported,
                "reported_length_source": reported_source,
                "geometry_method": method,
                "source": f"derived from the {source} (see borders.geojson)",
                "licence": LICENCE,
            }
        )
        geoms.append(shapely.transform(geom, lambda xy: np.round(xy, 6)))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


def _start_text(spec: StretchSpec, start) -> str:
    if spec.tripoint:
        return (
            f"the tri-point with {spec.tripoint} ({start[0]:.5f}E {start[1]:.5f}N, the border vertex nearest "
            "its border)"
        )
    return f"the border's end nearest {start[0]:g}E {start[1]:g}N"


def _empty_parks() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in PARK_COLUMNS}, geometry=[], crs="EPSG:4326")


_README = """# {name}

A layer folder made by `bigcats new` (bigcats {version}) for {countries}.

- `countries.geojson`: each country's land, clipped to {region};
- `borders.geojson`: the edges each pair's land polygons share (gaps where a border runs in water);
- `border_stretch.geojson`: the project's border stretch(es), see `project.toml`;
- `parks_<iso3>.geojson`: empty; import each country's parks with
  `bigcats import FILE --role parks_<iso3> --layers THIS_FOLDER`;
- `project.toml`: the project (countries, languages, stretches, published figures by facts id);
- `facts.csv`: published figures, one row each with its public source (empty: add yours).

Land and borders: {source}. Licence: ODbL 1.0 (https://opendatacommons.org/licenses/odbl/1-0/),
© OpenStreetMap contributors. A database derived from them stays under the ODbL:
keep this attribution when you pass the layers on.
"""


def new_project(
    folder: str | Path,
    countries: Sequence[str],
    *,
    name: str,
    lang: str = "en",
    stretches: Sequence[StretchSpec] = (),
    context: Sequence[str] = (),
    country_names: Mapping[str, str] | None = None,
    package: str | Path | None = None,
    cache: Path | None = None,
    region: tuple[float, float, float, float] | None = None,
    margin_km: float = DEFAULT_MARGIN_KM,
    quiet: bool = False,
) -> NewProject:
    """Create a layer folder for a transboundary project of any countries.

    Parameters
    ----------
    folder : str or Path
        The new folder (must not exist, or be empty). Written all at once: on an
        error nothing is left.
    countries : sequence of str
        ISO 3166 alpha-3 codes, two or more.
    name : str
        The project's name (in ``lang``).
    stretches : sequence of StretchSpec, keyword-only
        Border stretches; default the whole shared border of each pair that has one.
    context : sequence of str, keyword-only
        Further countries whose land and borders are kept for context (no parks).
    country_names : mapping, keyword-only
        English names of the countries (default their codes).
    package : str or Path, keyword-only
        A local copy of the package tarball or a GeoJSON in its format (see :func:`land_source`).
    region : (lon_min, lat_min, lon_max, lat_max), keyword-only
        The region to keep; default the shared borders' extent plus ``margin_km``.

    Raises
    ------
    UsageError
        Bad countries, or the folder exists and is not empty (exit 2).
    ReadError
        The package cannot be fetched or read (exit 2).
    UsageError
        A country is not in the package, or the countries share no border (exit 2).
    DataError
        A stretch's countries share no border in the region (exit 1).
    """
    folder = Path(folder)
    codes = [c.strip().upper() for c in countries if c.strip()]
    project = Project(
        name={lang: name},
        countries=tuple(codes),
        context_countries=tuple(c.strip().upper() for c in context if c.strip()),
        languages=(lang,),
        country_names={c: {"en": n} for c, n in (country_names or {}).items()},
        stretches=tuple(stretches),
    )
    # The same checks as reading the file (codes, pairs, starts), before any download.
    try:
        parse_project(_as_data(project), facts={})
    except ProjectError as exc:
        raise UsageError(str(exc).replace("project.toml has", "the new project has")) from None
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"{folder} exists and is not an empty folder; give a new folder for the project.")
    source = land_source(package, cache=cache, quiet=quiet)
    everyone = list(project.all_countries)
    pairs = list(combinations(project.countries, 2)) + [
        (a, c) for c in project.context_countries for a in project.countries
    ]
    if region is None:
        whole = dict(zip(codes, read_land(source.path, codes, clean=False).geometry, strict=True))
        extents = [e for p, q in combinations(codes, 2) if (e := _shared_extent(whole[p], whole[q])) is not None]
        if not extents:
            raise UsageError(
                f"{', '.join(codes)} share no land border in the OpenStreetMap land polygons; "
                "choose neighbouring countries, or give the region with --region W,S,E,N."
            )
        region = _region_around(shapely.union_all([shapely.box(*e) for e in extents]), margin_km)
    region = (float(region[0]), float(region[1]), float(region[2]), float(region[3]))
    land = read_land(source.path, everyone, bbox=region)
    names = {c: project.country_name(c) for c in everyone}
    countries_gdf = countries_layer(land, region, names=names, source=source.description)
    borders_gdf = borders_layer(land, pairs, region, source=source.description)
    lengths = dict(zip(borders_gdf["id"], borders_gdf["length_km"], strict=True))
    project = replace(project, region=region)
    if not stretches:
        project = replace(
            project,
            stretches=tuple(
                StretchSpec(countries=p) for p in combinations(codes, 2) if lengths.get(f"{p[0]}-{p[1]}", 0) > 0
            ),
        )
    stretch_gdf = _stretches_layer(project, borders_gdf, {}, source.description)
    files: dict[str, gpd.GeoDataFrame] = {
        LAYERS["countries"].filename: countries_gdf,
        LAYERS["border"].filename: borders_gdf,
        LAYERS["stretch"].filename: stretch_gdf,
    }
    for code in codes:
        files[f"{park_role(code)}.geojson"] = _empty_parks()
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # a folder like any other (mkdtemp makes it private)
    try:
        for filename, gdf in files.items():
            write_geojson(gdf, tmp / filename)
        (tmp / PROJECT_FILE).write_text(
            project_toml(project, comment=f"{name}: made by 'bigcats new' (bigcats {__version__})."), encoding="utf-8"
        )
        (tmp / "facts.csv").write_text(",".join(FACT_COLUMNS) + "\n", encoding="utf-8")
        provenance = {
            "generator": f"bigcats new (bigcats {__version__})",
            "region": dict(zip(("lon_min", "lat_min", "lon_max", "lat_max"), region, strict=True)),
            "sources": {
                "osm_land": {
                    **LAND_PACKAGE,
                    "used": source.description,
                    "used_sha256": source.sha256,
                    "pinned": source.pinned,
                }
            },
            "layers": {f: {"features": len(g)} for f, g in files.items()},
        }
        text = json.dumps(provenance, indent=2, ensure_ascii=False) + "\n"
        (tmp / "provenance.json").write_text(text, encoding="utf-8")
        (tmp / "README.md").write_text(
            _README.format(
                name=name,
                version=__version__,
                countries=", ".join(codes),
                region=region_text(region),
                source=source.description,
            ),
            encoding="utf-8",
        )
        read_project(tmp / PROJECT_FILE)  # what was written reads back
        if folder.exists():
            folder.rmdir()
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    written = read_project(folder / PROJECT_FILE)
    return NewProject(
        folder=folder,
        project=written,
        region=region,
        borders={f"{a}-{b}": float(lengths.get(f"{a}-{b}", 0.0)) for a, b in pairs},
        files=tuple(sorted([*files, PROJECT_FILE, "facts.csv", "provenance.json", "README.md"])),
    )


def _as_data(project: Project) -> dict:
    """``project`` as :mod:`tomllib` would read its file (to check it with the file's rules)."""
    return tomllib.loads(project_toml(project))
