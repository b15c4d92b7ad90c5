"""Published totals and the area report: computed areas reconciled with published ones, and the checks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import __version__
from geo.measure import M2_PER_HA, crosscheck_areas, geodesic_length_m
from geo.merge import CLIP_NOISE_HA, GAP_WIDTH_M, SNAP_TOLERANCE_M, WRONG_SIDE_FRACTION, shared_edges_by_pair
from geo.project import Project, bundled_project


def _published_totals(facts=None, project: Project | None = None) -> dict:
    """Published totals, each with its source.

    The facts rows the project names under ``published`` (by default ``total.<key>.reported_area_ha``),
    for each country and ``proposed_park``; a total without a published figure has None.
    """
    from geo.facts import read_facts

    facts = read_facts() if facts is None else facts
    project = bundled_project() if project is None else project
    out = {}
    for key in (*project.countries, "proposed_park"):
        fact = facts.get(project.published.get(key, f"total.{key}.reported_area_ha"))
        out[key] = (
            {"reported_area_ha": fact.number, "reported_area_source": fact.citation}
            if fact is not None
            else {"reported_area_ha": None, "reported_area_source": None}
        )
    return out


#: Published totals of the bundled facts table, each with its public source.
PUBLISHED_TOTALS = _published_totals()


def _other_published(facts) -> list[dict]:
    """Further published areas of a park (``park.<id>.reported_area_ha.<tag>``), reconciled beside its own figure."""
    out = []
    for fid, fact in facts.items():
        head, sep, tag = fid.partition(".reported_area_ha.")
        if sep and head.startswith("park.") and tag:
            out.append(
                {
                    "park_id": head[len("park.") :],
                    "tag": tag,
                    "reported_area_ha": fact.number,
                    "reported_area_source": fact.citation,
                }
            )
    return out


def _ha(m2: float) -> float:
    return float(m2) / M2_PER_HA


def _none_if_nan(value):
    if value is None:
        return None
    try:
        return None if np.isnan(value) else float(value)
    except TypeError:
        return value


#: Reconciliation tolerance: a computed area within this fraction of the
#: published one is ``ok``; within :data:`WARN_FRACTION` it is ``warn``; beyond, ``fail``.
#: Published figures are rounded ("about 280,000 ha", "1.46 million ha"): 0.5 %
#: is the rounding of a three-significant-figure number, 5 % a schematic boundary.
OK_FRACTION = 0.005
WARN_FRACTION = 0.05


def _status(difference_fraction: float | None) -> str:
    if difference_fraction is None:
        return "no published figure"
    size = abs(difference_fraction)
    return "ok" if size <= OK_FRACTION else "warn" if size <= WARN_FRACTION else "fail"


def _reconcile(level: str, key: str, name: str, area_ha: float, reported_ha, source) -> dict:
    reported = _none_if_nan(reported_ha)
    diff = None if reported in (None, 0) else area_ha - reported
    fraction = None if diff is None else diff / reported
    return {
        "level": level,
        "id": key,
        "name_en": name,
        "area_ha": area_ha,
        "reported_area_ha": reported,
        "difference_ha": diff,
        "difference_pct": None if fraction is None else 100 * fraction,
        "status": _status(fraction),
        "reported_area_source": source,
    }


def _between_countries(gaps: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, *, touch_m: float = 1.0) -> np.ndarray:
    """Which gaps lie between parks of two different countries (along the border)."""
    if len(gaps) == 0:
        return np.zeros(0, dtype=bool)
    metric = "+proj=aeqd +lat_0={:.5f} +lon_0={:.5f} +datum=WGS84 +units=m".format(
        *np.asarray(gaps.total_bounds).reshape(2, 2).mean(axis=0)[::-1]
    )
    parks_m = np.asarray(parks.to_crs(metric).geometry.array, dtype=object)
    gap_idx, park_idx = shapely.STRtree(parks_m).query(
        np.asarray(gaps.to_crs(metric).geometry.array, dtype=object), predicate="dwithin", distance=touch_m
    )
    countries = parks["country_iso3"].to_numpy()
    return np.array([len(set(countries[park_idx[gap_idx == i]])) >= 2 for i in range(len(gaps))], dtype=bool)


def area_report(layers, parks, proposed, by_country, *, merge=None, facts=None, project: Project | None = None) -> dict:
    """The content of ``areas.json`` (the contract of the design notes).

    With ``merge`` (a :class:`geo.merge.MergeResult`), ``checks`` also holds
    the coverage figures and the Behrmann/Mollweide cross-checks. Published
    totals and their sources come from ``facts`` (default: the bundled facts table).
    ``project`` (default: the bundled one) names the countries: ``totals`` has one
    entry per country and ``border.pairs`` one per pair of countries.
    """
    from geo.facts import read_facts

    facts = read_facts() if facts is None else facts
    project = bundled_project() if project is None else project
    published_totals = _published_totals(facts, project)
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
                "area_input_ha": _none_if_nan(row.get("area_input_ha")),
                "area_after_overlaps_ha": _none_if_nan(row.get("area_after_overlaps_ha")),
                "difference_pct": None if reported in (None, 0) else 100 * (row["area_ha"] - reported) / reported,
                "geometry_quality": row.get("geometry_quality"),
                "area_method": (
                    "geodesic on the WGS84 ellipsoid (authalic-sphere method, agrees with GeographicLib to 1e-6)"
                ),
                "area_note": (
                    "after clipping to the park's own country and snapping to the border, before overlaps are resolved"
                ),
            }
        )
    totals = {}
    country_area = dict(zip(by_country["country_iso3"], by_country["area_ha"], strict=True))
    for key in project.countries:
        totals[key] = {"area_ha": float(country_area.get(key, 0.0)), **published_totals[key]}
    totals["proposed_park"] = {
        "area_ha": float(proposed["area_ha"].iloc[0]),
        "sum_of_parks_ha": float(parks["area_ha"].sum()),
        **published_totals["proposed_park"],
    }
    pair_lengths = _border_lengths_km(layers["border"], project.pairs)
    stretch_m = float(np.nansum(geodesic_length_m(layers["stretch"])))
    edges = shared_edges_by_pair(parks, project.pairs)
    edge_km = dict(
        zip(edges, geodesic_length_m(gpd.GeoSeries(list(edges.values()), crs="EPSG:4326")) / 1000, strict=True)
    )
    # the border of the (first) stretch's pair keeps its own key: rus_chn_length_km for the bundled project
    a, b = project.stretches[0].countries if project.stretches else project.pairs[0]
    touch = (
        f"length along which {project.adjectives_text()} parks touch"
        if len(project.countries) == 2
        else "sum over the pairs of countries of the length along which their parks touch "
        f"({project.adjectives_text()})"
    )
    report_border = {
        f"{a.lower()}_{b.lower()}_length_km": _border_lengths_km(layers["border"], [(a, b)])[(a, b)],
        "stretch_length_km": stretch_m / 1000,
        "shared_edge_km": float(sum(edge_km.values())),
        "length_method": "geodesic on the WGS84 ellipsoid",
        "shared_edge_note": f"{touch}, after snapping (tolerance {SNAP_TOLERANCE_M:,.0f} m)",
        "pairs": [
            {"countries": [p, q], "length_km": pair_lengths[(p, q)], "shared_edge_km": float(edge_km[(p, q)])}
            for p, q in project.pairs
        ],
    }
    schematic = [f["id"] for f in features if f["geometry_quality"] not in ("surveyed", "unverified")]
    unverified = [f["id"] for f in features if f["geometry_quality"] == "unverified"]
    reconciliation = []
    others = _other_published(facts)
    for f in features:
        reconciliation.append(
            _reconcile("park", f["id"], f["name_en"], f["area_ha"], f["reported_area_ha"], f["reported_area_source"])
            | {"geometry_quality": f["geometry_quality"]}
        )
        for other in (o for o in others if o["park_id"] == f["id"]):
            reconciliation.append(
                _reconcile(
                    "park",
                    f"{f['id']} ({other['tag']})",
                    f"{f['name_en']} ({other['tag']} figure)",
                    f["area_ha"],
                    other["reported_area_ha"],
                    other["reported_area_source"],
                )
                | {"geometry_quality": f["geometry_quality"]}
            )
    names = {key: f"{project.country_name(key)}: all parks" for key in project.countries}
    names["proposed_park"] = f"{project.display_name('en')} (proposed)"
    for key, total in totals.items():
        members = [f for f in features if key == "proposed_park" or f["country_iso3"] == key]
        qualities = ", ".join(sorted({str(f["geometry_quality"]) for f in members}))
        reconciliation.append(
            _reconcile(
                "total", key, names[key], total["area_ha"], total["reported_area_ha"], total["reported_area_source"]
            )
            | {"geometry_quality": qualities}
        )
    published_ha = published_totals["proposed_park"]["reported_area_ha"]
    as_written = facts.get(
        f"{project.published.get('proposed_park', 'total.proposed_park.reported_area_ha')}".replace(
            ".reported_area_ha", ".reported_area_km2_as_written"
        )
    )
    built = [f["id"] for f in features if f["geometry_quality"] in ("schematic", "point_buffer")]
    checks = {
        "geometry_quality": {
            "status": "warn" if schematic or unverified else "ok",
            "schematic_features": schematic,
            "unverified_features": unverified,
            "built_to_published_area": built,
            "message": " ".join(
                [
                    f"{', '.join(built)}: schematic or point-buffer boundaries (built from the real border, "
                    "published positions and the published areas), not surveyed; their areas match the published "
                    "figures only because each boundary was built to that figure, so the match checks the "
                    "arithmetic, not the parks."
                    if built
                    else "boundaries not surveyed: " + ", ".join(schematic) + "."
                ]
                * bool(schematic)
                + [
                    f"{', '.join(unverified)}: imported without a statement of quality (unverified); "
                    "import with --quality surveyed if they are surveyed."
                ]
                * bool(unverified)
            )
            or "every park boundary is surveyed",
        },
        "reconciliation": {
            "tolerance": (
                f"ok when the computed area is within {100 * OK_FRACTION:g} % of the published figure "
                f"(the rounding of a three-figure number), warn within {100 * WARN_FRACTION:g} %, fail beyond"
            ),
            "rows": reconciliation,
        },
        "published_units": _published_units(published_ha, as_written),
        "generator": f"bigcats {__version__}",
    }
    if merge is not None:
        checks["coverage"] = _coverage_checks(layers, parks, proposed, merge)
        checks["clipped"] = _clip_checks(merge.clipped)
        checks["crosscheck"] = _crosscheck(parks, proposed, by_country)
    return {"features": features, "totals": totals, "border": report_border, "checks": checks}


def _border_lengths_km(border: gpd.GeoDataFrame, pairs) -> dict[tuple[str, str], float | None]:
    """Geodesic length (km) of each pair's line in the border layer (either order); None when it has none."""
    out: dict[tuple[str, str], float | None] = {}
    for a, b in pairs:
        if {"left_iso3", "right_iso3"} <= set(border.columns):
            rows = border[
                ((border["left_iso3"] == a) & (border["right_iso3"] == b))
                | ((border["left_iso3"] == b) & (border["right_iso3"] == a))
            ]
        else:
            rows = border[border["id"].isin([f"{a}-{b}", f"{b}-{a}"])]
        out[(a, b)] = float(np.nansum(geodesic_length_m(rows))) / 1000 if len(rows) else None
    return out


