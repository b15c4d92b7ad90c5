"""Border-aware merge: known answers computed independently (closed-form ellipsoid areas)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
import shapely.affinity
from pyproj import Geod
from shapely.geometry import LineString, box

from geo.measure import geodesic_area_m2
from geo.merge import check_coverage, clip_to_land, merge_parks, resolve_overlaps, shared_edge, snap_to_border
from tests.common import authalic_zone_m2, parallel_box

# A straight border along the meridian 131E between 42N and 44N: China west, Russia east.
BORDER_LON = 131.0
LAT0, DLAT = 43.0, 0.2


def _countries() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"country_iso3": ["CHN", "RUS"]},
        geometry=[box(130.0, 42.0, BORDER_LON, 44.0), box(BORDER_LON, 42.0, 132.0, 44.0)],
        crs="EPSG:4326",
    )


def _border() -> gpd.GeoDataFrame:
    line = LineString([(BORDER_LON, 42.0), (BORDER_LON, 44.0)])
    return gpd.GeoDataFrame(
        {"id": ["RUS-CHN"], "left_iso3": ["RUS"], "right_iso3": ["CHN"]}, geometry=[line], crs="EPSG:4326"
    )


def _parks(rows) -> gpd.GeoDataFrame:
    """rows: (id, iso3, iucn, year, lon0, dlon, lat0, dlat); boxes whose east-west edges follow parallels."""
    records = [
        {
            "id": r[0],
            "country_iso3": r[1],
            "iucn_cat": r[2],
            "status_year": r[3],
            "geometry": parallel_box(r[4], r[6], r[5], r[7], n=400),
        }
        for r in rows
    ]
    return gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:4326")


def _dlon_for_m(metres: float, lat: float) -> float:
    """Longitude span of ``metres`` along the parallel ``lat`` (pyproj's geodesic, short enough to be straight)."""
    lon2, _, _ = Geod(ellps="WGS84").fwd(BORDER_LON, lat, 90.0, metres)
    return lon2 - BORDER_LON


def test_two_squares_sharing_an_edge_union_is_the_sum():
    parks = _parks(
        [("C", "CHN", "II", 2017, 130.5, 0.5, LAT0, DLAT), ("R", "RUS", "II", 2012, BORDER_LON, 0.5, LAT0, DLAT)]
    )
    result = merge_parks(parks, _countries(), _border())
    expected = 2 * authalic_zone_m2(LAT0, LAT0 + DLAT, 0.5) / 1e4
    assert geodesic_area_m2(result.proposed)[0] / 1e4 == pytest.approx(expected, rel=1e-7)
    assert len(result.coverage_before["overlaps"]) == 0
    assert len(result.coverage_before["gaps"]) == 0
    edge = shared_edge(
        result.parks[result.parks.country_iso3 == "RUS"], result.parks[result.parks.country_iso3 == "CHN"]
    )
    _, _, meridian_m = Geod(ellps="WGS84").inv(BORDER_LON, LAT0, BORDER_LON, LAT0 + DLAT)
    assert Geod(ellps="WGS84").geometry_length(edge) == pytest.approx(meridian_m, rel=1e-9)


def test_lower_priority_loses_exactly_the_intersection():
    # A (II, 2012) and B (Ia, 1916) overlap in the box 130.4-130.6E x 43.1-43.3N.
    parks = _parks([("A", "CHN", "II", 2012, 130.2, 0.4, 43.0, 0.3), ("B", "CHN", "Ia", 1916, 130.4, 0.4, 43.1, 0.3)])
    coverage = check_coverage(parks, gap_width_m=100.0)
    intersection_ha = authalic_zone_m2(43.1, 43.3, 0.2) / 1e4
    (overlap,) = coverage["overlaps"].itertuples()
    assert {overlap.id_a, overlap.id_b} == {"A", "B"}
    assert overlap.area_ha == pytest.approx(intersection_ha, rel=1e-5)
    resolved, report = resolve_overlaps(parks)
    assert report["id"].tolist() == ["A"]
    assert report["lost_to"].tolist() == ["B"]
    assert report["lost_ha"].iloc[0] == pytest.approx(intersection_ha, rel=1e-5)
    before = geodesic_area_m2(parks) / 1e4
    after = geodesic_area_m2(resolved) / 1e4
    assert after[1] == pytest.approx(before[1], rel=1e-12)  # the winner keeps everything
    assert after[0] == pytest.approx(before[0] - intersection_ha, rel=1e-6)
    assert shapely.intersection(resolved.geometry.iloc[0], resolved.geometry.iloc[1]).area == pytest.approx(
        0, abs=1e-12
    )


def test_same_category_earlier_status_year_wins():
    parks = _parks(
        [("NEW", "CHN", "II", 2017, 130.2, 0.4, 43.0, 0.3), ("OLD", "CHN", "II", 2012, 130.4, 0.4, 43.1, 0.3)]
    )
    _, report = resolve_overlaps(parks)
    assert report["id"].tolist() == ["NEW"]


def test_park_crossing_the_border_by_1_km_is_clipped_back():
    over = _dlon_for_m(1_000.0, LAT0 + DLAT / 2)
    parks = _parks([("C", "CHN", "II", 2017, 130.5, 0.5 + over, LAT0, DLAT)])
    clipped, report = clip_to_land(parks, _countries())
    assert geodesic_area_m2(clipped)[0] == pytest.approx(authalic_zone_m2(LAT0, LAT0 + DLAT, 0.5), rel=1e-7)
    assert report["removed_ha"].iloc[0] == pytest.approx(authalic_zone_m2(LAT0, LAT0 + DLAT, over) / 1e4, rel=1e-4)
    assert shapely.bounds(clipped.geometry.iloc[0])[2] == pytest.approx(BORDER_LON, abs=1e-12)


def test_park_stopping_300_m_short_is_snapped():
    short = _dlon_for_m(300.0, LAT0 + DLAT / 2)
    parks = _parks(
        [
            ("C", "CHN", "II", 2017, 130.5, 0.5 - short, LAT0, DLAT),
            ("R", "RUS", "II", 2012, BORDER_LON, 0.5, LAT0, DLAT),
        ]
    )
    snapped, report = snap_to_border(parks, _border(), _countries(), tolerance_m=500.0)
    gap_ha = authalic_zone_m2(LAT0, LAT0 + DLAT, short) / 1e4
    assert report.set_index("id").loc["C", "gained_ha"] == pytest.approx(gap_ha, rel=1e-4)
    assert report.set_index("id").loc["R", "gained_ha"] == 0
    assert geodesic_area_m2(snapped)[0] == pytest.approx(authalic_zone_m2(LAT0, LAT0 + DLAT, 0.5), rel=1e-6)
    assert len(check_coverage(snapped, gap_width_m=1_000.0)["gaps"]) == 0


def test_gap_is_reported_when_the_tolerance_is_smaller():
    short = _dlon_for_m(300.0, LAT0 + DLAT / 2)
    parks = _parks(
        [
            ("C", "CHN", "II", 2017, 130.5, 0.5 - short, LAT0, DLAT),
            ("R", "RUS", "II", 2012, BORDER_LON, 0.5, LAT0, DLAT),
        ]
    )
    snapped, report = snap_to_border(parks, _border(), _countries(), tolerance_m=200.0)
    assert (report["gained_ha"] == 0).all()
    gaps = check_coverage(snapped, gap_width_m=1_000.0)["gaps"]
    assert len(gaps) == 1
    assert gaps["area_ha"].iloc[0] == pytest.approx(authalic_zone_m2(LAT0, LAT0 + DLAT, short) / 1e4, rel=1e-2)
    assert gaps["lon"].iloc[0] == pytest.approx(BORDER_LON - short / 2, abs=short)
    # Narrower than the gap: not reported.
    assert len(check_coverage(snapped, gap_width_m=200.0)["gaps"]) == 0


def test_merge_does_not_mutate_its_input():
    parks = _parks([("C", "CHN", "II", 2017, 130.5, 0.6, LAT0, DLAT)])
    before = parks.copy()
    merge_parks(parks, _countries(), _border())
    assert parks.geometry.equals(before.geometry)


def test_on_snapped_sees_the_snapped_parks_before_overlaps_are_resolved():
    # C stops 300 m short of the border with R's country (snapped); A and B overlap (A loses): the hook gets the
    # parks snapped but not yet resolved, the very geometry of MergeResult.snapped_parks, which
    # `bigcats build` starts its display geometry from while the merge goes on.
    short = BORDER_LON - _dlon_for_m(300.0, LAT0)
    parks = _parks([
        ("A", "CHN", "II", 2012, 130.2, 0.4, 43.0, 0.3),
        ("B", "CHN", "Ia", 1916, 130.4, 0.4, 43.1, 0.3),
        ("C", "CHN", "II", 2017, short - 0.3, 0.3, 42.5, DLAT),
        ("R", "RUS", "II", 2012, BORDER_LON, 0.5, 42.5, DLAT),
    ])
    seen = []
    result = merge_parks(parks, _countries(), _border(), on_snapped=lambda snapped: seen.append(snapped.copy()))
    assert len(seen) == 1
    (snapped,) = seen
    assert snapped.index.equals(result.snapped_parks.index)
    assert shapely.equals_identical(snapped.geometry.array, result.snapped_parks.geometry.array).all()
    assert result.snapped.set_index("id").loc["C", "gained_ha"] > 0  # C was snapped ...
    assert not shapely.equals(snapped.geometry.iloc[0], result.parks.geometry.iloc[0])  # ... A not yet resolved


def test_unknown_country_is_a_data_error():
    from geo.errors import DataError

    parks = _parks([("K", "PRK", "II", 2017, 130.5, 0.5, LAT0, DLAT)])
    with pytest.raises(DataError, match="no land polygon for PRK"):
        clip_to_land(parks, _countries())


def test_snapping_does_not_fill_another_park():
    short = _dlon_for_m(300.0, LAT0 + DLAT / 2)
    # B sits in the strip between A and the border: A must not grow into it.
    parks = _parks(
        [
            ("A", "CHN", "II", 2017, 130.5, 0.5 - short, LAT0, DLAT),
            ("B", "CHN", "Ia", 1916, BORDER_LON - short, short, LAT0, DLAT),
        ]
    )
    _, report = snap_to_border(parks, _border(), _countries(), tolerance_m=500.0)
    assert report["gained_ha"].max() == pytest.approx(0, abs=1e-3)


def test_a_notch_in_one_park_is_not_a_gap():
    # A U-shaped park: a 400 m wide, 5 km deep notch open to the north. Closing
    # the outline fills the notch, but no second park bounds it and the
    # coverage does not enclose it, so it is not a gap in the coverage.
    outer = parallel_box(131.2, LAT0, 0.2, DLAT, n=200)
    notch_w = _dlon_for_m(400, LAT0 + DLAT)
    notch = box(131.3 - notch_w / 2, LAT0 + DLAT - 0.045, 131.3 + notch_w / 2, LAT0 + DLAT + 0.01)
    parks = gpd.GeoDataFrame({"id": ["U"]}, geometry=[outer.difference(notch)], crs="EPSG:4326")
    assert len(check_coverage(parks, gap_width_m=1_000)["gaps"]) == 0


def test_a_hole_enclosed_by_the_coverage_is_a_gap():
    outer = parallel_box(131.2, LAT0, 0.2, DLAT, n=200)
    hole = parallel_box(131.29, LAT0 + 0.09, 0.003, 0.003, n=20)
    parks = gpd.GeoDataFrame({"id": ["H"]}, geometry=[outer.difference(hole)], crs="EPSG:4326")
    gaps = check_coverage(parks, gap_width_m=1_000)["gaps"]
    assert len(gaps) == 1
    assert gaps["area_ha"].iloc[0] == pytest.approx(authalic_zone_m2(LAT0 + 0.09, LAT0 + 0.093, 0.003) / 1e4, rel=1e-3)


def test_gaps_along_the_bundled_border_are_its_water_gaps(layers_dir):
    # The parks of both countries meet along the land border; they are apart only
    # where the border runs in the Tumen river, which the stretch layer counts
    # independently when it bridges those gaps.
    from geo.layers import read_layer
    from geo.pipeline import area_report_for

    coverage = area_report_for(layers_dir)["checks"]["coverage"]
    water_gaps = int(read_layer(layers_dir, "stretch")["water_gaps"].iloc[0])
    assert coverage["gaps_along_border_count"] == water_gaps


def test_a_park_that_self_intersects_once_projected_still_merges():
    # Valid in lon/lat: a vertex 1e-7 deg above the middle of a long diagonal edge. In the local
    # metric CRS the edge's chord moves by metres, the vertex crosses it, and the union of the
    # projected parks used to raise a GEOS TopologyException.
    a, b = (130.05, 42.05), (130.95, 43.95)
    neck = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 1e-7)
    bent = shapely.Polygon([a, b, (130.95, 43.99), neck, (130.05, 43.5), a])
    assert bent.is_valid
    parks = gpd.GeoDataFrame(
        {"id": ["C", "R"], "country_iso3": ["CHN", "RUS"], "iucn_cat": ["II", "II"], "status_year": [2000, 2000]},
        geometry=[bent, box(131.5, 42.1, 132.0, 42.5)],  # clear of the land's edge (see the xfail below)
        crs="EPSG:4326",
    )
    result = merge_parks(parks, _countries(), _border())
    assert len(result.coverage_before["overlaps"]) == 0
    area = geodesic_area_m2(result.proposed)[0]
    assert area == pytest.approx(float(geodesic_area_m2(parks).sum()), rel=1e-9)


