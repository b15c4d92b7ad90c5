"""The context layer: every protected area around the project, as one canvas-drawn GeoJSON layer.

Planners see the proposed park among all the protected areas of the countries around it (role
``context_pa``, WDPA lists thousands). Those are drawn for orientation only, so they are light:

- one ``L.geoJSON`` layer of every feature, drawn by one Leaflet canvas renderer (``L.canvas``)
  in its own pane under the project's parks (:data:`CONTEXT_PANE`), in a light style;
- a popup on click written by ONE shared script function from each feature's properties (name,
  designation, IUCN category, country, status year, id, source), every value escaped there;
- display geometry simplified per feature (:data:`SIMPLIFY_DEG`) within :data:`MAX_AREA_ERROR` of
  its geodesic area, else kept whole, and coordinates rounded to :data:`GRID_DEG` (about 1 m);
- its own entry in the layer control and the legend, and its sources in the attribution.

The feature collection goes into the page as a data block of its own (``<script
type="application/json">``, written as it is by :class:`_Raw`), which the layer's script reads with
``JSON.parse``: folium compiles every element's output again as a Jinja template, which for
megabytes of coordinates is most of a build; the JSON is written so that no text of it could be
read as markup or template anyway (:func:`_jstr`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import shapely

from geo.measure import geodesic_area_m2
from geo.render.text import _e, _given, _js, _js_texts, _t, _value

__all__ = [
    "CONTEXT_COLOUR",
    "CONTEXT_PANE",
    "GRID_DEG",
    "MAX_AREA_ERROR",
    "SIMPLIFY_DEG",
    "add_context",
    "context_attribution",
    "context_feature_collection",
    "context_geometries",
]

#: The pane of the context layer: over the built-in land (250), under the earlier versions (390),
#: the proposed park's fill (395) and the project's parks (Leaflet's overlay pane, 400).
CONTEXT_PANE = "bigcats-context"
CONTEXT_Z_INDEX = 360
#: A muted grey-green outline and a faint fill: context, not a subject of the map.
CONTEXT_COLOUR = "#6b8e6b"
CONTEXT_FILL_OPACITY = 0.12
#: Simplification tolerance (degrees, about 8-11 m here): under a pixel at the map's closest zoom.
SIMPLIFY_DEG = 1e-4
#: Coordinates are rounded to this grid for display (degrees, about 1 m).
GRID_DEG = 1e-5
_GRID_DECIMALS = 5
#: A feature whose simplified geodesic area differs by more than this share is drawn unsimplified.
MAX_AREA_ERROR = 0.005
#: At most this many sources are named in the attribution (then "and N more").
_MAX_SOURCES = 3

# Inside a JSON string: "<" could end the script ("</script"), braces and "%" could be read by a
# template pass; each becomes its \\u escape, which JSON and JS read back as the same character.
_JSON_ESCAPES = str.maketrans({"<": "\\u003c", "{": "\\u007b", "}": "\\u007d", "%": "\\u0025",
                               "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _jstr(value: object) -> str:
    """A JSON value (string, number or null) safe anywhere in a ``<script>``; missing values are null."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return json.dumps(str(value), ensure_ascii=False).translate(_JSON_ESCAPES)


