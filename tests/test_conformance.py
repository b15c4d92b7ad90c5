"""The peer validator's GeoJSON corpus (geojsonhint, ../shared/conformance): good files read, bad files refused.

The corpus lies outside the project region (around 100E 0N), which gives a
warning only; the checks here are about structure and geometry.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from geo.cli import main
from geo.normalise import prepare_layer

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "conformance" / "geojsonhint"
pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"conformance corpus not found at {CORPUS} (../shared is absent)"
)

KIND_ROLE = {"polygon": "parks_rus", "line": "border", "point": "places"}
#: Structurally valid GeoJSON whose latitudes (-141..-62) cannot be on Earth: refused for that, naming --crs.
IMPOSSIBLE_COORDINATES = {"issue82.geojson"}
#: Defects that are safely repairable: accepted with a printed warning naming the defect.
REPAIRABLE = {
    "polygon_winding_order.geojson": "right-hand rule",
    "bad-polygon-interiorring-rhr.geojson": "right-hand rule",
    "excessive_precision_truncated.geojson": "more than 6 decimals",
    "point-toomany.geojson": "more than 3 elements",
}
#: Structurally acceptable collections whose geometry type suits no role: refused for the type, after a warning.
COLLECTIONS = {
    "geometrycollection_nested.geojson": "nested GeometryCollection",
    "geometrycollection_single.geojson": "single geometry",
}


def _files(kind: str) -> list[Path]:
    return sorted((CORPUS / kind).glob("*.geojson")) if CORPUS.is_dir() else []


@pytest.mark.parametrize("path", _files("good"), ids=lambda p: p.name)
def test_good_files_are_read(path, capsys):
    for role in KIND_ROLE.values():
        result = prepare_layer(path, role=role)
        errors = result.report.errors
        if path.name in IMPOSSIBLE_COORDINATES:
            assert errors and "cannot be longitude/latitude" in errors[0].problem and "--crs" in errors[0].fix
            continue
        for problem in errors:
            words = problem.problem
            assert (
                "where the role needs" in words
                or "mixed geometry types" in words
                or ("no id" in words and path.name == "nullgeometry.geojson")
            ), f"{path.name} as {role}: {problem}"
    # and through the command line, with no role: a verdict, never a traceback
    code = main(["validate", str(path)])
    out = capsys.readouterr().out
    assert code in (0, 1) and out.strip().splitlines()[-1].startswith("verdict:")


def test_every_good_file_fits_some_role():
    for path in _files("good"):
        if path.name in IMPOSSIBLE_COORDINATES or path.name in {
            "good-geometrycollection.geojson",
            "good-featurecollection.geojson",
            "good-featurecollection-extensions.geojson",
            "nullgeometry.geojson",
        }:
            continue
        assert any(prepare_layer(path, role=role).report.ok for role in KIND_ROLE.values()), path.name


@pytest.mark.parametrize("path", _files("bad"), ids=lambda p: p.name)
def test_bad_files_refused_or_warned(path, capsys):
    code = main(["validate", str(path)])
    out = capsys.readouterr().out
    assert "Traceback" not in out
    assert out.strip().splitlines()[-1].startswith("verdict:")
    if path.name in REPAIRABLE:
        assert code == 0, out
        assert "warning" in out and REPAIRABLE[path.name] in out
    elif path.name in COLLECTIONS:
        assert code == 1 and COLLECTIONS[path.name] in out and "GeometryCollection where the role needs" in out
    else:
        assert code == 1, out
        assert "ERROR" in out


def test_bad_messages_name_the_problem(capsys):
    """Spot checks that the message names the defect, in words a GIS user recognises."""
    cases = {
        "bad-json.geojson": "not valid JSON",
        "different-first-last.geojson": "ring not closed",
        "short-line.geojson": "a line needs 2 or more positions",
        "short-linearring.geojson": "4 or more positions",
        "featurecollection-type-case.geojson": "case sensitive",
        "bad-duplicate-properties.geojson": "twice",
        "badfeatureid.geojson": '"id" member must be a string or a number',
        "stringcoord.geojson": "position must be a number",
        "rootstring.geojson": "root of a GeoJSON file must be an object",
        "unknowntype.geojson": "unknown type 'FooBar'",
        "bbox-4or6elements.geojson": "bbox must have 4 elements",
        "point.geojson": '"coordinates" member required',
        "multipoint-nondimension.geojson": "nesting too shallow",
    }
    for name, words in cases.items():
        main(["validate", str(CORPUS / "bad" / name)])
        out = capsys.readouterr().out
        assert words in out, (name, out)
