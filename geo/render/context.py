"""The context layer: every protected area around the project, as one canvas-drawn layer of typed arrays.

Planners see the proposed park among all the protected areas of the countries around it (role
``context_pa``, WDPA lists thousands). Those are drawn for orientation only, so they are light:

- one path layer holding every feature's vertices in typed arrays, drawn by one Leaflet canvas
  renderer (``L.canvas``) in its own pane under the project's parks (:data:`CONTEXT_PANE`), in a
  light style; a click finds the feature under it (the top one) on those arrays. One Leaflet
  polygon per feature (``L.geoJSON``) made a LatLng and a Point object of every vertex, and the
  page spent most of its time to drawn building, projecting and collecting them;
- a popup on click written by ONE shared script function from each feature's properties (name,
  designation, IUCN category, country, status year, id, source), every value escaped there;
- display geometry simplified per feature (:data:`SIMPLIFY_DEG`) within :data:`MAX_AREA_ERROR` of
  its geodesic area, else kept whole, and coordinates rounded to :data:`GRID_DEG` (about 1 m);
- its own entry in the layer control and the legend, and its sources in the attribution.

The data (:func:`context_data`) goes into the page as a block of its own (``<script
type="application/json">``, written as it is by :class:`_Raw`), which the layer's script reads with
``JSON.parse``: folium compiles every element's output again as a Jinja template, which for
megabytes of coordinates is most of a build; the JSON is written so that no text of it could be
read as markup or template anyway (:func:`_jstr`; the vertices are base64).
"""

from __future__ import annotations

