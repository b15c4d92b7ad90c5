"""Park files in any arrangement, and the CLI run on them, for tests off the bundled shape.

Coordinates are chosen against the bundled countries layer (OpenStreetMap land polygons):
each helper's docstring says where its boxes lie, and tests check it with the layer.
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely

from geo.cli import main

#: An inland reserve in Jilin (the smoke test's box): Chinese land, and 8.5 % of it a
#: reservoir that the countries layer leaves out (a hole in China's land polygon).
JILIN = shapely.box(127.1, 43.4, 127.3, 43.6)
#: Wholly on Russian land, north-east of Vladivostok, far from the 270 km stretch.
RUSSIA_INLAND = shapely.box(132.5, 43.8, 132.7, 43.9)
#: Straddles the Russia–China border near the stretch: about 47 % of it on Russian land.
ACROSS = shapely.box(130.9, 42.9, 131.3, 43.1)
#: Wholly on Chinese land, far (~400 km) from the stretch.
CHINA_FAR = shapely.box(125.0, 45.0, 125.3, 45.3)


def feature(geom, **props) -> dict:
    """A GeoJSON feature of ``geom`` with ``props``."""
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}


def write_parks(path: Path, parks: list[tuple[str, shapely.Geometry]], **props) -> Path:
    """A GeoJSON file of parks ``(id, geometry)``, each with ``name_en`` = id and ``props``."""
    features = [feature(geom, id=pid, name_en=f"{pid} reserve", **props) for pid, geom in parks]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def cli(capsys, *argv) -> tuple[int, str, str]:
    """Run ``bigcats`` in this process; return (exit code, stdout, stderr). A traceback fails the test."""
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out, out.err
