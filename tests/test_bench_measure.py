"""The benchmark runs and reports what it promises (no timing assertions)."""

from benchmarks.bench_measure import BUDGET, run


def test_bench_measure_records():
    records = run(sizes=(200,), coverage_size=None, boundary_vertices=None)
    (record,) = records
    assert {
        "stage",
        "size",
        "seconds",
        "reference",
        "reference_seconds",
        "ratio",
        "budget",
        "peak_mb",
        "max_rel_error",
    } <= set(record)
    assert record["size"] == 200 and record["budget"] == BUDGET
    assert record["ratio"] == record["seconds"] / record["reference_seconds"]
    assert record["max_rel_error"] <= 1e-6


def test_bench_coverage_stage_runs():
    records = run(sizes=(), coverage_size=300, boundary_vertices=None)
    (record,) = records
    assert record["stage"] == "coverage_check_merge_dissolve" and record["size"] == 300
    assert record["reference"] == "shapely.coverage_is_valid + GeoSeries.union_all()" and record["seconds"] > 0


def test_bench_long_boundary_stage():
    (record,) = run(sizes=(), coverage_size=None, boundary_vertices=50_000)
    assert record["stage"] == "geodesic_area (one long boundary)" and record["size"] == 50_000
    assert record["budget"] == BUDGET and record["reference"] == "to_crs('ESRI:54017').area"
    assert record["max_rel_error"] <= 1e-6


def test_long_boundary_is_one_valid_polygon_with_short_edges():
    import numpy as np
    import shapely

    from benchmarks.datagen import long_boundary

    gdf = long_boundary(200_000, seed=2)
    (geom,) = gdf.geometry
    assert geom.geom_type == "Polygon" and geom.is_valid
    assert shapely.get_num_coordinates(geom) == 200_001  # closed ring
    xy = shapely.get_coordinates(geom)
    edge_m = np.hypot(np.diff(xy[:, 0]) * 111_320 * np.cos(np.radians(44)), np.diff(xy[:, 1]) * 111_320)
    assert edge_m.max() < 100  # dense like a surveyed boundary, not kilometre zigzags
    assert long_boundary(1_000, seed=2).geometry.iloc[0].equals_exact(long_boundary(1_000, seed=2).geometry.iloc[0], 0)