@pytest.mark.xfail(
    reason="the land is densified along geodesics before the clip, like the parks; a park edge that runs along "
    "a longer straight land edge (same latitude, other end points) bows less than it, so a sliver (here 250 ha "
    "of 229,000) is clipped off. Real land outlines have short edges; a fix must keep shared borders shared.",
    strict=True,
)
def test_a_park_along_a_long_straight_land_edge_loses_nothing():
    park = gpd.GeoDataFrame({"id": ["R"], "country_iso3": ["RUS"], "iucn_cat": ["II"], "status_year": [2000]},
                            geometry=[box(131.5, 42.0, 132.0, 42.5)], crs="EPSG:4326")
    result = merge_parks(park, _countries(), _border())
    assert result.clipped["removed_ha"].sum() < 0.01


def test_a_park_wholly_on_its_land_is_kept_bit_for_bit():
    inside = _parks([("C", "CHN", "II", 2017, 130.2, 0.5, LAT0, DLAT)])
    clipped, report = clip_to_land(inside, _countries())
    assert clipped.geometry.iloc[0] is inside.geometry.iloc[0]
    assert report["removed_ha"].iloc[0] == 0.0


def _resolve_plainly(parks):
    """resolve_overlaps as a plain loop over every (loser, winner) pair, the reference."""
    import numpy as np

    from geo.overlay.ops import _polygonal
    from geo.merge.overlaps import _priority

    geoms = np.asarray(parks.geometry.array, dtype=object)
    rank = np.empty(len(geoms), dtype=int)
    rank[_priority(parks)] = np.arange(len(geoms))
    new = geoms.copy()
    for i in range(len(geoms)):
        above = [j for j in range(len(geoms)) if rank[j] < rank[i]
                 and shapely.relate_pattern(geoms[i], geoms[j], "2********")]
        if above:
            new[i] = _polygonal([shapely.difference(new[i], shapely.union_all(new[above]))])[0]
    return new


