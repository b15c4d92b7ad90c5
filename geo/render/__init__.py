"""The interactive Leaflet map of the proposed park (folium): light, safe, offline-capable.

Display geometry is simplified as one coverage (:func:`display_layers`), every attribute
value is HTML-escaped before it reaches a popup, tooltip or the legend, and
:func:`map_html` with ``offline=True`` inlines Leaflet and its plugins from the pinned,
checksummed copies in ``geo/render/assets/`` (fetched by ``make assets``).
"""

from __future__ import annotations

import base64
import functools
import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import UsageError
from geo.measure import M2_PER_HA, geodesic_area_m2
from geo.project import Project, bundled_project

__all__ = [
    "ASSETS",
    "Comparison",
    "LANGUAGES",
    "DisplayLayers",
    "display_layers",
    "make_map",
    "map_html",
    "save_map",
]

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

#: Display tolerances (coverage simplification, degrees), coarsest first. Every feature starts
#: at the first; a feature whose displayed area misses its budget moves to finer ones, and the
#: edges it shares move with it (see :func:`_simplify_faces`).
_TOLERANCES_DEG = (0.02, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001)
#: Islands and holes (lakes, river islands) smaller than this many square degrees (about
#: 8 km²) may be left out of the display, within half of each feature's area budget.
_MIN_RING_DEG2 = 1e-3
MAX_ZOOM = 12

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

LANGUAGES = ("en", "ru", "zh")

#: The message catalogue: every string of the page, of the static map and of the plugins'
#: options, keyed, each in every language of :data:`LANGUAGES` (``tests/test_render.py`` checks).
MESSAGES_PATH = Path(__file__).with_name("messages.json")

#: Milestones of the story: (year, fact ids whose sources are cited). Their texts are the catalogue's
#: ``story:YEAR`` (``story_landscape`` for the line above them); ``{id}`` in a text is the value of that
#: row of the facts table, ``{name.ID}`` the name of the park ``ID`` in the page's language.
_MILESTONES = (
    ("1916", ("park.RUS-KPAD.protected_since", "park.RUS-KPAD.zapovednik_since")),
    ("2001", ("landscape",)),
    ("2004", ("landscape",)),
    ("2007", ("landscape",)),
    ("2010", ("landscape",)),
    ("2012", ("park.RUS-LOTL.established", "park.RUS-LOTL.reported_area_ha", "park.RUS-LOTL.critical_habitat_pct")),
    ("2017", ("park.CHN-NETLNP.reported_area_ha", "park.CHN-NETLNP.jilin_share_pct")),
    ("2019", ("landscape",)),
    ("2021", ("park.CHN-NETLNP.established", "park.CHN-NETLNP.reported_area_ha.2021")),
    ("next", ("total.proposed_park.reported_area_ha",)),
)


def _fact_text(fact) -> str:
    """A fact's value as shown: numbers with thousands separators, text as it is."""
    try:
        number = float(fact.value)
    except ValueError:
        return fact.value
    return f"{number:,.0f}" if number >= 10_000 else fact.value


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Replace each ``{fact id}`` of a story template with the fact's value (``{name.ID}``: the park's
    name, its id where the layers have no such park)."""
    return re.sub(r"\{([^{}]+)\}", lambda m: values[m.group(1)] if m.group(1) in values or not m.group(1).startswith(
        "name.") else m.group(1)[5:], template)


def _story_facts(facts):
    if facts is None:
        from geo.facts import read_facts

        facts = read_facts()
    return facts


def _counts(facts) -> dict:
    """Counts in the landscape (start / under the joint programme / 2019), from the facts table."""
    return {kind: tuple(int(v) for v in facts[f"count.{kind}"].value.split(";")) for kind in ("leopards", "tigers")}


@functools.cache
def messages() -> dict[str, dict[str, str]]:
    """The message catalogue (``geo/render/messages.json``): key -> {language: text}."""
    return json.loads(MESSAGES_PATH.read_text(encoding="utf-8"))


@functools.cache
def _catalogue(lang: str) -> dict[str, str]:
    return {key: texts[lang] for key, texts in messages().items()}


def _t(lang: str, project: Project | None = None) -> dict:
    """The catalogue in ``lang`` with the project's own texts (default: the bundled project)."""
    if lang not in LANGUAGES:
        raise UsageError(f"unknown language --lang {lang!r}: choose one of {', '.join(LANGUAGES)}")
    return _bundled_t(lang) if project is None else _project_t(lang, project)


@functools.cache
def _bundled_t(lang: str) -> dict:
    return _project_t(lang, bundled_project())


def _project_t(lang: str, project: Project) -> dict:
    """The catalogue, then the texts that name the project, its countries and borders: the project's
    own (``[texts]`` of project.toml) or the catalogue's templates filled with its names."""
    base = _catalogue(lang)
    name = project.display_name(lang)
    out = dict(base)
    out["title"] = project.text("title", lang) or base["title_of"].format(name=name)
    out["proposed_name"] = project.text("proposed_name", lang) or base["proposed_of"].format(name=name)
    for iso3 in project.all_countries:
        country = project.country_name(iso3, lang)
        out[f"parks_{iso3}"] = project.text(f"parks_{iso3}", lang) or base["parks_of"].format(country=country)
        out[f"computed_{iso3}"] = project.text(f"computed_{iso3}", lang) or base["computed_of"].format(country=country)
    out["border_group"] = project.text("border_group", lang) or base["border_group_of"]
    out["border_line"] = project.text("border_line", lang) or base["border_line_of"]
    out.update({key: project.text(key, lang) for key in project.texts if project.text(key, lang)})
    return out


def _pair_ids(project: Project) -> set[str]:
    """Ids of the border lines between two of the project's countries (either order)."""
    return {f"{a}-{b}" for a in project.countries for b in project.countries if a != b}


def _stretch_km(stretch: gpd.GeoDataFrame, lang: str) -> str:
    """The stretches' published length (else their length), as the legend writes it."""
    values = []
    for _, row in stretch.iterrows():
        km = row.get("reported_length_km")
        km = row.get("length_km") if km is None or (isinstance(km, float) and math.isnan(km)) else km
        if km is not None and not (isinstance(km, float) and math.isnan(km)):
            values.append(_num(km, lang))
    return " / ".join(values)


def _num(value: float, lang: str, digits: int = 0, *, sign: bool = False) -> str:
    """A number as the language writes it; never ``-0`` (a value that rounds to zero has no sign)."""
    value = round(float(value), digits)
    if value == 0:
        value, sign = 0.0, False
    text = f"{value:{'+' if sign else ''},.{digits}f}"
    if lang == "ru":  # 1 460 000,5 (narrow no-break space, decimal comma)
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def _value(kind: str, value: object, lang: str) -> tuple[str, str | None]:
    """A data value translated through the catalogue (``kind:value``), else as it is, in English."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "", None
    text = _t(lang).get(f"{kind}:{value}")
    return (text, lang) if text is not None else (str(value), "en")


def _e(value: object) -> str:
    """HTML-escape any attribute value (None and NaN become an empty string).

    Braces become character references too: folium renders each element's output a second
    time as a Jinja template, so a value such as ``{{ 7*7 }}`` would otherwise be evaluated.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True).replace("{", "&#123;").replace("}", "&#125;")


