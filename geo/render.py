"""The interactive Leaflet map of the proposed park (folium)."""

from __future__ import annotations

import html
from collections.abc import Mapping

import geopandas as gpd
import shapely

__all__ = ["make_map"]

COUNTRY_COLOURS = {"RUS": "#1f5fbf", "CHN": "#c0392b"}
PROPOSED_COLOUR = "#1e8449"
DISPLAY_TOLERANCE_DEG = 0.002  # about 200 m: below what zoom levels 5-10 show


def _fmt_ha(value: float | None) -> str:
    if value is None or value != value:
        return "not published"
    return f"{value:,.0f} ha ({value / 100:,.0f} km²)"


def _popup_html(rows: list[tuple[str, object]]) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{html.escape(str(k))}</th>"
        f"<td>{html.escape(str(v))}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cells}</table>"


def _display(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.simplify(geom, DISPLAY_TOLERANCE_DEG, preserve_topology=True)


def make_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    parks: gpd.GeoDataFrame,
    proposed: gpd.GeoDataFrame,
    *,
    areas: Mapping,
):
    """Build the folium map of every layer, the border stretch and the proposed park.

    Parameters
    ----------
    layers : mapping of role to GeoDataFrame
        The layers as read (EPSG:4326).
    parks : GeoDataFrame
        Both countries' parks with ``area_ha`` computed.
    proposed : GeoDataFrame
        The proposed park (one feature) with ``area_ha``.
    areas : mapping
        The area report (``areas.json`` content), for the totals and notices.

    Returns
    -------
    folium.Map
    """
    import folium  # imported here: only rendering needs it

    bounds = parks.total_bounds
    fmap = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=7, tiles=None)
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap", attr="© OpenStreetMap contributors").add_to(fmap)

    countries = folium.FeatureGroup(name="Country land (OpenStreetMap)", show=True)
    for _, row in layers["countries"].iterrows():
        folium.GeoJson(
            shapely.to_geojson(_display(row.geometry)),
            style_function=lambda _f: {"color": "#777", "weight": 0.5, "fillColor": "#f3efe6", "fillOpacity": 0.4},
            tooltip=html.escape(str(row.get("name_en", row["id"]))),
        ).add_to(countries)
    countries.add_to(fmap)

    for iso3, title in (("RUS", "Russian protected areas"), ("CHN", "Chinese protected areas")):
        group = folium.FeatureGroup(name=title, show=True)
        for _, row in parks[parks["country_iso3"] == iso3].iterrows():
            schematic = row.get("geometry_quality") != "surveyed"
            colour = COUNTRY_COLOURS[iso3]
            popup = _popup_html(
                [
                    ("Name", row["name_en"]),
                    ("Русский", row.get("name_ru")),
                    ("中文", row.get("name_zh")),
                    ("Designation", row.get("designation")),
                    ("IUCN category", row.get("iucn_cat")),
                    ("Year", row.get("status_year")),
                    ("Computed area (geodesic, WGS84)", _fmt_ha(row["area_ha"])),
                    ("Published area", _fmt_ha(row.get("reported_area_ha"))),
                    ("Published area source", row.get("reported_area_source")),
                    ("Geometry quality", row.get("geometry_quality")),
                    ("How the geometry was made", row.get("geometry_method")),
                    ("Source", row.get("source")),
                    ("Licence", row.get("licence")),
                ]
            )
            folium.GeoJson(
                shapely.to_geojson(_display(row.geometry)),
                style_function=lambda _f, c=colour, s=schematic: {
                    "color": c, "weight": 2, "fillColor": c, "fillOpacity": 0.25, "dashArray": "6 4" if s else None,
                },
                tooltip=html.escape(f"{row['name_en']}: {row['area_ha']:,.0f} ha"),
                popup=folium.Popup(popup, max_width=420),
            ).add_to(group)
        group.add_to(fmap)

    total = areas["totals"]["proposed_park"]
    park_group = folium.FeatureGroup(name="Proposed park 'Land of Big Cats' (union)", show=True)
    folium.GeoJson(
        shapely.to_geojson(_display(proposed.geometry.iloc[0])),
        style_function=lambda _f: {"color": PROPOSED_COLOUR, "weight": 3, "fill": False},
        tooltip=html.escape(f"Proposed park: {total['area_ha']:,.0f} ha computed"),
        popup=folium.Popup(
            _popup_html(
                [
                    ("Name", "Land of Big Cats (proposed)"),
                    ("Computed area (union, geodesic)", _fmt_ha(total["area_ha"])),
                    ("Published area", _fmt_ha(total.get("reported_area_ha"))),
                    ("Published area source", total.get("reported_area_source")),
                    ("Russia (computed)", _fmt_ha(areas["totals"]["RUS"]["area_ha"])),
                    ("China (computed)", _fmt_ha(areas["totals"]["CHN"]["area_ha"])),
                ]
            ),
            max_width=420,
        ),
    ).add_to(park_group)
    park_group.add_to(fmap)

    borders = folium.FeatureGroup(name="International borders (OpenStreetMap)", show=True)
    for _, row in layers["border"].iterrows():
        folium.GeoJson(
            shapely.to_geojson(_display(row.geometry)),
            style_function=lambda _f: {"color": "#444", "weight": 1.5},
            tooltip=html.escape(f"{row['id']} border"),
        ).add_to(borders)
    borders.add_to(fmap)

    stretch_group = folium.FeatureGroup(name="270 km border stretch", show=True)
    for _, row in layers["stretch"].iterrows():
        folium.GeoJson(
            shapely.to_geojson(_display(row.geometry)),
            style_function=lambda _f: {"color": "#f39c12", "weight": 5, "opacity": 0.8},
            tooltip=html.escape(f"Border stretch: {row['length_km']:.0f} km (geodesic)"),
            popup=folium.Popup(_popup_html([("Stretch", row["name_en"]), ("Method", row["geometry_method"]), ("Source", row["source"])]), max_width=420),
        ).add_to(stretch_group)
    stretch_group.add_to(fmap)

    if "places" in layers:
        towns = folium.FeatureGroup(name="Towns (GeoNames)", show=True)
        for _, row in layers["places"].iterrows():
            folium.CircleMarker(
                [row.geometry.y, row.geometry.x], radius=3, color="#222", fill=True,
                tooltip=html.escape(str(row["name_en"])),
            ).add_to(towns)
        towns.add_to(fmap)

    if (parks["geometry_quality"] != "surveyed").any():
        notice = (
            "<div id='schematic-notice' style='position:fixed;top:10px;left:60px;z-index:1000;"
            "background:#fff3cd;border:1px solid #d4a017;padding:6px 10px;font:13px sans-serif;max-width:420px'>"
            "<b>Schematic boundaries.</b> No surveyed park boundary was available: dashed outlines are "
            "reproducible sketches that match the published areas along the real border, not surveys.</div>"
        )
        fmap.get_root().html.add_child(folium.Element(notice))
    fmap.get_root().html.add_child(
        folium.Element(
            "<div id='attribution-note' style='position:fixed;bottom:22px;left:10px;z-index:1000;background:#fffe;"
            "padding:3px 6px;font:11px sans-serif'>Data: © OpenStreetMap contributors (ODbL); towns: GeoNames "
            "(CC BY 4.0); figures: WWF-Russia, 12 March 2019, and published park areas.</div>"
        )
    )
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return fmap
