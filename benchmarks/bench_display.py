"""Benchmark: the map's display simplification against mapshaper, on a coverage of adjoining parks.

Both run as whole processes on the same GeoJSON (``benchmarks.datagen.coverage`` with winding
shared edges) and write GeoJSON with six decimals. Ours runs first; mapshaper is then asked to
keep the same share of vertices (``-simplify percentage=... keep-shapes``), calibrated once so
its output is within a few percent of ours in bytes, then the two are timed in turn. Both
outputs are checked the same way: the largest per-park geodesic area error against the input
and whether the parks are still a valid coverage (``shapely.coverage_is_valid``).

``mapshaper`` is the npm package ``mapshaper@0.7.70``, installed by ``make bench`` into
``output/bench-tools`` (``MAPSHAPER`` names another binary). Without it the reference is the
plain ``shapely.coverage_simplify`` at the coarsest tolerance, so the suite still runs.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BUDGET = 1.0  # no slower than mapshaper's whole process at the same output size

# Peak RSS of the child's own address space (VmHWM, kB): see bench_build.
_HWM = "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]"

_OURS = """
import sys, json, numpy as np, pyogrio, shapely
from geo.render import _display_geometries, _geodesic_ha
src, dst = sys.argv[1], sys.argv[2]
gdf = pyogrio.read_dataframe(src)
originals = list(gdf.geometry.values)
tol, grid, shown, error = _display_geometries(originals, _geodesic_ha(originals), np.zeros(len(gdf), int), 0.005)
gdf = gdf.set_geometry(shown, crs=gdf.crs)
pyogrio.write_dataframe(gdf, dst, driver="GeoJSON", layer_options={"COORDINATE_PRECISION": 6})
""" + _HWM + """
print(json.dumps({"hwm_kb": int(hwm), "tolerance_deg": tol, "grid_deg": grid, "max_area_error": error}))
"""

_PLAIN = """
import sys, pyogrio, shapely
src, dst = sys.argv[1], sys.argv[2]
gdf = pyogrio.read_dataframe(src)
gdf = gdf.set_geometry(shapely.coverage_simplify(gdf.geometry.values, 0.02), crs=gdf.crs)
pyogrio.write_dataframe(gdf, dst, driver="GeoJSON", layer_options={"COORDINATE_PRECISION": 6})
"""


def _mapshaper() -> str | None:
    found = os.environ.get("MAPSHAPER") or str(ROOT / "output" / "bench-tools" / "node_modules" / ".bin" / "mapshaper")
    return found if Path(found).exists() else shutil.which("mapshaper")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(argv: list[str]) -> tuple[float, str, float]:
    """Wall-clock seconds, standard output and CPU seconds (all its threads) of a whole process."""
    cpu, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {(proc.stderr or proc.stdout).strip()[-500:]}")
    return elapsed, proc.stdout, _children_cpu() - cpu


def _check(src: Path, out: Path) -> tuple[float, bool, int]:
    """Largest per-park area error of ``out`` against ``src``, coverage validity, vertices."""
    import pyogrio
    import shapely

    from geo.render import _geodesic_ha

    before = pyogrio.read_dataframe(src).set_index("WDPAID")
    after = pyogrio.read_dataframe(out).set_index("WDPAID").reindex(before.index)
    geoms = np.asarray(after.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    error = np.abs(_geodesic_ha(np.where(missing, shapely.Polygon(), geoms)) / _geodesic_ha(before.geometry.values) - 1)
    valid = bool(shapely.coverage_is_valid(geoms[~missing])) and bool(shapely.is_valid(geoms[~missing]).all())
    return float(error.max()), valid, int(shapely.get_num_coordinates(geoms[~missing]).sum())


def run(*, size: int = 10_000, edge_vertices: int = 8, repeats: int = 3, workdir: Path | None = None) -> list[dict]:
    """Time our display simplification and mapshaper's on a ``size``-park coverage (whole processes)."""
    import pyogrio

    from benchmarks.datagen import coverage

    workdir = Path(workdir or ROOT / "output" / "bench-data")
    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / f"coverage_{size}_{edge_vertices}.geojson"
    if not src.exists():
        gdf = coverage(size, edge_vertices=edge_vertices)
        pyogrio.write_dataframe(gdf, src, driver="GeoJSON", layer_options={"COORDINATE_PRECISION": 7})
    n = pyogrio.read_info(src)["features"]
    ours_out, ref_out = workdir / "display_ours.geojson", workdir / "display_reference.geojson"
    ours_cmd = [sys.executable, "-c", _OURS, str(src), str(ours_out)]
    mapshaper = _mapshaper()
    seconds, stdout, cpu = _timed(ours_cmd)
    info = json.loads(stdout.strip().splitlines()[-1])
    ours_error, ours_valid, ours_vertices = _check(src, ours_out)
    _, _, src_vertices = _check(src, src)
    if mapshaper:
        share = ours_vertices / src_vertices
        for _ in range(3):  # calibrate: mapshaper's percentage is of the removable vertices
            ref_cmd = [mapshaper, str(src), "-simplify", f"percentage={100 * share:.3f}%", "keep-shapes",
                       "-o", str(ref_out), "precision=0.000001", "force"]
            _timed(ref_cmd)
            ratio_bytes = ref_out.stat().st_size / ours_out.stat().st_size
            if abs(ratio_bytes - 1) < 0.03:
                break
            share = min(1.0, share / ratio_bytes)
        reference = f"mapshaper@0.7.70 -simplify percentage={100 * share:.1f}% keep-shapes (whole process)"
    else:
        ref_cmd = [sys.executable, "-c", _PLAIN, str(src), str(ref_out)]
        reference = "plain shapely.coverage_simplify(0.02) (whole process; mapshaper not installed)"
    reference_seconds = reference_cpu = float("inf")
    peak_kb = info["hwm_kb"]
    for _ in range(repeats):  # in turn, each its best time
        elapsed, _, used = _timed(ref_cmd)
        reference_seconds, reference_cpu = min(reference_seconds, elapsed), min(reference_cpu, used)
        elapsed, stdout, used = _timed(ours_cmd)
        cpu = min(cpu, used)
        if elapsed < seconds:
            seconds, peak_kb = elapsed, json.loads(stdout.strip().splitlines()[-1])["hwm_kb"]
    ref_error, ref_valid, ref_vertices = _check(src, ref_out)
    return [
        {
            "stage": f"display simplification ({n:,}-park coverage)",
            "size": n,
            "seconds": seconds,
            "reference": reference,
            "reference_seconds": reference_seconds,
            "ratio": seconds / reference_seconds,
            "budget": BUDGET,
            "peak_mb": peak_kb / 1024,
            "cpu_seconds": cpu,  # best CPU time (user + system, every thread): steadier than wall on a shared machine
            "reference_cpu_seconds": reference_cpu,
            "bytes": ours_out.stat().st_size,
            "reference_bytes": ref_out.stat().st_size,
            "input_bytes": src.stat().st_size,
            "vertices": ours_vertices,
            "reference_vertices": ref_vertices,
            "input_vertices": src_vertices,
            "max_area_error": ours_error,
            "reference_max_area_error": ref_error,
            "coverage_valid": ours_valid,
            "reference_coverage_valid": ref_valid,
            "tolerance_deg": info["tolerance_deg"],
            "grid_deg": info["grid_deg"],
        }
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
