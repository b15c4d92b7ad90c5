"""Benchmark: `bigcats build` on the bundled layers against importing its dependencies."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Peak RSS of the child's own address space (VmHWM, in kB). ru_maxrss is not used:
# on Linux it survives fork+exec, so a child would report its parent's peak.
_RSS = (
    "import sys\n"
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
    "print(hwm, file=sys.stderr)"
)


def _timed(code: str, repeats: int) -> tuple[float, float]:
    """Best wall time (s) and its peak RSS (MB) of ``python -c code`` in a fresh interpreter."""
    best, peak = float("inf"), 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", f"{code}\n{_RSS}"], capture_output=True, text=True, cwd=ROOT)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"benchmark command failed: {proc.stderr.strip()[-500:]}")
        if elapsed < best:
            best, peak = elapsed, int(proc.stderr.strip().splitlines()[-1]) / 1024
    return best, peak


def run(*, repeats: int = 3) -> list[dict]:
    """Time ``bigcats build`` (fresh interpreter) against ``import geopandas, folium``."""
    reference, _ = _timed("import geopandas, folium", repeats)
    with tempfile.TemporaryDirectory() as out:
        code = (
            "from geo.cli import main\n"
            f"rc = main(['build', '--layers', {str(ROOT / 'layers')!r}, '--out', {out!r}])\n"
            "assert rc == 0, rc"
        )
        seconds, peak_mb = _timed(code, repeats)
    return [
        {
            "stage": "bigcats build (bundled layers)",
            "size": "bundled",
            "seconds": seconds,
            "reference": "python -c 'import geopandas, folium'",
            "reference_seconds": reference,
            "ratio": seconds / reference,
            "budget": 2.5,
            "peak_mb": peak_mb,
        }
    ]
