"""The build: read → validate → merge → measure → render/export, in one direction."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np

from geo import __version__
from geo.io import atomic_path, write_gpkg
from geo.layers import load_layers  # noqa: F401 - kept importable from here
from geo.measure import M2_PER_HA, geodesic_area_m2, geodesic_length_m
from geo.merge import combine_parks, dissolve_by_country, proposed_park, shared_edge
from geo.validate import check_layers

__all__ = ["BuildResult", "PUBLISHED_TOTALS", "area_report", "build"]

ARTICLE = (
    "WWF-Russia news, 12 March 2019, 'New step in creation of Sino-Russian transboundary "
    "nature reserve for protection and recovery of Amur tiger and Far Eastern leopard'"
)

#: Published totals, each with its source (shared DATA.md).
PUBLISHED_TOTALS = {
    "RUS": {
        "reported_area_ha": 280_000.0,
        "reported_area_source": f"about 280,000 ha (Land of the Leopard NP + Kedrovaya Pad), {ARTICLE}",
    },
    "CHN": {
        "reported_area_ha": 1_460_000.0,
        "reported_area_source": f"1.46 million ha (pilot park, 2017), {ARTICLE}",
    },
    "proposed_park": {
        "reported_area_ha": 1_800_000.0,
        "reported_area_source": f"1.8 million ha (the article also writes '180 thousands km2'), {ARTICLE}",
    },
}

OUTPUT_FILES = ("land_of_big_cats.html", "areas.json", "areas.csv", "land_of_big_cats.gpkg")


@dataclass(frozen=True)
class BuildResult:
    """What ``build`` wrote."""

    out_dir: Path
    files: dict[str, Path]
    report: dict


def _ha(m2: float) -> float:
    return float(m2) / M2_PER_HA


def _none_if_nan(value):
    if value is None:
        return None
    try:
        return None if np.isnan(value) else float(value)
    except TypeError:
        return value


def measured_layers(layers_dir: str | Path):
    """Read, check and merge the layers; return the pieces the outputs need.

    ``layers_dir`` is any layer store :func:`geo.store.open_store` opens: a
    folder of GeoJSON, a ``.gpkg`` store or a ``postgresql://`` URL.
    """
    from geo.store import open_store

    layers = open_store(layers_dir).read_layers()
    check_layers(layers)
    parks = combine_parks(layers["parks_rus"], layers["parks_chn"])
    parks["area_ha"] = geodesic_area_m2(parks) / M2_PER_HA
    proposed = proposed_park(parks)
    proposed["area_ha"] = geodesic_area_m2(proposed) / M2_PER_HA
    by_country = dissolve_by_country(parks)
    by_country["area_ha"] = geodesic_area_m2(by_country) / M2_PER_HA
    return layers, parks, proposed, by_country


def area_report(layers, parks, proposed, by_country) -> dict:
    """The content of ``areas.json`` (contract in shared DESIGN.md)."""
    features = []
    for _, row in parks.iterrows():
        reported = _none_if_nan(row.get("reported_area_ha"))
        features.append(
            {
                "id": str(row["id"]),
                "name_en": row["name_en"],
                "country_iso3": row["country_iso3"],
                "reported_area_ha": reported,
                "reported_area_source": row.get("reported_area_source"),
                "area_ha": float(row["area_ha"]),
                "area_km2": float(row["area_ha"]) / 100,
                "difference_pct": None if reported in (None, 0) else 100 * (row["area_ha"] - reported) / reported,
                "geometry_quality": row.get("geometry_quality"),
                "area_method": "geodesic on the WGS84 ellipsoid (GeographicLib via pyproj.Geod)",
            }
        )
    totals = {}
    country_area = dict(zip(by_country["country_iso3"], by_country["area_ha"]))
    for key in ("RUS", "CHN"):
        totals[key] = {"area_ha": float(country_area.get(key, 0.0)), **PUBLISHED_TOTALS[key]}
    totals["proposed_park"] = {
        "area_ha": float(proposed["area_ha"].iloc[0]),
        "sum_of_parks_ha": float(parks["area_ha"].sum()),
        **PUBLISHED_TOTALS["proposed_park"],
    }
    border = layers["border"].set_index("id")
    rus_chn_m = float(geodesic_length_m(border.loc[["RUS-CHN"]])[0]) if "RUS-CHN" in border.index else None
    stretch_m = float(np.nansum(geodesic_length_m(layers["stretch"])))
    edge = gpd.GeoSeries([shared_edge(parks[parks.country_iso3 == "RUS"], parks[parks.country_iso3 == "CHN"])], crs="EPSG:4326")
    report_border = {
        "rus_chn_length_km": None if rus_chn_m is None else rus_chn_m / 1000,
        "stretch_length_km": stretch_m / 1000,
        "shared_edge_km": float(geodesic_length_m(edge)[0]) / 1000 if not edge.iloc[0].is_empty else 0.0,
        "length_method": "geodesic on the WGS84 ellipsoid",
    }
    schematic = [f["id"] for f in features if f["geometry_quality"] != "surveyed"]
    checks = {
        "geometry_quality": {
            "status": "warn" if schematic else "ok",
            "schematic_features": schematic,
            "message": (
                "these boundaries are schematic (built from the real border and the published area), "
                "not surveyed; their areas match the published figures by construction"
                if schematic
                else "every park boundary is surveyed"
            ),
        },
        "generator": f"bigcats {__version__}",
    }
    return {"features": features, "totals": totals, "border": report_border, "checks": checks}


def _areas_csv(report: dict) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["kind", "id", "name_en", "country_iso3", "area_ha", "area_km2", "reported_area_ha", "reported_area_source", "geometry_quality"])
    for f in report["features"]:
        writer.writerow(["park", f["id"], f["name_en"], f["country_iso3"], f"{f['area_ha']:.4f}", f"{f['area_km2']:.6f}", f["reported_area_ha"], f["reported_area_source"], f["geometry_quality"]])
    for key, t in report["totals"].items():
        writer.writerow(["total", key, key, key if key != "proposed_park" else "RUS+CHN", f"{t['area_ha']:.4f}", f"{t['area_ha'] / 100:.6f}", t["reported_area_ha"], t["reported_area_source"], ""])
    return buf.getvalue()


def build(
    layers_dir: str | Path = "layers",
    out_dir: str | Path = "output",
    *,
    offline: bool = False,
    lang: str = "en",
) -> BuildResult:
    """Build the map, the area report and the GeoPackage from a layer folder.

    Parameters
    ----------
    layers_dir : str or Path
        The layer store: a folder holding the layers (see :data:`geo.layers.LAYERS`),
        a ``.gpkg`` store or a ``postgresql://`` URL (see :func:`geo.store.open_store`).
    out_dir : str or Path
        Folder the outputs go to (created if missing). Each file is written
        atomically: a failed build leaves the previous outputs intact.
    offline : bool, default False
        Inline Leaflet and the plugins into the HTML (no request to any other host).
    lang : {"en", "ru", "zh"}, default "en"
        Language of the map's labels and interface text.

    Returns
    -------
    BuildResult
    """
    out_dir = Path(out_dir)
    layers, parks, proposed, by_country = measured_layers(layers_dir)
    report = area_report(layers, parks, proposed, by_country)

    from geo.render import make_map, map_html

    fmap = make_map(layers, parks, proposed, areas=report, lang=lang)
    page = map_html(fmap, offline=offline)
    files = {name: out_dir / name for name in OUTPUT_FILES}
    out_dir.mkdir(parents=True, exist_ok=True)
    gpkg_layers = {
        "parks_rus": parks[parks.country_iso3 == "RUS"],
        "parks_chn": parks[parks.country_iso3 == "CHN"],
        "proposed_park": proposed,
        "parks_by_country": by_country,
        "countries": layers["countries"],
        "borders": layers["border"],
        "border_stretch": layers["stretch"],
    }
    if "places" in layers:
        gpkg_layers["places"] = layers["places"]
    write_gpkg(gpkg_layers, files["land_of_big_cats.gpkg"])
    with atomic_path(files["areas.json"]) as tmp:
        tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with atomic_path(files["areas.csv"]) as tmp:
        tmp.write_text(_areas_csv(report), encoding="utf-8")
    with atomic_path(files["land_of_big_cats.html"]) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return BuildResult(out_dir=out_dir, files=files, report=report)
