"""How the map looks: the colours, the panes, the page's own style sheet, a feature's line style."""

from __future__ import annotations

import re

from geo.project import Project, bundled_project

#: Colours of the countries' parks, in the order of the project's countries.
PALETTE = ("#1f5fbf", "#c0392b", "#7d3c98", "#ca6f1e", "#117a65", "#2e4053")


def country_colours(project: Project | None = None) -> dict[str, str]:
    """The colour of each country's parks (the project's order; default the bundled project)."""
    project = bundled_project() if project is None else project
    return {iso3: PALETTE[i % len(PALETTE)] for i, iso3 in enumerate(project.countries)}


#: The bundled project's colours.
COUNTRY_COLOURS = country_colours()
PROPOSED_COLOUR = "#1e8449"
STRETCH_COLOUR = "#f39c12"
#: The borders between two of the project's countries.
PAIR_BORDER_COLOUR = "#222222"
OTHER_BORDER_COLOUR = "#888888"
LAND_COLOUR = "#f3efe6"
COMPARISON_COLOUR = "#555555"
_BASE_PANE = "bigcats-base"
_EARLIER_PANE = "bigcats-earlier"
WATER_COLOUR = "#cfe3ef"
PARK_FILL_OPACITY = 0.25
_PROPOSED_FILL_PANE = "bigcats-proposed-fill"
_LABEL_PANE = "bigcats-labels"
#: Below this width (CSS px) the panels collapse to buttons and the column spans the top.
NARROW_PX = 700

MAX_ZOOM = 12


def _pair_ids(project: Project) -> set[str]:
    """Ids of the border lines between two of the project's countries (either order)."""
    return {f"{a}-{b}" for a in project.countries for b in project.countries if a != b}


def _style(
    colour: str, *, weight: float, fill: str | None = None, dash: str | None = None, opacity: float = 1
) -> dict[str, object]:
    """A Leaflet path style: a line of ``colour``, filled with ``fill`` at the parks' opacity, dashed by ``dash``."""
    style = {"color": colour, "weight": weight, "opacity": opacity, "fill": fill is not None}
    if fill is not None:
        style.update({"fillColor": fill, "fillOpacity": PARK_FILL_OPACITY})
    if dash:
        style["dashArray"] = dash
    return style


#: The page's own style, written after Leaflet's and the plugins' stylesheets. No "{#" or "{%":
#: folium passes the page through Jinja again.
_CSS = """
.leaflet-container { background: WATER; }
.leaflet-container .leaflet-interactive:focus:not(:focus-visible) { outline: none; }
.bigcats-panel { background: #fffe; border: 1px solid #999; border-radius: 4px; padding: 5px 8px;
  font: 12px/1.35 sans-serif; pointer-events: auto; box-sizing: border-box; }
#bigcats-panels { position: fixed; top: 10px; left: 56px; z-index: 1000; width: 310px;
  max-height: calc(100vh - 310px); display: flex; flex-direction: column; gap: 6px; pointer-events: none; }
#bigcats-title { font: bold 14px sans-serif; flex: none; }
#schematic-notice { background: #fff3cd; border-color: #d4a017; font-size: 13px; flex: none; }
#schematic-names { display: inline; margin: 0; padding: 0; }
#schematic-names li { display: inline; }
#schematic-names li + li::before { content: " · "; }
#bigcats-tile-error { background: #fde2e1; border-color: #c0392b; flex: none; cursor: pointer; }
#bigcats-tile-error[hidden] { display: none; }
#bigcats-story { min-height: 0; flex: 0 1 auto; overflow: auto; }
#bigcats-story ol { padding-left: 16px; margin: 4px 0; }
#bigcats-chart { display: block; max-width: 100%; height: auto; }
.bigcats-source { font-size: 10px; }
#bigcats-legend { position: fixed; bottom: 36px; left: 10px; z-index: 1000; max-width: 300px; }
#bigcats-legend svg { vertical-align: middle; }
.bigcats-opacity { display: block; margin-top: 4px; }
.bigcats-opacity input { width: 110px; vertical-align: middle; }
#bigcats-no-library { position: fixed; top: 40%; left: 50%; transform: translate(-50%, -50%); z-index: 2000;
  max-width: 80vw; font-size: 14px; }
.bigcats-panel summary { cursor: pointer; }
.bigcats-popup { font: 12px sans-serif; border-collapse: collapse; }
.bigcats-popup th { text-align: left; padding: 0 6px 2px 0; vertical-align: top; }
.bigcats-popup td { overflow-wrap: anywhere; padding-bottom: 2px; }
.leaflet-popup-content { overflow: auto; }
.leaflet-control-attribution { max-width: 55vw; font-size: 10px; }
.leaflet-control-layers { font: 12px sans-serif; }
.leaflet-control-layers-list { max-height: calc(100vh - 320px); overflow: auto; }
.leaflet-tooltip.bigcats-town-label { background: none; border: none; box-shadow: none; padding: 0 2px;
  font: 11px sans-serif; color: #222; text-shadow: 0 0 2px #fff, 0 0 2px #fff; }
.leaflet-tooltip.bigcats-town-label:before { display: none; }
.bigcats-park-label div { transform: translate(-50%, -50%); width: max-content; max-width: 220px; text-align: center;
  font: 11px/1.25 sans-serif; color: #111; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; }
.bigcats-search { background: #fff; }
.bigcats-search input { border: none; padding: 6px; width: 200px; font: 12px sans-serif; box-sizing: border-box; }
.bigcats-search a { display: none; }
.leaflet-bar a.bigcats-button { font: bold 18px/30px sans-serif; text-align: center; }
@media (max-width: NARROWpx) {
  #bigcats-panels { left: 62px; right: 62px; width: auto; max-height: calc(100vh - 130px); }
  #bigcats-title { font-size: 12px; }
  #schematic-notice, .bigcats-panel { font-size: 11px; padding: 4px 6px; }
  .bigcats-search a { display: block; }
  .bigcats-search input { display: none; position: absolute; right: 40px; top: 0; width: min(220px, 60vw);
    border: 2px solid rgba(0, 0, 0, 0.2); border-radius: 4px; }
  .bigcats-search.open input { display: block; }
  .leaflet-control-minimap, .leaflet-control-mouseposition { display: none; }
  #bigcats-legend { max-width: calc(100vw - 20px); max-height: 60vh; overflow: auto; }
  .leaflet-control-attribution { max-width: 60vw; }
}
@media print {
  @page { size: landscape; margin: 8mm; }
  .leaflet-control-zoom, .leaflet-control-measure, .leaflet-control-layers, .leaflet-control-minimap,
  .leaflet-control-mouseposition, .bigcats-search, .bigcats-fit, #bigcats-story, #bigcats-tile-error,
  #bigcats-legend summary, .bigcats-opacity { display: none !important; }
  #bigcats-panels { left: 10px; width: 250px; max-height: none; }
  .bigcats-panel, #schematic-notice { font-size: 9px; padding: 3px 5px; }
  #bigcats-title { font-size: 11px; }
  #bigcats-legend { bottom: 30px; max-width: 250px; }
  .leaflet-control-attribution { max-width: 75vw; font-size: 8px; }
}
""".replace("WATER", WATER_COLOUR).replace("NARROW", str(NARROW_PX - 1))
_CSS = re.sub(r"\s+", " ", _CSS).replace("; ", ";").replace(": ", ":").replace(", ", ",").strip()  # "{ " stays