def context_geometries(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Display geometry of each context feature: simplified within :data:`MAX_AREA_ERROR`, rounded to the grid.

    Each feature is simplified with :data:`SIMPLIFY_DEG` (Douglas-Peucker); where that changes its
    geodesic area by more than :data:`MAX_AREA_ERROR` (a ring collapsed: all of it), the feature
    keeps its own vertices. Either way coordinates are rounded to :data:`GRID_DEG`.

    Parameters
    ----------
    gdf : GeoDataFrame
        The context layer (EPSG:4326).

    Returns
    -------
    numpy.ndarray of shapely geometries
        In the layer's order; None where the feature has no geometry.
    """
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    simple = shapely.simplify(geoms, SIMPLIFY_DEG, preserve_topology=False)  # a collapsed ring fails the check
    changed = np.flatnonzero(shapely.get_num_coordinates(simple) != shapely.get_num_coordinates(geoms))
    if len(changed):
        before = geodesic_area_m2(gpd.GeoSeries(geoms[changed], crs="EPSG:4326"))
        after = geodesic_area_m2(gpd.GeoSeries(simple[changed], crs="EPSG:4326"))
        with np.errstate(divide="ignore", invalid="ignore"):
            error = np.abs(after - before) / before
        keep = changed[~(error <= MAX_AREA_ERROR)]  # NaN (no area to compare) keeps the original too
        simple[keep] = geoms[keep]
    return shapely.transform(simple, lambda xy: np.round(xy, _GRID_DECIMALS))


def _designations(values, lang: str) -> dict[str, tuple[str, str | None]]:
    """Each distinct designation in the page's language where the catalogue has it, else as given."""
    out = {}
    for value in dict.fromkeys(v for v in values if _given(v) is not None):
        text, text_lang = _value("designation", value, lang)
        out[str(value)] = (text, text_lang)
    return out


def _column(gdf: gpd.GeoDataFrame, name: str) -> list:
    return gdf[name].tolist() if name in gdf.columns else [None] * len(gdf)


def context_feature_collection(gdf: gpd.GeoDataFrame, lang: str = "en") -> str:
    """The context layer as one GeoJSON FeatureCollection, safe to write inside a ``<script>``.

    Properties are short keys the popup function reads: ``n`` (name in the page's language,
    else English) and ``nl`` (its language where it is not the page's), ``d``/``dl``
    (designation), ``i`` (IUCN category), ``c`` (country ISO3), ``y`` (status year), ``id``,
    ``s`` (source). Features without a geometry are left out.
    """
    geoms = shapely.to_geojson(context_geometries(gdf))
    names = {key: _column(gdf, f"name_{key}") for key in ("en", "ru", "zh")}
    designations = _column(gdf, "designation")
    translated = _designations(designations, lang)
    columns = zip(geoms, names[lang], names["en"], designations, _column(gdf, "iucn_cat"),
                  _column(gdf, "country_iso3"), _column(gdf, "status_year"), _column(gdf, "id"),
                  _column(gdf, "source"), strict=True)
    features = []
    memo: dict[object, str] = {}  # designations, categories, countries and sources repeat: written once each

    def once(value: object) -> str:
        text = memo.get(value)
        if text is None:
            text = memo[value] = _jstr(_given(value))
        return text

    for geom, own, english, desig, iucn, iso3, year, fid, source in columns:
        if geom is None:
            continue
        name, name_lang = (own, None) if _given(own) is not None else (_given(english), "en" if lang != "en" else None)
        props = [f'"n":{_jstr(_given(name))}']
        if name_lang:
            props.append(f'"nl":"{name_lang}"')
        if (key := _given(desig)) is not None:
            text, text_lang = translated[key]
            props.append(f'"d":{_jstr(text)}')
            if text_lang and text_lang != lang:
                props.append(f'"dl":{_jstr(text_lang)}')
        year = None if year is None or (isinstance(year, float) and math.isnan(year)) else int(year)
        props += [f'"i":{once(iucn)}', f'"c":{once(iso3)}', f'"y":{_jstr(year)}', f'"id":{_jstr(_given(fid))}',
                  f'"s":{once(source)}']
        features.append(f'{{"type":"Feature","properties":{{{",".join(props)}}},"geometry":{geom}}}')
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


def context_attribution(gdf: gpd.GeoDataFrame, lang: str = "en") -> str:
    """The layer's sources and licences for the map's attribution, escaped HTML."""
    t = _t(lang)

    def distinct(name: str) -> list[str]:
        return list(dict.fromkeys(str(v) for v in _column(gdf, name) if _given(v) is not None))

    sources, licences = distinct("source"), distinct("licence")
    named = "; ".join(sources[:_MAX_SOURCES])
    if len(sources) > _MAX_SOURCES:
        named += f" (+{len(sources) - _MAX_SOURCES})"
    text = f"{t['context_layer']}: <span lang='en'>{_e(named or t['unknown_source'])}</span>"
    if licences:
        text += f", {_e(t['licence'])}: <span lang='en'>{_e('; '.join(licences[:_MAX_SOURCES]))}</span>"
    return text


#: The script of the layer. ``%(name)s`` and the like are filled by :meth:`_ContextLayer.script`.
_SCRIPT = """
var %(name)s = (function () {
    var texts = %(texts)s;
    var lang = %(lang)s;
    function esc(value) {
        return String(value).replace(/[&<>"']/g, function (c) {
            return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
        });
    }
    function row(label, value, valueLang) {
        if (value === null || value === undefined || value === '') { return ''; }
        var attr = valueLang && valueLang !== lang ? " lang='" + esc(valueLang) + "'" : '';
        return '<tr><th>' + esc(label) + '</th><td' + attr + '>' + esc(value) + '</td></tr>';
    }
    // the one popup function of every context feature: its properties, each escaped
    function popup(layer) {
        var p = layer.feature.properties;
        var wdpa = typeof p.id === 'string' && p.id.indexOf('WDPA:') === 0;
        return "<table class='bigcats-popup context-popup'>" +
            row(texts.name, p.n, p.nl) + row(texts.designation, p.d, p.dl) + row(texts.iucn, p.i, 'zxx') +
            row(texts.country, p.c, 'zxx') + row(texts.year, p.y) +
            row(wdpa ? texts.wdpa_id : texts.feature_id, wdpa ? p.id.slice(5) : p.id, 'zxx') +
            row(texts.source, p.s, 'en') + '</table>';
    }
    // Leaflet's own padding (a tenth of the view beyond each side): with half a view the canvas held
    // four times the pixels and the page took 0.3-0.6 s longer to draw (10,000 parks, 7 in turn)
    var renderer = L.canvas({pane: %(pane)s, padding: 0.1, tolerance: 2});
    var layer = L.geoJSON(JSON.parse(document.getElementById(%(data)s).textContent), {
        pane: %(pane)s, renderer: renderer, style: %(style)s
    });
    // the attribution is the group's alone: given in the options above, every feature would carry it
    // and add it to the attribution control one by one, rebuilding the control each time (0.37 s of
    // a 4 s load with 10,000 parks, Chromium CPU profile)
    layer.options.attribution = %(attribution)s;
    layer.bindPopup(popup, {maxWidth: 440});
    // added once every script of the page has run, so at the view the page opens with: each view
    // change before that would project all its vertices again (three times over on this page)
    function add() { layer.addTo(%(map)s); }
    if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', add); }
    else { add(); }
    return layer;
})();
"""


def _make_layer(gdf: gpd.GeoDataFrame, lang: str):
    """The folium layer (an overlay of the layer control) whose script is :data:`_SCRIPT`."""
    from branca.element import Element, Figure, MacroElement
    from folium.map import Layer
    from jinja2 import Template

    class _Raw(Element):
        """A script written as it is: never compiled as a template (megabytes of GeoJSON)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self._text = text

        def render(self, **kwargs) -> str:
            return self._text

    class _ContextLayer(Layer):
        _template = Template("")

        def script(self) -> str:
            t = _t(lang)
            texts = {key: t[key] for key in ("name", "designation", "iucn", "country", "year", "source")}
            texts |= {"wdpa_id": t["context_wdpa_id"], "feature_id": t["context_id"]}
            style = {"color": CONTEXT_COLOUR, "weight": 1, "opacity": 0.8, "fill": True,
                     "fillColor": CONTEXT_COLOUR, "fillOpacity": CONTEXT_FILL_OPACITY}
            parent = self._parent
            assert parent is not None  # rendered only as a child of its map
            return _SCRIPT % {
                "name": self.get_name(), "map": parent.get_name(), "texts": _js_texts(texts), "lang": _js(lang),
                "pane": _js(CONTEXT_PANE), "data": _js(self.data_id()),
                "attribution": _js(context_attribution(gdf, lang)), "style": json.dumps(style),
            }

        def data_id(self) -> str:
            return self.get_name() + "_data"

        def render(self, **kwargs) -> str:
            figure = self.get_root()
            assert isinstance(figure, Figure)  # a layer of a map always renders within its Figure
            # The features as a data block the browser does not run (text for JSON.parse): read as a
            # string literal inside the script, 17 MB of escaped JSON cost the page 20-30 % of its time
            # to drawn (median of 5 in turn, 10,000 parks); the JSON holds no "<" (see _jstr)
            collection = context_feature_collection(gdf, lang)
            data = f'<script type="application/json" id="{self.data_id()}">{collection}</script>'
            figure.html.add_child(_Raw(data), name=self.data_id())
            figure.script.add_child(_Raw(self.script()), name=self.get_name())
            # not Layer.render: the script adds the layer itself, once the page's scripts have run
            MacroElement.render(self, **kwargs)
            return ""

    return _ContextLayer(name=_t(lang)["context_layer"], overlay=True, control=True, show=True)


def add_context(fmap, layers: Mapping[str, gpd.GeoDataFrame], lang: str = "en"):
    """Draw the context layer (role ``context_pa``) on ``fmap`` if ``layers`` holds one with features.

    Adds the pane (under the project's parks) and the layer (an overlay of the layer control);
    returns the layer, or None when there is no context to draw.
    """
    from folium.map import CustomPane

    gdf = layers.get("context_pa")
    if gdf is None or len(gdf) == 0:
        return None
    CustomPane(CONTEXT_PANE, z_index=CONTEXT_Z_INDEX, pointer_events=True).add_to(fmap)
    layer = _make_layer(gdf, lang)
    layer.add_to(fmap)
    return layer