#: Inside ``<script>`` only ``<`` can end the element or open a comment (``</script``, ``<!--``), and
#: the HTML parser decodes no entity there, so ``>``, ``&`` and quotes stay as they are (a JSON string
#: is double-quoted); braces and ``%`` would be read by folium's second Jinja pass.
_JS_ESCAPES = {"<": "\\u003c", "{": "\\u007b", "}": "\\u007d",
               "%": "\\u0025", "`": "\\u0060", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _js(value: object) -> str:
    """A JSON literal safe inside ``<script>`` and inert to folium's second Jinja pass."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(_JS_ESCAPES.get(ch, ch) for ch in text)


def _js_texts(texts: Mapping[str, str]) -> str:
    """A JS object of our own keys to texts, each text through :func:`_js`."""
    return "{" + ", ".join(f"{json.dumps(key)}: {_js(text)}" for key, text in texts.items()) + "}"


# --------------------------------------------------------------------------- geometry


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
    changes: object


@dataclass(frozen=True)
class DisplayLayers:
    """Display geometry: one simplified coverage and what was chosen.

    Attributes
    ----------
    countries, parks, proposed, borders, stretch : GeoDataFrame
        The input rows with display geometry (EPSG:4326).
    tolerance_deg : float
        Coarsest coverage simplification tolerance used, degrees (features over their
        area budget at it were simplified at finer ones).
    grid_deg : float
        Coordinate grid the display coordinates were snapped to, degrees.
    max_area_error : float
        Largest relative difference between a polygon's displayed and true geodesic area.
    """

    countries: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    proposed: gpd.GeoDataFrame
    borders: gpd.GeoDataFrame
    stretch: gpd.GeoDataFrame
    tolerance_deg: float
    grid_deg: float
    max_area_error: float


def _geodesic_ha(geoms) -> np.ndarray:
    return geodesic_area_m2(gpd.GeoSeries(list(geoms), crs="EPSG:4326")) / M2_PER_HA


def _drop_rings_within(
    feats: np.ndarray, layer: np.ndarray, true_ha: np.ndarray, budget: float,
    faces: np.ndarray, feat: np.ndarray, face: np.ndarray, face_ha: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Leave out small islands and lakes, smallest first, while they cost a feature at most ``budget``.

    Works on the noded faces (see :func:`_faces`), so what is left out never breaks a coverage:
    a lake (a face inside a feature's outline that no feature of its layer holds) joins the
    feature only where the country layer holds it (a park never reaches beyond its country);
    an island (a part under :data:`_MIN_RING_DEG2`) leaves only when no feature of the other
    layer holds any of its faces (a park on a river island keeps its island). Candidates are
    under :data:`_MIN_RING_DEG2`, and their area counts in the feature's displayed area like
    any other error, but never more than ``budget`` (a share of the area budget): a park with
    many small lakes keeps some of them rather than failing and sending the map back to full
    resolution. Returns the new (feature, face) pairs.
    """
    if budget <= 0:
        return feat, face
    small = shapely.area(faces) < _MIN_RING_DEG2
    held = np.zeros((int(layer.max()) + 1, len(faces)), bool)  # layer 0 countries, 1.. parks
    held[layer[feat], face] = True
    cand_feat, cand_faces, cand_ha, cand_add = [], [], [], []
    # lakes: small faces inside a feature's outline that no feature of its layer holds
    points = shapely.point_on_surface(faces)
    parts = shapely.get_parts(feats, return_index=True)
    shells = shapely.polygons(shapely.get_exterior_ring(parts[0]))
    part_of = parts[1]
    s, f = shapely.STRtree(points).query(shells, predicate="intersects")
    ok = small[f] & ~held[layer[part_of[s]], f] & np.where(layer[part_of[s]] >= 1, held[0, f], True)
    for i, j in zip(part_of[s[ok]], f[ok], strict=True):
        cand_feat.append(i), cand_faces.append([j]), cand_ha.append(face_ha[j]), cand_add.append(True)
    # islands: small parts of a feature of several parts, held by no feature of the other layer
    many = np.bincount(part_of, minlength=len(feats))[part_of] > 1
    isl = np.flatnonzero(many & (shapely.area(parts[0]) < _MIN_RING_DEG2))
    if len(isl):
        s, f = shapely.STRtree(points).query(parts[0][isl], predicate="intersects")
        for k in np.unique(s):
            i, fs = part_of[isl[k]], f[s == k]
            fs = fs[np.isin(fs, face[feat == i])]
            other = held[1:].any(axis=0) if layer[i] == 0 else held[0]
            if len(fs) and not other[fs].any():
                cand_feat.append(i), cand_faces.append(list(fs)), cand_ha.append(face_ha[fs].sum())
                cand_add.append(False)
    if not cand_feat:
        return feat, face
    cand_feat, cand_ha = np.asarray(cand_feat), np.asarray(cand_ha)
    add, remove = [], set()
    for i in np.unique(cand_feat):
        mine = np.flatnonzero(cand_feat == i)
        mine = mine[np.argsort(cand_ha[mine], kind="stable")]
        for k in mine[np.cumsum(cand_ha[mine]) <= budget * true_ha[i]]:
            if cand_add[k]:
                add.append((i, cand_faces[k][0]))
            else:
                remove.update((i, j) for j in cand_faces[k])
    keep = np.array([(i, j) not in remove for i, j in zip(feat, face, strict=True)], dtype=bool) if remove else None
    if keep is not None:
        feat, face = feat[keep], face[keep]
    if add:
        extra = np.array(add, dtype=int)
        feat, face = np.concatenate([feat, extra[:, 0]]), np.concatenate([face, extra[:, 1]])
    return feat, face


def _drop_rings_of_coverage(feats: np.ndarray, true_ha: np.ndarray, budget: float) -> np.ndarray:
    """:func:`_drop_rings_within` for one valid coverage used without noding: on the rings themselves.

    Islands under :data:`_MIN_RING_DEG2` and holes under it that no other feature lies in are
    left out, smallest first, while they cost a feature at most ``budget`` of its area.
    """
    if budget <= 0:
        return feats
    owner, where, rings = [], [], []
    parts_of = [shapely.get_parts(g) for g in feats]
    for i, parts in enumerate(parts_of):
        for j, part in enumerate(parts):
            if len(parts) > 1 and part.area < _MIN_RING_DEG2:
                owner.append(i), where.append((j, -1)), rings.append(part)
            holes = shapely.get_rings(part)[1:]
            for h in np.flatnonzero(shapely.area(shapely.polygons(holes)) < _MIN_RING_DEG2) if len(holes) else []:
                owner.append(i), where.append((j, int(h))), rings.append(shapely.Polygon(holes[h]))
    if not rings:
        return feats
    owner, rings = np.asarray(owner), np.asarray(rings, dtype=object)
    r, f = shapely.STRtree(feats).query(rings, predicate="intersects")
    r, f = r[f != owner[r]], f[f != owner[r]]
    taken = np.zeros(len(rings), bool)  # a hole another feature lies in stays
    taken[r[shapely.relate_pattern(rings[r], feats[f], "2********")]] = True
    ha = _geodesic_ha(rings)
    out = feats.copy()
    for i in np.unique(owner):
        mine = np.flatnonzero((owner == i) & ~taken)
        mine = mine[np.argsort(ha[mine], kind="stable")]
        gone = {where[k] for k in mine[np.cumsum(ha[mine]) <= budget * true_ha[i]]}
        if not gone:
            continue
        polys = []
        for j, part in enumerate(parts_of[i]):
            if (j, -1) not in gone:
                ring = shapely.get_rings(part)
                polys.append(shapely.Polygon(ring[0], [x for h, x in enumerate(ring[1:]) if (j, h) not in gone]))
        out[i] = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    return out


def _grid_for(feats: np.ndarray) -> float:
    """Coordinate grid of the display: a power of ten at most 1/500 of the smallest feature's width.

    Snapping to it moves a vertex by at most half a cell, which changes the smallest feature's
    area by well under 0.1 %; between 1e-6 and 1e-3 degrees (0.1 m to 110 m).
    """
    areas = shapely.area(feats)
    smallest = float(np.sqrt(areas[areas > 0].min())) if (areas > 0).any() else 1.0
    return float(min(1e-3, max(1e-6, 10.0 ** np.floor(np.log10(smallest / 500)))))


def _faces(feats: np.ndarray, layer: np.ndarray, grid_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The features' boundaries noded on the grid and polygonised: faces that tile them exactly.

    Returns ``(faces, feat, face)``: every face (lakes and gaps too), and the (feature, face)
    pairs (a face inside two features of a layer, say a reserve inside a national park, is
    in both). Sparse: no features × faces matrix.
    """
    lines = shapely.union_all(shapely.boundary(feats), grid_size=grid_deg or None)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    faces = faces[~shapely.is_empty(faces)]
    feat, face = shapely.STRtree(shapely.point_on_surface(faces)).query(feats, predicate="intersects")
    return faces, feat, face


def _simplify_faces(faces: np.ndarray, face_level: np.ndarray) -> np.ndarray:
    """Coverage-simplify the faces, each at the tolerance of its level (beyond the last: unchanged).

    One :func:`shapely.coverage_simplify` per level in use, finest first, of the faces of that
    level and their coarser neighbours. The other faces are left out of the collection, so the
    edges they share lie on its boundary and ``simplify_boundary=False`` keeps them as they
    are; a filler polygon covering everything else (the outside, gaps and holes) takes their
    place at the outer edges, which are then inner edges and simplified. Each edge is thus
    simplified at the finest tolerance of the faces along it (a coarser face, simplified first
    with its finer neighbour, is simplified again at its own level), and the faces stay a
    valid coverage.
    """
    out = faces.copy()
    levels = sorted({int(v) for v in face_level if v < len(_TOLERANCES_DEG)}, reverse=True)
    if levels == [0] and (face_level == 0).all():
        return shapely.coverage_simplify(faces, _TOLERANCES_DEG[0])
    if not levels:
        return out
    x0, y0, x1, y1 = shapely.total_bounds(faces)
    filler = shapely.difference(shapely.box(x0 - 1, y0 - 1, x1 + 1, y1 + 1), shapely.coverage_union_all(faces))
    tree = shapely.STRtree(faces)
    for k in levels:
        # the faces of this level and their coarser neighbours (by box: a few more do no harm;
        # they are simplified again at their own level later)
        at_k = np.flatnonzero(face_level == k)
        near = tree.query(faces[at_k])[1]
        active = np.union1d(at_k, near[face_level[near] < k])
        coverage = np.concatenate([out[active], np.array([filler], dtype=object)])
        simple = shapely.coverage_simplify(coverage, _TOLERANCES_DEG[k], simplify_boundary=False)
        out[active], filler = simple[:-1], simple[-1]
    return out


def _display_geometries(
    originals: list, true_ha: np.ndarray, layer: np.ndarray, max_area_error: float, *, grid: bool = True
) -> tuple[float, float, list, float]:
    """The display geometry of features forming one coverage per ``layer`` value (0 countries, 1 and up parks).

    Returns ``(coarsest tolerance, grid, geometries, largest area error)``; see
    :func:`display_layers`. Tolerance and grid are 0 when full resolution is shown. When a
    feature misses its budget even unsimplified on the grid (a sliver narrower than a grid
    cell), it is done again without a grid before giving up.
    """
    feats = np.array(originals, dtype=object)
    grid_deg = _grid_for(feats) if grid else 0.0
    snapped = shapely.set_precision(feats, grid_deg, mode="pointwise") if grid_deg else feats
    single = bool((layer == layer[0]).all())
    if single and shapely.is_valid(snapped).all() and bool(shapely.coverage_is_valid(snapped)):
        # One valid coverage, still one on the grid (snapping vertex by vertex keeps shared
        # edges shared): each feature is its own face, no noding.
        faces = _drop_rings_of_coverage(snapped, true_ha, max_area_error / 2)
        feat = face = np.arange(len(feats))
    elif single and grid_deg and bool(shapely.coverage_is_valid(feats)):  # the grid broke it: none
        faces, grid_deg = _drop_rings_of_coverage(feats, true_ha, max_area_error / 2), 0.0
        feat = face = np.arange(len(feats))
    else:
        faces, feat, face = _faces(feats, layer, grid_deg)
    # Half of each feature's budget may go to small islands and lakes left out; the rest is the
    # simplification's. They count in the area checked below, so the guarantee holds.
    feat, face = _drop_rings_within(
        feats, layer, true_ha, max_area_error / 2, faces, feat, face, _geodesic_ha(faces)
    )
    held = np.unique(face)  # faces no feature holds (gaps, lakes kept) are left out of the coverage
    renumber = np.full(len(faces), -1)
    renumber[held] = np.arange(len(held))
    faces, face = faces[held], renumber[face]
    full = len(_TOLERANCES_DEG)
    # First guess per feature: VW removes triangles of about tolerance² each, so start at the
    # coarsest tolerance whose square is a small share of the feature's area budget.
    guess = np.sqrt(0.4 * max_area_error * shapely.area(feats))
    level = np.searchsorted(-np.asarray(_TOLERANCES_DEG), -guess)  # index into _TOLERANCES_DEG
    passes = 0
    while True:
        passes += 1
        face_level = np.zeros(len(faces), dtype=int)
        np.maximum.at(face_level, face, level[feat])
        simple = _simplify_faces(faces, face_level)
        shown_ha = np.bincount(feat, weights=_geodesic_ha(simple)[face], minlength=len(feats))
        errors = np.abs(shown_ha / true_ha - 1)
        over = errors > max_area_error
        if not over.any() or (level[over] >= full).all():
            break
        # Only the features over budget get finer tolerances (each step about halves the
        # tolerance, a quarter of the area a simplification removes), the worse ones faster;
        # after three passes the few still over are shown unsimplified (on the grid).
        steps = np.ceil(0.5 * np.log2(errors[over] / max(max_area_error, 1e-12))).astype(int)
        level[over] = full if passes >= 3 else np.minimum(full, level[over] + np.clip(steps, 1, 3))
    if over.any() and grid_deg:
        return _display_geometries(originals, true_ha, layer, max_area_error, grid=False)
    if over.any():  # even unsimplified, some feature misses: show full resolution
        shown = list(originals)
        chosen = (0.0, 0.0, shown, 0.0)
    else:
        by_feat = np.argsort(feat, kind="stable")
        bounds = np.searchsorted(feat[by_feat], np.arange(len(feats) + 1))
        shown = []
        for i in range(len(feats)):
            mine = simple[face[by_feat[bounds[i]:bounds[i + 1]]]]
            shown.append(mine[0] if len(mine) == 1 else shapely.coverage_union_all(mine))
        coarsest = _TOLERANCES_DEG[int(level.min())] if level.min() < full else 0.0
        chosen = (coarsest, grid_deg, shown, float(errors.max()))
    return chosen


def _dissolve_shown(geoms: np.ndarray, *, simplified: bool) -> shapely.Geometry:
    """Union of the displayed parks: the fast coverage union when they are the simplified coverage."""
    if simplified and len(geoms):
        try:
            return shapely.coverage_union_all(geoms)
        except shapely.errors.GEOSException:  # nested parks (a reserve inside a national park)
            pass
    return shapely.union_all(geoms)


def _coverage_layers(geoms: np.ndarray) -> np.ndarray:
    """A layer number per geometry (0, 1, ...) such that no two of one layer share interior.

    Greedy in order: each geometry takes the lowest layer none of its overlapping neighbours
    already holds. Parks that already form a coverage are all layer 0.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms), dtype=int)
    if len(geoms) < 2:
        return out
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    overlap = shapely.relate_pattern(geoms[a], geoms[b], "T********")
    later: dict[int, list[int]] = {}
    for i, j in zip(a[overlap], b[overlap], strict=True):
        later.setdefault(int(j), []).append(int(i))
    for j in sorted(later):
        taken = {int(out[i]) for i in later[j]}
        out[j] = min(k for k in range(len(taken) + 1) if k not in taken)
    return out


