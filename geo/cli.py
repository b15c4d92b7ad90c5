"""The ``bigcats`` command: parses arguments, calls the package, prints, exits 0/1/2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from geo import __version__
from geo.errors import BigCatsError, DataError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (its default is also 2, but with usage)."""

    def error(self, message: str) -> None:  # pragma: no cover - exercised through main
        self.print_usage(sys.stderr)
        self.exit(2, f"bigcats: error: {message}. Run 'bigcats --help' for the commands.\n")


def _cmd_build(args: argparse.Namespace) -> int:
    from geo.pipeline import build

    result = build(args.layers, args.out)
    for name, path in result.files.items():
        print(f"wrote {path}")
    total = result.report["totals"]["proposed_park"]["area_ha"]
    print(f"proposed park: {total:,.0f} ha (geodesic); map: {result.files['land_of_big_cats.html'].resolve()}")
    return 0


def _cmd_areas(args: argparse.Namespace) -> int:
    import json

    from geo.pipeline import area_report_for, areas_csv_rows, areas_text

    report = area_report_for(args.layers)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    elif args.csv:
        print(areas_csv_rows(report), end="")
    else:
        print(areas_text(report), end="")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bigcats", description="Maps and areas of the proposed 'Land of Big Cats' park.")
    parser.add_argument("--version", action="version", version=f"bigcats {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("build", help="build the map, areas.json/csv and the GeoPackage")
    p.add_argument("--layers", default="layers", help="layer folder (default: layers)")
    p.add_argument("--out", default="output", help="output folder (default: output)")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("areas", help="the area reconciliation table (computed vs published)")
    p.add_argument("--layers", default="layers", help="layer folder (default: layers)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print areas.json content")
    fmt.add_argument("--csv", action="store_true", help="print the reconciliation rows as CSV")
    p.set_defaults(func=_cmd_areas)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 data problems, 2 could not run)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except DataError as exc:
        print(f"bigcats: {exc}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return exc.exit_code
    except BigCatsError as exc:
        print(f"bigcats: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("bigcats: interrupted; nothing was half-written (outputs are written atomically).", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
