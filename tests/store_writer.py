"""Run as a process by tests/test_store.py: write one synthetic layer into a store.

usage: python tests/store_writer.py STORE ROLE N TAG
Prints 'writing' before the write, then 'done VERSION SECONDS'.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.datagen import wdpa_like  # noqa: E402
from geo.store import open_store  # noqa: E402


def synthetic(n: int, tag: str):
    gdf = wdpa_like(n, invalid_every=0)[["NAME", "REP_AREA", "geometry"]]
    gdf.insert(0, "id", [f"{tag}-{i}" for i in range(n)])
    return gdf.rename(columns={"NAME": "name_en", "REP_AREA": "reported_area_ha"})


def main() -> None:
    spec, role, n, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    gdf = synthetic(n, tag)
    store = open_store(spec)
    print("writing", flush=True)
    t0 = time.perf_counter()
    version = store.write_layer(role, gdf, provenance={"source": f"{tag}.geojson", "checksum": f"sha256:{tag}"})
    print(f"done {version} {time.perf_counter() - t0:.3f}", flush=True)


if __name__ == "__main__":
    main()
