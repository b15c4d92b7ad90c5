"""Benchmark: the map's display simplification against mapshaper, on a coverage of adjoining parks.

Ours is ``bigcats simplify SRC DST`` (the map's display kernel as a command: every park's
geodesic area within 0.5 %, the result proved a valid coverage before it is written). Both
run as whole processes on the same GeoJSON (``benchmarks.datagen.coverage`` with winding
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
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BUDGET = 1.0  # no slower than mapshaper's whole process at the same output size

#: Ours: the command that simplifies a coverage file for display (``bigcats simplify``), as a
#: whole process like mapshaper's. It then prints its peak resident set (VmHWM, kB): the
#: ``ru_maxrss`` of a child started from this large process counts the parent's pages it held
#: before ``exec``.
_OURS = [sys.executable, "-c", (
    "import sys; from geo.cli import main; code = main(['simplify', *sys.argv[1:]]); "
    "print([l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]); sys.exit(code)"
)]

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


def _timed(argv: list[str]) -> tuple[float, str, float, int]:
    """Wall-clock seconds, standard output, CPU seconds (all its threads) and ``ru_maxrss`` (kB) of a whole process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)  # its own resource use, not the other children's
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {(stderr or stdout).strip()[-500:]}")
    return elapsed, stdout, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


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


def run(*, size: int = 10_000, edge_vertices: int = 8, repeats: int = 7, workdir: Path | None = None) -> list[dict]:
    """Time our display simplification and mapshaper's on a ``size``-park coverage (whole processes).

    The two run in turn ``repeats`` times and each keeps its best time (ours uses two threads in
    places, mapshaper one: with 3 turns the same code gave 0.87-1.05x).
    """
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
    ours_cmd = [*_OURS, str(src), str(ours_out)]
    mapshaper = _mapshaper()
    seconds, stdout, cpu, _ = _timed(ours_cmd)
    peak_kb = int(stdout.split()[-1])
    tolerance = re.search(r"tolerance ([-+.e0-9]+) deg", stdout)
    grid = re.search(r"grid ([-+.e0-9]+) deg", stdout)
    ours_error, ours_valid, ours_vertices = _check(src, ours_out)
    _, _, src_vertices = _check(src, src)
    if mapshaper:
        share = ours_vertices / src_vertices
        for _ in range(3):  # calibrate: mapshaper's percentage is of the removable vertices
            ref_cmd = [mapshaper, str(src), "-simplify", f"percentage={100 * share:.3f}%", "keep-shapes",
                       "-o", str(ref_out), "precision=0.000001", "force"]
            _timed(ref_cmd)  # calibration run
            ratio_bytes = ref_out.stat().st_size / ours_out.stat().st_size
            if abs(ratio_bytes - 1) < 0.03:
                break
            share = min(1.0, share / ratio_bytes)
        reference = f"mapshaper@0.7.70 -simplify percentage={100 * share:.1f}% keep-shapes (whole process)"
    else:
        ref_cmd = [sys.executable, "-c", _PLAIN, str(src), str(ref_out)]
        reference = "plain shapely.coverage_simplify(0.02) (whole process; mapshaper not installed)"
    reference_seconds = reference_cpu = float("inf")
    for _ in range(repeats):  # in turn, each its best time
        elapsed, _, used, _ = _timed(ref_cmd)
        reference_seconds, reference_cpu = min(reference_seconds, elapsed), min(reference_cpu, used)
        elapsed, out, used, _ = _timed(ours_cmd)
        cpu = min(cpu, used)
        if elapsed < seconds:
            seconds, peak_kb = elapsed, int(out.split()[-1])
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
            "tolerance_deg": float(tolerance.group(1)) if tolerance else 0.0,
            "grid_deg": float(grid.group(1)) if grid else 0.0,
        }
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
