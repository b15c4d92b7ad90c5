"""Features as data on the page: one GeoJSON layer per role and one shared popup and tooltip binder.

Each role (a country's parks, the borders, the stretch) is one ``L.geoJSON`` layer whose features
carry only data: their geometry and a few short properties. Every text a popup or tooltip shows
is escaped HTML written in Python (:mod:`geo.render.popups`) and kept once, in the page's one
table of strings (:class:`_Features`); a feature names its popup rows as indices into that table.
One script, emitted once per map, styles the features (schematic ones dashed) and binds their
popups and tooltips, so a map of thousands of parks renders no template per feature.

Feature properties (all optional):

``n``, ``a``
    A park's escaped name and area: its tooltip ``n: a`` and its label ``<b>n</b><br>a``.
``q``, ``c``, ``k``
    A park's plain name for the search box (where it differs from ``n``), its label point
    ``[lat, lon]`` and its label's rank (labels are placed in rank order: the largest park first).
``t``
    The index of the tooltip's HTML in the table of strings.
``p``
    The popup's rows: flat pairs of indices (label, ``<td>`` cell) into the table of strings.
``s``
    1 where the feature is drawn dashed (a schematic boundary).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence

import shapely

from geo.render.leaflet import _macro
from geo.render.text import _JS_ESCAPES

#: Escapes for a JSON document inside ``<script>``, inert to folium's second Jinja pass (as :func:`_js`):
#: every character but the braces, which JSON also writes outside its strings.
_JS_TABLE = str.maketrans({ch: code for ch, code in _JS_ESCAPES.items() if ch not in "{}"})
_BRACES = str.maketrans({ch: _JS_ESCAPES[ch] for ch in "{}"})
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _js_data(value: object) -> str:
    """A JSON literal of ``value`` safe inside ``<script>`` (:func:`geo.render.text._js`, for any JSON value).

    Braces are escaped inside strings only; outside them compact JSON never writes ``{{``, ``{%`` or ``{#``.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_JS_TABLE)
    return _STRING.sub(lambda m: m.group(0).translate(_BRACES) if "{" in m.group(0) or "}" in m.group(0)
                       else m.group(0), text)


class _Features:
    """The page's shared table of strings and its one popup and tooltip binder (a folium element).

    Add it to the map before any role layer (:meth:`layer`): its script defines
    ``window.bigcatsFeatures``, which every role layer calls.
    """

    def __init__(self) -> None:
        self.strings: list[str] = []
        self._index: dict[str, int] = {}
        self.element = _macro(_BINDER)()
        self.element._name = "BigcatsFeatures"
        self.element.table = self._table

    def _table(self) -> str:
        return _js_data(self.strings)

    def add_to(self, fmap) -> _Features:
        self.element.add_to(fmap)
        return self

    def intern(self, html: str) -> int:
        """The index of an escaped HTML string in the page's table (each string is kept once)."""
        index = self._index.get(html)
        if index is None:
            index = self._index[html] = len(self.strings)
            self.strings.append(html)
        return index

    def popup(self, cells: Iterable[tuple[str, str]]) -> list[int]:
        """Popup rows (escaped label, ``<td>`` cell), :func:`geo.render.popups._cells`, as flat indices."""
        return [self.intern(html) for cell in cells for html in cell]

    def layer(self, geometries: Sequence, properties: Sequence[Mapping[str, object]], *,
              style: Mapping[str, object], popup_class: str = "", dash: str | None = None,
              labels: bool = False, pane: str | None = None):
        """One role's features as one GeoJSON layer (a folium element to add to its group).

        Parameters
        ----------
        geometries : sequence of shapely geometries
            The display geometry of each feature (empty or missing ones are left out).
        properties : sequence of mapping
            Each feature's properties (see the module's docstring), in the same order.
        style : mapping
            The Leaflet path style of every feature (:func:`geo.render.style._style`).
        popup_class : str
            The CSS class of the popups' table (``park-popup``...).
        dash : str, optional
            The dash pattern of features whose ``s`` is 1.
        labels : bool
            Whether the features are parks with labels and search entries (``n a q c k``).
        pane : str, optional
            The Leaflet pane (default: the overlay pane).
        """
        features = [
            {"type": "Feature", "geometry": json.loads(shapely.to_geojson(geom)), "properties": dict(props)}
            for geom, props in zip(geometries, properties, strict=True)
            if geom is not None and not geom.is_empty
        ]
        element = _macro(_LAYER)()
        element._name = "geo_json_role"
        element.data = lambda: _js_data({"type": "FeatureCollection", "features": features})
        options = {"style": dict(style), "popup": popup_class, "dash": dash, "labels": labels}
        if pane:
            options["pane"] = pane
        element.options = _js_data(options)
        element.count = len(features)
        return element


#: The shared binder: the table of strings, the style function and onEachFeature, once per map.
_BINDER = """{% macro script(this, kwargs) %}
window.bigcatsFeatures = (function () {
  var S = {{ this.table() }}, roles = [];
  function layer(data, o, group) {
    var options = {
      style: function (f) { var s = L.extend({}, o.style); if (f.properties.s && o.dash) { s.dashArray = o.dash; } return s; },
      onEachFeature: function (f, l) {
        var p = f.properties || {}, tip = null, rows = '';
        if (p.n !== undefined) { tip = p.n + ': ' + p.a; } else if (p.t !== undefined) { tip = S[p.t]; }
        if (tip !== null) { l.bindTooltip(tip, { sticky: true }); }
        if (p.p && p.p.length) {
          for (var i = 0; i + 1 < p.p.length; i += 2) { rows += '<tr><th>' + S[p.p[i]] + '</th>' + S[p.p[i + 1]] + '</tr>'; }
          l.bindPopup("<table class='bigcats-popup " + o.popup + "'>" + rows + '</table>', { maxWidth: 440 });
        }
      }
    };
    if (o.pane) { options.pane = o.pane; }
    var g = L.geoJSON(data, options);
    roles.push({ layer: g, group: group, labels: !!o.labels });
    return g;
  }
  // the parks' labels ([group, lat, lon, HTML], largest park first) and search entries
  // ([name, layer, lat, lon, bounds]), in the order of the layers and their features
  function parks() {
    var labels = [], search = [];
    roles.forEach(function (r) {
      if (!r.labels) { return; }
      r.layer.eachLayer(function (l) {
        var p = l.feature.properties, b = l.getBounds();
        labels.push([r.group, p.c[0], p.c[1], '<b>' + p.n + '</b><br>' + p.a, p.k]);
        search.push([p.q !== undefined ? p.q : p.n, l, p.c[0], p.c[1], [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]]);
      });
    });
    labels.sort(function (a, b) { return a[4] - b[4]; });
    return { labels: labels, search: search };
  }
  return { layer: layer, parks: parks, roles: roles };
})();
{% endmacro %}"""  # noqa: E501 - the script as the page carries it (long lines kept)

#: One role's layer: its features as one GeoJSON document, drawn and bound by the shared binder.
_LAYER = """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = window.bigcatsFeatures.layer({{ this.data() }}, {{ this.options }}, {{ this._parent.get_name() }}).addTo({{ this._parent.get_name() }});
{% endmacro %}"""  # noqa: E501 - the script as the page carries it