def _published_units(published_ha, as_written) -> dict:
    """Whether the proposed park's published area agrees with the same figure as written in other units (km2)."""
    if published_ha is None or as_written is None:
        return {
            "status": "ok",
            "published_ha": published_ha,
            "published_km2_as_written": None,
            "consistent_km2": None if published_ha is None else published_ha / 100,
            "message": "no second published figure in other units to compare",
        }
    km2 = as_written.number
    ratio = km2 / (published_ha / 100)
    consistent = abs(ratio - 1) < 0.005
    million = f"{published_ha / 1e6:g} million ha"
    return {
        "status": "ok" if consistent else "warn",
        "published_ha": published_ha,
        "published_km2_as_written": km2,
        "consistent_km2": published_ha / 100,
        "message": (
            f"the source gives the proposed park as {million} and also as '{km2 / 1000:g} thousands km2'"
            + (
                "; the two agree"
                if consistent
                else f"; {million} is {published_ha / 100:,.0f} km2, so the km2 figure is {ratio:g} times too "
                f"{'large' if ratio > 1 else 'small'}. This report uses {million}."
            )
        ),
    }


def _coverage_checks(layers, parks, proposed, merge) -> dict:
    gaps = merge.coverage_after["gaps"]
    along = _between_countries(gaps, parks)
    overlap_removed = float(merge.overlaps_resolved["lost_ha"].sum()) if len(merge.overlaps_resolved) else 0.0
    union_ha = float(proposed["area_ha"].iloc[0])
    expected = float(parks["area_ha"].sum()) - overlap_removed
    return {
        "status": "ok" if abs(union_ha - expected) < 1.0 else "fail",
        "overlap_removed_ha": overlap_removed,
        "overlaps": [
            {
                "id_a": str(r.id_a),
                "id_b": str(r.id_b),
                "area_ha": float(r.area_ha),
                "lon": float(r.lon),
                "lat": float(r.lat),
            }
            for r in merge.coverage_before["overlaps"].itertuples()
        ],
        "overlap_losses": [
            {"id": str(r.id), "lost_ha": float(r.lost_ha), "lost_to": r.lost_to}
            for r in merge.overlaps_resolved.itertuples()
        ],
        "gap_width_m": GAP_WIDTH_M,
        "gaps_along_border_ha": float(gaps["area_ha"][along].sum()) if len(gaps) else 0.0,
        "gaps_along_border_count": int(along.sum()),
        "gaps_elsewhere_count": int((~along).sum()),
        "gaps": [
            {"area_ha": float(r.area_ha), "lon": float(r.lon), "lat": float(r.lat), "along_border": bool(a)}
            for r, a in zip(gaps.itertuples(), along, strict=True)
        ],
        "clipped_to_wrong_side_ha": float(merge.clipped["removed_ha"].sum()),
        "clipped_across_border_ha": float(merge.clipped["other_side_ha"].sum()),
        "clipped": merge.clipped.drop(columns=["country_iso3"]).to_dict(orient="records"),
        "snap_tolerance_m": SNAP_TOLERANCE_M,
        "snapped_gained_ha": float(merge.snapped["gained_ha"].sum()),
        "snapped": merge.snapped.drop(columns=["country_iso3"]).to_dict(orient="records"),
        "union_ha": union_ha,
        "sum_minus_overlap_removed_ha": expected,
        "message": (
            "the proposed park's area is the geodesic area of the union, i.e. the sum of the parks minus the "
            "overlap removed"
        ),
    }


