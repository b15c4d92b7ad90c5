"""The Leaflet side of the map: the pinned scripts and styles, and the elements folium renders.

Each element passes its texts to the script as JSON (:func:`geo.render.text._js`), never through
a template, so no attribute value is ever evaluated.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path

from geo.render.text import _js, _js_texts, _t

ASSETS_DIR = Path(__file__).with_name("assets")

#: The map's scripts and styles: CDN address of the pinned version and the vendored copy.
ASSETS = {
    "leaflet_js": ("https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js", "leaflet/dist/leaflet.js"),
    "leaflet_css": ("https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css", "leaflet/dist/leaflet.css"),
    "fullscreen_js": (
        "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.js",
        "leaflet.fullscreen/Control.FullScreen.js",
    ),
    "fullscreen_css": (
        "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css",
        "leaflet.fullscreen/Control.FullScreen.css",
    ),
    "measure_js": (
        "https://cdn.jsdelivr.net/npm/leaflet-measure@2.1.7/dist/leaflet-measure.min.js",
        "leaflet-measure/dist/leaflet-measure.min.js",
    ),
    "measure_css": (
        "https://cdn.jsdelivr.net/npm/leaflet-measure@2.1.7/dist/leaflet-measure.css",
        "leaflet-measure/dist/leaflet-measure.css",
    ),
    "minimap_js": (
        "https://cdn.jsdelivr.net/npm/leaflet-minimap@3.6.1/dist/Control.MiniMap.min.js",
        "leaflet-minimap/dist/Control.MiniMap.min.js",
    ),
    "minimap_css": (
        "https://cdn.jsdelivr.net/npm/leaflet-minimap@3.6.1/dist/Control.MiniMap.min.css",
        "leaflet-minimap/dist/Control.MiniMap.min.css",
    ),
    "mouse_js": (
        "https://cdn.jsdelivr.net/npm/leaflet-mouse-position@1.2.0/src/L.Control.MousePosition.js",
        "leaflet-mouse-position/src/L.Control.MousePosition.js",
    ),
    "mouse_css": (
        "https://cdn.jsdelivr.net/npm/leaflet-mouse-position@1.2.0/src/L.Control.MousePosition.css",
        "leaflet-mouse-position/src/L.Control.MousePosition.css",
    ),
}


@functools.cache
def _macro(template: str):
    """A MacroElement class for ``template``, compiled once per template string."""
    from branca.element import MacroElement
    from jinja2 import Template

    class _Element(MacroElement):
        _template = Template(template)

    return _Element


def _annotate(layer, *, tooltip: str | None = None, popup: str | None = None) -> None:
    """Attach an escaped tooltip and popup to a folium layer (no jQuery, no JS template literal)."""
    if tooltip is not None:
        _Bind("tooltip", tooltip, sticky=True).add_to(layer)
    if popup is not None:
        _Bind("popup", popup, maxWidth=440).add_to(layer)


def _Bind(kind: str, content: str, **options):  # noqa: N802
    """Bind an already-escaped HTML string as a popup or tooltip, passed to JS as JSON (never templated)."""
    element = _macro(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bind{{ this.kind }}({{ this.content_js }}, {{ this.options_js }});
        {% endmacro %}"""
    )()
    element.kind = {"popup": "Popup", "tooltip": "Tooltip"}[kind]
    element.content_js = _js(content)
    element.options_js = json.dumps(options)  # our own constants: numbers and booleans
    return element