def display_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    parks: gpd.GeoDataFrame,
    *,
    max_area_error: float = 0.005,
    project: Project | None = None,
) -> DisplayLayers:
    """Simplify countries and parks for display as one coverage, and derive the borders from it.

    The country and park boundaries are noded together on a coordinate grid (snap rounding)
    and polygonised into faces that tile them without overlaps; the faces are simplified
    with :func:`shapely.coverage_simplify` (shared edges stay shared, so no slivers or gaps;
    it only removes vertices, so they stay on the grid); each feature is the union of its
    faces, and the countries and the parks each stay a valid coverage. Every feature starts
    at the coarsest tolerance; only the features whose geodesic area misses the true one
    by more than ``max_area_error`` move to finer tolerances (with the edges they share),
    until every one is within. Small islands and lakes are left out within half of each
    feature's budget (:func:`_drop_rings_within`). Should a feature miss its budget even
    unsimplified, the map shows full resolution (``tolerance_deg`` 0). Displayed borders are
    the shared edges of the displayed countries.

    Parameters
    ----------
    layers : mapping of role to GeoDataFrame
        Needs ``countries``, ``border`` and ``stretch`` (EPSG:4326).
    parks : GeoDataFrame
        Both countries' parks (EPSG:4326).
    max_area_error : float, default 0.005
        Largest allowed relative area difference per feature (0.005 = 0.5 %).

    Returns
    -------
    DisplayLayers
    """
    countries = layers["countries"]
    originals = list(countries.geometry.values) + list(parks.geometry.values)
    n = len(countries)
    true_ha = _geodesic_ha(originals)
    # 0 countries; parks from 1 on, nested or overlapping parks (a reserve inside a national park)
    # each on a further layer, so that every layer is a coverage
    layer = np.concatenate([np.zeros(n, dtype=int), 1 + _coverage_layers(parks.geometry.values)])
    tolerance_deg, grid_deg, shown, error = _display_geometries(originals, true_ha, layer, max_area_error)
    n = len(countries)
    d_countries = countries.set_geometry(gpd.GeoSeries(shown[:n], crs="EPSG:4326", index=countries.index))
    d_parks = parks.set_geometry(gpd.GeoSeries(shown[n:], crs="EPSG:4326", index=parks.index))
    proposed_geom = _dissolve_shown(
        np.array(shown[n:], dtype=object), simplified=bool(tolerance_deg or grid_deg) and layer.max() <= 1
    )
    d_proposed = gpd.GeoDataFrame({"id": ["proposed_park"]}, geometry=[proposed_geom], crs="EPSG:4326")

    by_iso = dict(zip(countries["country_iso3"], shown[:n], strict=True))
    border = layers["border"]
    border_geoms = []
    for _, row in border.iterrows():
        a, _, b = str(row["id"]).partition("-")
        if a in by_iso and b in by_iso:
            edge = shapely.intersection(shapely.boundary(by_iso[a]), shapely.boundary(by_iso[b]))
            parts = shapely.get_parts(edge)
            edge = shapely.line_merge(shapely.union_all(parts[shapely.get_type_id(parts) != 0]))  # lines only
            border_geoms.append(edge)
        else:
            border_geoms.append(shapely.set_precision(shapely.simplify(row.geometry, tolerance_deg), grid_deg))
    d_borders = border.set_geometry(gpd.GeoSeries(border_geoms, crs="EPSG:4326", index=border.index))
    stretch = layers["stretch"]
    # the stretch follows its pair's displayed border (the stretches' pairs of the project)
    pairs = {s.pair_id for s in (bundled_project() if project is None else project).stretches}
    along = [g for i, g in zip(border["id"], border_geoms, strict=True) if i in pairs]
    along = along[0] if len(along) == 1 else shapely.union_all(along) if along else None
    stretch_geoms = []
    for geom in stretch.geometry:
        if along is not None and tolerance_deg:
            near = shapely.intersection(along, shapely.buffer(geom, 2 * tolerance_deg))
            stretch_geoms.append(shapely.line_merge(near) if not near.is_empty else geom)
        else:
            stretch_geoms.append(geom)
    d_stretch = stretch.set_geometry(gpd.GeoSeries(stretch_geoms, crs="EPSG:4326", index=stretch.index))
    return DisplayLayers(d_countries, d_parks, d_proposed, d_borders, d_stretch, tolerance_deg, grid_deg, error)