def _clip_checks(clipped: pd.DataFrame) -> dict:
    """Per park, the hectares clipped off (not on its own country's land), with a status.

    ``fail`` when nothing of the park is left or more than :data:`WRONG_SIDE_FRACTION` of it
    lies on another country's land (across the border); ``warn`` when anything else was
    clipped (water, beyond the countries layer, or a small share across the border).
    """
    rows = []
    for r in clipped.itertuples():
        before = float(r.area_before_ha)
        share = float(r.other_side_ha) / before if before > 0 else 0.0
        where = f"{r.country_iso3} land"
        if before > 0 and float(r.area_after_ha) <= 0:
            status = "fail"
            message = (
                f"wholly outside {where}: clipped away entirely ({before:,.2f} ha), so it is neither measured "
                "nor drawn; fix its boundary or its country_iso3"
            )
        elif share > WRONG_SIDE_FRACTION:
            status = "fail"
            message = (
                f"{r.other_side_ha:,.2f} ha ({100 * share:.2f} %) lay across the border on {r.other_iso3} land "
                "and were clipped off; fix the boundary or its country_iso3"
            )
        elif float(r.removed_ha) >= CLIP_NOISE_HA:
            status = "warn"
            message = (
                f"{r.removed_ha:,.2f} ha ({100 * float(r.removed_ha) / before:.2f} %) clipped off, not on {where}"
                + (
                    f" ({r.other_side_ha:,.2f} ha of it across the border on {r.other_iso3} land)"
                    if r.other_iso3
                    else " (water, or beyond the countries layer)"
                )
            )
        else:
            status, message = "ok", f"on {where}"
        rows.append(
            {
                "id": str(r.id),
                "country_iso3": str(r.country_iso3),
                "area_before_ha": before,
                "area_after_ha": float(r.area_after_ha),
                "removed_ha": float(r.removed_ha),
                "other_side_ha": float(r.other_side_ha),
                "other_iso3": str(r.other_iso3 or ""),
                "status": status,
                "message": message,
            }
        )
    statuses = {row["status"] for row in rows}
    return {
        "status": "fail" if "fail" in statuses else "warn" if "warn" in statuses else "ok",
        "wrong_side_fraction": WRONG_SIDE_FRACTION,
        "message": (
            "each park is clipped to its own country's land before it is measured; a park wholly clipped "
            f"away, or with more than {100 * WRONG_SIDE_FRACTION:g} % of it across the border, fails"
        ),
        "rows": rows,
    }