import base64
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
    "context_data",
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


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Each geometry as a (multi)polygon: the polygons of a collection, None where there are none."""
    out = geoms.copy()
    kind = shapely.get_type_id(geoms)
    for i in np.flatnonzero((kind != 3) & (kind != 6)):  # neither Polygon nor MultiPolygon
        parts = shapely.get_parts(geoms[i]) if geoms[i] is not None else np.empty(0, dtype=object)
        parts = parts[shapely.get_type_id(parts) == 3] if len(parts) else parts
        out[i] = shapely.multipolygons(parts) if len(parts) else None
    out[shapely.is_empty(out) & ~shapely.is_missing(out)] = None
    return out


def _b64(values: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def context_data(gdf: gpd.GeoDataFrame, lang: str = "en") -> str:
    """The context layer as one JSON text for the page's canvas layer, safe to write inside a ``<script>``.

    ``p`` is each drawn feature's properties, with short keys the popup function reads: ``n`` (name
    in the page's language, else English) and ``nl`` (its language where it is not the page's),
    ``d``/``dl`` (designation), ``i`` (IUCN category), ``c`` (country ISO3), ``y`` (status year),
    ``id``, ``s`` (source). The geometry (:func:`context_geometries`) is packed, base64 of
    little-endian arrays: ``xy`` the vertices (int32, longitude and latitude in :data:`GRID_DEG`
    units, each ring without its closing vertex), ``r`` the end of each ring (uint32, exclusive, in
    vertices), ``f`` the end of each feature's rings (uint32, exclusive, in rings). Features without
    a geometry are left out.
    """
    geoms = _polygonal(context_geometries(gdf))
    drawn = np.flatnonzero(~shapely.is_missing(geoms))
    names = {key: _column(gdf, f"name_{key}") for key in ("en", "ru", "zh")}
    designations = _column(gdf, "designation")
    translated = _designations(designations, lang)
    columns = list(zip(names[lang], names["en"], designations, _column(gdf, "iucn_cat"),
                       _column(gdf, "country_iso3"), _column(gdf, "status_year"), _column(gdf, "id"),
                       _column(gdf, "source"), strict=True))
    props = []
    memo: dict[object, str] = {}  # designations, categories, countries and sources repeat: written once each

    def once(value: object) -> str:
        text = memo.get(value)
        if text is None:
            text = memo[value] = _jstr(_given(value))
        return text

    for own, english, desig, iucn, iso3, year, fid, source in (columns[i] for i in drawn):
        name, name_lang = (own, None) if _given(own) is not None else (_given(english), "en" if lang != "en" else None)
        fields = [f'"n":{_jstr(_given(name))}']
        if name_lang:
            fields.append(f'"nl":"{name_lang}"')
        if (key := _given(desig)) is not None:
            text, text_lang = translated[key]
            fields.append(f'"d":{_jstr(text)}')
            if text_lang and text_lang != lang:
                fields.append(f'"dl":{_jstr(text_lang)}')
        year = None if year is None or (isinstance(year, float) and math.isnan(year)) else int(year)
        fields += [f'"i":{once(iucn)}', f'"c":{once(iso3)}', f'"y":{_jstr(year)}', f'"id":{_jstr(_given(fid))}',
                   f'"s":{once(source)}']
        props.append("{" + ",".join(fields) + "}")
    xy, ring_end, feature_end = _packed(geoms[drawn])
    return (f'{{"p":[{",".join(props)}],"xy":"{_b64(xy, "<i4")}","r":"{_b64(ring_end, "<u4")}",'
            f'"f":"{_b64(feature_end, "<u4")}"}}')


def _packed(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices on the grid (without each ring's closing one), ring ends and feature ends (see :func:`context_data`)."""
    if len(geoms) == 0:
        return np.empty((0, 2), dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    kind, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
    rings = offsets[0]  # start of each ring in coords, and the end of the last
    if kind == shapely.GeometryType.POLYGON:
        feature_rings = offsets[1]
    else:  # MultiPolygon (Polygons among them count as one part each)
        feature_rings = offsets[1][offsets[2]]
    keep = np.ones(len(coords), dtype=bool)
    keep[rings[1:] - 1] = False  # each ring's closing vertex: the canvas closes the path itself
    ring_end = rings[1:] - np.arange(1, len(rings))
    xy = np.rint(coords[keep] / GRID_DEG).astype(np.int64)
    return xy, ring_end, feature_rings[1:]


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
    var data = JSON.parse(document.getElementById(%(data)s).textContent);
    var props = data.p;
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
    // the one popup function of every context feature: the properties of the one clicked, each escaped
    function popup(layer) {
        var p = props[layer._clicked];
        if (!p) { return ''; }
        var wdpa = typeof p.id === 'string' && p.id.indexOf('WDPA:') === 0;
        return "<table class='bigcats-popup context-popup'>" +
            row(texts.name, p.n, p.nl) + row(texts.designation, p.d, p.dl) + row(texts.iucn, p.i, 'zxx') +
            row(texts.country, p.c, 'zxx') + row(texts.year, p.y) +
            row(wdpa ? texts.wdpa_id : texts.feature_id, wdpa ? p.id.slice(5) : p.id, 'zxx') +
            row(texts.source, p.s, 'en') + '</table>';
    }
    // 32-bit little-endian integers from base64 (read through a DataView: the same on any platform)
    function words(b64, Type) {
        var text = atob(b64), n = text.length, bytes = new Uint8Array(n), i;
        for (i = 0; i < n; i++) { bytes[i] = text.charCodeAt(i); }
        var view = new DataView(bytes.buffer), out = new Type(n / 4), signed = Type === Int32Array;
        for (i = 0; i < out.length; i++) { out[i] = signed ? view.getInt32(4 * i, true) : view.getUint32(4 * i, true); }
        return out;
    }
    // Every feature in one path layer of typed arrays, drawn by the canvas renderer: as one
    // L.Polygon each (L.geoJSON), the 10,000 parks' 750,000 vertices were as many LatLng and Point
    // objects, and building, projecting and collecting them was most of the page's time to drawn
    var Packed = L.Path.extend({
        initialize: function (options) {
            L.setOptions(this, options);
            this._xy = words(data.xy, Int32Array);  // longitude, latitude in grid units, rings unclosed
            this._ringEnd = words(data.r, Uint32Array);  // end (exclusive) of each ring, in vertices
            this._featureEnd = words(data.f, Uint32Array);  // end (exclusive) of each feature, in rings
            this._clicked = -1;
            this.on('click', function () { this._clicked = this._hit; });
        },
        // every vertex in pixels at zoom 0 of the map's CRS, and each feature's box in them
        _zoom0: function (crs) {
            if (this._crs === crs) { return; }
            var xy = this._xy, n = xy.length, m = new Float64Array(n), i, f, v, q;
            if (crs === L.CRS.EPSG3857) {  // Leaflet's spherical Mercator and transformation, inline
                var d = Math.PI / 180, max = L.Projection.SphericalMercator.MAX_LATITUDE, s = crs.scale(0);
                for (i = 0; i < n; i += 2) {
                    var sin = Math.sin(Math.max(Math.min(max, xy[i + 1] / %(per_degree)s), -max) * d);
                    m[i] = s * (xy[i] / %(per_degree)s / 360 + 0.5);
                    m[i + 1] = s * (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI));
                }
            } else {
                for (i = 0; i < n; i += 2) {
                    var p = crs.latLngToPoint(L.latLng(xy[i + 1] / %(per_degree)s, xy[i] / %(per_degree)s), 0);
                    m[i] = p.x;
                    m[i + 1] = p.y;
                }
            }
            var re = this._ringEnd, fe = this._featureEnd, box = new Float64Array(4 * fe.length);
            var all = [Infinity, Infinity, -Infinity, -Infinity];
            for (f = 0, q = 0, v = 0; f < fe.length; f++) {
                var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
                for (; q < fe[f]; q++) {
                    for (; v < re[q]; v++) {
                        var x = m[2 * v], y = m[2 * v + 1];
                        if (x < x0) { x0 = x; }
                        if (x > x1) { x1 = x; }
                        if (y < y0) { y0 = y; }
                        if (y > y1) { y1 = y; }
                    }
                }
                box[4 * f] = x0; box[4 * f + 1] = y0; box[4 * f + 2] = x1; box[4 * f + 3] = y1;
                all = [Math.min(all[0], x0), Math.min(all[1], y0), Math.max(all[2], x1), Math.max(all[3], y1)];
            }
            this._m = m;
            this._box = box;
            this._all = all;
            this._crs = crs;
        },
        _project: function () {
            var map = this._map, crs = map.options.crs, origin = map.getPixelOrigin();
            this._zoom0(crs);
            var k = this._k = crs.scale(map.getZoom()) / crs.scale(0), a = this._all;
            this._ox = origin.x;
            this._oy = origin.y;
            this._pxBounds = this._featureEnd.length ?
                L.bounds([a[0] * k - origin.x, a[1] * k - origin.y], [a[2] * k - origin.x, a[3] * k - origin.y]) : null;
        },
        _update: function () {},
        // each feature within the canvas (or the part redrawn): its rings in whole pixels, a vertex
        // within a pixel of the one before left out (Leaflet's own first pass, smoothFactor 1); filled
        // and stroked as Leaflet's own paths
        _updatePath: function () {
            var r = this._renderer;
            if (!r._drawing || !this._m) { return; }
            var ctx = r._ctx, b = r._redrawBounds || r._bounds, pad = (this.options.weight || 0) + 1;
            var k = this._k, ox = this._ox, oy = this._oy, m = this._m, box = this._box;
            var re = this._ringEnd, fe = this._featureEnd;
            var x0 = (b.min.x - pad + ox) / k, y0 = (b.min.y - pad + oy) / k;
            var x1 = (b.max.x + pad + ox) / k, y1 = (b.max.y + pad + oy) / k;
            for (var f = 0; f < fe.length; f++) {
                if (box[4 * f] > x1 || box[4 * f + 2] < x0 || box[4 * f + 1] > y1 || box[4 * f + 3] < y0) { continue; }
                ctx.beginPath();
                for (var q = f ? fe[f - 1] : 0; q < fe[f]; q++) {
                    var v = q ? re[q - 1] : 0, end = re[q];
                    var lx = Math.round(m[2 * v] * k) - ox, ly = Math.round(m[2 * v + 1] * k) - oy;
                    ctx.moveTo(lx, ly);
                    for (v++; v < end; v++) {
                        var x = Math.round(m[2 * v] * k) - ox, y = Math.round(m[2 * v + 1] * k) - oy;
                        if ((x - lx) * (x - lx) + (y - ly) * (y - ly) > 1) { ctx.lineTo(x, y); lx = x; ly = y; }
                    }
                    ctx.closePath();
                }
                r._fillStroke(ctx, this);
            }
        },
        // the last drawn feature (the top one) that holds the point, or whose outline is within the
        // click tolerance of it; which one is kept for the popup
        _containsPoint: function (p) {
            if (!this._m) { return false; }
            var k = this._k, t = this._clickTolerance() / k, t2 = t * t;
            var x = (p.x + this._ox) / k, y = (p.y + this._oy) / k;
            var m = this._m, box = this._box, re = this._ringEnd, fe = this._featureEnd;
            for (var f = fe.length - 1; f >= 0; f--) {
                if (x < box[4 * f] - t || x > box[4 * f + 2] + t || y < box[4 * f + 1] - t || y > box[4 * f + 3] + t) {
                    continue;
                }
                var inside = false, near = false;
                for (var q = f ? fe[f - 1] : 0; q < fe[f]; q++) {
                    var start = q ? re[q - 1] : 0, end = re[q];
                    for (var i = start, j = end - 1; i < end; j = i++) {
                        var xi = m[2 * i], yi = m[2 * i + 1], xj = m[2 * j], yj = m[2 * j + 1];
                        if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { inside = !inside; }
                        if (!near) {
                            var dx = xj - xi, dy = yj - yi, l2 = dx * dx + dy * dy;
                            var u = l2 ? Math.max(0, Math.min(1, ((x - xi) * dx + (y - yi) * dy) / l2)) : 0;
                            var ex = xi + u * dx - x, ey = yi + u * dy - y;
                            near = ex * ex + ey * ey <= t2;
                        }
                    }
                }
                if (inside || near) {
                    this._hit = f;
                    return true;
                }
            }
            return false;
        },
        getBounds: function () {
            var xy = this._xy, w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
            for (var i = 0; i < xy.length; i += 2) {
                w = Math.min(w, xy[i]); e = Math.max(e, xy[i]);
                s = Math.min(s, xy[i + 1]); n = Math.max(n, xy[i + 1]);
            }
            return L.latLngBounds([s / %(per_degree)s, w / %(per_degree)s], [n / %(per_degree)s, e / %(per_degree)s]);
        }
    });
    // Leaflet's own padding (a tenth of the view beyond each side): with half a view the canvas held
    // four times the pixels and the page took 0.3-0.6 s longer to draw (10,000 parks, 7 in turn)
    var renderer = L.canvas({pane: %(pane)s, padding: 0.1, tolerance: 2});
    var layer = new Packed(L.extend({pane: %(pane)s, renderer: renderer, attribution: %(attribution)s}, %(style)s));
    layer.bindPopup(popup, {maxWidth: 440});
    // added once every script of the page has run, so at the view the page opens with: each view
    // change before that would project all its vertices again
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
                "per_degree": str(round(1 / GRID_DEG)),
            }

        def data_id(self) -> str:
            return self.get_name() + "_data"

        def render(self, **kwargs) -> str:
            figure = self.get_root()
            assert isinstance(figure, Figure)  # a layer of a map always renders within its Figure
            # The features as a data block the browser does not run (text for JSON.parse): read as a
            # string literal inside the script, 17 MB of escaped JSON cost the page 20-30 % of its time
            # to drawn (median of 5 in turn, 10,000 parks); the JSON holds no "<" (see _jstr)
            collection = context_data(gdf, lang)
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