# --------------------------------------------------------------------------- popups


def _fmt_ha(value: object, lang: str) -> str:
    t = _t(lang)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t["not_published"]
    value = float(value)
    return f"{_num(value, lang)} {t['ha']} ({_num(value / 100, lang)} {t['km2']})"


def _difference(area_ha: float, reported: object, lang: str = "en") -> str:
    if reported is None or (isinstance(reported, float) and math.isnan(reported)) or not reported:
        return "–"
    diff = float(area_ha) - float(reported)
    return f"{_num(diff, lang, sign=True)} {_t(lang)['ha']} ({_num(100 * diff / float(reported), lang, 2, sign=True)} %)"


def _lang_attr(text_lang: str | None, lang: str) -> str:
    """``lang='xx'`` on text that is not in the page's language (a name or a data value in English)."""
    return f" lang='{text_lang}'" if text_lang and text_lang != lang else ""


class _Html(str):
    """A table cell already written as HTML (its parts escaped and marked by language)."""


_CITATION = re.compile(r"^(?P<title>.+), (?P<url>https?://\S+) \(read (?P<date>\d{4}-\d{2}-\d{2})\)$", re.S)


def _citation(source: object, lang: str) -> _Html | str:
    """A source ``title, address (read DATE)`` as HTML: the title quoted in its own language, the
    address as a link in no language, the date read in the page's language."""
    text = _given(source)  # None, NaN and blank: no source
    if text is None:
        return ""
    match = _CITATION.match(text)
    if match is None:
        return _Html(f"<span{_lang_attr(_script_lang(text), lang)}>{_e(text)}</span>")
    title, url = match["title"], match["url"]
    return _Html(
        f"<cite{_lang_attr(_script_lang(title), lang)}>{_e(title)}</cite>, "
        f"<a href='{_e(url)}' target='_blank' rel='noopener' lang='zxx'>{_e(url)}</a> "
        f"({_e(_t(lang)['read_on'])} {_e(match['date'])})"
    )


def _cell(value: object) -> str:
    return value if isinstance(value, _Html) else _e(value)


def _table(rows: Sequence[tuple], css_class: str, lang: str = "en") -> str:
    """Rows of (label, value) or (label, value, language of the value), escaped (a value that is
    already HTML, a citation, is kept as it is)."""
    cells = "".join(
        f"<tr><th>{_e(row[0])}</th><td{_lang_attr(row[2] if len(row) > 2 else None, lang)}>{_cell(row[1])}</td></tr>"
        for row in rows
    )
    return f"<table class='bigcats-popup {css_class}'>{cells}</table>"


def _names(row, lang: str) -> list[tuple]:
    """The feature's name in the page's language, then its names in the other languages."""
    t = _t(lang)
    name, name_lang = _name(row, lang)
    rows = [(t["name"], name, name_lang)]
    for other in LANGUAGES:
        text = _given(row.get(f"name_{other}"))
        if other != lang and text and text != name:
            rows.append((t[f"name_{other}"], text, other))
    return rows


def _park_popup(row, lang: str, proposed: str | None = None) -> str:
    t = _t(lang)
    rows = _names(row, lang) + [
        (t["designation"], *_value("designation", row.get("designation"), lang)),
        (t["iucn"], row.get("iucn_cat"), "zxx"),  # a code (Ia, II...): no language
        (t["year"], row.get("status_year")),
        (t["computed"], _fmt_ha(row["area_ha"], lang)),
        (t["published"], _fmt_ha(row.get("reported_area_ha"), lang)),
        (t["difference"], _difference(row["area_ha"], row.get("reported_area_ha"), lang)),
        (t["published_source"], _citation(row.get("reported_area_source"), lang)),
        (t["quality"], *_value("quality", row.get("geometry_quality"), lang)),
        (t["method"], row.get("geometry_method"), "en"),
        (t["source"], row.get("source"), "en"),
        (t["licence"], row.get("licence"), "en"),
    ]
    if proposed:
        rows.append((t["in_proposed"], proposed))
    return _table(rows, "park-popup", lang)


def _proposed_popup(areas: Mapping, lang: str, project: Project | None = None) -> str:
    t = _t(lang, project)
    project = bundled_project() if project is None else project
    totals = areas["totals"]
    total = totals["proposed_park"]
    return _table(
        [
            (t["name"], t["proposed_name"]),
            (t["union"], _fmt_ha(total["area_ha"], lang)),
            (t["published"], _fmt_ha(total.get("reported_area_ha"), lang)),
            (t["difference"], _difference(total["area_ha"], total.get("reported_area_ha"), lang)),
            (t["published_source"], _citation(total.get("reported_area_source"), lang)),
            *((t[f"computed_{iso3}"], _fmt_ha(totals[iso3]["area_ha"], lang)) for iso3 in project.countries
              if iso3 in totals),
        ],
        "proposed-popup",
        lang,
    )


def _town_popup(row, lang: str, countries: Mapping[str, tuple[str, str]]) -> str:
    t = _t(lang)
    rows = _names(row, lang)
    iso3 = row.get("country_iso3")
    if iso3 in countries:
        rows.append((t["country"], *countries[iso3]))
    population = row.get("population")
    if population is not None and not (isinstance(population, float) and math.isnan(population)) and population > 0:
        rows.append((t["population"], _num(population, lang)))
    return _table(rows, "town-popup", lang)  # source and licence: the attribution (the same for every town)