def test_resolving_many_overlaps_equals_the_plain_pairwise_loop():
    from benchmarks.datagen import wdpa_like

    raw = wdpa_like(80, seed=4, invalid_every=0, multi_every=0)
    # drawn together (centres 5x closer to 130.5E 44N): most parks overlap several others
    centres = shapely.get_coordinates(shapely.centroid(raw.geometry.to_numpy()))
    shift = -0.8 * (centres - (130.5, 44.0))
    raw["geometry"] = [shapely.affinity.translate(g, dx, dy) for g, (dx, dy) in zip(raw.geometry, shift, strict=True)]
    parks = gpd.GeoDataFrame(
        {"id": raw["WDPAID"].astype(str), "country_iso3": "CHN", "iucn_cat": raw["IUCN_CAT"],
         "status_year": raw["STATUS_YR"]},
        geometry=raw.geometry.to_numpy(), crs="EPSG:4326",
    )
    resolved, report = resolve_overlaps(parks)
    expected = _resolve_plainly(parks)
    assert len(report) > 10  # many losers, several winners each
    got = resolved.geometry.to_numpy()
    assert all(shapely.symmetric_difference(g, e).area < 1e-12 for g, e in zip(got, expected, strict=True))
    assert shapely.coverage_is_valid(got) or shapely.union_all(got).area == pytest.approx(
        sum(g.area for g in got), rel=1e-9)


