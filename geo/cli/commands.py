"""The commands of ``bigcats``: each parses nothing, calls the package, prints, and returns its exit code."""

from __future__ import annotations

import argparse
import gc
import sys

__all__: list[str] = []


def _cmd_build(args: argparse.Namespace) -> int:
    # Importing makes objects that live as long as the command and next to no garbage: the
    # cycle collector is paused meanwhile, then the imported modules are frozen, so it does
    # not rescan them during the build either (main() hands them back afterwards).
    enabled = gc.isenabled()
    gc.disable()
    try:
        from geo.pipeline import build
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    from geo.pipeline import failed_checks
    from geo.pipeline.options import compare_pairs

    result = build(args.layers, args.out, offline=not args.cdn, lang=args.lang, compare=compare_pairs(args.compare))
    for path in result.files.values():
        print(f"wrote {path}")
    total = result.report["totals"]["proposed_park"]["area_ha"]
    print(f"proposed park: {total:,.0f} ha (geodesic); map: {result.files['land_of_big_cats.html'].resolve()}")
    then = "exit 1 (--strict)" if args.strict else "exit 0; --strict exits 1 on them"
    code = _report_failures(failed_checks(result.report), f"the outputs are written; {then}")
    return code if args.strict else 0


def _report_failures(failures: list[str], what: str) -> int:
    """Print the checks that fail (stderr); 1 if any fails, else 0."""
    if not failures:
        return 0
    print(f"bigcats: {len(failures)} check(s) fail ({what}; see 'checks' in areas.json):", file=sys.stderr)
    for line in failures:
        print(f"  - {line}", file=sys.stderr)
    return 1


def _cmd_init(args: argparse.Namespace) -> int:
    from geo.store import init_store, mask_url

    store = init_store(args.layers, args.from_dir)
    roles = ", ".join(sorted(store._roles()))
    print(f"created the layer store {mask_url(args.layers)}: version 1 of {roles} from {args.from_dir}")
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    from geo.store import open_store

    table = open_store(args.layers).history(args.role)
    print(f"{'version':>7}  {'time':<25}  {'features':>8}  {'area_ha':>14}  source (checksum)  note")
    for row in table.itertuples(index=False):
        area = "" if row.area_ha is None or row.area_ha != row.area_ha else f"{row.area_ha:,.1f}"
        features = "" if row.feature_count is None else row.feature_count  # the project's versions have none
        print(f"{row.version:>7}  {row.time:<25}  {features:>8}  {area:>14}  "
              f"{row.source} ({row.checksum})  {row.note or ''}")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    from geo.store import open_store

    parts, table = open_store(args.layers).diff(args.role, args.v1, args.v2)
    print(f"{args.role}: version {args.v1} -> {args.v2} (geodesic, WGS84)")
    print(f"{'id':<24}  {'status':<9}  {'gained_ha':>12}  {'lost_ha':>12}  {'net_ha':>12}")
    for row in table.itertuples(index=False):
        print(f"{row.id:<24}  {row.status:<9}  {row.gained_ha:>12,.2f}  {row.lost_ha:>12,.2f}  {row.net_ha:>12,.2f}")
    if args.out:
        from geo.io import write_geojson, write_gpkg

        gpkg = args.out.lower().endswith(".gpkg")
        out = write_gpkg({"changes": parts}, args.out) if gpkg else write_geojson(parts, args.out)
        print(f"wrote the changed parts ({len(parts)}) to {out}")
    return 0


def _cmd_rollback(args: argparse.Namespace) -> int:
    from geo.store import open_store

    version = open_store(args.layers).rollback(args.role, args.version)
    print(f"{args.role}: version {args.version} is current again, as version {version}")
    return 0


def _cmd_areas(args: argparse.Namespace) -> int:
    from geo.pipeline import area_report_for, areas_csv_rows, areas_json, areas_text, failed_checks

    if args.engine or args.input or args.by or args.partitions is not None or args.layer or args.scheduler:
        return _cmd_area_totals(args)
    from geo.project import project_for

    report = area_report_for(args.layers)
    if args.json:
        print(areas_json(report), end="")
    elif args.csv:
        print(areas_csv_rows(report), end="")
    else:
        print(areas_text(report, project=project_for(args.layers)), end="")
    return _report_failures(failed_checks(report), "exit 1")



