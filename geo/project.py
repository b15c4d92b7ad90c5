"""The project of a layer store, as data: ``project.toml``.

A project names the transboundary area (in its languages), its countries (ISO 3166
alpha-3, two or more), the countries drawn only as context, the border stretch or
stretches and the published totals. Every figure is the id of a row of the store's
facts table (``facts.csv``, each row with its public source), never a number typed
here. Park roles follow from the countries: ``parks_<iso3>`` (lower case) for each.

The bundled project is ``layers/project.toml``; ``bigcats new`` writes one for any
countries. A GeoPackage or PostGIS store keeps it in a table, versioned like its layers
(:mod:`geo.store`). A store without a project uses the bundled one.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from geo.errors import BigCatsError
from geo.facts import read_facts

__all__ = [
    "PROJECT_FILE",
    "Project",
    "ProjectError",
    "StretchSpec",
    "bundled_project",
    "bundled_project_path",
    "country_of_role",
    "park_role",
    "parse_project",
    "project_for",
    "project_toml",
    "read_project",
    "read_project_text",
    "register_store_reader",
    "stretch_from_text",
]

#: File name of the project inside a folder store.
PROJECT_FILE = "project.toml"

#: The version of the format this module reads and writes.
FORMAT = 1

_ISO3 = re.compile(r"^[A-Z]{3}$")
_LANG = re.compile(r"^[a-z]{2,3}$")
_TOP_KEYS = ("format", "name", "countries", "context_countries", "languages", "country_names", "park_layer_titles",
             "adjectives", "stretches", "published", "facts", "region", "proposed_id", "texts")
_STRETCH_KEYS = ("countries", "start", "length_fact")
_START_KEYS = ("tripoint", "point")


class ProjectError(BigCatsError):
    """``project.toml`` is missing, unreadable or describes a project that cannot work (exit 2).

    ``problems`` lists every problem found; the message names them and the fix.
    """

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


def park_role(iso3: str) -> str:
    """The layer role of one country's parks: ``parks_<iso3>`` in lower case (``POL`` -> ``parks_pol``)."""
    return f"parks_{iso3.lower()}"


def country_of_role(role: str) -> str | None:
    """The ISO3 code of a park role (``parks_prk`` -> ``PRK``); None for a role that is not ``parks_<iso3>``."""
    head, sep, code = role.partition("_")
    return code.upper() if head == "parks" and sep and _ISO3.match(code.upper()) and code.islower() else None


@dataclass(frozen=True)
class StretchSpec:
    """A border stretch of the project.

    Attributes
    ----------
    countries : (str, str)
        The two countries whose border it follows, in the order of the border layer's id.
    tripoint : str or None
        It starts where the two countries meet this third one (the vertex of their
        border nearest the first country's border with it).
    point : (float, float) or None
        Or it starts at the end of the border nearest this longitude/latitude.
    length_fact : str or None
        Id of the facts row (unit ``km``) that gives its published length; without
        one, the stretch is the whole shared border of the pair.
    """

    countries: tuple[str, str]
    tripoint: str | None = None
    point: tuple[float, float] | None = None
    length_fact: str | None = None

    @property
    def pair_id(self) -> str:
        """``A-B``: the id of the pair's line in the border layer."""
        return f"{self.countries[0]}-{self.countries[1]}"


