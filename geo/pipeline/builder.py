"""The build use case: read → check → merge → measure → render and write every output file."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import DataError, UsageError
from geo.forked import Forked, call_forked
from geo.io import atomic_path, write_gpkg
from geo.layers import CONTEXT_ROLE, catalogue, park_layers
from geo.measure import M2_PER_HA, geodesic_area_m2
from geo.merge import GAP_WIDTH_M, SNAP_TOLERANCE_M, combine_parks, merge_parks
from geo.pipeline.tables import areas_csv_rows, areas_json, areas_markdown
from geo.pipeline.totals import area_report
from geo.project import Project, bundled_project, park_role, project_for
from geo.validate import check_layers

OUTPUT_FILES = (
    "land_of_big_cats.html",
    "areas.json",
    "areas.csv",
    "land_of_big_cats.gpkg",
    "areas.md",
    "land_of_big_cats.png",
    "land_of_big_cats.pdf",
)


@dataclass(frozen=True)
class BuildResult:
    """What ``build`` wrote."""

    out_dir: Path
    files: dict[str, Path]
    report: dict


def _merge(layers: dict[str, gpd.GeoDataFrame], project: Project | None = None, on_snapped=None):
    """Check and merge loaded layers; return the :class:`geo.merge.MergeResult` (``on_snapped``: see merge_parks)."""
    project = bundled_project() if project is None else project
    check_layers(layers)
    parks = combine_parks(*park_layers(layers).values())
    if len(parks) == 0:
        raise DataError(
            "the layers hold no park: every park layer is empty or missing",
            problems=[
                f"{role}: {len(layers[role])} features" if role in layers else f"{role}: missing"
                for role in dict.fromkeys([*project.park_roles, *park_layers(layers)])
            ]
            + ["import a park layer with 'bigcats import FILE --role parks_<iso3> --layers ...'"],
        )
    parks["area_input_ha"] = geodesic_area_m2(parks) / M2_PER_HA
    return merge_parks(
        parks,
        layers["countries"],
        layers["border"],
        tolerance_m=SNAP_TOLERANCE_M,
        gap_width_m=GAP_WIDTH_M,
        project=project,
        on_snapped=on_snapped,
    )


def merged_layers(layers_dir: str | Path):
    """Read, check and merge the layers; return ``(layers, MergeResult)``.

    ``layers_dir`` is any layer store :func:`geo.store.open_store` opens: a
    folder of GeoJSON, a ``.gpkg`` store or a ``postgresql://`` URL. Its
    project (``project.toml``, else the bundled one) names the countries.
    """
    from geo.store import open_store

    layers = open_store(layers_dir).read_layers()
    return layers, _merge(layers, project_for(layers_dir))


def output_layers(
    layers, parks, proposed, by_country, *, project: Project | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """The layers a build hands on, by their output names; the build's GeoPackage and ``bigcats export`` write these.

    Each country's parks (merged, with ``area_input_ha``, ``area_ha`` and ``area_after_overlaps_ha``), the
    proposed park and each country's dissolved parks (with ``area_ha``), the countries, ``borders``,
    ``border_stretch`` and the places. A park clipped away wholly (no area on its own country's land) has no
    geometry to hand on and is left out (see :func:`left_out_parks`; ``areas.json`` lists it under
    ``checks.clipped``): other tools, and ``bigcats import`` itself, refuse an empty geometry.
    """
    project = bundled_project() if project is None else project
    kept = parks[~(parks.geometry.is_empty | parks.geometry.isna())]
    out = {
        **{park_role(iso3): kept[kept.country_iso3 == iso3] for iso3 in project.countries},
        "proposed_park": proposed,
        "parks_by_country": by_country,
        "countries": layers["countries"],
        "borders": layers["border"],
        "border_stretch": layers["stretch"],
    }
    if "places" in layers:
        out["places"] = layers["places"]
    return out


def left_out_parks(parks: gpd.GeoDataFrame) -> list[str]:
    """Ids of the parks :func:`output_layers` leaves out: clipped away wholly, so with an empty geometry."""
    gone = parks.geometry.is_empty | parks.geometry.isna()
    return [str(pid) for pid in parks.loc[gone, "id"]]


def _with_areas(merge):
    """The merged pieces with their geodesic ``area_ha`` (a new GeoDataFrame each)."""
    snapped = merge.snapped_parks.copy()
    snapped["area_ha"] = geodesic_area_m2(snapped) / M2_PER_HA
    snapped["area_after_overlaps_ha"] = geodesic_area_m2(merge.parks) / M2_PER_HA
    proposed = merge.proposed.copy()
    proposed["area_ha"] = geodesic_area_m2(proposed) / M2_PER_HA
    by_country = merge.by_country.copy()
    by_country["area_ha"] = geodesic_area_m2(by_country) / M2_PER_HA
    return snapped, proposed, by_country


def measured_layers(layers_dir: str | Path):
    """Read, check and merge the layers; return ``(layers, parks, proposed, by_country)``.

    ``parks`` are the parks clipped to their own land and snapped to the border
    (before overlaps are resolved), with ``area_ha``; ``proposed`` and
    ``by_country`` are dissolved after overlap resolution.
    """
    layers, merge = merged_layers(layers_dir)
    return (layers, *_with_areas(merge))


def area_table(layers: str | Path | dict = "layers") -> pd.DataFrame:
    """The reconciliation as a table for notebooks: one row per park, country and the proposed park.

    Parameters
    ----------
    layers : str, Path or dict
        A layer store (folder, .gpkg or postgresql:// URL), or the dict
        :func:`geo.layers.load_layers` returns.

    Returns
    -------
    pandas.DataFrame
        Columns ``level``, ``id``, ``name``, ``area_ha``, ``area_km2``,
        ``published_ha``, ``difference_ha``, ``difference_pct``, ``status``;
        parks first, totals last.
    """
    report = area_report_for(layers)
    rows = report["checks"]["reconciliation"]["rows"]
    table = pd.DataFrame(rows).rename(columns={"name_en": "name", "reported_area_ha": "published_ha"})
    table["area_km2"] = table["area_ha"] / 100
    return table[
        ["level", "id", "name", "area_ha", "area_km2", "published_ha", "difference_ha", "difference_pct", "status"]
    ]


def area_report_for(layers: str | Path | dict = "layers") -> dict:
    """``areas.json`` content for a layer folder or an already loaded layer dict."""
    source = None if isinstance(layers, dict) else layers
    if isinstance(layers, dict):
        merge = _merge(layers, project_for(None))
    else:
        layers, merge = merged_layers(layers)
    parks, proposed, by_country = _with_areas(merge)
    from geo.facts import facts_for

    return area_report(
        layers, parks, proposed, by_country, merge=merge, facts=facts_for(source), project=project_for(source)
    )


def comparisons_for(layers_dir: str | Path, compare: Sequence[tuple[str, int]]) -> list:
    """Read each ``(role, version)`` from the store with its diff against the current version.

    Returns
    -------
    list of geo.render.Comparison

    Raises
    ------
    UsageError
        If the role is unknown or not a polygon layer, or the version does not exist.
    """
    if not compare:
        return []
    from geo.render import Comparison
    from geo.store import open_store

    store = open_store(layers_dir)
    roles = catalogue(project_for(layers_dir))
    out = []
    for role, version in compare:
        # the context (thousands of others' parks) is drawn for orientation, not compared version by version
        polygons = [r for r, spec in roles.items() if spec.geometry == "polygon" and r != CONTEXT_ROLE]
        if role not in polygons:
            raise UsageError(
                f"--compare {role}={version}: unknown or non-polygon role; use one of {', '.join(polygons)}."
            )
        history = store.history(role)
        versions = [int(v) for v in history["version"]]
        if int(version) not in versions:
            raise UsageError(
                f"--compare {role}={version}: no such version; versions of '{role}' are "
                f"{', '.join(map(str, versions)) or 'none'} (see 'bigcats history {role}')."
            )
        current = max(versions)
        _parts, changes = store.diff(role, int(version), current)
        entry = history.set_index("version").loc[int(version)]
        out.append(
            Comparison(
                role=role,
                title=roles[role].title,
                version=int(version),
                current_version=current,
                time=str(entry["time"]),
                source=str(entry["source"]),
                layer=store.read_layer(role, version=int(version)),
                changes=changes,
            )
        )
    return out


def build(
    layers_dir: str | Path = "layers",
    out_dir: str | Path = "output",
    *,
    offline: bool = True,
    lang: str = "en",
    compare: Sequence[tuple[str, int]] = (),
) -> BuildResult:
    """Build the map, the area report and the GeoPackage from a layer folder.

    Parameters
    ----------
    layers_dir : str or Path
        The layer store: a folder holding the layers (see :data:`geo.layers.LAYERS`),
        a ``.gpkg`` store or a ``postgresql://`` URL (see :func:`geo.store.open_store`).
    out_dir : str or Path
        Folder the outputs go to (created if missing). Each file is written
        atomically: a failed build leaves the previous outputs intact.
    offline : bool, default True
        Inline Leaflet and the plugins into the HTML (no request to any other host); False
        (``--cdn``) writes the light online variant that loads them from a CDN.
    lang : {"en", "ru", "zh"}, default "en"
        Language of the map's labels and interface text.
    compare : sequence of (role, version)
        Earlier versions of polygon roles to draw beside the current ones (``--compare``).
        Areas and the other outputs are always of the current versions.

    Returns
    -------
    BuildResult

    Raises
    ------
    UsageError
        If a role or a version to compare does not exist (the message lists the valid ones).
    """
    out_dir = Path(out_dir)
    from geo.render.paper import draw_static, warm_up

    # The PNG and PDF are drawn in a second process, forked now (before any thread or database
    # connection exists), which imports matplotlib while this one merges and measures.
    with Forked(warm=warm_up) as paper:
        from geo.render import _t, display_layers, make_map, map_html, warm_up_map
        from geo.store import open_store

        _t(lang)  # an unknown language is refused before any work
        project = project_for(layers_dir)
        layers = open_store(layers_dir).read_layers()
        display = None

        def start_display(snapped: gpd.GeoDataFrame) -> None:
            # The display geometry is made in a process forked as soon as the parks are snapped (it
            # has the layers already; only its result comes back), while this one resolves overlaps,
            # measures, writes the GeoPackage and imports folium. On a thread of this process, each of
            # the display's many short GEOS calls would wait for the GIL (importing folium beside it
            # made it 0.9 s slower). The display needs only the snapped geometry (see below).
            nonlocal display
            display = call_forked(
                display_layers, layers, snapped[~(snapped.geometry.is_empty | snapped.geometry.isna())], project=project
            )

        merge = _merge(layers, project, on_snapped=start_display)
        parks, proposed, by_country = _with_areas(merge)
        from geo.facts import facts_for

        facts = facts_for(layers_dir)
        # A park clipped away entirely has nothing to draw; areas.json lists it (checks.clipped).
        drawn = parks[~(parks.geometry.is_empty | parks.geometry.isna())]
        files = {name: out_dir / name for name in OUTPUT_FILES}
        out_dir.mkdir(parents=True, exist_ok=True)
        # Every file goes to a temporary path first; all are renamed into place only when every one
        # was written, so a failed build leaves the previous outputs as they were.
        with ExitStack() as stack:
            tmp = {name: stack.enter_context(atomic_path(path)) for name, path in files.items()}
            # The GeoPackage is written on a thread (GDAL releases the GIL) while this one measures.
            tables = output_layers(layers, parks, proposed, by_country, project=project)
            gpkg = stack.enter_context(ThreadPoolExecutor(1)).submit(write_gpkg, tables, tmp["land_of_big_cats.gpkg"])
            report = area_report(layers, parks, proposed, by_country, merge=merge, facts=facts, project=project)
            comparisons = comparisons_for(layers_dir, compare)
            warm_up_map()
            if display is None:  # merge_parks calls start_display; this is only a safeguard
                display = lambda: display_layers(layers, drawn, project=project)  # noqa: E731
            shown = display()
            # The display was made of the snapped parks before their areas were measured: the same
            # rows and geometry as ``drawn``, whose columns the page and the paper read (as
            # display_layers(layers, drawn) would have returned them).
            shown = replace(
                shown, parks=drawn.set_geometry(gpd.GeoSeries(shown.parks.geometry.array, crs="EPSG:4326",
                                                              index=shown.parks.index))
            )
            paper.submit(
                draw_static,
                shown,
                {role: layers[role] for role in ("stretch", "places") if role in layers},
                drawn,
                report,
                lang=lang,
                png_path=tmp["land_of_big_cats.png"],
                pdf_path=tmp["land_of_big_cats.pdf"],
                project=project,
            )
            fmap = make_map(
                layers,
                drawn,
                proposed,
                areas=report,
                lang=lang,
                comparisons=comparisons,
                facts=facts,
                shown=shown,
                project=project,
            )
            tmp["land_of_big_cats.html"].write_text(map_html(fmap, offline=offline), encoding="utf-8")
            tmp["areas.json"].write_text(areas_json(report), encoding="utf-8")
            tmp["areas.csv"].write_text(areas_csv_rows(report), encoding="utf-8")
            tmp["areas.md"].write_text(areas_markdown(report, project=project), encoding="utf-8")
            gpkg.result()
            paper.result()
    return BuildResult(out_dir=out_dir, files=files, report=report)