def test_a_union_keeps_no_hole_of_collinear_points():
    """A hole whose points lie on one line in lon/lat has no area there, but a few m² between
    geodesics on the ellipsoid, added or taken away by its winding: the union drops it, and the
    union's geodesic area is the independent one either way round."""
    from geo.overlay.ops import _dissolve

    shell = [(23.6, 52.55), (24.1, 52.55), (24.1, 52.85), (23.6, 52.85)]
    line = [(23.84712, 52.66235), (23.87941, 52.6797)]
    mid = ((line[0][0] + line[1][0]) / 2, (line[0][1] + line[1][1]) / 2)
    degenerate = [line[0], mid, line[1], mid]  # out and back along one straight line
    for hole in (degenerate, degenerate[::-1]):
        polygon = shapely.Polygon(shell, [hole])
        union = _dissolve([polygon])  # one polygon: GEOS's union returns it as it is
        assert all(len(p.interiors) == 0 for p in shapely.get_parts(union))
        expected = abs(Geod(ellps="WGS84").geometry_area_perimeter(shapely.orient_polygons(union))[0])
        assert geodesic_area_m2(gpd.GeoSeries([union], crs="EPSG:4326"))[0] == pytest.approx(expected, rel=1e-9)
    # a real hole stays
    real = shapely.Polygon(shell, [[(23.8, 52.6), (23.9, 52.6), (23.9, 52.7), (23.8, 52.7)]])
    assert sum(len(p.interiors) for p in shapely.get_parts(_dissolve([real]))) == 1
