"""The package's layout: imports go down the floors, never round in a cycle; the public API is lazy.

Every ``from geo...`` import of every module of ``geo/`` is read with :mod:`ast`
(also the ones inside functions, which hide a cycle from the interpreter but not from
the reader). A module may import only from its own floor or below, and the graph of
imports has no cycle. Today's known upward imports are allow-listed below, each with
why it is there; the list only shrinks: an entry whose import is gone fails too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

GEO = Path(__file__).resolve().parents[1] / "geo"

#: The floors, from the bottom (ARCHITECTURE.md): a module imports only from its floor or below.
FLOORS: dict[str, int] = {
    # vocabulary and kernels
    "errors": 0, "progress": 0, "problems": 0, "forked": 0, "lazy": 0, "sphere": 0,
    "limits": 1, "facts": 1, "measure": 1, "lonlat": 1, "layers": 2,
    "project": 1,
    "io": 2, "border": 2, "overlay": 2,
    # stages
    "validate": 3, "store": 3,
    "construct": 3,
    "normalise": 4,
    "merge": 5,
    "areas": 6,
    "render": 7,
    # use cases
    "pipeline": 8,
    "cli": 9,
}

#: Upward imports that exist today (module -> module it imports from a higher floor).
#: Remove an entry when its import is gone; never add one.
KNOWN_UPWARD: dict[tuple[str, str], str] = {
}


def _module_of(path: Path) -> str:
    """The top-level name a file of ``geo/`` belongs to: ``geo/x.py`` -> x, ``geo/pkg/...`` -> pkg."""
    rel = path.relative_to(GEO)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports() -> dict[str, dict[str, int]]:
    """top-level module or package -> {imported geo module or package: line}, over every ``.py`` of ``geo/``."""
    graph: dict[str, dict[str, int]] = {}
    for path in sorted(GEO.rglob("*.py")):
        module = _module_of(path)
        targets = graph.setdefault(module, {})
        if module == "__init__":
            # The public API: it imports its names lazily (PEP 562) and only for type checkers
            # statically; ``from geo import __version__`` reaches no other module.
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level:
                raise AssertionError(f"{path}:{node.lineno}: a relative import; write it absolute (from geo....)")
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "geo":
                    # ``from geo import X``: only the version is defined in __init__ itself; anything
                    # else goes through the lazy public API and so back up to a module of geo.
                    names = ["__init__" if a.name == "__version__" else f"geo-api:{a.name}" for a in node.names]
                elif node.module.startswith("geo."):
                    names = [node.module.split(".")[1]]
            elif isinstance(node, ast.Import):
                names = [a.name.split(".")[1] for a in node.names if a.name.startswith("geo.")]
            for name in names:
                if name != module:
                    targets.setdefault(name, node.lineno)
    return graph


GRAPH = _imports()


def test_every_module_has_a_floor():
    missing = sorted(set(GRAPH) - set(FLOORS) - {"__init__"})
    assert not missing, f"add {missing} to FLOORS in tests/test_layout.py (which floor does it belong on?)"
    gone = sorted(set(FLOORS) - set(GRAPH))
    assert not gone, f"{gone} no longer exist: remove them from FLOORS"


def test_no_module_imports_the_public_api():
    """Inside the package, import from the defining module (``geo.layers``), not from ``geo``."""
    bad = [f"geo/{m}:{line} imports {t.split(':')[1]} from geo" for m, ts in GRAPH.items()
           for t, line in ts.items() if t.startswith("geo-api:")]
    assert not bad, bad


def test_no_upward_import_beyond_the_known_ones():
    upward = {
        (m, t): line
        for m, ts in GRAPH.items() if m in FLOORS
        for t, line in ts.items() if t in FLOORS and FLOORS[t] > FLOORS[m]
    }
    new = [f"geo/{m}:{line} imports geo.{t} (floor {FLOORS[t]} above {FLOORS[m]})"
           for (m, t), line in sorted(upward.items()) if (m, t) not in KNOWN_UPWARD]
    assert not new, "upward imports: " + "; ".join(new)
    fixed = sorted(set(KNOWN_UPWARD) - set(upward))
    assert not fixed, f"these upward imports are gone: remove {fixed} from KNOWN_UPWARD"


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (as a path that ends where it starts), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle():
    graph = {m: {t for t in ts if t in GRAPH and (m, t) not in KNOWN_UPWARD} for m, ts in GRAPH.items()}
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    # today's graph with one kernel importing the build back (what measure.area_table once did): a cycle
    full = {m: {t for t in ts if t in GRAPH} for m, ts in GRAPH.items()}
    assert "measure" in full["pipeline"]
    full["measure"] = full["measure"] | {"pipeline"}
    assert _cycle(full) is not None


def test_public_api_is_sorted_and_lazy():
    code = (
        "import sys, geo\n"
        "assert geo.__all__ == sorted(geo.__all__), 'sort __all__'\n"
        # geo.lazy (the PEP 562 loader, standard library only) is the one module import geo needs
        "loaded = sorted(m for m in sys.modules if m.startswith('geo.'))\n"
        "assert loaded == ['geo.lazy'], loaded\n"
        "assert 'geopandas' not in sys.modules\n"
        "for name in geo.__all__:\n"
        "    assert getattr(geo, name) is not None, name\n"
        "assert 'geo.pipeline' in sys.modules\n"
        "print(len(geo.__all__))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 20


def test_version_imports_nothing_heavy():
    code = ("import sys\nfrom geo.cli import main\n"
            "print(sorted(m for m in ('geopandas', 'shapely', 'pandas', 'pyproj') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_unknown_public_name_is_an_attribute_error():
    import geo

    with pytest.raises(AttributeError, match="public names"):
        geo.no_such_name  # noqa: B018


def test_py_typed_is_shipped():
    assert (GEO / "py.typed").is_file()
    assert "py.typed" in (GEO.parent / "pyproject.toml").read_text(encoding="utf-8")


#: The most lines a module of ``geo/`` may have: a longer one does more than one job.
MAX_LINES = 500


def test_no_module_is_over_500_lines():
    long = {str(p.relative_to(GEO)): n for p in sorted(GEO.rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by job): {long}"


def test_the_notebooks_use_the_public_api():
    """Notebooks import the package through ``geo`` (the public API) or run the command line (``geo.cli``)."""
    import json

    bad = []
    for nb in sorted((GEO.parent / "notebooks").glob("*.ipynb")):
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            for node in ast.walk(ast.parse("".join(cell["source"]))):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geo."):
                    if node.module != "geo.cli":
                        bad.append(f"{nb.name}: from {node.module} import ...")
    assert not bad, f"import these through the public API (from geo import ...): {bad}"
