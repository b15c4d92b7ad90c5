"""The interactive Leaflet map of the proposed park (folium): light, safe, offline-capable.

Display geometry is simplified as one coverage (:func:`display_layers`), every attribute
value is HTML-escaped before it reaches a popup, tooltip or the legend, and
:func:`map_html` with ``offline=True`` inlines Leaflet and its plugins from the pinned,
checksummed copies in ``geo/render/assets/`` (fetched by ``make assets``).

The modules, by job: :mod:`geo.render.display` (display geometry), :mod:`geo.render.text`
(the message catalogue, numbers, names, escaping), :mod:`geo.render.style` (colours, panes,
the page's style sheet), :mod:`geo.render.popups` and :mod:`geo.render.panels` (the page's
HTML), :mod:`geo.render.leaflet` and :mod:`geo.render.interactions` (the Leaflet elements and
scripts), :mod:`geo.render.features` (each role's features as one GeoJSON layer, one shared popup
and tooltip binder), :mod:`geo.render.map` (:func:`make_map`), :mod:`geo.render.page` (:func:`map_html`),
and :mod:`geo.render.paper` (the static PNG and PDF).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.lazy import lazy_names

#: Where each name lives, loaded on first use (PEP 562): the display geometry needs neither
#: folium nor Jinja, so ``from geo.render import display_layers`` does not import them.
_NAMES: dict[str, str] = {
    "DisplayLayers": "geo.render.display",
    "display_layers": "geo.render.display",
    # private names other packages and the benchmarks import from here (geo.pipeline: the
    # catalogue; benchmarks/bench_display.py: the display geometry's kernel)
    "_display_geometries": "geo.render.simplify",
    "_geodesic_ha": "geo.render.simplify",
    "_t": "geo.render.text",
    "ASSETS": "geo.render.leaflet",
    "ASSETS_DIR": "geo.render.leaflet",
    "Comparison": "geo.render.map",
    "make_map": "geo.render.map",
    "warm_up_map": "geo.render.map",
    "map_html": "geo.render.page",
    "save_map": "geo.render.page",
    **dict.fromkeys(
        (
            "COMPARISON_COLOUR", "COUNTRY_COLOURS", "LAND_COLOUR", "MAX_ZOOM", "NARROW_PX", "OTHER_BORDER_COLOUR",
            "PAIR_BORDER_COLOUR", "PALETTE", "PARK_FILL_OPACITY", "PROPOSED_COLOUR", "STRETCH_COLOUR",
            "WATER_COLOUR", "country_colours",
        ),
        "geo.render.style",
    ),
    "LANGUAGES": "geo.render.text",
    "MESSAGES_PATH": "geo.render.text",
    "messages": "geo.render.text",
}

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ loads these on first use
    from geo.render.display import DisplayLayers, display_layers
    from geo.render.leaflet import ASSETS, ASSETS_DIR
    from geo.render.map import Comparison, make_map, warm_up_map
    from geo.render.page import map_html, save_map
    from geo.render.simplify import _display_geometries as _display_geometries
    from geo.render.simplify import _geodesic_ha as _geodesic_ha
    from geo.render.style import (
        COMPARISON_COLOUR,
        COUNTRY_COLOURS,
        LAND_COLOUR,
        MAX_ZOOM,
        NARROW_PX,
        OTHER_BORDER_COLOUR,
        PAIR_BORDER_COLOUR,
        PALETTE,
        PARK_FILL_OPACITY,
        PROPOSED_COLOUR,
        STRETCH_COLOUR,
        WATER_COLOUR,
        country_colours,
    )
    from geo.render.text import LANGUAGES, MESSAGES_PATH, messages
    from geo.render.text import _t as _t




__all__ = [
    "ASSETS",
    "ASSETS_DIR",
    "COMPARISON_COLOUR",
    "COUNTRY_COLOURS",
    "LAND_COLOUR",
    "LANGUAGES",
    "MAX_ZOOM",
    "MESSAGES_PATH",
    "NARROW_PX",
    "OTHER_BORDER_COLOUR",
    "PAIR_BORDER_COLOUR",
    "PALETTE",
    "PARK_FILL_OPACITY",
    "PROPOSED_COLOUR",
    "STRETCH_COLOUR",
    "WATER_COLOUR",
    "Comparison",
    "DisplayLayers",
    "country_colours",
    "display_layers",
    "make_map",
    "map_html",
    "messages",
    "save_map",
    "warm_up_map",
]

__getattr__, __dir__ = lazy_names("geo.render", _NAMES, globals(), __all__)
