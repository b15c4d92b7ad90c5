"""Reading ``project.toml``: every problem of the file collected and named; the bundled project."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path

from geo.facts import read_facts
from geo.project.model import _ISO3, FORMAT, PROJECT_FILE, Project, ProjectError, StretchSpec

__all__ = [
    "bundled_project",
    "bundled_project_path",
    "parse_project",
    "project_for",
    "read_project",
    "read_project_text",
    "register_store_reader",
    "stretch_from_text",
]

_LANG = re.compile(r"^[a-z]{2,3}$")
_TOP_KEYS = (
    "format",
    "name",
    "countries",
    "context_countries",
    "languages",
    "country_names",
    "park_layer_titles",
    "adjectives",
    "stretches",
    "published",
    "facts",
    "region",
    "proposed_id",
    "texts",
)
_STRETCH_KEYS = ("countries", "start", "length_fact")
_START_KEYS = ("tripoint", "point")


def bundled_project_path() -> Path:
    """The bundled project (``layers/project.toml`` beside the package)."""
    return Path(__file__).resolve().parents[2] / "layers" / PROJECT_FILE


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells that a file changed: its inode, size and modification time (None: no such file)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


#: The bundled project as last read, with the stamps of its file and its facts table.
_BUNDLED: tuple[tuple | None, tuple | None, Project] | None = None


def bundled_project() -> Project:
    """The bundled project, Land of Big Cats.

    Read again only when its file or its facts table changed (most commands ask for it several
    times; reading and checking it took 2.7 ms each time).
    """
    global _BUNDLED
    path = bundled_project_path()
    if _BUNDLED is not None:
        stamp, facts_stamp, project = _BUNDLED
        if stamp == _stamp(path) and facts_stamp == _stamp(path.parent / project.facts_file):
            return project
    stamp = _stamp(path)
    project = read_project(path)
    _BUNDLED = (stamp, _stamp(path.parent / project.facts_file), project)
    return project


#: Readers of the project a layer store holds in a table (GeoPackage, PostGIS): each takes the
#: ``--layers`` spec and returns its Project, or None when the spec is not its kind of store.
#: geo.store registers one (the store is on a higher floor, so this module cannot import it).
_STORE_READERS: list[Callable[[str], Project | None]] = []


def register_store_reader(reader: Callable[[str], Project | None]) -> None:
    """Let :func:`project_for` read the project of a store that keeps it in a table (see ``_STORE_READERS``)."""
    if reader not in _STORE_READERS:
        _STORE_READERS.append(reader)


def project_for(layers) -> Project:
    """The project of a layer store: the store's own (a folder's ``project.toml``, a table), else the bundled one."""
    if layers is not None and not isinstance(layers, dict):
        for reader in _STORE_READERS:
            found = reader(str(layers))
            if found is not None:
                return found
        candidate = Path(str(layers)) / PROJECT_FILE
        if candidate.is_file():
            return read_project(candidate)
    return bundled_project()


def read_project(path: str | Path, *, facts: Mapping | None = None) -> Project:
    """Read and check a ``project.toml`` (a file, or a folder that holds one).

    Parameters
    ----------
    path : str or Path
        The file, or the folder store holding ``project.toml``.
    facts : mapping of str to Fact, optional
        The facts table to check the fact ids against; default the one named by
        the project (beside it), when it exists.

    Returns
    -------
    Project

    Raises
    ------
    ProjectError
        If the file is missing or unreadable, or lists problems (all of them are named).
    """
    path = Path(path)
    if path.is_dir():
        path = path / PROJECT_FILE
    if not path.is_file():
        raise ProjectError(
            f"project file not found: {path}. Create a project with 'bigcats new DIR --countries A,B --name NAME', "
            f"or copy {bundled_project_path()} and edit it."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read {path}: {exc}. Restore the file or write it again.") from None
    return read_project_text(text, path=path, facts=facts)


def read_project_text(
    text: str, *, path: Path | None = None, where: str | None = None, facts: Mapping | None = None
) -> Project:
    """Read and check the text of a ``project.toml``: a file's (:func:`read_project`) or a store table's.

    ``path`` is the file it came from (None for a table; then ``where`` names it in messages);
    ``facts`` defaults to the facts table beside ``path``, when there is one.
    """
    where = where or (str(path) if path is not None else PROJECT_FILE)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(
            f"{where} is not valid TOML: {exc}. Fix that line (https://toml.io describes the format)."
        ) from None
    if facts is None and path is not None:
        facts_path = path.parent / str(data.get("facts", "facts.csv"))
        if facts_path.is_file():
            facts = read_facts(facts_path)
    return parse_project(data, facts=facts, path=path, where=where)


def parse_project(
    data: Mapping, *, facts: Mapping | None = None, path: Path | None = None, where: str | None = None
) -> Project:
    """Check the content of a ``project.toml`` (as :mod:`tomllib` reads it) and build the :class:`Project`.

    Every problem is collected; one :class:`ProjectError` names them all.
    ``facts`` (id -> Fact), when given, is used to check that each fact id exists
    and holds a number in the right unit.
    """
    where = where or (str(path) if path is not None else PROJECT_FILE)
    problems: list[str] = []
    _unknown(data, _TOP_KEYS, "", problems)
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        problems.append(f"format = {fmt!r}: this bigcats reads format {FORMAT}")
    countries = _codes(data.get("countries"), "countries", problems, required=True)
    if countries is not None and len(countries) < 2:
        problems.append(f"countries = {list(countries)}: a transboundary project needs two countries or more")
    countries = countries or ()
    context = _codes(data.get("context_countries", []), "context_countries", problems) or ()
    for code in sorted(set(context) & set(countries)):
        problems.append(f"context_countries: {code} is also in countries; list it in one of them")
    languages, name = _languages_and_name(data, problems)
    known = set(countries) | set(context)
    names = _table(data, "country_names", known, problems, kind=dict, example='[country_names.POL] en = "Poland"')
    stretches = tuple(
        _stretch(i, s, countries, known, facts, problems) for i, s in enumerate(_list(data, "stretches", problems))
    )
    published = data.get("published", {})
    if not isinstance(published, dict):
        problems.append("published: give a table of country (or proposed_park) = facts id")
        published = {}
    for key, fact_id in published.items():
        if key != "proposed_park" and key not in countries:
            problems.append(f"published.{key}: not a country of the project nor proposed_park")
        _fact(fact_id, f"published.{key}", "ha", facts, problems)
    titles = _table(
        data, "park_layer_titles", set(countries), problems, kind=str, example='POL = "Polish protected areas"'
    )
    adjectives = _table(data, "adjectives", known, problems, kind=str, example='POL = "Polish"')
    proposed_id = data.get("proposed_id", "PROPOSED")
    if not isinstance(proposed_id, str) or not re.match(r"^[A-Za-z0-9_.-]+$", proposed_id):
        problems.append(f"proposed_id = {proposed_id!r}: give an id of letters, digits, '-', '_' or '.'")
        proposed_id = "PROPOSED"
    texts = data.get("texts", {})
    if not (
        isinstance(texts, dict)
        and all(isinstance(v, dict) and all(isinstance(x, str) for x in v.values()) for v in texts.values())
    ):
        problems.append('texts: give a table per message, e.g. [texts.title] en = "...", ru = "..."')
        texts = {}
    region = _region(data.get("region"), problems)
    facts_file = data.get("facts", "facts.csv")
    if not isinstance(facts_file, str) or not facts_file or "/" in facts_file or "\\" in facts_file:
        problems.append(f"facts = {facts_file!r}: give the file name of the facts table beside project.toml")
        facts_file = "facts.csv"
    if problems:
        raise ProjectError(
            f"{where} has {len(problems)} problem(s): "
            + "; ".join(problems)
            + ". Fix them in the file (layers/project.toml is a complete example).",
            problems,
        )
    return Project(
        name=dict(name),
        countries=tuple(countries),
        context_countries=tuple(context),
        languages=tuple(languages),
        country_names={k: dict(v) for k, v in names.items()},
        stretches=stretches,
        published=dict(published),
        facts_file=facts_file,
        park_layer_titles=dict(titles),
        region=region,
        adjectives=dict(adjectives),
        proposed_id=proposed_id,
        texts={k: dict(v) for k, v in texts.items()},
        path=path,
    )


def _languages_and_name(data: Mapping, problems: list[str]) -> tuple[list, dict]:
    languages = data.get("languages", ["en"])
    if not (
        isinstance(languages, list) and languages and all(isinstance(x, str) and _LANG.match(x) for x in languages)
    ):
        problems.append(f'languages = {languages!r}: give a list of language codes, e.g. ["en", "ru"]')
        languages = ["en"]
    name = data.get("name")
    if not (isinstance(name, dict) and name and all(isinstance(v, str) and v.strip() for v in name.values())):
        problems.append('name: give the project\'s name per language, e.g. [name] en = "Białowieża Forest"')
        name = {}
    elif languages[0] not in name:
        problems.append(f'name has no {languages[0]!r} entry (the first of languages); add name.{languages[0]} = "..."')
    return languages, name


def _table(data: Mapping, key: str, known: set, problems: list[str], *, kind: type, example: str) -> dict:
    """A table keyed by country code (``kind``: each value a string, or a table of strings)."""
    value = data.get(key, {})
    if kind is str:
        ok = isinstance(value, dict) and all(isinstance(v, str) and v.strip() for v in value.values())
    else:
        ok = isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())
    if not ok:
        problems.append(f"{key}: give a table of country = value, e.g. {example}")
        return {}
    for code in sorted(set(value) - known):
        problems.append(f"{key}.{code}: {code} is not a country of the project")
    return value


def _region(region, problems: list[str]) -> tuple[float, float, float, float] | None:
    if region is None:
        return None
    ok = isinstance(region, list) and len(region) == 4 and all(isinstance(v, int | float) for v in region)
    if not ok or not (-180 <= region[0] < region[2] <= 180 and -90 <= region[1] < region[3] <= 90):
        problems.append(f"region = {region!r}: give [lon_min, lat_min, lon_max, lat_max] in degrees")
        return None
    return (float(region[0]), float(region[1]), float(region[2]), float(region[3]))


def _unknown(table: Mapping, allowed: tuple[str, ...], prefix: str, problems: list[str]) -> None:
    for key in table:
        if key not in allowed:
            near = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {near[0]}?)" if near else f" (known: {', '.join(allowed)})"
            problems.append(f"unknown key {prefix}{key}{hint}")


def _list(data: Mapping, key: str, problems: list[str]) -> list:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problems.append(f"{key}: give a list of tables ([[{key}]] sections)")
        return []
    return value


def _codes(value, key: str, problems: list[str], *, required: bool = False) -> tuple[str, ...] | None:
    if value is None:
        if required:
            problems.append(f'{key} is missing: give ISO 3166 alpha-3 codes, e.g. {key} = ["POL", "BLR"]')
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f'{key} = {value!r}: give a list of ISO 3166 alpha-3 codes, e.g. ["POL", "BLR"]')
        return None
    bad = [v for v in value if not _ISO3.match(v)]
    if bad:
        problems.append(f"{key}: {', '.join(map(repr, bad))} not ISO 3166 alpha-3 (three capital letters, e.g. POL)")
    dupes = sorted({v for v in value if value.count(v) > 1})
    if dupes:
        problems.append(f"{key}: {', '.join(dupes)} listed twice")
    return tuple(v for v in dict.fromkeys(value) if _ISO3.match(v))


def _fact(fact_id, key: str, unit: str, facts: Mapping | None, problems: list[str]) -> None:
    if not isinstance(fact_id, str) or not fact_id:
        problems.append(f"{key} = {fact_id!r}: give the id of a row of facts.csv (figures are never typed here)")
        return
    if facts is None:
        return
    fact = facts.get(fact_id)
    if fact is None:
        near = difflib.get_close_matches(fact_id, list(facts), n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        problems.append(f"{key} = {fact_id!r} is not an id of facts.csv{hint}; add the row with its public source")
        return
    try:
        float(fact.value)
    except ValueError:
        problems.append(f"{key} = {fact_id!r}: facts.csv gives {fact.value!r}, not a number")
    if fact.unit != unit:
        problems.append(f"{key} = {fact_id!r}: facts.csv gives it in {fact.unit!r}, expected {unit!r}")


def _stretch(i: int, table: Mapping, countries, known, facts, problems: list[str]) -> StretchSpec:
    key = f"stretches[{i}]"
    _unknown(table, _STRETCH_KEYS, f"{key}.", problems)
    pair = table.get("countries")
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(c, str) for c in pair) and pair[0] != pair[1]):
        problems.append(f'{key}.countries = {pair!r}: give the two countries of the border, e.g. ["POL", "BLR"]')
        pair = ["", ""]
    else:
        for code in pair:
            if code not in countries:
                problems.append(f"{key}.countries: {code} is not in countries {list(countries)}")
    start = table.get("start", {})
    tripoint = point = None
    if not isinstance(start, dict):
        problems.append(f'{key}.start = {start!r}: give start = {{ tripoint = "ISO3" }} or {{ point = [lon, lat] }}')
        start = {}
    _unknown(start, _START_KEYS, f"{key}.start.", problems)
    if len(start) > 1:
        problems.append(f"{key}.start: give one of tripoint or point, not both")
    if "tripoint" in start:
        tripoint = start["tripoint"]
        if tripoint not in known or tripoint in pair:
            problems.append(
                f"{key}.start.tripoint = {tripoint!r}: give a third country of countries or context_countries"
            )
    if "point" in start:
        value = start["point"]
        ok = isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float) for v in value)
        if not ok or not (-180 <= value[0] <= 180 and -90 <= value[1] <= 90):
            problems.append(f"{key}.start.point = {value!r}: give [longitude, latitude] in degrees")
        else:
            point = (float(value[0]), float(value[1]))
    length_fact = table.get("length_fact")
    if length_fact is not None:
        _fact(length_fact, f"{key}.length_fact", "km", facts, problems)
        if not start:
            problems.append(f"{key}: a length needs a start (start.tripoint or start.point)")
    return StretchSpec(countries=(pair[0], pair[1]), tripoint=tripoint, point=point, length_fact=length_fact)


def stretch_from_text(text: str) -> StretchSpec:
    """A stretch from the command line.

    ``A-B`` (the whole border), ``A-B@C`` (from the tri-point with C) or ``A-B@LON,LAT``
    (from the border's end nearest that point).

    Raises
    ------
    ProjectError
        If the text is not one of these forms.
    """
    pair, _, start = text.strip().partition("@")
    codes = [c.strip().upper() for c in pair.split("-")]
    usage = (
        f"--stretch {text!r}: give A-B (the whole border of two countries), A-B@C (from the tri-point "
        "with C) or A-B@LON,LAT, e.g. --stretch POL-BLR@UKR"
    )
    if len(codes) != 2 or not all(_ISO3.match(c) for c in codes):
        raise ProjectError(usage)
    if not start:
        return StretchSpec(countries=(codes[0], codes[1]))
    if _ISO3.match(start.strip().upper()):
        return StretchSpec(countries=(codes[0], codes[1]), tripoint=start.strip().upper())
    try:
        lon, lat = (float(v) for v in start.split(","))
    except ValueError:
        raise ProjectError(usage) from None
    return StretchSpec(countries=(codes[0], codes[1]), point=(lon, lat))
