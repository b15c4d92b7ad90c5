"""Deterministic synthetic data for the benchmark suite (seeded; no downloads).

Shapes are WDPA-like: star-shaped polygons of a fixed vertex count inside the
region (124-136E, 40-49N) with WDPA attribute names, some with holes, some
multi-part, some invalid (self-intersecting), overlapping at random.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["coverage", "long_boundary", "wdpa_like", "write_gpkg_sample"]

BOX = (127.0, 41.0, 134.0, 47.0)
M_PER_DEG = 111_320.0
IUCN = np.array(["Ia", "Ib", "II", "III", "IV", "V", "VI", "Not Reported"])


def _rings(rng: np.random.Generator, centres: np.ndarray, radius_m: np.ndarray, vertices: int) -> np.ndarray:
    """(n, vertices + 1, 2) closed star-shaped rings around ``centres``."""
    n = len(centres)
    angles = np.sort(rng.uniform(0, 2 * np.pi, (n, vertices)), axis=1)
    r = radius_m[:, None] * rng.uniform(0.7, 1.0, (n, vertices))
    dlat = r * np.sin(angles) / M_PER_DEG
    dlon = r * np.cos(angles) / (M_PER_DEG * np.cos(np.radians(centres[:, 1:2])))
    ring = np.stack([centres[:, 0:1] + dlon, centres[:, 1:2] + dlat], axis=-1)
    return np.concatenate([ring, ring[:, :1]], axis=1)


def wdpa_like(
    n: int,
    *,
    seed: int = 0,
    vertices: int = 64,
    hole_every: int = 10,
    multi_every: int = 20,
    invalid_every: int = 100,
) -> gpd.GeoDataFrame:
    """``n`` WDPA-like protected areas of ``vertices`` vertices per ring, EPSG:4326.

    Every ``hole_every``-th polygon has a hole, every ``multi_every``-th is a
    two-part MultiPolygon, every ``invalid_every``-th is a self-intersecting
    bow-tie (two vertices swapped). Placement is uniform, so polygons overlap.
    Columns: WDPAID, NAME, DESIG, IUCN_CAT, STATUS_YR, REP_AREA (km²), ISO3.
    """
    rng = np.random.default_rng(seed)
    centres = np.column_stack([rng.uniform(BOX[0], BOX[2], n), rng.uniform(BOX[1], BOX[3], n)])
    radius = rng.uniform(1_000, 10_000, n)
    shells = _rings(rng, centres, radius, vertices)
    idx = np.arange(n)
    bad = idx % invalid_every == invalid_every - 1 if invalid_every else np.zeros(n, bool)
    shells[bad, 1], shells[bad, vertices // 2] = shells[bad, vertices // 2].copy(), shells[bad, 1].copy()
    holes = _rings(rng, centres, radius * 0.3, vertices)
    with_hole = (idx % hole_every == 0) & ~bad if hole_every else np.zeros(n, bool)
    geoms = shapely.polygons(shapely.linearrings(shells))
    geoms[with_hole] = shapely.polygons(
        shapely.linearrings(shells[with_hole]), holes=shapely.linearrings(holes[with_hole])[:, None]
    )
    multi = (idx % multi_every == 1) & ~bad if multi_every else np.zeros(n, bool)
    if multi.any():
        offset = centres[multi] + np.column_stack([radius[multi] * 2.5 / M_PER_DEG, np.zeros(multi.sum())])
        second = shapely.polygons(shapely.linearrings(_rings(rng, offset, radius[multi] * 0.5, vertices)))
        geoms[multi] = [shapely.MultiPolygon([a, b]) for a, b in zip(geoms[multi], second, strict=True)]
    iso3 = np.where(centres[:, 0] > 131.0, "RUS", "CHN")
    return gpd.GeoDataFrame(
        {
            "WDPAID": 900_000_000 + idx,
            "NAME": [f"Synthetic area {i}" for i in idx],
            "DESIG": "Synthetic protected area",
            "IUCN_CAT": IUCN[rng.integers(0, len(IUCN), n)],
            "STATUS_YR": rng.integers(1916, 2024, n),
            "REP_AREA": np.round(np.pi * (radius * 0.85) ** 2 / 1e6, 3),
            "ISO3": iso3,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )


def coverage(n: int, *, seed: int = 0, edge_vertices: int = 0) -> gpd.GeoDataFrame:
    """``n`` adjoining parks tiling the box exactly (Voronoi cells), EPSG:4326.

    With ``edge_vertices``, every edge between two parks winds (a seeded meander of a
    few harmonics, up to about 8 % of its length to either side) through that many
    extra vertices, like a surveyed boundary, and neighbours share it vertex for vertex;
    the cells are then the faces of the noded edges (about ``n`` of them).
    """
    rng = np.random.default_rng(seed)
    pts = shapely.multipoints(np.column_stack([rng.uniform(BOX[0], BOX[2], n), rng.uniform(BOX[1], BOX[3], n)]))
    box = shapely.box(*BOX)
    if edge_vertices:
        edges = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=box, only_edges=True))
        ends = shapely.get_coordinates(edges).reshape(-1, 2, 2)
        t = np.linspace(0.0, 1.0, edge_vertices + 2)
        along = ends[:, None, 0] + t[None, :, None] * (ends[:, None, 1] - ends[:, None, 0])
        normal = (ends[:, 1] - ends[:, 0])[:, ::-1] * (1.0, -1.0)
        amp = rng.uniform(-0.04, 0.04, (len(edges), 3))
        wave = sum(amp[:, k : k + 1] * np.sin((k + 1) * np.pi * t)[None, :] for k in range(3))
        lines = shapely.linestrings(along + wave[:, :, None] * normal[:, None, :])
        noded = shapely.union_all(np.append(lines, shapely.boundary(box)))
        cells = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
        # crossing meanders leave a few slivers: left out (gaps are allowed in a coverage)
        cells = cells[shapely.contains(box, shapely.point_on_surface(cells)) & (shapely.area(cells) > 1e-5)]
    else:
        cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=box, ordered=True))
        cells = shapely.intersection(cells, box)
    n = len(cells)
    return gpd.GeoDataFrame(
        {
            "WDPAID": 800_000_000 + np.arange(n),
            "IUCN_CAT": IUCN[rng.integers(0, len(IUCN), n)],
            "STATUS_YR": rng.integers(1916, 2024, n),
        },
        geometry=cells,
        crs="EPSG:4326",
    )


def long_boundary(vertices: int = 1_000_000, *, seed: int = 0) -> gpd.GeoDataFrame:
    """One polygon of ``vertices`` vertices (a detailed national boundary), EPSG:4326.

    Like a surveyed boundary, the vertices are dense along a winding outline
    (edges of metres, not kilometres): a circle of 150 km radius bent by a few
    seeded harmonics, with a few metres of per-vertex noise. (Star polygons of
    random radii at a million sorted angles would have 15 km zigzag edges,
    which no real boundary has.)
    """
    rng = np.random.default_rng(seed)
    angle = np.linspace(0.0, 2 * np.pi, vertices, endpoint=False)
    radius_m = np.full(vertices, 150_000.0)
    for k, amplitude in zip((3, 7, 19, 61), (0.08, 0.04, 0.02, 0.005), strict=True):
        radius_m *= 1 + amplitude * np.sin(k * angle + rng.uniform(0, 2 * np.pi))
    radius_m += rng.uniform(-5.0, 5.0, vertices)
    lat0 = 44.0
    lon = 130.5 + radius_m * np.cos(angle) / (M_PER_DEG * np.cos(np.radians(lat0)))
    lat = lat0 + radius_m * np.sin(angle) / M_PER_DEG
    ring = np.column_stack([lon, lat])
    return gpd.GeoDataFrame({"WDPAID": [700_000_000]}, geometry=[shapely.Polygon(ring)], crs="EPSG:4326")


def write_gpkg_sample(gdf: gpd.GeoDataFrame, path: str | Path, *, layer: str = "wdpa") -> Path:
    """Write a generated layer to a GeoPackage (once; reused when it exists)."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    return path