def _cmd_area_totals(args: argparse.Namespace) -> int:
    from geo.areas.scale import totals, totals_csv, totals_json, totals_text

    engine = args.engine or "memory"
    table = totals(path=args.input, layers=args.layers, by=args.by, layer=args.layer, engine=engine,
                   npartitions=args.partitions, scheduler=args.scheduler)
    source = args.input or f"the park layers of {args.layers}"
    if args.json:
        print(totals_json(table, engine=engine, source=source), end="")
    elif args.csv:
        print(totals_csv(table), end="")
    else:
        print(totals_text(table, engine=engine, source=source), end="")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from geo.normalise import prepare_layer
    from geo.pipeline.options import field_mapping, xy_columns
    from geo.validate import format_report

    result = prepare_layer(args.path, role=args.role, crs=args.crs, layer=args.layer, mapping=field_mapping(args.map),
                           accept_repairs=args.accept_repairs, encoding=args.encoding, quality=args.quality,
                           layers_dir=args.layers, accept_clip=args.accept_clip, limits=_limits(args),
                           xy=xy_columns(args.x, args.y))
    report = result.report
    verdict = (f"verdict: {args.path} can be imported ({report.features} features, "
               f"{len(report.warnings)} warning(s))" if report.ok
               else f"verdict: {args.path} would be refused: {len(report.errors)} problem(s) listed above")
    print(format_report(report, verdict=verdict))
    return 0 if report.ok else 1


def _cmd_import(args: argparse.Namespace) -> int:
    from geo.normalise import import_layer
    from geo.pipeline.options import field_mapping, xy_columns
    from geo.validate import format_report

    result = import_layer(args.path, role=args.role, layers_dir=args.layers, crs=args.crs, layer=args.layer,
                          mapping=field_mapping(args.map), accept_repairs=args.accept_repairs, encoding=args.encoding,
                          dry_run=args.dry_run, add=args.add, quality=args.quality, accept_clip=args.accept_clip,
                          limits=_limits(args), xy=xy_columns(args.x, args.y))
    report = result.report
    if not report.ok:
        verdict = f"verdict: REFUSED {args.path}: {len(report.errors)} problem(s) listed above; nothing was written"
    elif args.dry_run:
        verdict = (f"verdict: dry run: {args.path} would be imported as {args.role} ({report.features} features); "
                   "nothing was written")
    else:
        verdict = (f"verdict: imported {args.path} as {args.role} ({report.features} features, "
                   f"{len(report.repairs)} repair(s)) into {result.written}")
    print(format_report(report, verdict=verdict))
    return 0 if report.ok else 1


def _cmd_export(args: argparse.Namespace) -> int:
    from geo.pipeline.export import export_project

    result = export_project(args.layers, args.out, fmt=args.format)
    for path in result.files:
        print(f"wrote {path}")
    for note in result.notes:
        print(f"note: {note}")
    print(f"exported {len(result.files)} file(s) as {args.format} to {args.out}")
    return 0


def _cmd_new(args: argparse.Namespace) -> int:
    from geo.pipeline.newproject import new_project
    from geo.pipeline.options import country_codes, key_values, region_box
    from geo.project import stretch_from_text

    result = new_project(
        args.dir, country_codes(args.countries), name=args.name, lang=args.lang,
        stretches=[stretch_from_text(s) for s in args.stretch or []], context=country_codes(args.context),
        country_names=key_values(args.country_name, "--country-name", "POL=Poland"), package=args.package,
        region=region_box(args.region), margin_km=args.margin_km,
    )
    print(f"created the project {args.name!r} in {result.folder} ({', '.join(result.project.countries)}; "
          f"region {', '.join(f'{v:g}' for v in result.region)})")
    for pair, km in result.borders.items():
        print(f"  border {pair}: {km:,.1f} km shared in the region" if km else f"  border {pair}: none in the region")
    roles = " / ".join(result.project.park_roles)
    print(f"next: bigcats import FILE --role {roles} --layers {result.folder}; "
          f"then bigcats build --layers {result.folder}")
    return 0


def _cmd_simplify(args: argparse.Namespace) -> int:
    from geo.limits import read_limits
    from geo.render.coverage_file import simplify_file

    done = simplify_file(args.src, args.dst, max_area_error=args.max_area_error / 100,
                         limits=read_limits(max_size_mb=args.max_size, timeout_s=args.timeout), layer=args.layer)
    print(done.summary())
    return 0


def _limits(args: argparse.Namespace):
    """The read limits of ``--max-size``, ``--max-depth`` and ``--timeout`` (see :func:`geo.limits.read_limits`)."""
    from geo.limits import read_limits

    return read_limits(max_size_mb=args.max_size, max_depth=args.max_depth, timeout_s=args.timeout)