def _given(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or not str(value).strip():
        return None
    return str(value)


def _name(row, lang: str) -> tuple[str, str]:
    """The feature's name in ``lang`` and the language it is in (English where none is given)."""
    name = _given(row.get(f"name_{lang}"))
    if name is not None:
        return name, lang
    return str(_given(row.get("name_en")) or row.get("id")), "en"


def _label(row, lang: str) -> str:
    return _name(row, lang)[0]


def _label_html(row, lang: str) -> str:
    """The escaped name, marked with its language where it falls back to English."""
    name, name_lang = _name(row, lang)
    attr = _lang_attr(name_lang, lang)
    return f"<span{attr}>{_e(name)}</span>" if attr else _e(name)


def _country_names(countries: gpd.GeoDataFrame, lang: str) -> dict[str, tuple[str, str]]:
    return {
        str(row["country_iso3"]): _name(row, lang) for _, row in countries.iterrows() if "country_iso3" in row
    }


# --------------------------------------------------------------------------- panels


_KINDS = ("surveyed", "schematic", "unverified")


def _quality_kind(quality) -> str:
    """How a park's ``geometry_quality`` is drawn: surveyed (solid), unverified or schematic (dashed)."""
    return quality if quality in ("surveyed", "unverified") else "schematic"


def _legend_html(lang: str, *, comparisons: bool = False, styles: set | None = None, project: Project | None = None,
                 stretch_km: str = "") -> str:
    """The legend; ``styles`` holds the (country, kind) park styles on the map (all when None).

    ``kind`` is ``surveyed``, ``schematic`` or ``unverified`` (see :func:`_quality_kind`).
    """
    t = _t(lang, project)
    colours = country_colours(project)

    def line(colour: str, label: str, *, width: int = 3, dash: str = "", fill: str = "none") -> str:
        swatch = (
            f"<svg width='28' height='14'><rect x='2' y='2' width='24' height='10' "
            f"fill='{fill}' fill-opacity='0.3' stroke='{colour}' stroke-width='{width}' "
            f"stroke-dasharray='{dash}'/></svg>"
        )
        return f"<div>{swatch} {_e(label)}</div>"

    styles = styles or {(iso3, kind) for iso3 in colours for kind in _KINDS}
    rows = [
        line(colours[iso3], f"{t[f'parks_{iso3}']}: {t[kind]}",
             dash="6 4" if kind != "surveyed" else "", fill=colours[iso3])
        for iso3 in colours for kind in _KINDS if (iso3, kind) in styles
    ] + [
        line(PROPOSED_COLOUR, t["proposed"], dash="10 5" if any(k != "surveyed" for _i, k in styles) else ""),
        line(PAIR_BORDER_COLOUR, t["border_line"], width=2),
        line(STRETCH_COLOUR, f"{t['stretch']}, {stretch_km} {t['km']}" if stretch_km else t["stretch"], width=5),
        line(OTHER_BORDER_COLOUR, t["other_borders"], width=1),
        line("#999", t["land"], width=1, fill=LAND_COLOUR),
        f"<div><svg width='28' height='14'><circle cx='14' cy='7' r='4' fill='#222'/>"
        f"</svg> {_e(t['towns'])}</div>",
    ]
    if comparisons:
        rows.append(line(COMPARISON_COLOUR, t["earlier_legend"], width=2, dash="2 4"))
    rows.append(
        f"<label class='bigcats-opacity'>{_e(t['opacity'])} <input id='bigcats-opacity' type='range' min='0' "
        f"max='100' value='{round(100 * PARK_FILL_OPACITY)}' aria-label='{_e(t['opacity'])}'></label>"
    )
    return (
        "<details id='bigcats-legend' class='bigcats-panel' open>"
        f"<summary><b>{_e(t['legend'])}</b></summary>{''.join(rows)}</details>"
    )


def _chart_svg(lang: str, facts=None) -> str:
    t = _t(lang)
    width, height, base = 300, 135, 110
    periods = (t["early"], t["later"], t["now"])
    bars = []
    for i, (kind, colour) in enumerate((("leopards", "#d68910"), ("tigers", "#a04000"))):
        for j, count in enumerate(_counts(_story_facts(facts))[kind]):
            x = 25 + j * 95 + i * 26
            h = count * 0.7
            label = f"{count}" if j < 2 else f">{count}" if kind == "leopards" else f"{count}"
            bars.append(
                f"<rect x='{x}' y='{base - h:.1f}' width='22' height='{h:.1f}' fill='{colour}'>"
                f"<title>{_e(t[kind])}: {_e(label)}</title></rect>"
                f"<text x='{x + 11}' y='{base - h - 2:.1f}' font-size='9' text-anchor='middle'>{_e(label)}</text>"
            )
    def two_lines(text: str, x: int) -> str:  # a long period name on two lines, split at the middle space
        spaces = [i for i, ch in enumerate(text) if ch == " "]
        if len(text) <= 16 or not spaces:
            return _e(text)
        cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
        return f"<tspan x='{x}'>{_e(text[:cut])}</tspan><tspan x='{x}' dy='9'>{_e(text[cut + 1:])}</tspan>"

    labels = "".join(
        f"<text x='{49 + j * 95}' y='{base + 10}' font-size='8' text-anchor='middle'>{two_lines(p, 49 + j * 95)}</text>"
        for j, p in enumerate(periods)
    )
    key = (
        f"<rect x='25' y='4' width='8' height='8' fill='#d68910'/><text x='36' y='11' font-size='9'>"
        f"{_e(t['leopards'])}</text><rect x='25' y='16' width='8' height='8' fill='#a04000'/>"
        f"<text x='36' y='23' font-size='9'>{_e(t['tigers'])}</text>"
    )
    return (
        f"<svg id='bigcats-chart' width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img' "
        f"aria-label='{_e(t['count_title'])}'>{''.join(bars)}{labels}{key}</svg>"
    )


def _script_lang(text: str) -> str:
    """The language a citation is written in, by its script (a source title is quoted as it is)."""
    if re.search(r"[\u3400-\u9fff]", text):
        return "zh"
    return "ru" if re.search(r"[\u0400-\u04ff]", text) else "en"


def _story_html(lang: str, facts=None, park_names: Mapping[str, str] | None = None) -> str:
    """The story: the count chart first (always in view when the story is open), then the landscape,
    the milestones with their figures from the facts table, and the numbered sources."""
    t = _t(lang)
    facts = _story_facts(facts)
    values = {fid: _fact_text(fact) for fid, fact in facts.items()}
    values.update({f"name.{pid}": name for pid, name in (park_names or {}).items()})
    cited: list = []

    def cite(ids) -> str:
        marks = []
        for fid in ids:
            key = (facts[fid].source_title, facts[fid].source_url)
            if key not in cited:
                cited.append(key)
            marks.append(cited.index(key) + 1)
        return "".join(f"<sup>{n}</sup>" for n in sorted(set(marks)))

    items = "".join(
        f"<li><b>{_e(t.get(year, year))}</b> {_e(_fill(t[f'story:{year}'], values))}{cite(ids)}</li>"
        for year, ids in _MILESTONES
    )
    # the landscape's name is the source's own (in English): marked as such
    before, _, after = t["story_landscape"].partition("{landscape}")
    landscape = f"{_e(before)}<span lang='en'>{_e(values['landscape'])}</span>{_e(after)}{cite(['landscape'])}"
    counts = cite(["count.leopards", "count.tigers"])
    sources = "".join(
        f"<li><cite{_lang_attr(_script_lang(title), lang)}>{_e(title)}</cite>, "
        f"<a href='{_e(url)}' target='_blank' rel='noopener' lang='zxx'>{_e(url)}</a></li>"
        for title, url in cited
    )
    return (
        "<details id='bigcats-story' class='bigcats-panel' open>"
        f"<summary><b>{_e(t['story'])}</b></summary>"
        f"<b>{_e(t['count_title'])}</b>{counts}<br>{_chart_svg(lang, facts)}"
        f"<div id='bigcats-landscape'>{landscape}</div><ol>{items}</ol>"
        f"<div class='bigcats-source'>{_e(t['source'])}:<ol id='bigcats-sources'>{sources}</ol></div></details>"
    )


def _panels_html(lang: str, notice: str, facts=None, park_names: Mapping[str, str] | None = None,
                 project: Project | None = None) -> str:
    """Title, schematic notice, tile message and story stacked in one column, so they never overlap.

    On a wide screen the column stands left of the map and stops above the legend; on a narrow
    one it spans the top between the control columns, and the story starts closed.
    """
    t = _t(lang, project)
    facts = _story_facts(facts)
    # the story is the bundled project's (its milestones name its facts); a project without them has none
    story = _story_html(lang, facts, park_names) if all(
        fid in facts for _year, ids in _MILESTONES for fid in ids) and all(
        f"count.{kind}" in facts for kind in ("leopards", "tigers")) else ""
    return (
        "<div id='bigcats-panels'>"
        f"<div id='bigcats-title' class='bigcats-panel'>{_e(t['title'])}</div>"
        f"{notice}<div id='bigcats-tile-error' class='bigcats-panel' role='alert' hidden>{_e(t['tiles_failed'])}</div>"
        f"{story}</div>"
        f"<div id='bigcats-no-library' class='bigcats-panel'>{_e(t['no_library'])}</div>"
    )


def _notice_html(lang: str, names: list[str], unverified: list[str] = ()) -> str:
    """The schematic-boundaries notice, naming the schematic and the unverified features on the map (escaped HTML)."""
    t = _t(lang)
    items = "".join(f"<li>{name}</li>" for name in names)
    schematic = f"<b>{_e(t['notice_title'])}</b> {_e(t['notice'])} <ul id='schematic-names'>{items}</ul>" if names else ""
    more = "".join(f"<li>{name}</li>" for name in unverified)
    more = f"{_e(t['notice_unverified'])} <ul id='unverified-names'>{more}</ul>" if unverified else ""
    return f"<div id='schematic-notice' class='bigcats-panel'>{schematic}{more}</div>"


def _attribution_html(lang: str) -> str:
    t = _t(lang)
    return f"<span id='attribution-note'>{_e(t['attribution'].format(data=t['data'], article=t['article']))}</span>"


# --------------------------------------------------------------------------- map


def _style(colour: str, *, weight: float, fill: str | None = None, dash: str | None = None, opacity: float = 1):
    style = {"color": colour, "weight": weight, "opacity": opacity, "fill": fill is not None}
    if fill is not None:
        style.update({"fillColor": fill, "fillOpacity": PARK_FILL_OPACITY})
    if dash:
        style["dashArray"] = dash
    return style


def _label_point(geom: shapely.Geometry) -> shapely.Point:
    """Where a polygon's label goes: the pole of inaccessibility of its largest part (always inside)."""
    from shapely.ops import polylabel

    parts = shapely.get_parts(geom)
    largest = parts[int(np.argmax(shapely.area(parts)))]
    return polylabel(largest, tolerance=0.005)


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
):
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
    fmap.bigcats_lang = lang
    root = fmap.get_root()
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

    proposed_area = _fmt_ha(areas["totals"]["proposed_park"]["area_ha"], lang)
    park_names = {str(row["id"]): _label(row, lang) for _, row in parks.iterrows() if "id" in row}
    schematic_layers, schematic_names, park_layers, labels, search = [], [], [], [], []
    unverified_names = []
    colours = country_colours(project)
    for iso3 in project.countries:
        group = folium.FeatureGroup(name=t[f"parks_{iso3}"], show=True)
        colour = colours[iso3]
        for idx, row in parks[parks["country_iso3"] == iso3].iterrows():
            schematic = row.get("geometry_quality") != "surveyed"
            geom = shown.parks.geometry.loc[idx]
            layer = folium.GeoJson(
                shapely.to_geojson(geom),
                style_function=lambda _f, c=colour, s=schematic: _style(c, weight=2, fill=c, dash="6 4" if s else None),
            )
            area = _fmt_ha(row["area_ha"], lang)
            _annotate(layer, tooltip=f"{_label_html(row, lang)}: {_e(area)}",
                      popup=_park_popup(row, lang, f"{t['proposed_name']}, {proposed_area}"))
            layer.add_to(group)
            park_layers.append(layer)
            point = _label_point(geom)
            labels.append((group, point, f"<b>{_label_html(row, lang)}</b><br>{_e(area)}", float(row["area_ha"])))
            search.append((_label(row, lang), layer, point, geom.bounds))
            if schematic:
                schematic_layers.append(group)
                kind = _quality_kind(row.get("geometry_quality"))
                (unverified_names if kind == "unverified" else schematic_names).append(_label_html(row, lang))
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
        _comparison_group(comparison, lang).add_to(fmap)

    countries = _country_names(layers["countries"], lang)
    stretch_km = _stretch_km(layers["stretch"], lang)
    border_group = folium.FeatureGroup(name=t["border_group"].replace("{km}", stretch_km), show=True)
    others = folium.FeatureGroup(name=t["other_borders"], show=True)
    pair_ids = _pair_ids(project)
    for idx, row in layers["border"].iterrows():
        between = row["id"] in pair_ids
        layer = folium.GeoJson(
            shapely.to_geojson(shown.borders.geometry.loc[idx]),
            style_function=lambda _f, r=between: _style(
                PAIR_BORDER_COLOUR if r else OTHER_BORDER_COLOUR, weight=2 if r else 1
            ),
        )
        _annotate(layer, tooltip=_border_name(row, countries, lang))
        layer.add_to(border_group if between else others)
    for idx, row in layers["stretch"].iterrows():
        length = row.get("length_km")
        layer = folium.GeoJson(
            shapely.to_geojson(shown.stretch.geometry.loc[idx]),
            style_function=lambda _f: _style(STRETCH_COLOUR, weight=6, opacity=0.8),
        )
        _annotate(
            layer,
            tooltip=_e(f"{t['stretch']}: {_num(length, lang)} {t['km']}"),
            popup=_table([(t["stretch"], *_name(row, lang)),
                          (t["length"], f"{_num(length, lang, 1)} {t['km']}"),
                          (t["method"], row.get("geometry_method"), "en"), (t["source"], row.get("source"), "en")],
                         "stretch-popup", lang),
        )
        layer.add_to(border_group)
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
                                                    project=project, stretch_km=stretch_km)))
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
        # the largest park's label first: where labels would overlap, the smaller park's waits for a closer zoom
        labels=[(group.get_name(), point, text) for group, point, text, _ha in
                sorted(labels, key=lambda label: -label[3] if math.isfinite(label[3]) else 0.0)],
        search=search, proposed=(proposed_group.get_name(), outline.get_name()),
        towns=(towns[0].get_name(), towns[1]) if towns else None,
    ).add_to(fmap)
    control = folium.LayerControl(collapsed=False, position="topright")
    control.add_to(fmap)
    _Layout(control.get_name()).add_to(fmap)  # last: the view is fitted once every control is in place
    return fmap


