"""The folium map of the parks, the proposed park, the borders and the towns (:func:`make_map`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import geopandas as gpd
import pandas as pd
import shapely

from geo.project import Project, bundled_project
from geo.render.context import add_context
from geo.render.display import DisplayLayers, _label_point, display_layers
from geo.render.features import _Features
from geo.render.interactions import _Interactions, _Layout
from geo.render.leaflet import ASSETS, _annotate, _Attribution, _control, _NoticeToggle, _VectorMiniMap
from geo.render.panels import _attribution_html, _legend_html, _notice_html, _panels_html, _quality_kind
from geo.render.popups import (
    _border_name,
    _cells,
    _country_names,
    _names,
    _park_rows,
    _proposed_popup,
    _town_popup,
)
from geo.render.style import (
    _BASE_PANE,
    _CSS,
    _EARLIER_PANE,
    _LABEL_PANE,
    _PROPOSED_FILL_PANE,
    COMPARISON_COLOUR,
    LAND_COLOUR,
    MAX_ZOOM,
    OTHER_BORDER_COLOUR,
    PAIR_BORDER_COLOUR,
    PROPOSED_COLOUR,
    STRETCH_COLOUR,
    _pair_ids,
    _style,
    country_colours,
)
from geo.render.text import _e, _fmt_ha, _label, _label_html, _name, _num, _stretch_km, _t, _value

if TYPE_CHECKING:
    import folium
    from branca.element import Figure


def warm_up_map() -> None:
    """Import folium (which compiles its Jinja templates as it is imported) ahead of :func:`make_map`.

    ``bigcats build`` runs this while a forked process makes the display geometry, so the
    import (0.3 s) is not on the build's path after it.
    """
    import folium  # noqa: F401 - the import is the work


@dataclass(frozen=True)
class Comparison:
    """An earlier version of a layer to draw beside the current one.

    Attributes
    ----------
    role : str
        The layer role (``parks_<iso3>``...).
    title : str
        Human title of the role.
    version, current_version : int
        The earlier version shown and the current version it is compared with.
    time, source : str
        When the earlier version was stored and from which file.
    layer : GeoDataFrame
        The earlier version (EPSG:4326).
    changes : DataFrame
        Per feature ``id``, ``status``, ``gained_ha``, ``lost_ha``, ``net_ha`` from the
        earlier to the current version (:meth:`geo.store.LayerStore.diff`).
    """

    role: str
    title: str
    version: int
    current_version: int
    time: str
    source: str
    layer: gpd.GeoDataFrame
    changes: pd.DataFrame


def make_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    parks: gpd.GeoDataFrame,
    proposed: gpd.GeoDataFrame,
    *,
    areas: Mapping,
    lang: str = "en",
    max_area_error: float = 0.005,
    comparisons: Sequence[Comparison] = (),
    facts: Mapping | None = None,
    shown: DisplayLayers | None = None,
    project: Project | None = None,
) -> folium.Map:
    """Build the folium map of the parks, the proposed park, the borders and the towns.

    Parameters
    ----------
    layers : mapping of role to GeoDataFrame
        The layers as read (EPSG:4326).
    parks : GeoDataFrame
        Both countries' parks with ``area_ha`` computed.
    proposed : GeoDataFrame
        The proposed park (one feature) with ``area_ha``.
    areas : mapping
        The area report (``areas.json`` content); ``totals`` is used.
    lang : {"en", "ru", "zh"}
        Language of labels and interface text.
    max_area_error : float
        See :func:`display_layers`.
    comparisons : sequence of Comparison
        Earlier versions to draw beside the current layers, each as its own switchable group
        (grey dotted outline, no fill) whose popups give the hectares gained and lost.
    facts : mapping of str to geo.facts.Fact, optional
        The published facts the story shows, each with its source (default: the bundled table).
    shown : DisplayLayers, optional
        The display geometry, if already computed by :func:`display_layers`.
    project : Project, optional
        Names the countries (their layers, colours and totals), the title and the borders;
        default the bundled project.

    Returns
    -------
    folium.Map
        Displays inline in Jupyter; save it with :func:`save_map` (``offline=True`` inlines the assets).
    """
    import folium  # imported here: only rendering needs it

    t = _t(lang, project)
    project = bundled_project() if project is None else project
    if shown is None:
        shown = display_layers(layers, parks, max_area_error=max_area_error, project=project)
    # fitted to the proposed park; no park to draw: frame the stretch
    bounds = (shown.proposed if len(parks) else layers["stretch"]).total_bounds
    fmap = folium.Map(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
        zoom_start=7, tiles=None, control_scale=False, max_zoom=MAX_ZOOM, min_zoom=4, prefer_canvas=False,
        zoom_snap=0.25, zoom_delta=0.5,
    )
    fmap.default_js = [("leaflet", ASSETS["leaflet_js"][0])]
    fmap.default_css = [("leaflet_css", ASSETS["leaflet_css"][0])]
    fmap.bigcats_lang = lang  # type: ignore[attr-defined]  # our mark on folium's Map: map_html reads the language
    root = cast("Figure", fmap.get_root())  # a Map's root is always its branca Figure (header, html, script)
    root.header.add_child(folium.Element(f"<title>{_e(t['title'])}</title>"))
    # the page's own style goes in the body, after Leaflet's and the plugins' stylesheets (in the head)
    root.html.add_child(folium.Element(f"<style>{_CSS}</style>"))

    # base maps: the built-in vector map (no tiles) first and shown; tiles to choose online
    # panes fix the drawing order whatever the user toggles: built-in land (250) under the earlier
    # versions (390) under the proposed park's fill (395) under the parks, outlines, borders and
    # towns (Leaflet's overlay pane, 400) under the park labels (450)
    folium.map.CustomPane(_BASE_PANE, z_index=250, pointer_events=False).add_to(fmap)
    folium.map.CustomPane(_EARLIER_PANE, z_index=390, pointer_events=True).add_to(fmap)
    folium.map.CustomPane(_PROPOSED_FILL_PANE, z_index=395, pointer_events=True).add_to(fmap)
    folium.map.CustomPane(_LABEL_PANE, z_index=450, pointer_events=False).add_to(fmap)
    features = _Features().add_to(fmap)  # the shared popup and tooltip binder, before any role's layer
    vector = folium.FeatureGroup(name=t["vector_base"], overlay=False, show=True)
    folium.GeoJson(
        shown.countries[["geometry"]].to_json(drop_id=True),
        style_function=lambda _f: _style("#999", weight=0.6, fill=LAND_COLOUR) | {"fillOpacity": 1},
        smooth_factor=1, pane=_BASE_PANE, interactive=False,
    ).add_to(vector)
    vector.add_to(fmap)
    tiles = [
        folium.TileLayer("OpenStreetMap", name=t["osm"], attr="<span lang='en'>© OpenStreetMap contributors</span>",
                         show=False, overlay=False, max_zoom=MAX_ZOOM),
        folium.TileLayer(
            "https://{s}.tile.opentopomap.org/{z}/{x}/{y}.png", name=t["topo"], show=False, overlay=False,
            attr="<span lang='en'>Map data: © OpenStreetMap contributors, SRTM | Map style: © OpenTopoMap "
            "(CC-BY-SA)</span>", max_zoom=MAX_ZOOM,
        ),
        folium.TileLayer(
            "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",
            name=t["satellite"], show=False, overlay=False, max_zoom=MAX_ZOOM,
            attr="<span lang='en'>Tiles © Esri — Source: Esri, i-cubed, USDA, USGS, AEX, GeoEye, Getmapping, "
            "Aerogrid, IGN, IGP, UPR-EGP, and the GIS User Community</span>",
        ),
    ]
    for tile in tiles:
        tile.add_to(fmap)

    context = add_context(fmap, layers, lang)  # every protected area around, under the project's parks

    proposed_area = _fmt_ha(areas["totals"]["proposed_park"]["area_ha"], lang)
    park_names = {str(row["id"]): _label(row, lang) for _, row in parks.iterrows() if "id" in row}
    schematic_layers, park_layers = [], []
    schematic_names: list[str] = []
    unverified_names: list[str] = []
    colours = country_colours(project)
    in_proposed = f"{t['proposed_name']}, {proposed_area}"
    # the largest park's label first: where labels would overlap, the smaller park's waits for a closer zoom
    area_ha = pd.to_numeric(parks["area_ha"], errors="coerce").astype(float)
    order = sorted(range(len(parks)), key=lambda i: -area_ha.iloc[i] if math.isfinite(area_ha.iloc[i]) else 0.0)
    ranks = {parks.index[i]: rank for rank, i in enumerate(order)}
    for iso3 in project.countries:
        group = folium.FeatureGroup(name=t[f"parks_{iso3}"], show=True)
        colour = colours[iso3]
        rows = parks[parks["country_iso3"] == iso3]
        geoms, props = [], []
        for idx, row in rows.iterrows():
            schematic = row.get("geometry_quality") != "surveyed"
            geom = shown.parks.geometry.loc[idx]
            point = _label_point(geom)
            geoms.append(geom)
            name, plain = _label_html(row, lang), _label(row, lang)
            props.append({
                "n": name, "a": _e(_fmt_ha(row["area_ha"], lang)), **({"q": plain} if plain != name else {}),
                "c": [round(point.y, 4), round(point.x, 4)], "k": ranks[idx],
                "p": features.popup(_cells(_park_rows(row, lang, in_proposed), lang)),
                **({"s": 1} if schematic else {}),
            })
            if schematic:
                kind = _quality_kind(row.get("geometry_quality"))
                (unverified_names if kind == "unverified" else schematic_names).append(_label_html(row, lang))
        layer = features.layer(geoms, props, style=_style(colour, weight=2, fill=colour), dash="6 4",
                               popup_class="park-popup", labels=True)
        layer.add_to(group)
        park_layers.append(layer)
        if any("s" in p for p in props):
            schematic_layers.append(group)
        group.add_to(fmap)

    proposed_group = folium.FeatureGroup(name=t["proposed"], show=True)
    proposed_schematic = bool(schematic_names or unverified_names)  # the union: dashed where any part is
    proposed_json = shapely.to_geojson(shown.proposed.geometry.iloc[0])
    outline = folium.GeoJson(
        proposed_json,
        style_function=lambda _f: _style(PROPOSED_COLOUR, weight=3, dash="10 5" if proposed_schematic else None),
    )
    _annotate(outline, tooltip=_e(f"{t['proposed_name']}: {proposed_area}"),
              popup=_proposed_popup(areas, lang, project))
    outline.add_to(proposed_group)
    proposed_group.add_to(fmap)
    if proposed_schematic:
        schematic_layers.append(proposed_group)

    for comparison in comparisons:
        _comparison_group(comparison, lang, features).add_to(fmap)

    countries = _country_names(layers["countries"], lang)
    stretch_km = _stretch_km(layers["stretch"], lang)
    border_group = folium.FeatureGroup(name=t["border_group"].replace("{km}", stretch_km), show=True)
    others = folium.FeatureGroup(name=t["other_borders"], show=True)
    pair_ids = _pair_ids(project)
    between = layers["border"]["id"].isin(pair_ids).to_numpy() if len(layers["border"]) else []
    for pair, group in ((True, border_group), (False, others)):
        chosen = layers["border"][between == pair] if len(layers["border"]) else layers["border"]
        features.layer(
            list(shown.borders.geometry.loc[chosen.index]),
            [{"t": features.intern(_border_name(row, countries, lang))} for _, row in chosen.iterrows()],
            style=_style(PAIR_BORDER_COLOUR if pair else OTHER_BORDER_COLOUR, weight=2 if pair else 1),
        ).add_to(group)
    stretch = []
    for _, row in layers["stretch"].iterrows():
        length = row.get("length_km")
        stretch.append({
            "t": features.intern(_e(f"{t['stretch']}: {_num(length, lang)} {t['km']}")),
            "p": features.popup(_cells([(t["stretch"], *_name(row, lang)),
                                        (t["length"], f"{_num(length, lang, 1)} {t['km']}"),
                                        (t["method"], row.get("geometry_method"), "en"),
                                        (t["source"], row.get("source"), "en")], lang)),
        })
    features.layer(list(shown.stretch.geometry.loc[layers["stretch"].index]), stretch, popup_class="stretch-popup",
                   style=_style(STRETCH_COLOUR, weight=6, opacity=0.8)).add_to(border_group)
    border_group.add_to(fmap)
    others.add_to(fmap)

    towns = None
    if "places" in layers:  # drawn by _Interactions from one compact array (a folium marker each is ~0.5 kB)
        towns = (folium.FeatureGroup(name=t["towns"], show=True), [
            (_label(row, lang), row.geometry, _label_html(row, lang), _town_popup(row, lang, countries))
            for _, row in layers["places"].iterrows()
        ])
        towns[0].add_to(fmap)

    styles = {(iso3, _quality_kind(q)) for iso3, q in zip(parks["country_iso3"], parks.get(
        "geometry_quality", pd.Series("schematic", index=parks.index)), strict=True)}
    root.html.add_child(folium.Element(_legend_html(lang, comparisons=bool(comparisons), styles=styles,
                                                    project=project, stretch_km=stretch_km,
                                                    context=context is not None)))
    notice = _notice_html(lang, schematic_names, unverified_names) if schematic_layers else ""
    root.html.add_child(folium.Element(_panels_html(lang, notice, facts, park_names, project)))
    _Attribution(_attribution_html(lang)).add_to(fmap)
    if schematic_layers:
        _NoticeToggle([g.get_name() for g in schematic_layers]).add_to(fmap)

    # folium.plugins' defaults spelled out (see _control); their texts from the catalogue
    _control("Fullscreen", position="topleft", title=t["fullscreen"], title_cancel=t["fullscreen_exit"],
             force_separate_button=False).add_to(fmap)
    _control("MeasureControl", position="topleft", primary_length_unit="kilometers", secondary_length_unit="miles",
             primary_area_unit="hectares", secondary_area_unit="acres",
             localization={"en": "en", "ru": "ru", "zh": "cn"}[lang]).add_to(fmap)
    _control("MousePosition", position="bottomright", separator=" | ", empty_string=t["mouse_empty"],
             lng_first=False, num_digits=4, prefix=t["mouse_prefix"]).add_to(fmap)
    mini = shapely.simplify(shapely.union_all(shown.countries.geometry.values), 0.05)
    _VectorMiniMap(shapely.to_geojson(shapely.set_precision(mini, 0.01)), t).add_to(fmap)
    _Interactions(
        lang=lang, bounds=[[bounds[1], bounds[0]], [bounds[3], bounds[2]]], vector=vector.get_name(),
        tiles=[tile.get_name() for tile in tiles], parks=[layer.get_name() for layer in park_layers],
        proposed=(proposed_group.get_name(), outline.get_name()),
        towns=(towns[0].get_name(), towns[1]) if towns else None,
    ).add_to(fmap)
    control = folium.LayerControl(collapsed=False, position="topright")
    control.add_to(fmap)
    _Layout(control.get_name()).add_to(fmap)  # last: the view is fitted once every control is in place
    return fmap


def _comparison_group(comparison: Comparison, lang: str, features: _Features) -> folium.FeatureGroup:
    """The earlier version as one switchable group: grey dotted outlines, popups with the changes.

    Its features are one GeoJSON layer bound by the page's shared binder (``features``).
    """
    import folium

    t = _t(lang)
    name = f"{comparison.title}, {t['earlier'].format(version=comparison.version)}"
    group = folium.FeatureGroup(name=name, show=True)
    changes = {str(r.id): r for r in comparison.changes.itertuples(index=False)}
    keys = comparison.layer["id"].astype(str) if "id" in comparison.layer.columns else [
        str(i) for i in range(len(comparison.layer))]
    geoms, props = [], []
    for key, (_, row) in zip(keys, comparison.layer.iterrows(), strict=True):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        change = changes.get(key)
        cells = [
            *_names(row, lang)[:1],
            (t["version"], f"{comparison.version} ({name})"),
            (t["time"], comparison.time),
            (t["source"], comparison.source, "en"),
            (t["current_version"], comparison.current_version),
        ]
        if change is not None:
            cells += [
                (t["status"], *_value("status", change.status, lang)),
                (t["gained"], f"{_num(change.gained_ha, lang, 1)} {t['ha']}"),
                (t["lost"], f"{_num(change.lost_ha, lang, 1)} {t['ha']}"),
                (t["net"], f"{_num(change.net_ha, lang, 1, sign=True)} {t['ha']}"),
            ]
        geoms.append(shapely.set_precision(shapely.simplify(geom, 0.001), 0.0001, mode="pointwise"))
        props.append({
            "t": features.intern(f"{_label_html(row, lang)}, {_e(t['earlier'].format(version=comparison.version))}"),
            "p": features.popup(_cells(cells, lang)),
        })
    # no visible fill, but the inside answers clicks where no current park lies above it
    style = _style(COMPARISON_COLOUR, weight=3, dash="2 6") | {"fill": True, "fillOpacity": 0}
    features.layer(geoms, props, style=style, popup_class="comparison-popup", pane=_EARLIER_PANE).add_to(group)
    return group