def failed_checks(report: dict) -> list[str]:
    """One line per check of an area report whose status is ``fail`` (empty when none fails)."""
    checks = report["checks"]
    out = [
        f"reconciliation {row['level']} {row['id']}: computed {row['area_ha']:,.0f} ha, published "
        f"{row['reported_area_ha']:,.0f} ha ({row['difference_pct']:+.2f} %)"
        for row in checks["reconciliation"]["rows"]
        if row["status"] == "fail"
    ]
    out += [
        f"clipped {row['id']}: {row['message']}"
        for row in checks.get("clipped", {}).get("rows", [])
        if row["status"] == "fail"
    ]
    if checks.get("coverage", {}).get("status") == "fail":
        out.append(f"coverage: {checks['coverage']['message']}")
    return out


def _crosscheck(parks, proposed, by_country) -> dict:
    frames = [
        crosscheck_areas(parks).assign(id=parks["id"].to_numpy()),
        crosscheck_areas(by_country).assign(id=by_country["country_iso3"].to_numpy()),
        crosscheck_areas(proposed).assign(id=["proposed_park"]),
    ]
    rows = pd.concat(frames, ignore_index=True)
    return {
        "message": (
            "equal-area planar figures of the WDPA world (Protected Planet: Mollweide ESRI:54009; "
            "wdpar: Behrmann ESRI:54017) beside the geodesic area"
        ),
        "rows": rows[["id", *[c for c in rows.columns if c != "id"]]].to_dict(orient="records"),
    }