def _border_name(row, countries: Mapping[str, tuple[str, str]], lang: str) -> str:
    """A border's human name (escaped HTML): 'Border: Russia – China', country names from the layer."""
    a, _, b = str(row["id"]).partition("-")
    if a not in countries or b not in countries:
        return _e(row["id"])
    parts = {}
    for key, iso3 in (("a", a), ("b", b)):
        name, name_lang = countries[iso3]
        attr = _lang_attr(name_lang, lang)
        parts[key] = f"<span{attr}>{_e(name)}</span>" if attr else _e(name)
    template = _e(_t(lang)["border_of"].replace("{a}", "\0a").replace("{b}", "\0b"))
    return template.replace("\0a", parts["a"]).replace("\0b", parts["b"])


def _comparison_group(comparison: Comparison, lang: str):
    """The earlier version as one switchable group: grey dotted outlines, popups with the changes."""
    import folium

    t = _t(lang)
    name = f"{comparison.title}, {t['earlier'].format(version=comparison.version)}"
    group = folium.FeatureGroup(name=name, show=True)
    changes = {str(r.id): r for r in comparison.changes.itertuples(index=False)}
    keys = comparison.layer["id"].astype(str) if "id" in comparison.layer.columns else [
        str(i) for i in range(len(comparison.layer))]
    for key, (_, row) in zip(keys, comparison.layer.iterrows(), strict=True):
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        geom = shapely.set_precision(shapely.simplify(geom, 0.001), 0.0001, mode="pointwise")
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
        layer = folium.GeoJson(
            shapely.to_geojson(geom),
            # no visible fill, but the inside answers clicks where no current park lies above it
            style_function=lambda _f: _style(COMPARISON_COLOUR, weight=3, dash="2 6") | {"fill": True, "fillOpacity": 0},
            pane=_EARLIER_PANE,
        )
        _annotate(layer, tooltip=f"{_label_html(row, lang)}, {_e(t['earlier'].format(version=comparison.version))}",
                  popup=_table(cells, "comparison-popup", lang))
        layer.add_to(group)
    return group


@functools.lru_cache(maxsize=None)
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

    class _Mini(JSCSSMixin, base):
        default_js = [("minimap_js", ASSETS["minimap_js"][0])]
        default_css = [("minimap_css", ASSETS["minimap_css"][0])]

    t = t or _t("en")
    element = _Mini()
    element._name = "VectorMiniMap"
    element.data = geojson
    element.strings = _js_texts({"hideText": t["minimap_hide"], "showText": t["minimap_show"]})
    return element


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