@dataclass(frozen=True)
class Project:
    """A transboundary project: what ``project.toml`` says, checked.

    Attributes
    ----------
    name : dict of str to str
        The project's name per language code (``en``, ``ru``, ...).
    countries : tuple of str
        ISO3 codes of the countries whose parks make the proposed park, in order.
    context_countries : tuple of str
        Countries whose land and borders the layers also hold, drawn for context; no parks.
    languages : tuple of str
        Languages of the map, the first one the default.
    country_names : dict of str to dict of str to str
        Names of the countries (and context countries) per language; may be partial.
    stretches : tuple of StretchSpec
        The border stretches of the project.
    park_layer_titles : dict of str to str
        Title of each country's park layer (default "Protected areas of <country>").
    adjectives : dict of str to str
        English adjective of each country ("Russian"), for sentences; default its name.
    proposed_id : str
        Id of the proposed park's feature.
    texts : dict of str to dict of str to str
        The project's own texts of the map, per message key and language (its title, the
        countries' legend labels ...); they take precedence over the message catalogue.
    published : dict of str to str
        Published totals: a country code or ``proposed_park`` -> id of a facts row in hectares.
    region : (float, float, float, float) or None
        The project's region (lon_min, lat_min, lon_max, lat_max): imported layers outside it are warned about.
    facts_file : str
        The facts table, relative to the project file.
    path : Path or None
        Where the project was read from.
    """

    name: Mapping[str, str]
    countries: tuple[str, ...]
    context_countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)
    country_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    stretches: tuple[StretchSpec, ...] = ()
    published: Mapping[str, str] = field(default_factory=dict)
    facts_file: str = "facts.csv"
    park_layer_titles: Mapping[str, str] = field(default_factory=dict)
    region: tuple[float, float, float, float] | None = None
    adjectives: Mapping[str, str] = field(default_factory=dict)
    proposed_id: str = "PROPOSED"
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    path: Path | None = None

    @property
    def park_roles(self) -> tuple[str, ...]:
        """``parks_<iso3>`` for each country, in the project's order."""
        return tuple(park_role(c) for c in self.countries)

    @property
    def role_country(self) -> dict[str, str]:
        """Park role -> ISO3 code."""
        return {park_role(c): c for c in self.countries}

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Every pair of the project's countries, in the project's order (A before B)."""
        return tuple(combinations(self.countries, 2))

    @property
    def all_countries(self) -> tuple[str, ...]:
        """The countries, then the context countries."""
        return self.countries + self.context_countries

    @property
    def facts_path(self) -> Path | None:
        """The facts table beside the project file (None for a project not read from a file)."""
        return None if self.path is None else self.path.parent / self.facts_file

    def display_name(self, lang: str | None = None) -> str:
        """The project's name in ``lang`` (default: the first language), else in English, else any."""
        for key in (lang, self.languages[0], "en"):
            if key and key in self.name:
                return self.name[key]
        return next(iter(self.name.values()))

    def country_name(self, iso3: str, lang: str = "en") -> str:
        """A country's name in ``lang``, else in English, else its code."""
        names = self.country_names.get(iso3, {})
        return names.get(lang) or names.get("en") or iso3

    def adjective(self, iso3: str) -> str:
        """A country's English adjective ("Russian"), else its English name."""
        return self.adjectives.get(iso3) or self.country_name(iso3)

    def adjectives_text(self, codes=None) -> str:
        """``Russian and Chinese``, ``Polish, Belarusian and Ukrainian``: the countries' adjectives in a sentence."""
        words = [self.adjective(c) for c in (self.countries if codes is None else codes)]
        return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"

    def text(self, key: str, lang: str) -> str | None:
        """The project's own text ``key`` in ``lang`` (else in English), or None when it has none."""
        entry = self.texts.get(key, {})
        return entry.get(lang) or entry.get("en")

    def park_layer_title(self, iso3: str) -> str:
        """The title of a country's park layer."""
        return self.park_layer_titles.get(iso3) or f"Protected areas of {self.country_name(iso3)}"


def bundled_project_path() -> Path:
    """The bundled project (``layers/project.toml`` beside the package)."""
    return Path(__file__).resolve().parents[1] / "layers" / PROJECT_FILE


def bundled_project() -> Project:
    """The bundled project, Land of Big Cats."""
    return read_project(bundled_project_path())


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


def read_project_text(text: str, *, path: Path | None = None, where: str | None = None,
                      facts: Mapping | None = None) -> Project:
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