def _Attribution(content: str):  # noqa: N802
    element = _macro(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.content_js }});
        {% endmacro %}"""
    )()
    element.content_js = _js(content)
    return element


def _NoticeToggle(layer_names: list[str]):  # noqa: N802 - reads like a class at the call site
    element = _macro(
        """{% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var layers = [{{ this.layer_names|join(', ') }}];
            function update() {
                var on = layers.some(function (l) { return map.hasLayer(l); });
                var el = document.getElementById('schematic-notice');
                if (el) { el.style.display = on ? 'block' : 'none'; }
            }
            map.on('overlayadd overlayremove', update);
            update();
        })();
        {% endmacro %}"""
    )()
    element.layer_names = layer_names
    return element


#: The map's three Leaflet controls: (asset key in :data:`ASSETS`, script) as ``folium.plugins``
#: renders them (folium 0.20, MIT licence). They are declared here because ``import folium.plugins``
#: loads all ~40 of folium's plugins, about 0.07 s of every build, for these three;
#: ``tests/test_build_speed.py`` checks that the page stays the one folium's classes give.
_CONTROLS = {
    "Fullscreen": ("fullscreen", """
        {% macro script(this, kwargs) %}
            L.control.fullscreen(
                {{ this.options|tojavascript }}
            ).addTo({{this._parent.get_name()}});
        {% endmacro %}
        """),
    "MeasureControl": ("measure", """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = new L.Control.Measure(
                {{ this.options|tojavascript }});
            {{this._parent.get_name()}}.addControl({{this.get_name()}});

            // Workaround for using this plugin with Leaflet>=1.8.0
            // https://github.com/ljagis/leaflet-measure/issues/171
            L.Control.Measure.include({
                _setCaptureMarkerIcon: function () {
                    // disable autopan
                    this._captureMarker.options.autoPanOnFocus = false;
                    // default function
                    this._captureMarker.setIcon(
                        L.divIcon({
                            iconSize: this._map.getSize().multiplyBy(2)
                        })
                    );
                },
            });

        {% endmacro %}
        """),
    "MousePosition": ("mouse", """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = new L.Control.MousePosition(
                {{ this.options|tojavascript }}
            );
            {{ this.get_name() }}.options["latFormatter"] =
                {{ this.lat_formatter }};
            {{ this.get_name() }}.options["lngFormatter"] =
                {{ this.lng_formatter }};
            {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}
    """),
}


@functools.cache
def _control_class(name: str):
    """The element class of one of :data:`_CONTROLS`, its script and pinned assets, compiled once."""
    from branca.element import MacroElement
    from folium.elements import JSCSSMixin
    from folium.template import Template

    key, script = _CONTROLS[name]
    return type(name, (JSCSSMixin, MacroElement), {
        "_template": Template(script),
        "default_js": [(f"{key}_js", ASSETS[f"{key}_js"][0])],
        "default_css": [(f"{key}_css", ASSETS[f"{key}_css"][0])],
    })


def _control(name: str, **options):
    """A Leaflet control of :data:`_CONTROLS` with its options (snake_case, as folium.plugins takes them)."""
    element = _control_class(name)()
    element._name = name
    element.options = {key: value for key, value in options.items() if value is not None}
    element.lat_formatter = element.lng_formatter = "undefined"  # MousePosition: Leaflet's own formatting
    return element


def _VectorMiniMap(geojson: str, t: Mapping[str, str] | None = None):  # noqa: N802
    from folium.elements import JSCSSMixin

    base = _macro(
        """{% macro script(this, kwargs) %}
        var {{ this.get_name() }}_layer = L.geoJSON({{ this.data }}, {
            style: {color: '#999', weight: 0.5, fillColor: '#f3efe6', fillOpacity: 1}});
        var {{ this.get_name() }} = new L.Control.MiniMap({{ this.get_name() }}_layer, {
            toggleDisplay: true, position: 'bottomright', zoomLevelOffset: -4, width: 150, height: 150,
            strings: {{ this.strings }}
        }).addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    mini = type("_Mini", (JSCSSMixin, base), {
        "default_js": [("minimap_js", ASSETS["minimap_js"][0])],
        "default_css": [("minimap_css", ASSETS["minimap_css"][0])],
    })
    t = t or _t("en")
    element = mini()
    element._name = "VectorMiniMap"
    element.data = geojson
    element.strings = _js_texts({"hideText": t["minimap_hide"], "showText": t["minimap_show"]})
    return element