def _Interactions(*, lang: str, bounds, vector: str, tiles: list[str], parks: list[str], labels: list,  # noqa: N802
                  search: list, proposed: tuple[str, str], towns: tuple[str, list] | None = None):
    """The page's behaviour, in one script: park labels, hover, fill opacity, search, fit control,
    scale, tiles that fail, Leaflet's own texts in the page's language.

    ``labels`` holds (group variable, point, escaped HTML); ``search`` holds (name, layer variable
    or folium layer, point, bounds or None); ``proposed`` the proposed park's group and outline
    variables; ``towns`` the towns' group variable and (name, point, label HTML, popup HTML) for
    each town. Every text goes through :func:`_js`.
    """
    element = _macro(
        """{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }}, T = {{ this.texts }};
  var bc = window.bigcats = { map: map, bounds: L.latLngBounds({{ this.bounds }}), T: T, fill: {{ this.fill }} };
  var el = function (id) { return document.getElementById(id); };
  var nolib = el('bigcats-no-library'); if (nolib) { nolib.remove(); }
  var labels = {{ this.labels }}.map(function (l) {
    return L.marker([l[1], l[2]], { icon: L.divIcon({ className: 'bigcats-park-label', html: '<div>' + l[3] + '</div>',
      iconSize: null }), interactive: false, keyboard: false, pane: 'bigcats-labels' }).addTo(l[0]);
  });
  // labels come largest park first; one that would overlap a label already shown is hidden at this
  // zoom (a closer zoom shows it again), so no two park labels are ever drawn over each other
  function declutter() {
    var shown = [];
    labels.forEach(function (m) {
      var e = m.getElement(), d = e && e.firstChild; if (!d) { return; }
      d.style.visibility = '';
      var r = d.getBoundingClientRect();
      if (shown.some(function (k) { return r.left < k.right && k.left < r.right && r.top < k.bottom && k.top < r.bottom; })) {
        d.style.visibility = 'hidden';
      } else { shown.push(r); }
    });
  }
  bc.declutter = declutter; bc.labels = labels;
  map.on('zoomend viewreset overlayadd overlayremove resize', declutter);
  map.whenReady(declutter);
  // the proposed park's inside answers taps too, from a pane under the parks: where a park is shown,
  // its own popup opens (and names the proposed park); with the parks switched off, the proposed park's
  var outline = {{ this.proposed[1] }}, popup = outline.getPopup(), tip = outline.getTooltip();
  var inside = L.geoJSON(outline.toGeoJSON(), { pane: 'bigcats-proposed-fill',
    style: { stroke: false, fill: true, fillOpacity: 0 } }).addTo({{ this.proposed[0] }});
  inside.bindPopup(popup.getContent(), popup.options); inside.bindTooltip(tip.getContent(), tip.options);
  var parks = {{ this.parks }};
  function target(e) { return e.propagatedFrom || e.layer; }
  parks.forEach(function (g) {
    g.on('mouseover', function (e) { var l = target(e); if (l && l.setStyle) { l.setStyle({ weight: 4, fillOpacity: Math.min(1, bc.fill + 0.2) }); } });
    g.on('mouseout', function (e) { var l = target(e); if (l && l.setStyle) { l.setStyle({ weight: 2, fillOpacity: bc.fill }); } });
  });
  var slider = el('bigcats-opacity');
  if (slider) { slider.addEventListener('input', function () {
    bc.fill = slider.value / 100; parks.forEach(function (g) { g.setStyle({ fillOpacity: bc.fill }); }); }); }
  var msg = el('bigcats-tile-error');
  if (msg) { msg.addEventListener('click', function () { msg.hidden = true; }); }
  {{ this.tiles }}.forEach(function (tile) {
    tile.on('tileerror', function () {
      if (!map.hasLayer(tile)) { return; }
      map.removeLayer(tile); map.addLayer({{ this.vector }});
      if (msg) { msg.hidden = false; }
    });
  });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com" lang="en">Leaflet</a>');
  [['.leaflet-control-zoom-in', T.zoom_in], ['.leaflet-control-zoom-out', T.zoom_out]].forEach(function (p) {
    var a = map.getContainer().querySelector(p[0]); if (a) { a.title = p[1]; a.setAttribute('aria-label', p[1]); }
  });
  map.on('popupopen', function (e) {
    var b = e.popup._closeButton; if (b) { b.title = T.close; b.setAttribute('aria-label', T.close); }
    // one popup at a time (a popup whose layer was switched off or opened from code could stay)
    map.eachLayer(function (l) { if (l instanceof L.Popup && l !== e.popup && l.options.autoClose) { map.removeLayer(l); } });
  });
  // Escape closes the popup wherever the focus is (a clicked park path takes it from the map)
  L.DomEvent.on(document, 'keydown', function (e) { if (e.key === 'Escape' && map._popup) { map.closePopup(); } });
  var Scale = L.Control.Scale.extend({ _updateMetric: function (maxMeters) {
    var meters = this._getRoundNum(maxMeters);
    this._updateScale(this._mScale, meters < 1000 ? meters + ' ' + T.m : (meters / 1000) + ' ' + T.km, meters / maxMeters);
  } });
  new Scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  function button(bar, text, title, onClick) {
    var a = L.DomUtil.create('a', 'bigcats-button', bar);
    a.href = '#'; a.innerHTML = text; a.title = title; a.setAttribute('role', 'button'); a.setAttribute('aria-label', title);
    L.DomEvent.on(a, 'click', function (e) { L.DomEvent.stop(e); onClick(); });
    return a;
  }
  var Fit = L.Control.extend({ options: { position: 'topleft' }, onAdd: function () {
    var bar = L.DomUtil.create('div', 'leaflet-bar bigcats-fit');
    button(bar, '&#9635;', T.fit, function () { bc.fit(true); });
    return bar;
  } });
  new Fit().addTo(map);
  var entries = {{ this.search }};
  {{ this.towns }}.forEach(function (p) {
    var m = L.circleMarker([p[1], p[2]], { radius: 4, color: '#222', fillColor: '#222', fill: true, fillOpacity: 1, weight: 1 });
    m.bindTooltip(p[3], { permanent: true, direction: 'right', offset: [4, 0], className: 'bigcats-town-label' });
    m.bindPopup(p[4], { maxWidth: 440 });
    m.addTo({{ this.town_group }});
    entries.push([p[0], m, p[1], p[2], null]);
  });
  var Search = L.Control.extend({ options: { position: 'topright' }, onAdd: function () {
    var box = L.DomUtil.create('div', 'leaflet-bar bigcats-search');
    var input = L.DomUtil.create('input', '', box), list = L.DomUtil.create('datalist', '', box);
    button(box, '&#9906;', T.search, function () {
      box.classList.toggle('open'); if (box.classList.contains('open')) { input.focus(); } });
    input.type = 'search'; input.placeholder = T.search_placeholder; input.title = T.search;
    input.setAttribute('aria-label', T.search); list.id = 'bigcats-search-list'; input.setAttribute('list', list.id);
    entries.forEach(function (s) { var o = document.createElement('option'); o.value = s[0]; list.appendChild(o); });
    L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
    function go() {
      var q = input.value.trim().toLowerCase(); if (!q) { return; }
      var hit = entries.filter(function (s) { return s[0].toLowerCase() === q; })[0]
        || entries.filter(function (s) { return s[0].toLowerCase().indexOf(q) >= 0; })[0];
      if (!hit) { input.setCustomValidity(T.not_found.replace('{query}', input.value)); input.reportValidity(); return; }
      input.setCustomValidity('');
      if (hit[4]) { bc.fit(false, L.latLngBounds([[hit[4][1], hit[4][0]], [hit[4][3], hit[4][2]]])); }
      else { map.setView([hit[2], hit[3]], Math.max(map.getZoom(), 9), { animate: false }); }
      hit[1].openPopup(L.latLng(hit[2], hit[3]));
      box.classList.remove('open'); input.blur();
    }
    L.DomEvent.on(input, 'change', go);
    L.DomEvent.on(input, 'keydown', function (e) { if (e.key === 'Enter') { go(); } });
    return box;
  } });
  bc.search = new Search().addTo(map);
})();
{% endmacro %}"""
    )()
    t = _t(lang)
    keys = ("zoom_in", "zoom_out", "close", "fit", "search", "search_placeholder", "not_found", "km", "m", "layers")
    element.texts = _js_texts({key: t[key] for key in keys})
    element.bounds = json.dumps(bounds)
    element.fill = json.dumps(PARK_FILL_OPACITY)
    element.vector = vector
    element.proposed = proposed
    element.town_group = towns[0] if towns else "null"
    element.towns = "[" + ", ".join(
        f"[{_js(name)}, {point.y:.4f}, {point.x:.4f}, {_js(label)}, {_js(popup)}]" for name, point, label, popup in towns[1]
    ) + "]" if towns else "[]"
    element.tiles = f"[{', '.join(tiles)}]"
    element.parks = f"[{', '.join(parks)}]"
    element.labels = "[" + ", ".join(
        f"[{group}, {point.y:.4f}, {point.x:.4f}, {_js(text)}]" for group, point, text in labels
    ) + "]"
    element.search = "[" + ", ".join(
        f"[{_js(name)}, {layer if isinstance(layer, str) else layer.get_name()}, {point.y:.4f}, {point.x:.4f}, "
        f"{json.dumps([round(b, 4) for b in box]) if box is not None else 'null'}]"
        for name, layer, point, box in search
    ) + "]"
    return element