def parse_project(data: Mapping, *, facts: Mapping | None = None, path: Path | None = None,
                  where: str | None = None) -> Project:
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
    names = _table(data, "country_names", known, problems, kind=dict,
                   example="[country_names.POL] en = \"Poland\"")
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
    titles = _table(data, "park_layer_titles", set(countries), problems, kind=str,
                    example="POL = \"Polish protected areas\"")
    adjectives = _table(data, "adjectives", known, problems, kind=str, example="POL = \"Polish\"")
    proposed_id = data.get("proposed_id", "PROPOSED")
    if not isinstance(proposed_id, str) or not re.match(r"^[A-Za-z0-9_.-]+$", proposed_id):
        problems.append(f"proposed_id = {proposed_id!r}: give an id of letters, digits, '-', '_' or '.'")
        proposed_id = "PROPOSED"
    texts = data.get("texts", {})
    if not (isinstance(texts, dict) and all(isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
                                            for v in texts.values())):
        problems.append("texts: give a table per message, e.g. [texts.title] en = \"...\", ru = \"...\"")
        texts = {}
    region = _region(data.get("region"), problems)
    facts_file = data.get("facts", "facts.csv")
    if not isinstance(facts_file, str) or not facts_file or "/" in facts_file or "\\" in facts_file:
        problems.append(f"facts = {facts_file!r}: give the file name of the facts table beside project.toml")
        facts_file = "facts.csv"
    if problems:
        raise ProjectError(
            f"{where} has {len(problems)} problem(s): " + "; ".join(problems)
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
    if not (isinstance(languages, list) and languages
            and all(isinstance(x, str) and _LANG.match(x) for x in languages)):
        problems.append(f"languages = {languages!r}: give a list of language codes, e.g. [\"en\", \"ru\"]")
        languages = ["en"]
    name = data.get("name")
    if not (isinstance(name, dict) and name and all(isinstance(v, str) and v.strip() for v in name.values())):
        problems.append("name: give the project's name per language, e.g. [name] en = \"Białowieża Forest\"")
        name = {}
    elif languages[0] not in name:
        problems.append(
            f"name has no {languages[0]!r} entry (the first of languages); add name.{languages[0]} = \"...\"")
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
            problems.append(f"{key} is missing: give ISO 3166 alpha-3 codes, e.g. {key} = [\"POL\", \"BLR\"]")
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{key} = {value!r}: give a list of ISO 3166 alpha-3 codes, e.g. [\"POL\", \"BLR\"]")
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
        problems.append(f"{key}.countries = {pair!r}: give the two countries of the border, e.g. [\"POL\", \"BLR\"]")
        pair = ["", ""]
    else:
        for code in pair:
            if code not in countries:
                problems.append(f"{key}.countries: {code} is not in countries {list(countries)}")
    start = table.get("start", {})
    tripoint = point = None
    if not isinstance(start, dict):
        problems.append(f"{key}.start = {start!r}: give start = {{ tripoint = \"ISO3\" }} or {{ point = [lon, lat] }}")
        start = {}
    _unknown(start, _START_KEYS, f"{key}.start.", problems)
    if len(start) > 1:
        problems.append(f"{key}.start: give one of tripoint or point, not both")
    if "tripoint" in start:
        tripoint = start["tripoint"]
        if tripoint not in known or tripoint in pair:
            problems.append(
                f"{key}.start.tripoint = {tripoint!r}: give a third country of countries or context_countries")
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
    usage = (f"--stretch {text!r}: give A-B (the whole border of two countries), A-B@C (from the tri-point "
             "with C) or A-B@LON,LAT, e.g. --stretch POL-BLR@UKR")
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


# --------------------------------------------------------------------------- writing


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def _key(key: str) -> str:
    return key if re.match(r"^[A-Za-z0-9_-]+$", key) else _quote(key)


def _array(values) -> str:
    return "[" + ", ".join(_quote(v) if isinstance(v, str) else repr(float(v)) for v in values) + "]"


def project_toml(project: Project, *, comment: str = "") -> str:
    """The text of ``project.toml`` for ``project`` (reading it back gives the same project)."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines += [
        "# Read by bigcats (geo/project.py). Figures are never typed here: each is the id of a row of",
        f"# {project.facts_file}, which gives the figure with its public source.",
        f"format = {FORMAT}",
        f"countries = {_array(project.countries)}",
        f"context_countries = {_array(project.context_countries)}",
        f"languages = {_array(project.languages)}",
        f"facts = {_quote(project.facts_file)}",
        *([f"region = {_array(project.region)}"] if project.region else []),
        f"proposed_id = {_quote(project.proposed_id)}",
        "",
        "[name]",
        *(f"{_key(k)} = {_quote(v)}" for k, v in project.name.items()),
    ]
    if project.published:
        lines += ["", "[published]", *(f"{_key(k)} = {_quote(v)}" for k, v in project.published.items())]
    if project.park_layer_titles:
        titles = project.park_layer_titles.items()
        lines += ["", "[park_layer_titles]", *(f"{_key(k)} = {_quote(v)}" for k, v in titles)]
    if project.adjectives:
        lines += ["", "[adjectives]", *(f"{_key(k)} = {_quote(v)}" for k, v in project.adjectives.items())]
    for code, names in project.country_names.items():
        if names:
            lines += ["", f"[country_names.{code}]", *(f"{_key(k)} = {_quote(v)}" for k, v in names.items())]
    for key, entry in project.texts.items():
        if entry:
            lines += ["", f"[texts.{_key(key)}]", *(f"{_key(k)} = {_quote(v)}" for k, v in entry.items())]
    for stretch in project.stretches:
        lines += ["", "[[stretches]]", f"countries = {_array(stretch.countries)}"]
        if stretch.tripoint:
            lines.append(f"start = {{ tripoint = {_quote(stretch.tripoint)} }}")
        elif stretch.point:
            lines.append(f"start = {{ point = {_array(stretch.point)} }}")
        if stretch.length_fact:
            lines.append(f"length_fact = {_quote(stretch.length_fact)}")
    return "\n".join(lines) + "\n"