def _Layout(layer_control: str):  # noqa: N802
    """The view and the panels for the screen: fitted to the proposed park clear of the panels and
    controls (never an infinite zoom), panels collapsed to buttons on a narrow screen, popups kept
    inside the free part of the map, the view kept in the URL hash, and a print layout."""
    element = _macro(
        """{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }}, bc = window.bigcats, layers = {{ this.layer_control }};
  var narrow = window.matchMedia('(max-width: {{ this.narrow }}px)');
  var el = function (id) { return document.getElementById(id); };
  function box(node) {
    if (!node) { return null; }
    var r = node.getBoundingClientRect();
    return r.width > 0 && r.height > 0 ? r : null;
  }
  function collapse() {
    ['bigcats-story', 'bigcats-legend'].forEach(function (id) { var d = el(id); if (d) { d.open = false; } });
    if (!layers.options.collapsed) { layers.options.collapsed = true; layers.remove(); layers.addTo(map); }
  }
  if (narrow.matches) { collapse(); }
  // a short screen starts with the legend closed, so the story's chart has room; the panel column
  // stops above the legend, whatever its state
  var legend = el('bigcats-legend'), panels = el('bigcats-panels');
  if (legend && window.matchMedia('(max-height: 800px)').matches) { legend.open = false; }
  function room() {
    if (!panels || narrow.matches) { return; }
    var top = legend ? legend.getBoundingClientRect().top : window.innerHeight - 30;
    panels.style.maxHeight = Math.max(120, top - 10 - 10) + 'px';
  }
  room();
  if (legend) { legend.addEventListener('toggle', room); }
  window.addEventListener('resize', room);
  var toggle = layers.getContainer().querySelector('.leaflet-control-layers-toggle');
  if (toggle) { toggle.title = bc.T.layers; toggle.setAttribute('aria-label', bc.T.layers); }
  // the part of the map clear of the panels and controls, as Leaflet paddings
  function area() {
    var size = map.getSize(), m = map.getContainer().getBoundingClientRect(), tl = [10, 10], br = [10, 30];
    var panels = box(el('bigcats-panels')), right = [box(layers.getContainer()), box(bc.search.getContainer())];
    if (narrow.matches) {
      if (panels) { tl[1] = panels.bottom - m.top + 10; }
    } else {
      if (panels) { tl[0] = panels.right - m.left + 10; }
      right.forEach(function (r) { if (r) { br[0] = Math.max(br[0], m.right - r.left + 10); } });
    }
    [0, 1].forEach(function (i) {  // keep at least 40 % of the map: a negative size means an infinite zoom
      var total = tl[i] + br[i], room = i ? size.y : size.x;
      if (total > 0.6 * room) { var k = 0.6 * room / total; tl[i] *= k; br[i] *= k; }
    });
    return { tl: L.point(tl), br: L.point(br) };
  }
  bc.area = area;
  bc.fit = function (animate, bounds) {
    var p = area(), b = bounds || bc.bounds;
    var zoom = map.getBoundsZoom(b, false, p.tl.add(p.br));
    if (isFinite(zoom)) { map.fitBounds(b, { paddingTopLeft: p.tl, paddingBottomRight: p.br, animate: !!animate }); }
    else { map.fitBounds(b, { animate: !!animate }); }
  };
  var layout = L.Popup.prototype._updateLayout, pan = L.Popup.prototype._adjustPan;
  L.Popup.prototype._updateLayout = function () {
    var p = area(), s = map.getSize();
    this.options.maxWidth = Math.min(440, Math.max(160, s.x - p.tl.x - p.br.x - 60));
    this.options.maxHeight = Math.max(150, s.y - p.tl.y - p.br.y - 60);
    return layout.apply(this, arguments);
  };
  L.Popup.prototype._adjustPan = function () {
    var p = area();
    this.options.autoPanPaddingTopLeft = p.tl; this.options.autoPanPaddingBottomRight = p.br;
    return pan.apply(this, arguments);
  };
  function parse() {
    var m = /^#(\\d+(?:\\.\\d+)?)\\/(-?\\d+(?:\\.\\d+)?)\\/(-?\\d+(?:\\.\\d+)?)$/.exec(window.location.hash);
    if (!m) { return null; }
    var z = +m[1], lat = +m[2], lng = +m[3];
    if (!isFinite(z) || Math.abs(lat) > 85 || Math.abs(lng) > 180) { return null; }
    return { zoom: Math.max(map.getMinZoom(), Math.min(map.getMaxZoom(), z)), center: L.latLng(lat, lng) };
  }
  var start = parse();
  if (start) { map.setView(start.center, start.zoom, { animate: false }); } else { bc.fit(false); }
  map.on('moveend', function () {
    var c = map.getCenter(), hash = '#' + Math.round(map.getZoom() * 100) / 100 + '/' + c.lat.toFixed(4) + '/' + c.lng.toFixed(4);
    if (window.location.hash !== hash) { try { history.replaceState(null, '', hash); } catch (e) { /* file: in some browsers */ } }
  });
  window.addEventListener('hashchange', function () { var v = parse(); if (v) { map.setView(v.center, v.zoom); } });
  function forPrint() { if (legend) { legend.open = true; } room(); map.invalidateSize(false); bc.fit(false); }
  window.addEventListener('beforeprint', forPrint);
  window.matchMedia('print').addEventListener('change', function (e) { if (e.matches) { forPrint(); } });
})();
{% endmacro %}"""
    )()
    element.layer_control = layer_control
    element.narrow = NARROW_PX - 1
    return element



# --------------------------------------------------------------------------- output


def _data_uri(path: Path) -> str:
    mime = {".png": "image/png", ".svg": "image/svg+xml"}.get(path.suffix, "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(path: Path) -> str:
    text = path.read_text(encoding="utf-8")

    def repl(match: re.Match) -> str:
        ref = match.group(2)
        if ref.startswith(("data:", "#")):
            return match.group(0)
        local = (path.parent / ref).resolve()
        if not local.is_file():
            return "url(data:,)"  # an image the package does not ship: nothing to fetch
        return f"url({_data_uri(local)})"

    return re.sub(r"url\((['\"]?)([^'\")]+)\1\)", repl, text)


def _default_icon_js() -> str:
    """Point Leaflet's default marker icon at data URIs (its path detection fails on inlined CSS)."""
    images = ASSETS_DIR / "leaflet" / "dist" / "images"
    urls = {
        "iconUrl": _data_uri(images / "marker-icon.png"),
        "iconRetinaUrl": _data_uri(images / "marker-icon-2x.png"),
        "shadowUrl": _data_uri(images / "marker-shadow.png"),
    }
    return (
        "\nL.Icon.Default.prototype._getIconUrl = L.Icon.prototype._getIconUrl;"
        f"\nL.Icon.Default.mergeOptions({json.dumps(urls)});\n"
    )


def map_html(fmap, *, offline: bool = False) -> str:
    """Render the map to one HTML document.

    Parameters
    ----------
    fmap : folium.Map
        A map from :func:`make_map`.
    offline : bool, default False
        Inline Leaflet, the plugins and their CSS (images as data URIs) from the vendored,
        checksummed copies in ``geo/render/assets/``, so the page needs no other host.

    Returns
    -------
    str
    """
    text = fmap.get_root().render()
    lang = getattr(fmap, "bigcats_lang", None)
    if lang in LANGUAGES:  # the page's language: screen readers, fonts (Chinese glyphs), the tests' check
        text = text.replace("<html>", f"<html lang='{lang}'>", 1)
    if not offline:
        return text
    for url, rel in ASSETS.values():
        local = ASSETS_DIR / rel
        if not local.is_file():
            raise UsageError(f"map asset {local} is missing: run 'make assets' to fetch the pinned packages")
        if rel.endswith(".js"):
            body = local.read_text(encoding="utf-8").replace("</script", "<\\/script")
            if rel == ASSETS["leaflet_js"][1]:
                body += _default_icon_js()
            text = text.replace(f'<script src="{url}"></script>', f"<script>{body}</script>")
        else:
            text = text.replace(f'<link rel="stylesheet" href="{url}"/>', f"<style>{_inline_css(local)}</style>")
    left = re.findall(r"<(?:script|link)[^>]*(?:src|href)=\"(https?:[^\"]+)\"", text)
    if left:
        raise UsageError(f"offline map still refers to {left[0]}: add it to geo.render.ASSETS and run 'make assets'")
    return text


def save_map(fmap, path: str | Path, *, offline: bool = False) -> Path:
    """Write :func:`map_html` to ``path`` (the caller makes the write atomic)."""
    path = Path(path)
    path.write_text(map_html(fmap, offline=offline), encoding="utf-8")
    return path
